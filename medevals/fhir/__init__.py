"""A FHIR R4 sandbox for EHR-agent benchmarks: SQLite store, REST server, synthetic patients, tasks.

MedAgentBench's reference setup needs a docker HAPI server loaded with a snapshot we cannot
ship; this package brings a reproducible replacement (``medevals fhir serve``) and the task
instantiation and grading rules that run against it or against a user's own server.
"""
