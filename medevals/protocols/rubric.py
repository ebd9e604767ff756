"""Rubric grading (HealthBench): the model continues a conversation; judges grade each rubric criterion.

Scored as the public grader does (openai/simple-evals ``healthbench_eval.py``):

- a conversation's score = points of the criteria judged met (negative points subtract) /
  the sum of the positive points, **not clipped**: a reply meeting only undesirable criteria
  scores below 0;
- every rubric tag (``axis:*``, ``level:*``, ``cluster:*``) gets the same ratio over the
  criteria carrying it, when they include a positive one (otherwise the tag has no score for
  that conversation); every example tag (``theme:*``, ...) gets the conversation's score;
- each aggregate is the mean over the conversations that have the value, **clipped to
  [0, 1]** (the CI bounds too), with a bootstrap CI: a rubric score is continuous, never a
  Wilson proportion, even when every conversation happens to score 0 or 1.

With several judges each criterion's "met" is the jury's aggregate (mean / majority / min), and
every judge's own score is kept (``Score.values["judge:i"]``) for agreement statistics. A judge
that fails to answer is asked again (``judge_attempts`` fresh calls, see ``judging.judge``); a
criterion that no judge could grade after that leaves the conversation unscored (counted,
never 0), and the failure is recorded with the judge's raw replies.
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
from medevals.scoring.stats import MetricSpec, mean_ci

#: Every rubric value (score, tags, per-judge scores): a continuous score whose mean is clipped.
SCORE_SPEC = MetricSpec("continuous", clip=(0.0, 1.0))


class RubricOptions(ProtocolOptions):
    jury: JuryMethod = "majority"
    max_tokens: int = Field(1024, ge=1, description="candidate reply length")
    judge_max_tokens: int = Field(256, ge=16)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    system_prompt: str | None = None
    judge_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="fresh judge calls (each with one repair turn) before a criterion is unjudged",
    )
    judge_retry_temperature: float = Field(0.5, ge=0.0, le=2.0, description="temperature of the fresh calls")
    #: Rubric grading has no judge-free fallback: without --judge the run stops before any call.
    requires_judge: Literal[True] = True


def rubric_score(rubrics: Sequence[dict[str, Any]], met: Sequence[float]) -> float | None:
    """Points of met criteria / positive points, unclipped; None without a positive criterion."""
    positive = sum(r["points"] for r in rubrics if r["points"] > 0)
    if positive <= 0:
        return None
    return sum(r["points"] * m for r, m in zip(rubrics, met, strict=True)) / positive


def rubric_tags(rubrics: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({t for r in rubrics for t in r["tags"]})


def tag_scores(
    rubrics: Sequence[dict[str, Any]], met: Sequence[float], example_tags: Sequence[str], overall: float
) -> dict[str, float]:
    """Example tags get the conversation's score; each rubric tag its own ratio (when defined)."""
    out = {t: overall for t in example_tags}
    for tag in rubric_tags(rubrics):
        idx = [k for k, rb in enumerate(rubrics) if tag in rb["tags"]]
        value = rubric_score([rubrics[k] for k in idx], [met[k] for k in idx])
        if value is not None:
            out[tag] = value
    return out


def ci(values: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """Mean clipped to [0, 1] with a percentile bootstrap CI (rubric scores are continuous)."""
    return mean_ci(list(values), seed=seed, spec=SCORE_SPEC)


class RubricProtocol(Protocol):
    name = "rubric"
    primary_metric = "score"
    Options = RubricOptions
    options: RubricOptions
    roles = ("judge",)

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        return SCORE_SPEC

    def single_turn_obstacle(self, variant: str) -> str | None:
        return None  # one answer call per item (the judges grade it)

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
                attempts=o.judge_attempts,
                retry_temperature=o.judge_retry_temperature,
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
        if total is None:  # the loader refuses such rubrics; a custom file could still hold one
            return Score(
                value=None, answer=answer, values=values, explanation="no criterion with positive points"
            )
        values["score"] = total
        values.update(tag_scores(rubrics, full, item.metadata.get("example_tags") or [], total))
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
        by_axis: dict[str, list[float]] = defaultdict(list)
        by_tag: dict[str, list[float]] = defaultdict(list)
        by_rubric_tag: dict[str, list[float]] = defaultdict(list)
        by_judge: dict[str, list[float]] = defaultdict(list)
        for s in samples:
            if s.score is None:
                continue
            vals = s.score.values
            if s.score.value is not None:
                for tag in rubric_tags(s.item.target or []):
                    v = vals.get(tag)
                    if v is not None:
                        (by_axis if tag.startswith("axis:") else by_rubric_tag)[tag].append(v)
                for t in s.item.metadata.get("example_tags") or []:
                    by_tag[t].append(s.score.value)
                jury = "jury (" + str(s.output.get("jury", self.options.jury)) + ")"
                by_judge[jury].append(s.score.value)
            for k, v in vals.items():
                if k.startswith("judge:") and v is not None:
                    by_judge[k].append(v)
        caption = (
            "A conversation's score is not clipped (criteria with negative points can take it below 0); "
            "each mean is clipped to [0, 1], as the HealthBench grader (simple-evals) does."
        )
        tables: list[dict[str, Any]] = [
            {
                "title": "Rubric score by axis (per-conversation, 95% bootstrap CI)",
                "columns": ["axis", "score"],
                "rows": [[a.split(":", 1)[1], ci(v)] for a, v in sorted(by_axis.items())],
                "caption": caption,
            },
            {
                "title": "Rubric score by theme / example tag (95% bootstrap CI)",
                "columns": ["tag", "score"],
                "rows": [[t, ci(v)] for t, v in sorted(by_tag.items())],
            },
        ]
        if by_rubric_tag:
            tables.append(
                {
                    "title": "Rubric score by rubric tag (level, cluster; 95% bootstrap CI)",
                    "columns": ["tag", "score"],
                    "rows": [[t, ci(v)] for t, v in sorted(by_rubric_tag.items())],
                }
            )
        tables.append(
            {
                "title": "Rubric score by judge (each judge alone, and the jury)",
                "columns": ["grader", "score"],
                "rows": [[g, ci(v)] for g, v in sorted(by_judge.items())],
            }
        )
        tables += self.agreement(samples)
        return {"tables": tables}


def _points(p: float) -> str:
    return str(int(p)) if float(p).is_integer() else str(p)
