"""Pairwise judgement: "which of these two is more X", asked in both orders.

An item is one pair: ``metadata["a"]`` and ``metadata["b"]`` (``{"id", "text"}``), the question
or task both belong to (``input``), what is compared (``metadata["criterion"]``, e.g. "more
urgent") and, when known, the reference preference (``target``: ``"a"``, ``"b"`` or ``"tie"``,
or derived from ``metadata["reference"] = {"a": score, "b": score}``, higher = more X). Each pair
is asked twice, a-then-b and b-then-a, so position bias is measured, not just suffered. Verdicts
go through the judging machinery (``judging/judge.py``: one repair turn, fresh calls, base models
constrained to the digits 1/2/0); a verdict that cannot be read leaves its order unscored, never
a loss.

Two uses (``mode``):

- ``items`` (pair data from a spec, PMR-Bench-style triage): the model under test compares. Per
  pair: ``accuracy`` = the mean over the two orders of "picked the reference's choice" (a tie
  verdict is right only for a tie reference). Summary: accuracy, both-orders-right, consistency,
  position bias, Bradley-Terry strengths of every item with bootstrap CIs, and Kendall's tau and
  nDCG of the strength order against the reference scores when the data has them.
- ``answers`` (``medevals compare runs/a runs/b --judge J``): judges compare model A's and model
  B's answers to the same question. Per judge, the two orders combine as in MT-Bench (Zheng et
  al. 2023): A wins when preferred in both orders, or in one with a tie in the other; an
  inconsistent pair (A in one order, B in the other) is a tie. The pair's value is A's points
  (win 1, tie 0.5, loss 0), averaged over judges: the ``win_rate`` of A with a bootstrap CI
  over pairs; wins, ties and losses, consistency and position bias beside it.

Position bias: among decisive verdicts (1 or 2), the share that chose whatever was shown first
(0.5 = none).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from medevals.errors import ConfigError
from medevals.judging import judge as judging
from medevals.judging import templates
from medevals.judging.verdicts import PreferenceVerdict, read_record
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.schema import CallRecord, Item, Sample, Score
from medevals.scoring.stats import CONTINUOUS, PROPORTION, MetricSpec, mean_ci

ORDERS = ("ab", "ba")


class PairwiseOptions(ProtocolOptions):
    mode: Literal["items", "answers"] = "items"
    criterion: str | None = Field(None, description="what is compared: 'more urgent', 'better' ...")
    task: str = Field(
        "You are helping a clinician triage. Compare the two items below.",
        description="the instruction above the two items (items mode)",
    )
    max_tokens: int = Field(256, ge=1)
    judge_attempts: int = Field(3, ge=1, le=10)
    bootstrap: int = Field(200, ge=0, le=5000, description="bootstrap resamples for Bradley-Terry CIs")
    requires_judge: bool = Field(False, description="set by `medevals compare`: judges compare")


def reference_choice(item: Item) -> str | None:
    """``"a"``, ``"b"`` or ``"tie"`` from the item's target, else from its reference scores."""
    if item.target in ("a", "b", "tie"):
        return str(item.target)
    ref = item.metadata.get("reference")
    if isinstance(ref, dict) and "a" in ref and "b" in ref:
        ra, rb = float(ref["a"]), float(ref["b"])
        return "a" if ra > rb else "b" if rb > ra else "tie"
    return None


def choice_of(preferred: float | None, order: str) -> str | None:
    """The item chosen by a verdict (1/2/0) shown in ``order``."""
    if preferred is None:
        return None
    if preferred == 0:
        return "tie"
    first, second = order[0], order[1]
    return first if preferred == 1 else second


