"""Aggregate scored samples into a benchmark's metrics: the numbers a report shows.

Works as a stream (``add`` one sample at a time) so metrics over a 100k-sample run need no
list of samples in memory. Unscored samples (judge failures, protocol errors) leave the
denominator and are counted; unparseable answers stay in it (they are the model's failure).

A run with several variants (strategies, probes, bounds) puts different questions to the model:
pooling them would mix a chain-of-thought accuracy with a stem-only probe. So the headline
metrics are those of the *first* variant (the one the user listed first, or the protocol's
main one), named in ``headline_variant``; every variant gets its own row under ``variants``.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from typing import Any

from medevals.schema import Sample
from medevals.scoring.stats import mean_ci, percentile


def _floats() -> array[float]:
    return array("d")


class Aggregator:
    def __init__(self, primary: str = "accuracy", seed: int = 0, variants: list[str] | None = None):
        self.primary = primary
        self.variant_order = list(variants or [])
        self.seed = seed
        self.n = 0
        self.n_errors = 0
        self.n_unscored = 0
        self.n_unparseable = 0
        # Per-sample values for the CIs, as C doubles (8 bytes each, not a 32-byte float object
        # plus its list slot): the aggregator is the only per-item state while metrics stream.
        self.primary_values: array[float] = _floats()
        self.values: dict[str, array[float]] = defaultdict(_floats)
        self.subsets: dict[str, array[float]] = defaultdict(_floats)
        self.variants: dict[str, array[float]] = defaultdict(_floats)
        self.variant_values: dict[str, dict[str, array[float]]] = defaultdict(lambda: defaultdict(_floats))
        self.latencies: array[float] = _floats()
        self.calls = 0
        self.cache_hits = 0
        self.replayed = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost: float | None = 0.0
        self.error_kinds: dict[str, int] = defaultdict(int)

    def add(self, s: Sample) -> None:
        self.n += 1
        for c in s.calls:
            self.calls += 1
            self.prompt_tokens += c.usage.prompt_tokens
            self.completion_tokens += c.usage.completion_tokens
            if c.cached:
                self.cache_hits += 1
            elif c.replayed:
                self.replayed += 1
            elif c.error is None:
                self.latencies.append(c.latency_s)
        cost = s.cost_usd
        self.cost = None if (cost is None or self.cost is None) else self.cost + cost
        if s.error is not None:
            self.n_errors += 1
            self.error_kinds[s.error.split(":", 1)[0][:60]] += 1
        sc = s.score
        if sc is None or sc.value is None:
            self.n_unscored += 1
        else:
            v = float(sc.value)
            self.primary_values.append(v)
            self.subsets[s.item.subset or ""].append(v)
            self.variants[s.variant].append(v)
            if not sc.parsed:
                self.n_unparseable += 1
        if sc is not None:
            for k, val in sc.values.items():
                if val is not None and not (isinstance(val, float) and math.isnan(val)):
                    self.values[k].append(float(val))
                    self.variant_values[s.variant][k].append(float(val))

    def headline_variant(self) -> str | None:
        """The variant whose numbers headline the benchmark, or None with a single variant."""
        if len(self.variants) <= 1 and len(self.variant_order) <= 1:
            return None
        if self.variant_order:
            return self.variant_order[0]
        return sorted(self.variants)[0] if self.variants else None

    def result(self) -> dict[str, Any]:
        scored = len(self.primary_values)
        out: dict[str, Any] = {
            "primary": self.primary,
            "n": self.n,
            "n_scored": scored,
            "n_unscored": self.n_unscored,
            "n_errors": self.n_errors,
            "n_unparseable": self.n_unparseable,
            "unparseable_rate": (self.n_unparseable / scored) if scored else math.nan,
        }
        head = self.headline_variant()
        primary_values = self.primary_values if head is None else self.variants[head]
        values = self.values
        if head is not None:
            # The headline variant's values; keys it never produces (a protocol's per-variant
            # names such as ``accuracy_full_vignette``) come from the variants that do.
            values = {**self.values, **self.variant_values[head]}
        out["metrics"] = {self.primary: mean_ci(primary_values, seed=self.seed)}
        if head is not None:
            out["headline_variant"] = head
        for k, vals in sorted(values.items()):
            if k != self.primary:
                out["metrics"][k] = mean_ci(vals, seed=self.seed)
        if len(self.subsets) > 1 or (self.subsets and "" not in self.subsets):
            out["subsets"] = {
                k or "(none)": mean_ci(v, seed=self.seed) for k, v in sorted(self.subsets.items())
            }
        if len(self.variants) > 1:
            out["variants"] = {k: mean_ci(v, seed=self.seed) for k, v in sorted(self.variants.items())}
        out["usage"] = {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "replayed": self.replayed,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost,
        }
        out["latency_s"] = {
            "n": len(self.latencies),
            "p50": percentile(self.latencies, 50),
            "p95": percentile(self.latencies, 95),
            "mean": (sum(self.latencies) / len(self.latencies)) if self.latencies else math.nan,
        }
        if self.error_kinds:
            out["errors"] = dict(self.error_kinds)
        return out
