"""Rubric grading (HealthBench): the model continues a conversation; judges grade each rubric criterion.

Score of one conversation = sum of the points of the criteria judged met (negative points
subtract) / sum of the positive points, clipped to [0, 1], as in HealthBench. With several
judges each criterion's "met" is the jury's aggregate (mean / majority / min), and every
judge's own score is kept (``Score.values["judge:i"]``) for agreement statistics. A criterion
no judge could grade makes the conversation unscored (its denominator would otherwise shift),
and the failure is recorded with the judge's raw reply.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import Field

from medevals.errors import ConfigError
from medevals.judging import templates
from medevals.judging.judge import JudgeTask, ask_jury, judge_roles
from medevals.judging.jury import JuryMethod, aggregate
from medevals.judging.tables import agreement_tables, collect
from medevals.judging.verdicts import CriterionVerdict, read_record
from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.protocols.freetext import conversation_request, transcript
from medevals.schema import CallRecord, Item, Sample, Score
from medevals.scoring.stats import bootstrap_mean


class RubricOptions(ProtocolOptions):
    jury: JuryMethod = "majority"
    max_tokens: int = Field(1024, ge=1, description="candidate reply length")
    judge_max_tokens: int = Field(256, ge=16)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    system_prompt: str | None = None
    #: Rubric grading has no judge-free fallback: without --judge the run stops before any call.
    requires_judge: Literal[True] = True


def rubric_score(rubrics: Sequence[dict[str, Any]], met: Sequence[float]) -> float | None:
    """Points of met criteria / positive points, clipped to [0, 1]; None without positive points."""
    positive = sum(r["points"] for r in rubrics if r["points"] > 0)
    if positive <= 0:
        return None
    achieved = sum(r["points"] * m for r, m in zip(rubrics, met, strict=True))
    return min(1.0, max(0.0, achieved / positive))


def axes(rubrics: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({t for r in rubrics for t in r["tags"] if t.startswith("axis:")})


def ci(values: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """Mean with a percentile bootstrap CI (rubric scores are fractions, not 0/1 outcomes)."""
    vals = list(values)
    if not vals:
        return {"value": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": 0}
    lo, hi = bootstrap_mean(vals, seed=seed)
    return {
        "value": sum(vals) / len(vals),
        "ci_low": lo,
        "ci_high": hi,
        "n": len(vals),
        "ci_method": "bootstrap",
    }


class RubricProtocol(Protocol):
    name = "rubric"
    primary_metric = "score"
    Options = RubricOptions
    options: RubricOptions
    roles = ("judge",)

    def templates(self) -> dict[str, str]:
        t = templates.recorded(templates.RUBRIC_CRITERION)
        if self.options.system_prompt:
            t["system"] = self.options.system_prompt
        return t

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        roles = judge_roles(ctx)
        if not roles:
            raise ConfigError("the rubric protocol needs a judge: pass --judge SPEC[,SPEC...]")
        assert isinstance(item.input, list), "rubric items hold a conversation"
        o = self.options
        request = conversation_request(
            item.input,
            base=ctx.is_base_model(),
            max_tokens=o.max_tokens,
            temperature=o.temperature,
            system=o.system_prompt,
        )
        rec = await ctx.generate(request)
        response = openai_format.text(rec.raw).strip()
        conversation = transcript(item.input)
        tasks = [
            JudgeTask(
                template=templates.RUBRIC_CRITERION,
                prompt=templates.render(
                    templates.RUBRIC_CRITERION,
                    conversation=conversation,
                    response=response,
                    points=_points(rb["points"]),
                    criterion=rb["criterion"],
                ),
                schema=CriterionVerdict,
                max_tokens=o.judge_max_tokens,
            )
            for rb in item.target
        ]
        juries = await asyncio.gather(*(ask_jury(ctx, t, roles) for t in tasks))
        return {
            "response": response,
            "jury": o.jury,
            "judgements": [{"key": f"criterion:{i}", "judges": j} for i, j in enumerate(juries)],
        }

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        rubrics: list[dict[str, Any]] = item.target
        judgements = output.get("judgements") or []
        roles = sorted({r for j in judgements for r in j["judges"]})
        per_judge: dict[str, list[float | None]] = {r: [] for r in roles}
        met: list[float | None] = []
        problems = []
        for i, j in enumerate(judgements):
            labels = []
            for r in roles:
                v = read_record(j["judges"][r]) if r in j["judges"] else None
                lab = None if v is None or not v.ok else float(bool(v.label))
                per_judge[r].append(lab)
                labels.append(lab)
                if v is not None and not v.ok:
                    problems.append(f"criterion {i} {r} {v.kind}: {v.failure}")
            met.append(aggregate(labels, output.get("jury", self.options.jury)))
        values: dict[str, float | None] = {}
        for r, labs in per_judge.items():
            values[r] = None if any(x is None for x in labs) else rubric_score(rubrics, labs)  # type: ignore[arg-type]
        answer = (output.get("response") or "")[:200]
        if len(met) != len(rubrics) or any(m is None for m in met):
            return Score(
                value=None, answer=answer, values=values, explanation="; ".join(problems) or "not judged"
            )
        full: list[float] = [float(m) for m in met]  # type: ignore[arg-type]
        total = rubric_score(rubrics, full)
        values["score"] = total
        for axis in axes(rubrics):
            idx = [k for k, rb in enumerate(rubrics) if axis in rb["tags"]]
            values[axis] = rubric_score([rubrics[k] for k in idx], [full[k] for k in idx])
        return Score(
            value=total,
            answer=answer,
            values=values,
            explanation=("; ".join(problems) + " (graded by the other judges)") if problems else None,
        )

    def agreement(self, samples: Iterable[Sample]) -> list[dict[str, Any]]:
        labels, failures, scores = collect(samples)
        return agreement_tables(labels, failures, scores, label_name="criterion")

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        samples = list(samples)
        scored = [s for s in samples if s.score is not None and s.score.value is not None]
        by_axis: dict[str, list[float]] = defaultdict(list)
        by_tag: dict[str, list[float]] = defaultdict(list)
        by_judge: dict[str, list[float]] = defaultdict(list)
        for s in scored:
            assert s.score is not None and s.score.value is not None
            for k, v in s.score.values.items():
                if k.startswith("axis:") and v is not None:
                    by_axis[k.split(":", 1)[1]].append(v)
            for t in s.item.metadata.get("example_tags") or []:
                by_tag[t].append(s.score.value)
            by_judge["jury (" + str(s.output.get("jury", self.options.jury)) + ")"].append(s.score.value)
        for s in samples:
            if s.score is not None:
                for k, v in s.score.values.items():
                    if k.startswith("judge:") and v is not None:
                        by_judge[k].append(v)
        tables: list[dict[str, Any]] = [
            {
                "title": "Rubric score by axis (per-conversation, 95% bootstrap CI)",
                "columns": ["axis", "score"],
                "rows": [[a, ci(v)] for a, v in sorted(by_axis.items())],
            },
            {
                "title": "Rubric score by theme / example tag (95% bootstrap CI)",
                "columns": ["tag", "score"],
                "rows": [[t, ci(v)] for t, v in sorted(by_tag.items())],
            },
            {
                "title": "Rubric score by judge (each judge alone, and the jury)",
                "columns": ["grader", "score"],
                "rows": [[g, ci(v)] for g, v in sorted(by_judge.items())],
            },
        ]
        tables += self.agreement(samples)
        return {"tables": tables}


def _points(p: float) -> str:
    return str(int(p)) if float(p).is_integer() else str(p)
