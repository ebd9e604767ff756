"""Image analyses for the MCQ family's summary: degradation x severity and per-modality tables.

Fed one sample at a time from ``mcq_summary.summarize``'s single pass. For each degraded variant
(``degrade:KIND@S``, optionally composed with a strategy) the items are paired with the same
strategy on clean images: accuracy with its paired delta (bootstrap CI, McNemar), and, when the
answers carry a confidence (option logprobs in likelihood mode, votes of scN/shuffleN, or
verbalised ``conf``), ECE and the *calibration shift*: the change in ECE and in the overconfidence
gap (mean confidence - accuracy) against clean images on the same items (after MedQ-Deg, which
reports how confidence fails to follow accuracy as images degrade).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from medevals.protocols.strategies import clean_baseline, parse
from medevals.schema import Sample
from medevals.scoring.calibration import ece
from medevals.scoring.paired import paired_compare
from medevals.scoring.stats import mean_ci

#: Item metadata keys that get a per-value accuracy table (headline variant, image items only).
BREAKDOWNS = {
    "modality": "imaging modality",
    "department": "department",
    "perceptual granularity": "perceptual granularity",
}

CAPTION = (
    "Each degraded variant is paired item by item with the same strategy on clean images (severity 0). "
    "Delta: degraded - clean accuracy, paired bootstrap 95% CI; McNemar p on discordant items. ECE: 10 "
    "equal-width bins over the items with a confidence. Calibration shift: ECE and overconfidence gap "
    "(mean confidence - accuracy) degraded minus clean; positive = worse calibrated / more overconfident. "
)
NO_CONF = (
    "No confidences in this run: ECE needs option logprobs (--set mode=likelihood), votes (scN, shuffleN) "
    "or verbalised confidence (conf)."
)


def _pct(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def _num(x: float | None, fmt: str = "{:.3f}") -> str:
    return "—" if x is None or math.isnan(x) else fmt.format(x)


class ImageTally:
    """Per-item correctness and confidence for degraded variants and their clean baselines; per-modality
    accuracy of the headline variant. Holds nothing for a run without images or degradations."""

    def __init__(self, variants: list[str]):
        self.variants = variants
        self.head = variants[0] if variants else None
        self.degraded = [v for v in variants if parse(v).degrade]
        self.keep = set(self.degraded) | {clean_baseline(v) for v in self.degraded}
        self.correct: dict[str, dict[tuple[str, int], float]] = defaultdict(dict)
        self.conf: dict[str, dict[tuple[str, int], float]] = defaultdict(dict)
        self.applicable: dict[str, set[tuple[str, int]]] = defaultdict(set)
        # per (metadata key, value): accuracies of the headline variant, and its unscored count
        self.groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.group_errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, s: Sample) -> None:
        sc = s.score
        if s.variant == self.head and s.item.images:
            for key in BREAKDOWNS:
                val = s.item.metadata.get(key)
                if val is None or val == "":
                    continue
                if sc is None or sc.value is None:
                    self.group_errors[key][str(val)] += 1
                else:
                    self.groups[key][str(val)].append(float(sc.value))
        if s.variant not in self.keep or sc is None or sc.value is None:
            return
        key = (s.item.id, s.repeat)
        self.correct[s.variant][key] = float(sc.value)
        if s.output.get("applicable", True):
            self.applicable[s.variant].add(key)
        c = sc.confidence
        if c is not None and math.isfinite(c) and 0 <= c <= 1:
            self.conf[s.variant][key] = float(c)

    # ------------------------------------------------------------------ tables
    def render(self, tables: list[dict[str, Any]], plots: list[dict[str, Any]]) -> None:
        self._modality_table(tables)
        if self.degraded:
            self._degradation(tables, plots)

    def _modality_table(self, tables: list[dict[str, Any]]) -> None:
        for key, label in BREAKDOWNS.items():
            values = set(self.groups.get(key, {})) | set(self.group_errors.get(key, {}))
            if not values:
                continue
            rows = [
                [v, mean_ci(self.groups[key].get(v, [])), self.group_errors[key].get(v, 0)]
                for v in sorted(values)
            ]
            tables.append(
                {
                    "title": f"Accuracy by {label} ({self.head})",
                    "columns": [label, "accuracy", "unscored"],
                    "rows": rows,
                }
            )

    def _calibration(self, variant: str, keys: list[tuple[str, int]]) -> tuple[float, float, int]:
        """(ECE, mean confidence - accuracy, n) over the keys with a confidence."""
        conf = self.conf.get(variant, {})
        pairs = [(conf[k], self.correct[variant][k]) for k in keys if k in conf]
        if not pairs:
            return math.nan, math.nan, 0
        c = [p[0] for p in pairs]
        y = [p[1] for p in pairs]
        return ece(c, y), sum(c) / len(c) - sum(y) / len(y), len(pairs)

    def _degradation(self, tables: list[dict[str, Any]], plots: list[dict[str, Any]]) -> None:
        rows: list[list[Any]] = []
        acc_series: dict[str, dict[int, tuple[float, float, float]]] = defaultdict(dict)
        ece_series: dict[str, dict[int, float]] = defaultdict(dict)
        any_conf = False
        for v in self.degraded:
            st = parse(v)
            assert st.degrade is not None
            kind, sev = st.degrade.split("@")
            base_name = clean_baseline(v)
            base = self.correct.get(base_name, {})
            deg = self.correct.get(v, {})
            keys = sorted(k for k in deg if k in base and k in self.applicable[v])
            label = kind if base_name == "zero-shot" else f"{base_name}+{kind}"
            if not keys:
                rows.append([label, sev, base_name, "0 paired", "", "", "", "", "", "", "", ""])
                continue
            r = paired_compare([base[k] for k in keys], [deg[k] for k in keys])
            clean_m = mean_ci([base[k] for k in keys])
            deg_m = mean_ci([deg[k] for k in keys])
            e0, gap0, n0 = self._calibration(base_name, keys)
            e1, gap1, n1 = self._calibration(v, keys)
            any_conf = any_conf or bool(n0 or n1)
            rows.append(
                [
                    label,
                    sev,
                    base_name,
                    r.n,
                    clean_m,
                    deg_m,
                    f"{100 * r.delta:+.1f} pts [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]",
                    f"{r.p_value:.3g}",
                    _num(e0),
                    _num(e1),
                    _num(e1 - e0, "{:+.3f}"),
                    _num(gap1 - gap0, "{:+.3f}"),
                ]
            )
            acc_series[label][0] = (clean_m["value"], clean_m["ci_low"], clean_m["ci_high"])
            acc_series[label][int(sev)] = (deg_m["value"], deg_m["ci_low"], deg_m["ci_high"])
            if n0 and n1:
                ece_series[label][0] = e0
                ece_series[label][int(sev)] = e1
        tables.append(
            {
                "title": "Image degradations: accuracy and calibration shift vs clean images",
                "columns": [
                    "degradation",
                    "severity",
                    "paired with",
                    "paired items",
                    "clean accuracy",
                    "degraded accuracy",
                    "delta (95% paired bootstrap CI)",
                    "McNemar p",
                    "ECE clean",
                    "ECE degraded",
                    "ECE shift",
                    "overconfidence shift",
                ],
                "rows": rows,
                "caption": CAPTION + ("" if any_conf else NO_CONF) + _levels(),
            }
        )
        if acc_series:
            plots.append(
                {
                    "title": "Accuracy vs degradation severity (0 = clean)",
                    "kind": "line",
                    "x_label": "severity",
                    "y_label": "accuracy",
                    "y_range": [0, 1],
                    "series": [
                        {
                            "name": name,
                            "points": [[s, pts[s][0]] for s in sorted(pts)],
                            "intervals": [[pts[s][1], pts[s][2]] for s in sorted(pts)],
                        }
                        for name, pts in acc_series.items()
                    ],
                }
            )
        if ece_series:
            plots.append(
                {
                    "title": "ECE vs degradation severity (0 = clean)",
                    "kind": "line",
                    "x_label": "severity",
                    "y_label": "ECE",
                    "series": [
                        {"name": name, "points": [[s, pts[s]] for s in sorted(pts)]}
                        for name, pts in ece_series.items()
                    ],
                }
            )


def _levels() -> str:
    from medevals.images.degrade import DESCRIPTION

    return " Levels: " + DESCRIPTION + "."
