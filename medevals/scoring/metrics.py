"""Aggregate scored samples into a benchmark's metrics: the numbers a report shows.

Works as a stream (``add`` one sample at a time) so metrics over a 100k-sample run need no
list of samples in memory. Unscored samples (judge failures, protocol errors) leave the
denominator and are counted; unparseable answers stay in it (they are the model's failure).
A sample whose score says the variant does not apply to its item (``Score.applicable`` false:
a unit perturbation of a question without units) is in no denominator and is counted as
``n_not_applicable``, never as unscored and never as wrong.

A run with several variants (strategies, probes, bounds) puts different questions to the model:
pooling them would mix a chain-of-thought accuracy with a stem-only probe. So every figure is
per variant with its own counts: the headline metrics, their ``n`` and the per-subset breakdown
(and, when its items are in several languages, the per-language breakdown ``languages``)
are those of the *first* variant (the one the user listed first, or the protocol's main one),
named in ``headline_variant``; every variant gets its own entry under ``variants`` with its
metric, counts, per-subset breakdown and extra values. The top-level counts (``n``,
``n_scored``, ``n_errors`` ...) stay run totals over every variant (a run is complete only when
every unit is); ``headline_counts`` reads the counts that belong beside the headline metric.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from medevals.errors import reason_key
from medevals.schema import Sample
from medevals.scoring.stats import MetricSpec, mean_ci, percentile

COUNTS = ("n", "n_scored", "n_unscored", "n_errors", "n_unparseable", "n_not_applicable")
"""Per-sample tallies kept per variant and in total: n = scored + unscored + not applicable."""


def _floats() -> array[float]:
    return array("d")


@dataclass
class _Tally:
    """One variant's samples (or all of them): counts and the values behind its CIs."""

    n: int = 0
    n_errors: int = 0
    n_unscored: int = 0
    n_unparseable: int = 0
    n_not_applicable: int = 0
    # Per-sample values for the CIs, as C doubles (8 bytes each, not a 32-byte float object
    # plus its list slot): the aggregator is the only per-item state while metrics stream.
    primary: array[float] = field(default_factory=_floats)
    subsets: dict[str, array[float]] = field(default_factory=lambda: defaultdict(_floats))
    #: The primary value by the item's language (``Item.metadata["language"]``, English when absent).
    languages: dict[str, array[float]] = field(default_factory=lambda: defaultdict(_floats))
    values: dict[str, array[float]] = field(default_factory=lambda: defaultdict(_floats))

    def counts(self) -> dict[str, int]:
        return {
            "n": self.n,
            "n_scored": len(self.primary),
            "n_unscored": self.n_unscored,
            "n_errors": self.n_errors,
            "n_unparseable": self.n_unparseable,
            "n_not_applicable": self.n_not_applicable,
        }


