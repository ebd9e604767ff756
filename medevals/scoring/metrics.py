"""Aggregate scored samples into a benchmark's metrics: the numbers a report shows.

Works as a stream (``add`` one sample at a time) so metrics over a 100k-sample run need no
list of samples in memory. Unscored samples (judge failures, protocol errors) leave the
denominator and are counted; unparseable answers stay in it (they are the model's failure).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from medevals.schema import Sample
from medevals.scoring.stats import mean_ci, percentile


class Aggregator:
    def __init__(self, primary: str = "accuracy", seed: int = 0):
        self.primary = primary
        self.seed = seed
        self.n = 0
        self.n_errors = 0
        self.n_unscored = 0
        self.n_unparseable = 0
        self.primary_values: list[float] = []
        self.values: dict[str, list[float]] = defaultdict(list)
        self.subsets: dict[str, list[float]] = defaultdict(list)
        self.variants: dict[str, list[float]] = defaultdict(list)
        self.latencies: list[float] = []
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
            "metrics": {self.primary: mean_ci(self.primary_values, seed=self.seed)},
        }
        for k, vals in sorted(self.values.items()):
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
