"""Open-ended diagnosis (CUPCase): name the final diagnosis of a case report; judged and string-matched.

Each item runs under two variants on the same cases: ``full`` (the whole case text) and
``firstNNpct`` (only the first NN% of its words, the CUPCase paper's partial-information
setting, by whitespace words rather than a model's tokens so it is tokenizer-independent).
The primary metric is the judge jury's equivalence verdict; the string/synonym baseline
(``scoring.diagnosis_match``) is scored on every sample too. ``summarize`` reports the accuracy
drop from full to partial text with a paired bootstrap CI over cases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, field_validator

from medevals.judging import templates
from medevals.judging.judge import JudgeTask, ask_jury, judge_roles
from medevals.judging.jury import JuryMethod, read_jury
from medevals.judging.tables import agreement_tables, collect
from medevals.judging.verdicts import EquivalenceVerdict
from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext, comma_list
from medevals.protocols.freetext import single_turn_request
from medevals.schema import CallRecord, Item, Sample, Score
from medevals.scoring.agreement import bootstrap_stat
from medevals.scoring.diagnosis_match import match_diagnosis
from medevals.scoring.stats import mean_ci

INSTRUCTION = (
    "Read the following clinical case report and give the single most likely final diagnosis. "
    "Reply with the diagnosis only, on one line."
)
BASE_PROMPT = "Clinical case report:\n{case}\n\nThe most likely final diagnosis is:"


class OpenDiagnosisOptions(ProtocolOptions):
    settings: list[Literal["full", "partial"]] = Field(default_factory=lambda: ["full", "partial"])
    partial_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    jury: JuryMethod = "majority"
    max_tokens: int = Field(64, ge=1)
    judge_max_tokens: int = Field(256, ge=16)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    #: With --set requires_judge=false and no --judge, the string baseline is the primary metric.
    requires_judge: bool = True

    _split = field_validator("settings", mode="before")(comma_list)


def truncate_words(text: str, fraction: float) -> str:
    """The first ``ceil(fraction * words)`` whitespace-separated words (at least one)."""
    words = text.split()
    return " ".join(words[: max(1, math.ceil(fraction * len(words)))])


def first_line(text: str) -> str:
    for line in text.strip().splitlines():
        line = line.strip().strip("*").strip()
        for prefix in ("final diagnosis:", "diagnosis:", "the most likely final diagnosis is", "answer:"):
            if line.lower().startswith(prefix):
                line = line[len(prefix) :].strip(" :")
        if line:
            return line.rstrip(".").strip()
    return ""


class OpenDiagnosisProtocol(Protocol):
    name = "open-diagnosis"
    primary_metric = "accuracy"
    Options = OpenDiagnosisOptions
    options: OpenDiagnosisOptions
    roles = ("judge",)

    @property
    def partial_name(self) -> str:
        return f"first{round(self.options.partial_fraction * 100)}pct"

    def single_turn_obstacle(self, variant: str) -> str | None:
        return None  # one answer call per item (the judges compare it)

    def variants(self) -> list[str]:
        return [("full" if s == "full" else self.partial_name) for s in self.options.settings]

    def templates(self) -> dict[str, str]:
        return {
            "instruction": INSTRUCTION,
            "base_prompt": BASE_PROMPT,
            **templates.recorded(templates.DIAGNOSIS_EQUIVALENCE),
        }

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        case = str(item.input)
        shown = case if ctx.variant == "full" else truncate_words(case, self.options.partial_fraction)
        o = self.options
        request = single_turn_request(
            base=ctx.is_base_model(),
            instruction=INSTRUCTION,
            text=shown,
            base_prompt=BASE_PROMPT.format(case=shown),
            stop=["\nClinical case report:"],
            max_tokens=o.max_tokens,
            temperature=o.temperature,
        )
        rec = await ctx.generate(request)
        prediction = first_line(openai_format.text(rec.raw))
        out: dict[str, Any] = {
            "prediction": prediction,
            "case_words": len(case.split()),
            "shown_words": len(shown.split()),
            "jury": o.jury,
            "judgements": [],
        }
        roles = judge_roles(ctx)
        if prediction and roles:
            task = JudgeTask(
                template=templates.DIAGNOSIS_EQUIVALENCE,
                prompt=templates.render(
                    templates.DIAGNOSIS_EQUIVALENCE, reference=item.target, prediction=prediction
                ),
                schema=EquivalenceVerdict,
                max_tokens=o.judge_max_tokens,
            )
            out["judgements"] = [{"key": "equivalence", "judges": await ask_jury(ctx, task, roles)}]
        out["judged"] = bool(roles)
        return out

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        prediction = output.get("prediction") or ""
        base = match_diagnosis(prediction, str(item.target))
        values: dict[str, float | None] = {"baseline": float(base.match)}
        if not prediction:  # the model gave no diagnosis: wrong, counted as unparseable
            values["accuracy"] = 0.0
            return Score(
                value=0.0,
                answer="",
                target=item.target,
                parsed=False,
                values=values,
                explanation="no diagnosis",
            )
        if not output.get("judged"):
            values["accuracy"] = float(base.match)
            return Score(
                value=float(base.match),
                answer=prediction,
                target=item.target,
                values=values,
                explanation=f"baseline:{base.rule}",
            )
        judges = output["judgements"][0]["judges"] if output.get("judgements") else {}
        reading = read_jury(judges, output.get("jury", self.options.jury))
        for role, lab in reading.per_role.items():
            values[role] = lab if isinstance(lab, float) else None
        problems = reading.problems
        verdict = reading.value
        values["accuracy"] = verdict
        return Score(
            value=verdict,
            answer=prediction,
            target=item.target,
            values=values,
            explanation="; ".join([f"baseline:{base.rule}", *problems]),
        )

    def agreement(self, samples: Iterable[Sample]) -> list[dict[str, Any]]:
        """Judge vs judge and each judge vs the string baseline (as one more rater)."""
        samples = list(samples)
        labels, failures, scores = collect(samples)
        for s in samples:
            key = (s.unit_id, "equivalence")
            if key in labels and s.score is not None and s.score.values.get("baseline") is not None:
                labels[key]["string baseline"] = int(s.score.values["baseline"] or 0)
        return agreement_tables(labels, failures, scores, label_name="diagnosis")

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        samples = list(samples)
        variants = self.variants()
        tables: list[dict[str, Any]] = []
        plots: list[dict[str, Any]] = []
        full, part = "full", self.partial_name
        by: dict[tuple[str, str], dict[tuple[str, int], float]] = {}
        for s in samples:
            if s.score is None:
                continue
            for metric in ("accuracy", "baseline"):
                v = s.score.values.get(metric)
                if v is not None:
                    by.setdefault((metric, s.variant), {})[(s.item.id, s.repeat)] = v
        rows = []
        for metric, label in (("accuracy", "judge jury"), ("baseline", "string baseline")):
            cells: list[Any] = [label]
            for v in variants:
                cells.append(mean_ci(list(by.get((metric, v), {}).values())))
            if full in variants and part in variants:
                a, b = by.get((metric, full), {}), by.get((metric, part), {})
                pairs = [(a[k], b[k]) for k in a if k in b]
                cells.append(bootstrap_stat(pairs, _mean_diff))
            rows.append(cells)
        columns = ["grader", *variants] + (
            [f"drop ({full} - {part}), paired"] if full in variants and part in variants else []
        )
        tables.append(
            {
                "title": "Diagnosis accuracy: full case vs partial case text (95% CI)",
                "columns": columns,
                "rows": rows,
            }
        )
        plots.append(
            {
                "title": "Accuracy by case text shown",
                "kind": "bar",
                "x_label": "grader",
                "y_label": "accuracy",
                "series": [
                    {
                        "name": v,
                        "points": [
                            [g, mean_ci(list(by.get((m, v), {}).values()))["value"]]
                            for m, g in (("accuracy", "judge jury"), ("baseline", "string baseline"))
                        ],
                    }
                    for v in variants
                ],
            }
        )
        tables += self.agreement(samples)
        return {"tables": tables, "plots": plots}


def _mean_diff(rows: list[tuple[float, float]]) -> float:
    return sum(a - b for a, b in rows) / len(rows) if rows else math.nan