class Aggregator:
    def __init__(
        self,
        primary: str = "accuracy",
        seed: int = 0,
        variants: list[str] | None = None,
        spec: Callable[[str], MetricSpec | None] | None = None,
    ):
        self.primary = primary
        #: The protocol's ``metric_spec``: how each value is summarised (proportion / score, clip).
        self.spec = spec or (lambda name: None)
        self.variant_order = list(variants or [])
        self.seed = seed
        self.total = _Tally()
        self.per_variant: dict[str, _Tally] = {}
        self.latencies: array[float] = _floats()
        self.calls = 0
        self.cache_hits = 0
        self.replayed = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost: float | None = 0.0
        self.error_kinds: dict[str, int] = defaultdict(int)

    def add(self, s: Sample) -> None:
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
            self.error_kinds[reason_key(s.error, 60)] += 1
        variant = self.per_variant.get(s.variant)
        if variant is None:
            variant = self.per_variant[s.variant] = _Tally()
        for t in (self.total, variant):
            self._count(t, s)

    @staticmethod
    def _count(t: _Tally, s: Sample) -> None:
        t.n += 1
        if s.error is not None:
            t.n_errors += 1
        sc = s.score
        if sc is not None and not sc.applicable and s.error is None:
            t.n_not_applicable += 1
            return
        if sc is None or sc.value is None:
            t.n_unscored += 1
        else:
            v = float(sc.value)
            t.primary.append(v)
            t.subsets[s.item.subset or ""].append(v)
            t.languages[s.item.metadata.get("language") or "en"].append(v)
            if not sc.parsed:
                t.n_unparseable += 1
        if sc is not None:
            for k, val in sc.values.items():
                if val is not None and not (isinstance(val, float) and math.isnan(val)):
                    t.values[k].append(float(val))

    def headline_variant(self) -> str | None:
        """The variant whose numbers headline the benchmark, or None with a single variant."""
        if len(self.per_variant) <= 1 and len(self.variant_order) <= 1:
            return None
        if self.variant_order:
            return self.variant_order[0]
        return sorted(self.per_variant)[0] if self.per_variant else None

    def _subsets(self, t: _Tally) -> dict[str, Any] | None:
        if len(t.subsets) > 1 or (t.subsets and "" not in t.subsets):
            return {k or "(none)": self._ci(self.primary, v) for k, v in sorted(t.subsets.items())}
        return None

    def _languages(self, t: _Tally) -> dict[str, Any] | None:
        """The primary metric per item language, when a benchmark's items are in several."""
        if len(t.languages) > 1:
            return {k: self._ci(self.primary, v) for k, v in sorted(t.languages.items())}
        return None

    def _variant_entry(self, t: _Tally) -> dict[str, Any]:
        """A variant's row: its primary metric (value, CI, n = scored samples), counts, breakdowns."""
        entry: dict[str, Any] = {**self._ci(self.primary, t.primary), **t.counts()}
        if t.n and not t.primary and t.n_not_applicable == t.n:
            entry["not_applicable"] = True  # shown as "n/a", never as 0%
        others = {k: self._ci(k, v) for k, v in sorted(t.values.items()) if k != self.primary}
        if others:
            entry["metrics"] = others
        subsets = self._subsets(t)
        if subsets:
            entry["subsets"] = subsets
        languages = self._languages(t)
        if languages:
            entry["languages"] = languages
        return entry

    def _ci(self, name: str, values: Sequence[float]) -> dict[str, Any]:
        return mean_ci(values, seed=self.seed, spec=self.spec(name))

    def result(self) -> dict[str, Any]:
        total = self.total
        scored = len(total.primary)
        out: dict[str, Any] = {
            "primary": self.primary,
            **total.counts(),
            "unparseable_rate": (total.n_unparseable / scored) if scored else math.nan,
        }
        head = self.headline_variant()
        head_tally = total if head is None else self.per_variant.get(head, _Tally())
        out["metrics"] = {self.primary: self._ci(self.primary, head_tally.primary)}
        values: dict[str, array[float]] = dict(total.values)
        if head is not None:
            out["headline_variant"] = head
            # The headline variant's values; a key it never produces (a protocol's per-variant
            # name such as ``accuracy_full_vignette``) comes from the one variant that does, and
            # is left out when several do (it would pool them: see ``variants[v].metrics``).
            producers: dict[str, list[str]] = defaultdict(list)
            for name, t in self.per_variant.items():
                for k in t.values:
                    producers[k].append(name)
            values = {
                k: self.per_variant[names[0]].values[k]
                for k, names in producers.items()
                if len(names) == 1 and names[0] != head
            }
            values.update(head_tally.values)
        for k, vals in sorted(values.items()):
            if k != self.primary:
                out["metrics"][k] = self._ci(k, vals)
        subsets = self._subsets(head_tally)
        if subsets:
            out["subsets"] = subsets
        languages = self._languages(head_tally)
        if languages:
            out["languages"] = languages
        if head is not None:
            names = list(self.variant_order)
            names += sorted(v for v in self.per_variant if v not in names)
            out["variants"] = {v: self._variant_entry(self.per_variant.get(v, _Tally())) for v in names}
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


def headline_counts(bench: dict[str, Any]) -> dict[str, Any]:
    """The counts that belong beside a benchmark's headline metric in ``metrics.json``.

    With one variant they are the benchmark's own; with several, the headline variant's (its
    ``n_scored`` is the headline CI's n). ``expected`` is that variant's expected sample count
    when known. Reports and the results index read counts through this, never the run totals.
    """
    head = bench.get("headline_variant")
    src = (bench.get("variants") or {}).get(head) if head else None
    if src is not None and "n_scored" not in src:  # metrics.json written before per-variant counts
        return {"n_scored": src.get("n", 0)}
    if src is None:
        src = bench
    out = {k: src.get(k, 0) for k in COUNTS}
    if src.get("expected") is not None:
        out["expected"] = src["expected"]
    return out
