"""Agents acting in environments: the EHR agent's action language and its FHIR environment."""
