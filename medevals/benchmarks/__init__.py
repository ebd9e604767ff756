"""Benchmarks: where data comes from, how a row becomes an Item, which protocol scores it."""
