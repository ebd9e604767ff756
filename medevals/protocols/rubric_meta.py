"""HealthBench meta-evaluation: the judge grades rubric criteria that physicians graded; how far do they agree?

Each item is one row of the meta-eval file: a conversation, a response to it (already written:
no candidate model is called), one rubric criterion, and the binary "met" labels of the
physicians who graded that criterion (with their anonymised ids and the criterion's cluster).
Every judge (``--judge A,B``: the graders under test) gives its verdict with the rubric
protocol's grading prompt (``rubric_criterion_meta@v1``: ``rubric_criterion@v2`` showing the
criterion as the file gives it); judges that fail are asked again and then leave the row
unscored for that judge (counted, never a "not met").

Scored as the published meta-evaluation (``scoring.rater_f1``; openai/simple-evals
``healthbench_meta_eval.py`` and the macro-F1 figure of its analysis notebook):

- **macro-F1 of the grader against the physicians**, pooled over pairs (grader label, one
  physician's label) of every row: the mean F1 of "met" and "not met" (upstream's
  ``pairwise_model_f1_balanced``, the meta-eval's score), with a bootstrap CI over rows; per
  category (``cluster:...``) the same over that category's pairs;
- **physicians as the baseline**: each physician's macro-F1 against the other physicians on the
  rows they graded; by theme (the category's first word after ``cluster:``), the grader's F1 is
  the ``n``-weighted mean of its categories' F1 and the physicians' is the ``n``-weighted mean of
  each physician's (as the notebook's ``agg_n_and_val_list``); the grader's percentile among the
  physicians with more than ``min_physician_n`` (50) weight, ties counted half.

Every judge is a grader of its own (``judge:i``) and the jury (``jury``, majority by default)
another. The per-row value (``agreement``) is the share of the row's physician labels that the
jury's label matches; it headlines the run with a bootstrap CI, and the macro-F1 table (the
published figure) is printed after the run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from medevals.errors import ConfigError
from medevals.judging import templates
from medevals.judging.judge import JudgeTask, ask_jury, judge_roles
from medevals.judging.jury import aggregate
from medevals.judging.tables import agreement_tables, collect
from medevals.judging.verdicts import CriterionVerdict, read_record
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.protocols.freetext import transcript
from medevals.schema import CallRecord, Item, Sample, Score
from medevals.scoring import rater_f1
from medevals.scoring.stats import CONTINUOUS, PROPORTION, MetricSpec

#: The analysis notebook's names of the seven themes (the first word of a cluster category).
THEMES = {
    "emergency": "Emergency referrals",
    "communication": "Expertise-tailored communication",
    "hedging": "Responding under uncertainty",
    "complex": "Response depth",
    "health": "Health data tasks",
    "global": "Global health",
    "context": "Context seeking",
}


class RubricMetaOptions(ProtocolOptions):
    jury: Literal["majority", "min"] = "majority"
    judge_max_tokens: int = Field(256, ge=16)
    judge_attempts: int = Field(3, ge=1, le=10)
    judge_retry_temperature: float = Field(0.5, ge=0.0, le=2.0)
    min_physician_n: int = Field(
        50, ge=0, description="physicians with at most this weight are left out of the percentile"
    )
    requires_judge: Literal[True] = True


def theme_of(category: str) -> str:
    """``cluster:emergency_referrals_...`` -> ``emergency`` (the notebook's short theme name)."""
    return category.removeprefix("cluster:").split("_", 1)[0]


class RubricMetaProtocol(Protocol):
    name = "rubric-meta"
    primary_metric = "agreement"
    Options = RubricMetaOptions
    options: RubricMetaOptions
    roles = ("judge",)
    needs_candidate = False  # the responses are in the data; the judges are what is measured

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        return PROPORTION if name == "grader_met" else CONTINUOUS

    def templates(self) -> dict[str, str]:
        return templates.recorded(templates.RUBRIC_CRITERION_META)

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        roles = judge_roles(ctx)
        if not roles:
            raise ConfigError("the rubric-meta protocol needs a judge: pass --judge SPEC[,SPEC...]")
        o = self.options
        convo = item.input if isinstance(item.input, list) else [{"role": "user", "content": str(item.input)}]
        task = JudgeTask(
            template=templates.RUBRIC_CRITERION_META,
            prompt=templates.render(
                templates.RUBRIC_CRITERION_META,
                conversation=transcript(convo),
                response=str(item.metadata["completion"]),
                criterion=str(item.metadata["rubric"]),
            ),
            schema=CriterionVerdict,
            max_tokens=o.judge_max_tokens,
            attempts=o.judge_attempts,
            retry_temperature=o.judge_retry_temperature,
        )
        return {
            "jury": o.jury,
            "judgements": [{"key": "criterion", "judges": await ask_jury(ctx, task, roles)}],
        }

    def labels(self, output: dict[str, Any]) -> tuple[dict[str, bool | None], bool | None, list[str]]:
        """(each judge's label, the jury's label, failure notes) from the stored judge records."""
        per: dict[str, bool | None] = {}
        problems: list[str] = []
        for j in output.get("judgements") or []:
            for role, rec in sorted((j.get("judges") or {}).items()):
                v = read_record(rec)
                per[role] = bool(v.label) if v.ok else None
                if not v.ok:
                    problems.append(f"{role} {v.kind}: {v.failure}")
        agg = aggregate(
            [None if x is None else float(x) for x in per.values()], output.get("jury", self.options.jury)
        )
        return per, None if agg is None else agg >= 0.5, problems

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        physicians: list[bool] = list(item.target or [])
        per, jury, problems = self.labels(output)

        def share(label: bool | None) -> float | None:
            return None if label is None else sum(p == label for p in physicians) / len(physicians)

        values: dict[str, float | None] = {r: share(lab) for r, lab in per.items()}
        values["physician_met"] = sum(physicians) / len(physicians)
        explanation = "; ".join(problems) or None
        if jury is None:
            return Score(
                value=None, target=physicians, values=values, explanation=explanation or "not judged"
            )
        values["agreement"] = share(jury)
        values["grader_met"] = float(jury)
        return Score(
            value=values["agreement"], answer=jury, target=physicians, values=values, explanation=explanation
        )

    def agreement(self, samples: Iterable[Sample]) -> list[dict[str, Any]]:
        labels, failures, scores = collect(samples)
        return agreement_tables(labels, failures, scores, label_name="criterion")

    # ------------------------------------------------------------------ the meta-evaluation

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        samples = list(samples)
        # grader -> category -> per-row pair counts (the grader's label vs each physician label)
        graders: dict[str, dict[str, list[rater_f1.Counts]]] = defaultdict(lambda: defaultdict(list))
        # physician -> category -> summed pair counts against the other physicians on the row
        doctors: dict[str, dict[str, rater_f1.Counts]] = defaultdict(
            lambda: defaultdict(lambda: (0, 0, 0, 0))
        )
        jury_name = f"jury ({self.options.jury})"
        for s in samples:
            labels: list[bool] = list(s.item.target or [])
            ids: list[str] = list(s.item.metadata.get("physicians") or [])
            cat = s.item.subset or ""
            if s.error is None and s.score is not None:
                per, jury, _ = self.labels(s.output)
                for name, lab in [*per.items(), (jury_name, jury)]:
                    if lab is not None:
                        graders[name][cat].append(rater_f1.pair_counts(lab, labels))
            # physicians against each other do not depend on the judges: every row counts
            for i, pid in enumerate(ids):
                others = labels[:i] + labels[i + 1 :]
                if others:
                    doctors[pid][cat] = rater_f1.add(
                        doctors[pid][cat], rater_f1.pair_counts(labels[i], others)
                    )
        if not graders:
            return {}
        order = sorted((g for g in graders if g != jury_name), key=_role_order)
        if len(order) != 1:  # one judge: the jury is that judge
            order.append(jury_name)
        headline = order[-1]

        def pooled(rows: list[rater_f1.Counts]) -> rater_f1.Counts:
            total: rater_f1.Counts = (0, 0, 0, 0)
            for r in rows:
                total = rater_f1.add(total, r)
            return total

        overall_rows: list[list[Any]] = []
        meta: dict[str, Any] = {}
        for g in order:
            rows = [r for cat_rows in graders[g].values() for r in cat_rows]
            f = rater_f1.rater_f1(pooled(rows))
            cell = f.cell(rater_f1.bootstrap_ci(rows), rows=len(rows))
            overall_rows.append([g, cell, len(rows), f.pairs, _r(f.f1_met), _r(f.f1_not_met)])
            meta[g] = {"macro_f1": f.value, "rows": len(rows), "pairs": f.pairs, "n": f.n}
        phys_overall = [rater_f1.rater_f1(pooled(list(cats.values()))) for cats in doctors.values()]
        phys_avg = rater_f1.weighted_mean(phys_overall)
        if phys_avg is not None:
            overall_rows.append(
                [
                    f"physicians (n-weighted mean of {len(doctors)})",
                    {"value": phys_avg.value, "n": len(doctors)},
                    "",
                    phys_avg.pairs,
                    "",
                    "",
                ]
            )
        tables: list[dict[str, Any]] = [
            {
                "title": "Grader vs physicians: macro-F1 (HealthBench meta-evaluation, 95% bootstrap CI over rows)",
                "columns": ["grader", "macro-F1", "rows", "pairs", "F1 met", "F1 not met"],
                "rows": overall_rows,
                "caption": (
                    "Pairs are (grader label, one physician's label) of every row, pooled; macro-F1 is the mean "
                    "F1 of 'met' and 'not met' (simple-evals pairwise_model_f1_balanced, the meta-eval's score). "
                    "Physicians: each against the other physicians on the same rows, averaged with upstream's "
                    "weights n."
                ),
                "terminal": True,
            }
        ]
        # by theme: weighted means over the theme's categories, physicians by the notebook's rule
        themes = sorted({theme_of(c) for g in graders.values() for c in g})
        theme_rows = []
        for t in themes:
            row: list[Any] = [THEMES.get(t, t)]
            head_value = float("nan")
            for g in order:
                parts = [rater_f1.rater_f1(pooled(r)) for c, r in graders[g].items() if theme_of(c) == t]
                w = rater_f1.weighted_mean(parts)
                row.append(_r(w.value) if w else "n/a")
                if g == headline and w is not None:
                    head_value = w.value
            per_doc = [
                w
                for cats in doctors.values()
                if (
                    w := rater_f1.weighted_mean(
                        rater_f1.rater_f1(c) for k, c in cats.items() if theme_of(k) == t
                    )
                )
            ]
            grand = rater_f1.weighted_mean(per_doc)
            kept = [w.value for w in per_doc if w.n > self.options.min_physician_n]
            row += [
                _r(grand.value) if grand else "n/a",
                len(kept),
                _r(rater_f1.percentile_among(head_value, kept)),
            ]
            theme_rows.append(row)
        tables.append(
            {
                "title": "Macro-F1 by theme: graders vs physicians (HealthBench meta-evaluation)",
                "columns": [
                    "theme",
                    *order,
                    "physicians (weighted)",
                    f"physicians with n > {self.options.min_physician_n}",
                    f"{headline} percentile among them",
                ],
                "rows": theme_rows,
                "caption": (
                    "A grader's theme F1 is the n-weighted mean of its categories' F1; the physicians' is the "
                    "n-weighted mean of each physician's (itself weighted over categories), as the "
                    "HealthBench analysis notebook computes them."
                ),
                "terminal": True,
            }
        )
        cats = sorted({c for g in graders.values() for c in g})
        tables.append(
            {
                "title": "Macro-F1 by rubric category (pooled pairs)",
                "columns": ["category", *order, "pairs"],
                "rows": [
                    [
                        c,
                        *(_r(rater_f1.macro_f1(pooled(graders[g].get(c, [])))) for g in order),
                        sum(pooled(graders[headline].get(c, []))),
                    ]
                    for c in cats
                ],
            }
        )
        tables += self.agreement(samples)
        return {
            "tables": tables,
            "meta_eval": meta,
            "physicians": {"n": len(doctors), "macro_f1": phys_avg.value if phys_avg else None},
        }


def _role_order(name: str) -> tuple[int, str]:
    head, _, idx = name.partition(":")
    return (int(idx), "") if head == "judge" and idx.isdigit() else (10**6, name)


def _r(x: float) -> float | str:
    return "n/a" if x != x else round(x, 4)
