"""Agreement and judge-failure tables from a run's samples (for ``summarize`` and ``medevals agreement``).

Judged protocols store, per sample, ``output["judgements"] = [{"key", "judges": {role: record}}]``
and per-judge item scores as ``Score.values["judge:i"]``. These functions read only that
layout, so any judged protocol gets the same tables without code of its own.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from medevals.judging.verdicts import read_record
from medevals.schema import Sample
from medevals.scoring.agreement import (
    bootstrap_stat,
    cohen_kappa,
    fleiss_kappa,
    icc_2_1,
    macro_f1,
    pairwise,
    percent_agreement,
)

_JUDGE_KEY = re.compile(r"^judge:\d+$")

Labels = dict[tuple[str, str], dict[str, int]]
"""(unit id, judgement key) -> rater -> label: 0/1 for a boolean verdict; for a valued verdict
one entry per named value, keyed ``"<judgement key>:<value name>"`` (an axis rating 1-5, a
statement marked covered 0/1)."""


def collect(
    samples: Iterable[Sample],
) -> tuple[Labels, Counter[tuple[str, str]], dict[str, dict[str, float]]]:
    """Labels per judgement, failures per (role, kind) (with 'total' counts), per-judge item scores."""
    labels: Labels = {}
    failures: Counter[tuple[str, str]] = Counter()
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    for s in samples:
        for j in s.output.get("judgements") or []:
            key = str(j.get("key"))
            row: dict[str, int] = {}
            valued: dict[str, dict[str, int]] = {}
            for role, rec in (j.get("judges") or {}).items():
                v = read_record(rec)
                failures[(role, "total")] += 1
                if int(rec.get("fresh_calls") or 1) > 1:
                    failures[(role, "re-asked")] += 1
                if v.ok:
                    if v.values is not None:
                        for name, val in v.values.items():
                            valued.setdefault(f"{key}:{name}", {})[role] = round(val)
                    else:
                        row[role] = int(bool(v.label))
                    if v.repaired:
                        failures[(role, "repaired")] += 1
                else:
                    failures[(role, v.kind or "malformed")] += 1
            if valued:
                for k, r in valued.items():
                    labels[(s.unit_id, k)] = r
            else:
                labels[(s.unit_id, key)] = row
        if s.score is not None:
            for k, v in s.score.values.items():
                if _JUDGE_KEY.match(k) and v is not None and not math.isnan(v):
                    scores[s.unit_id][k] = float(v)
    return labels, failures, dict(scores)


def _fmt(x: float) -> float | str:
    return "n/a" if isinstance(x, float) and math.isnan(x) else round(x, 4)


def stat_text(d: Mapping[str, Any]) -> str:
    """A kappa/ICC as text ("0.583 [0.210, 0.861]"): the report shows metric dicts as percentages,
    which would misread a statistic that runs from -1 to 1. Numbers stay in the table's ``data``."""
    v, lo, hi = d.get("value"), d.get("ci_low"), d.get("ci_high")
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a (undefined: a rater never varies or too few items)"
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return f"{v:.3f}"
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def agreement_tables(
    labels: Labels,
    failures: Counter[tuple[str, str]],
    scores: Mapping[str, Mapping[str, float]],
    *,
    seed: int = 0,
    label_name: str = "verdict",
) -> list[dict[str, Any]]:
    """Pairwise Cohen's kappa / % agreement / macro-F1, Fleiss' kappa, ICC(2,1) and failure counts."""
    raters = sorted({r for row in labels.values() for r in row}, key=_order)
    tables: list[dict[str, Any]] = []
    if len(raters) >= 2:
        rows = []
        for a, b in itertools.combinations(raters, 2):
            pairs = [(row[a], row[b]) for row in labels.values() if a in row and b in row]
            agree = bootstrap_stat(pairs, pairwise(percent_agreement), seed=seed)
            kappa = bootstrap_stat(pairs, pairwise(cohen_kappa), seed=seed)
            f1 = bootstrap_stat(pairs, pairwise(macro_f1), seed=seed)
            rows.append([a, b, len(pairs), agree, kappa, f1])
        tables.append(
            {
                "title": f"Agreement between raters ({label_name} level, 95% bootstrap CI)",
                "columns": ["rater A", "rater B", "n", "% agreement", "Cohen's kappa", "macro-F1 (B vs A)"],
                "rows": [[*r[:4], stat_text(r[4]), r[5]] for r in rows],
                "data": rows,
            }
        )
        # Fleiss' kappa among the model judges only (a baseline rater is compared pairwise above).
        jr = [r for r in raters if _JUDGE_KEY.match(r)]
        multi: list[list[Any]] = []
        if len(jr) >= 2:
            full = [tuple(row[r] for r in jr) for row in labels.values() if all(r in row for r in jr)]
            multi.append(
                ["Fleiss' kappa", ", ".join(jr), len(full), bootstrap_stat(full, fleiss_kappa, seed=seed)]
            )
        judges = sorted({k for v in scores.values() for k in v}, key=_order)
        if len(judges) >= 2:
            mat = [[v[j] for j in judges] for v in scores.values() if all(j in v for j in judges)]
            multi.append(
                [
                    "ICC(2,1) of item scores",
                    ", ".join(judges),
                    len(mat),
                    bootstrap_stat(mat, icc_2_1, seed=seed),
                ]
            )
        if multi:
            tables.append(
                {
                    "title": "Agreement among all judges (95% bootstrap CI)",
                    "columns": ["statistic", "raters", "n", "value"],
                    "rows": [[*r[:3], stat_text(r[3])] for r in multi],
                    "data": multi,
                }
            )
    roles = sorted({r for r, _ in failures}, key=_order)
    if roles:
        kinds = ["call_failed", "refusal", "malformed", "invalid"]
        rows = []
        for r in roles:
            total = failures[(r, "total")]
            failed = sum(failures[(r, k)] for k in kinds)
            rows.append(
                [
                    r,
                    total,
                    *(failures[(r, k)] for k in kinds),
                    failures[(r, "repaired")],
                    failures[(r, "re-asked")],
                    _fmt(failed / total if total else math.nan),
                ]
            )
        tables.append(
            {
                "title": "Judge failures (unscored, never counted as wrong)",
                "columns": ["judge", "judgements", *kinds, "repaired", "re-asked", "failure rate"],
                "caption": (
                    "repaired: the verdict came from a later reply than the first; re-asked: the judge "
                    "needed a fresh call (an unreadable reply and repair, or a failed call); a failure "
                    "is a judgement still without a verdict after every attempt."
                ),
                "rows": rows,
            }
        )
    return tables


def _order(name: str) -> tuple[int, str]:
    m = re.match(r"^judge:(\d+)$", name)
    return (int(m.group(1)), "") if m else (10**6, name)
