"""The synthetic world a run uses: generated resources loaded into a store, built once per process.

Benchmark items record the world they were instantiated over (``{"patients": N, "seed": S}``)
so the protocol's sandbox serves exactly the data the ground truth was computed from.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from medevals.fhir.generator import generate
from medevals.fhir.store import Store

GENERATOR_VERSION = 1
"""Bumped whenever ``generator`` changes what a seed produces (recorded in every item's metadata)."""

DEFAULT_WORLD = {"patients": 300, "seed": 0, "generator": GENERATOR_VERSION}


@lru_cache(maxsize=4)
def world_resources(patients: int, seed: int) -> tuple[dict[str, Any], ...]:
    return tuple(generate(patients, seed))


def build_store(patients: int, seed: int, path: str = ":memory:") -> Store:
    """A fresh store holding the world (fresh so one run's writes never leak into another's)."""
    store = Store(path)
    if store.count() == 0:
        store.load(world_resources(patients, seed))
    return store


def search_all(store: Store, rtype: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return store.search(rtype, params, count=10**9).resources
