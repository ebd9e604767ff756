"""The MCQ protocol's run-level analyses: strategy grid with costs, Pareto points, calibration,
position bias, contamination baselines and robustness deltas.

Everything is computed from stored samples (scores, outputs and call records), so ``rescore``
and ``report`` rebuild it without a model. Output follows ``Protocol.summarize``: ``tables`` and
``plots`` for the HTML report, plus ``pareto`` (one point per strategy) which the report merges
across runs into one cost-accuracy frontier.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from medevals.protocols import options_order as oo
from medevals.protocols.answer_set_summary import SetTally
from medevals.protocols.image_summary import ImageTally
from medevals.protocols.mcq import COMPLETION_WORDS
from medevals.protocols.strategies import BASELINE, PERTURBATIONS, SYSTEM, parse
from medevals.schema import Sample
from medevals.scoring.calibration import brier, ece, reliability_bins, selective_accuracy
from medevals.scoring.exam_scores import ExamTally
from medevals.scoring.paired import paired_compare
from medevals.scoring.pareto import pareto_front
from medevals.scoring.stats import bootstrap_mean, mean_ci, wilson
from medevals.systems.summary import SystemTally

CONTAMINATION_CAVEAT = (
    "Caveat: these are weak, indirect signals. Above-chance options-only or stem-only accuracy can come "
    "from answer artefacts (the longest or most specific option) or world knowledge as well as from "
    "memorised items; the completion test compares reproduction of the held-back end of each question "
    "with a mechanically paraphrased control and is confounded by formulaic endings ('which of the "
    "following...'). Small n gives wide intervals. None of them proves or rules out contamination."
)
COVERAGES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass
class _Variant:
    n: int = 0
    errors: int = 0
    unparseable: int = 0
    values: array[float] = field(default_factory=lambda: array("d"))
    answer_calls: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = 0.0
    latency: float = 0.0
    conf: list[tuple[float, float]] = field(default_factory=list)


def _pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _pts(d: float, lo: float, hi: float) -> str:
    if math.isnan(d):
        return "—"
    return f"{100 * d:+.1f} pts [{100 * lo:+.1f}, {100 * hi:+.1f}]"


def _p(p: float) -> str:
    return f"{p:.3g}"


def _key(s: Sample) -> tuple[str, int]:
    return (s.item.id, s.repeat)


def summarize(samples: Iterable[Sample], variants: list[str], exam_score: str = "none") -> dict[str, Any]:
    per: dict[str, _Variant] = defaultdict(_Variant)
    correct_by: dict[str, dict[tuple[str, int], float]] = defaultdict(dict)
    applicable: dict[str, dict[tuple[str, int], bool]] = defaultdict(dict)
    position: list[Sample] = []
    completion: list[Sample] = []
    # Paired (per item) correctness is kept only for the variants a robustness table compares,
    # and only when the run has a perturbation: a one-variant run keeps no per-item state here.
    paired = {BASELINE, *PERTURBATIONS} if any(x in PERTURBATIONS for x in variants) else set()
    chance_sum, n_with_options = 0.0, 0
    images = ImageTally(variants)  # degradation and modality tables (holds nothing for text runs)
    head = variants[0] if variants else "default"
    sets = SetTally()  # answer-set items of the headline variant
    exam = ExamTally(exam_score)
    systems = SystemTally()  # per-role cost and paths of agent systems (nothing without --system)
    for s in samples:
        images.add(s)
        systems.add(s)
        if (s.variant == head or len(variants) <= 1) and s.score is not None and s.score.value is not None:
            sets.add(s)
            exam.add(s.item.metadata, s.item.subset, float(s.score.value), s.score.answer is not None)
        v = per[s.variant]
        v.n += 1
        if s.item.choices:
            chance_sum += 1 / len(s.item.choices)
            n_with_options += 1
        for c in s.calls:
            v.prompt_tokens += c.usage.prompt_tokens
            v.completion_tokens += c.usage.completion_tokens
            v.latency += c.latency_s
            if c.role == "candidate" or c.role.startswith(SYSTEM):
                v.answer_calls += 1
            # at the given prices, cached calls included: what the strategy costs, not what this
            # run happened to pay (a re-run from the cache keeps its place on the cost axis)
            v.cost = None if c.cost_usd is None or v.cost is None else v.cost + c.cost_usd
        if s.error is not None:
            v.errors += 1
        sc = s.score
        if s.variant == "probe:position" and sc is not None and sc.applicable:
            position.append(s)
        if s.variant == "probe:completion" and s.output.get("applicable"):
            completion.append(s)
        if s.variant in paired and sc is not None and not sc.applicable:
            applicable[s.variant][_key(s)] = False
        if sc is None or sc.value is None:
            continue
        v.values.append(float(sc.value))
        if not sc.parsed:
            v.unparseable += 1
        if s.variant in paired:
            correct_by[s.variant][_key(s)] = float(sc.value)
            applicable[s.variant][_key(s)] = bool(s.output.get("applicable", True))
        if sc.confidence is not None and math.isfinite(sc.confidence) and 0 <= sc.confidence <= 1:
            v.conf.append((float(sc.confidence), float(sc.value)))

    tables: list[dict[str, Any]] = []
    plots: list[dict[str, Any]] = []
    strategies = [x for x in variants if x in per and not parse(x).probe and not parse(x).degrade]
    pareto = _grid(per, strategies, tables)
    _calibration(per, variants, tables, plots)
    if position:
        _position(position, tables, plots)
    chance = chance_sum / n_with_options if n_with_options else math.nan
    _contamination(per, completion, chance, tables)
    _robustness(correct_by, applicable, tables)
    images.render(tables, plots)
    for extra in (sets.table(), exam.table()):
        if extra:
            tables.append(extra)
    systems.render(tables)
    out: dict[str, Any] = {"tables": tables, "plots": plots}
    if pareto:
        out["pareto"] = pareto
    return out


def _grid(
    per: dict[str, _Variant], strategies: list[str], tables: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rows, points = [], []
    for name in strategies:
        v = per[name]
        if not v.n:
            continue
        acc = mean_ci(v.values)
        tokens = (v.prompt_tokens + v.completion_tokens) / v.n
        cost = None if v.cost is None else v.cost / v.n
        latency = v.latency / v.n
        rows.append(
            [
                name,
                acc,
                f"{v.answer_calls / v.n:.1f}",
                f"{v.prompt_tokens / v.n:,.0f} / {v.completion_tokens / v.n:,.0f}",
                "unknown" if cost is None else f"${cost:.5f}",
                f"{latency:.2f}s",
                f"{v.unparseable}",
                f"{v.errors}",
            ]
        )
        if not math.isnan(acc["value"]):
            points.append(
                {
                    "label": name,
                    "accuracy": acc["value"],
                    "ci_low": acc["ci_low"],
                    "ci_high": acc["ci_high"],
                    "n": acc["n"],
                    "tokens": tokens,
                    "cost_usd": cost,
                    "latency_s": latency,
                    "calls": v.answer_calls / v.n,
                }
            )
    front = set(pareto_front([(p["tokens"], p["accuracy"]) for p in points]))
    for i, p in enumerate(points):
        p["frontier"] = i in front
    if rows:
        for row in rows:
            row.append("yes" if any(p["label"] == row[0] and p["frontier"] for p in points) else "")
        tables.append(
            {
                "title": "Strategies: accuracy and cost per item",
                "columns": [
                    "strategy",
                    "accuracy",
                    "model calls",
                    "tokens in / out",
                    "cost",
                    "latency (sum of calls)",
                    "unparseable",
                    "errors",
                    "on tokens-accuracy frontier",
                ],
                "rows": rows,
                # measured, not a result: kept in execution.json, out of metrics.json (runs/execution.py)
                "timing_columns": [5],
                "caption": "Per item means. Model calls: calls to the model under test (an agent system's "
                "calls, every role). Tokens include embedding calls of kNN selection; the one-off embedding of "
                "the example pool is not charged to any item. Cached calls count their recorded latency and "
                "tokens, and their cost at the given prices.",
            }
        )
    return points


def _calibration(
    per: dict[str, _Variant], variants: list[str], tables: list[dict[str, Any]], plots: list[dict[str, Any]]
) -> None:
    rows, rel, sel = [], [], []
    for name in variants:
        v = per.get(name)
        if not v or not v.conf:
            continue
        st = parse(name)
        source = (
            "verbalised"
            if st.verbal
            else "vote agreement"
            if (st.ensemble or st.system)
            else "option logprobs"
        )
        conf = [c for c, _ in v.conf]
        corr = [y for _, y in v.conf]
        sa = dict(selective_accuracy(conf, corr, COVERAGES))
        rows.append(
            [
                name,
                source,
                len(conf),
                _pct(sum(conf) / len(conf)),
                _pct(sum(corr) / len(corr)),
                f"{ece(conf, corr):.3f}",
                f"{brier(conf, corr):.3f}",
                _pct(sa[0.5]),
                _pct(sa[0.8]),
            ]
        )
        if st.probe or st.degrade:  # in the table (calibration shift under a probe), not in the plots
            continue
        bins = reliability_bins(conf, corr)
        rel.append(
            {
                "name": name,
                "points": [[b["confidence"], b["accuracy"]] for b in bins],
                "sizes": [b["n"] for b in bins],
            }
        )
        sel.append({"name": name, "points": [[q, a] for q, a in sa.items()]})
    if not rows:
        return
    tables.append(
        {
            "title": "Calibration",
            "columns": [
                "variant",
                "confidence from",
                "n",
                "mean confidence",
                "accuracy",
                "ECE (10 bins)",
                "Brier",
                "sel. acc. @50%",
                "sel. acc. @80%",
            ],
            "rows": rows,
            "caption": "Confidence = probability given to the chosen answer. ECE: equal-width bins, weighted "
            "|accuracy - confidence|. Brier: mean (confidence - correct)^2. Selective accuracy @q: accuracy "
            "on the q most confident share of items.",
        }
    )
    if not rel:
        return
    plots.append(
        {
            "title": "Reliability diagram",
            "kind": "line",
            "x_label": "confidence",
            "y_label": "accuracy",
            "x_range": [0, 1],
            "y_range": [0, 1],
            "reference": "diagonal",
            "series": rel,
        }
    )
    plots.append(
        {
            "title": "Selective accuracy vs coverage",
            "kind": "line",
            "x_label": "coverage (most confident share answered)",
            "y_label": "accuracy",
            "x_range": [0, 1],
            "y_range": [0, 1],
            "series": sel,
        }
    )


def _position(samples: list[Sample], tables: list[dict[str, Any]], plots: list[dict[str, Any]]) -> None:
    by_shift: dict[int, list[float]] = defaultdict(list)
    consistent = follows_content = follows_position = compared = 0
    for s in samples:
        answers = s.score.answer if s.score is not None and isinstance(s.score.answer, list) else []
        assert s.item.choices is not None
        letters = list(s.item.choices)
        # an answer-set item's answers are lists of letters: compared as tuples, mapped letter by letter
        answers = [tuple(a) if isinstance(a, list) else a for a in answers]
        target = tuple(s.item.target) if isinstance(s.item.target, list) else s.item.target
        for k, a in enumerate(answers):
            by_shift[k].append(float(a == target))
        parsed = [a for a in answers if a is not None]
        if answers and len(parsed) == len(answers) and len(set(parsed)) == 1:
            consistent += 1
        a0 = answers[0] if answers else None
        for k, a in enumerate(answers[1:], start=1):
            if a0 is None or a is None:
                continue
            compared += 1
            order = oo.cyclic_order(letters, k)
            shown_at = (
                tuple(sorted((oo.to_displayed(x, order, letters) for x in a), key=letters.index))
                if isinstance(a, tuple)
                else oo.to_displayed(a, order, letters)
            )
            if a == a0:
                follows_content += 1
            elif shown_at == a0:
                follows_position += 1
    accs = {k: mean_ci(v) for k, v in sorted(by_shift.items())}
    values = [m["value"] for m in accs.values()]
    n_letters = sum(len(s.item.choices or {}) for s in samples) / len(samples)
    rows: list[list[Any]] = [[f"accuracy, shift {k}", m] for k, m in accs.items()]
    rows.append(
        ["accuracy spread (max - min over shifts)", _pct(max(values) - min(values)) if values else "—"]
    )
    rows.append(["items answered identically under every shift", _pct(consistent / len(samples))])
    if compared:
        rows.append(
            [
                "answer follows content (same option text)",
                mean_ci([1.0] * follows_content + [0.0] * (compared - follows_content)),
            ]
        )
        rows.append(
            [
                "answer follows position (same letter, other text)",
                mean_ci([1.0] * follows_position + [0.0] * (compared - follows_position)),
            ]
        )
        rows.append(["either, if answers were random", _pct(1 / n_letters)])
    tables.append(
        {
            "title": "Position bias (cyclic shifts of the options)",
            "columns": ["measure", "value"],
            "rows": rows,
            "caption": "Shift k shows option k+1's text under A (A's text moves to the end). Follow rates are "
            f"over {compared} (item, shift > 0) pairs with both answers readable, relative to the answer at shift 0.",
        }
    )
    plots.append(
        {
            "title": "Accuracy by cyclic shift of the options",
            "kind": "bar",
            "x_label": "shift",
            "y_label": "accuracy",
            "y_range": [0, 1],
            "series": [{"name": "probe:position", "points": [[k, m["value"]] for k, m in accs.items()]}],
        }
    )


def _contamination(
    per: dict[str, _Variant], completion: list[Sample], chance: float, tables: list[dict[str, Any]]
) -> None:
    rows: list[list[Any]] = []
    for name, label in (
        (BASELINE, "full question (zero-shot)"),
        ("probe:options-only", "options only (question hidden)"),
        ("probe:stem-only", "question only (options hidden)"),
    ):
        v = per.get(name)
        if v and v.values and (name != BASELINE or "probe:options-only" in per or "probe:stem-only" in per):
            m = mean_ci(v.values)
            above = "" if name == BASELINE else ("yes" if m["ci_low"] > chance else "no")
            rows.append([label, m, _pct(chance), above])
    if completion:
        orig = [s.score.values.get("completion_overlap") for s in completion if s.score]
        ctrl = [s.score.values.get("completion_control_overlap") for s in completion if s.score]
        pairs = [
            (float(a), float(b))
            for a, b in zip(orig, ctrl, strict=True)
            if a is not None and b is not None and not (math.isnan(a) or math.isnan(b))
        ]
        if pairs:
            o = [a for a, _ in pairs]
            c = [b for _, b in pairs]
            diff = paired_compare([1.0 if b >= 1 else 0.0 for b in c], [1.0 if a >= 1 else 0.0 for a in o])
            gaps = [a - b for a, b in pairs]
            lo, hi = bootstrap_mean(gaps)
            d = {"value": sum(gaps) / len(gaps), "ci_low": lo, "ci_high": hi}
            rows.append(["completion: mean tail overlap, original", mean_ci(o), "", ""])
            rows.append(["completion: mean tail overlap, paraphrased control", mean_ci(c), "", ""])
            rows.append(
                [
                    "completion: original - control",
                    _pts(d["value"], d["ci_low"], d["ci_high"]),
                    "",
                    "yes" if d["ci_low"] > 0 else "no",
                ]
            )
            rows.append(
                [
                    f"completion: tail reproduced verbatim (first {COMPLETION_WORDS} words), original vs control",
                    f"{_pct(diff.acc_b)} vs {_pct(diff.acc_a)} (McNemar p={_p(diff.p_value)}, n={diff.n})",
                    "",
                    "",
                ]
            )
    if not rows:
        return
    tables.append(
        {
            "title": "Contamination probes",
            "columns": ["condition", "value", "chance", "above chance / control (95% CI)"],
            "rows": rows,
            "caption": CONTAMINATION_CAVEAT,
        }
    )


def _robustness(
    correct_by: dict[str, dict[tuple[str, int], float]],
    applicable: dict[str, dict[tuple[str, int], bool]],
    tables: list[dict[str, Any]],
) -> None:
    base = correct_by.get(BASELINE)
    rows: list[list[Any]] = []
    for name in PERTURBATIONS:
        pert = correct_by.get(name, {})
        if not pert and not applicable.get(name):
            continue
        if not base:
            rows.append([name, "no zero-shot baseline in this run", "", "", "", "", ""])
            continue
        keys = [k for k in pert if k in base and applicable[name].get(k, True)]
        skipped = sum(1 for ok in applicable[name].values() if not ok)
        r = paired_compare([base[k] for k in keys], [pert[k] for k in keys])
        if not keys:
            rows.append([name, f"0 paired ({skipped} not applicable)", "", "", "", "", ""])
            continue
        lo, hi = wilson(sum(base[k] for k in keys), len(keys))
        rows.append(
            [
                name,
                f"{r.n}" + (f" ({skipped} not applicable)" if skipped else ""),
                {"value": r.acc_a, "ci_low": lo, "ci_high": hi, "n": r.n},
                mean_ci([pert[k] for k in keys]),
                _pts(r.delta, r.ci_low, r.ci_high),
                f"{r.b} / {r.c}",
                _p(r.p_value),
            ]
        )
    if not rows:
        return
    tables.append(
        {
            "title": "Robustness to perturbations (paired with zero-shot on the same items)",
            "columns": [
                "perturbation",
                "paired items",
                "zero-shot accuracy",
                "perturbed accuracy",
                "delta (95% paired bootstrap CI)",
                "only base right / only perturbed right",
                "McNemar p",
            ],
            "rows": rows,
            "caption": "Typos: adjacent letters swapped in ~15% of words; distractor: one irrelevant sentence "
            "before the question sentence; units: kg/lb, cm/in, °C/°F rewritten (items without such "
            "quantities are not applicable); order: options in a random non-identity order, answers mapped back.",
        }
    )