class PairwiseProtocol(Protocol):
    name = "pairwise"
    Options = PairwiseOptions
    options: PairwiseOptions
    roles = ("judge",)

    def __init__(self, options: PairwiseOptions, benchmark: Any = None):
        super().__init__(options, benchmark)
        answers = options.mode == "answers"
        self.primary_metric = "win_rate" if answers else "accuracy"  # type: ignore[misc]
        self.needs_candidate = not answers  # type: ignore[misc]

    def metric_spec(self, name: str) -> MetricSpec | None:  # type: ignore[override]
        if name in ("win_rate", "accuracy"):
            return CONTINUOUS  # a pair's value is a mean over orders (and judges)
        if name in ("consistent", "both_orders_right"):
            return PROPORTION
        return None

    def template_name(self) -> str:
        return templates.PAIRWISE_ANSWERS if self.options.mode == "answers" else templates.PAIRWISE_ITEMS

    def templates(self) -> dict[str, str]:
        return templates.recorded(self.template_name())

    def single_turn_obstacle(self, variant: str) -> str | None:
        return "a pair is asked in both orders (two calls)"

    def _roles(self, ctx: SolveContext) -> list[str]:
        if self.options.mode == "answers":
            roles = judging.judge_roles(ctx)
            if not roles:
                raise ConfigError("pairwise comparison of answers needs --judge")
            return roles
        return ["candidate"]

    def _prompt(self, item: Item, order: str) -> str:
        a, b = item.metadata.get("a"), item.metadata.get("b")
        if not isinstance(a, dict) or not isinstance(b, dict):
            raise ConfigError(f"item {item.id}: a pair needs metadata.a and metadata.b with 'text'")
        shown = {"a": str(a.get("text", "")), "b": str(b.get("text", ""))}
        first, second = shown[order[0]], shown[order[1]]
        question = item.input if isinstance(item.input, str) else str(item.input)
        criterion = self.options.criterion or str(item.metadata.get("criterion") or "")
        if self.options.mode == "answers":
            return templates.render(
                templates.PAIRWISE_ANSWERS,
                criterion=criterion or "better",
                question=question,
                first=first,
                second=second,
            )
        if not criterion:
            raise ConfigError(
                f"item {item.id}: say what is compared (metadata.criterion or --set criterion=...)"
            )
        task = f"{self.options.task}\n\n{question}".strip() if question else self.options.task
        return templates.render(
            templates.PAIRWISE_ITEMS, task=task, criterion=criterion, first=first, second=second
        )

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        import asyncio

        roles = self._roles(ctx)
        out: dict[str, Any] = {"orders": {}}
        for order in ORDERS:
            task = judging.JudgeTask(
                template=self.template_name(),
                prompt=self._prompt(item, order),
                schema=PreferenceVerdict,
                max_tokens=self.options.max_tokens,
                attempts=self.options.judge_attempts,
            )
            if self.options.mode == "answers":
                records = await asyncio.gather(*(judging.ask(ctx, r, task) for r in roles))
            else:
                records = [await self._ask_candidate(ctx, task)]
            out["orders"][order] = dict(zip(roles, records, strict=True))
        return out

    @staticmethod
    async def _ask_candidate(ctx: SolveContext, task: judging.JudgeTask) -> dict[str, Any]:
        """The model under test answers once per order: no repair turn (an unreadable reply is its
        failure, counted), and a failed call fails the unit (retried on the next run), as in MCQ."""
        base = ctx.is_base_model()
        rec = await ctx.generate(judging._first_request(task, base))
        text = judging._reply_text(rec.raw, base, task.schema)
        return {"role": "candidate", "template": task.template, "attempts": [text], "call_error": None}

    # ------------------------------------------------------------------ scoring
    @staticmethod
    def verdicts(output: dict[str, Any]) -> dict[str, dict[str, str | None]]:
        """role -> order -> chosen item ("a", "b", "tie") or None (unreadable)."""
        out: dict[str, dict[str, str | None]] = defaultdict(dict)
        for order, by_role in (output.get("orders") or {}).items():
            for role, record in by_role.items():
                v = read_record(record)
                pref = (v.values or {}).get("preferred") if v.ok else None
                out[role][order] = choice_of(pref, order)
        return out

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        per_role = self.verdicts(output)
        n_failed = sum(1 for r in per_role.values() for c in r.values() if c is None)
        if self.options.mode == "answers":
            points = []
            for by_order in per_role.values():
                if any(by_order.get(o) is None for o in ORDERS):
                    continue  # a judge with an unreadable order: its pair result is unknown
                points.append(mt_bench_points(by_order["ab"], by_order["ba"]))  # type: ignore[arg-type]
            if not points:
                return Score(
                    value=None,
                    explanation=f"no judge gave readable verdicts in both orders ({n_failed} failed)",
                )
            value = sum(points) / len(points)
            consistent = [
                float(o["ab"] == o["ba"])
                for o in per_role.values()
                if all(o.get(x) is not None for x in ORDERS)
            ]
            return Score(
                value=value,
                answer={r: dict(o) for r, o in per_role.items()},
                target=None,
                values={"win_rate": value, "consistent": sum(consistent) / len(consistent)},
                explanation=f"A's points {value:g} over {len(points)} judge(s)",
            )
        ref = reference_choice(item)
        if ref is None:
            raise ConfigError(
                f"item {item.id}: a pair needs a reference (target a/b/tie or metadata.reference)"
            )
        chosen = per_role.get("candidate", {})
        readable = [c for c in (chosen.get(o) for o in ORDERS) if c is not None]
        if not readable:
            return Score(
                value=0.0, parsed=False, target=ref, answer=dict(chosen), explanation="no readable verdict"
            )
        right = [float(c == ref) for c in (chosen.get(o) for o in ORDERS)]  # unreadable order: wrong
        values: dict[str, float | None] = {
            "both_orders_right": float(all(r == 1.0 for r in right)),
            "consistent": float(chosen.get("ab") == chosen.get("ba") and chosen.get("ab") is not None),
        }
        return Score(
            value=sum(right) / 2,
            answer=dict(chosen),
            target=ref,
            parsed=len(readable) == 2,
            values=values,
            explanation=f"a-b: {chosen.get('ab')}, b-a: {chosen.get('ba')}",
        )

    # ------------------------------------------------------------------ summary
    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        from medevals.scoring import bradley_terry as bt

        units: list[list[tuple[float, str, str]]] = []
        first_picks: list[float] = []
        reference: dict[str, float] = {}
        outcomes: dict[str, int] = {"win": 0, "tie": 0, "loss": 0}
        wins_by_pair: list[float] = []
        for s in samples:
            if s.score is None or s.score.value is None:
                continue
            a = (s.item.metadata.get("a") or {}).get("id", "a")
            b = (s.item.metadata.get("b") or {}).get("id", "b")
            ref = s.item.metadata.get("reference")
            if isinstance(ref, dict):
                reference[str(a)], reference[str(b)] = float(ref["a"]), float(ref["b"])
            unit = []
            for by_order in self.verdicts(s.output).values():
                for order, choice in by_order.items():
                    if choice is None:
                        continue
                    unit.append((1.0 if choice == "a" else 0.0 if choice == "b" else 0.5, str(a), str(b)))
                    if choice != "tie":
                        first_picks.append(float(choice == order[0]))
                if self.options.mode == "answers" and all(by_order.get(o) is not None for o in ORDERS):
                    p = mt_bench_points(by_order["ab"], by_order["ba"])  # type: ignore[arg-type]
                    outcomes["win" if p == 1 else "loss" if p == 0 else "tie"] += 1
            if unit:
                units.append(unit)
            wins_by_pair.append(float(s.score.value))
        if not units:
            return {}
        strengths = bt.bootstrap(units, n_boot=self.options.bootstrap, seed=0)
        point = {k: v["value"] for k, v in strengths.items()}
        tables: list[dict[str, Any]] = []
        rows: list[list[Any]] = []
        if self.options.mode == "answers":
            n = sum(outcomes.values())
            rows += [
                [
                    "win rate of A (win 1, tie 0.5; bootstrap CI)",
                    mean_ci(wins_by_pair, spec=CONTINUOUS),
                    len(wins_by_pair),
                ],
                [
                    "A wins / ties / B wins (MT-Bench rule, per judge)",
                    f"{outcomes['win']} / {outcomes['tie']} / {outcomes['loss']}",
                    n,
                ],
            ]
        rows.append(
            [
                "position bias: decisive verdicts for the first shown",
                mean_ci(first_picks) if first_picks else "-",
                len(first_picks),
            ]
        )
        extra: dict[str, Any] = {"bradley_terry": strengths}
        if reference and len(point) >= 2:
            rank_units = units
            tau = bt.kendall_tau(point, reference)
            gain = bt.ndcg(point, reference)
            tau_ci = _bootstrap_rank(rank_units, reference, bt.kendall_tau, self.options.bootstrap)
            ndcg_ci = _bootstrap_rank(rank_units, reference, bt.ndcg, self.options.bootstrap)
            rows.append(
                [
                    "Kendall tau: strengths vs reference order",
                    {**tau_ci, "value": tau, "scale": [-1, 1]},
                    len(point),
                ]
            )
            rows.append(
                [
                    "nDCG: strengths vs reference scores",
                    {**ndcg_ci, "value": gain, "scale": [0, 1]},
                    len(point),
                ]
            )
            extra["kendall_tau"] = tau
            extra["ndcg"] = gain
        tables.append(
            {
                "title": "Pairwise comparison"
                + (" of answers (A = first run)" if self.options.mode == "answers" else ""),
                "columns": ["measure", "value [95% CI]", "n"],
                "rows": rows,
                "terminal": True,
                "caption": "Each pair asked in both orders. Position bias 50% = none. Bradley-Terry: MM "
                "maximum likelihood, ties half a win, bootstrap over pairs.",
            }
        )
        top = sorted(strengths.items(), key=lambda kv: -kv[1]["value"])
        tables.append(
            {
                "title": "Bradley-Terry strengths (log scale, mean 0)",
                "columns": [
                    "item",
                    "strength",
                    "95% CI",
                    "comparisons",
                    *(["reference"] if reference else []),
                ],
                "rows": [
                    [
                        name,
                        round(v["value"], 3),
                        f"[{v['ci_low']:.3f}, {v['ci_high']:.3f}]",
                        v["n"],
                        *([reference.get(name, "-")] if reference else []),
                    ]
                    for name, v in top[:50]
                ],
                "terminal": len(top) <= 20,
                "caption": f"{len(top)} items" + ("; the 50 strongest shown" if len(top) > 50 else ""),
            }
        )
        return {"tables": tables, **extra}


def mt_bench_points(ab: str, ba: str) -> float:
    """A's points from one judge's two verdicts (each "a", "b" or "tie"): MT-Bench's rule."""
    pair = {ab, ba}
    if pair == {"a"} or pair == {"a", "tie"}:
        return 1.0
    if pair == {"b"} or pair == {"b", "tie"}:
        return 0.0
    return 0.5  # both ties, or inconsistent (a in one order, b in the other)


def _bootstrap_rank(units, reference, stat, n_boot: int) -> dict[str, float]:
    import math
    import random

    from medevals.scoring import bradley_terry as bt

    rng = random.Random(0)
    n = len(units)
    vals = []
    for _ in range(n_boot if n >= 2 else 0):
        est = bt.fit([c for _ in range(n) for c in units[rng.randrange(n)]])
        v = stat(est, reference)
        if v == v:
            vals.append(v)
    vals.sort()
    if not vals:
        return {"ci_low": math.nan, "ci_high": math.nan, "n": n}
    return {"ci_low": bt._pct(vals, 2.5), "ci_high": bt._pct(vals, 97.5), "n": n}
