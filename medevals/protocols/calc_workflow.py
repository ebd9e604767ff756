"""Multi-calculator clinical workflows (MedMCP-Calc): choose the calculators a scenario needs, report each result.

One request per task (the scenario and the patient data, ``item.input``); the reply ends with
``{"calculators": [{"name", "value"}, ...]}``. With ``--tools calculators`` the chat request offers
medevals' calculator library as function tools (the calc protocol's tool loop, ``protocols/calc.py``):
the model may call those that fit and computes the others itself. Per task (``scoring/calc_workflow.py``):

- ``selection_recall``: gold calculators the reply names / gold calculators (upstream's "calculator
  selection accuracy"), ``selection_precision``: named calculators that are gold / named calculators
  (upstream counts the others as "extra calculators"), ``selection_f1``;
- ``value_accuracy`` (the headline): gold calculators named with a matching result / gold
  calculators (upstream's "calculation accuracy").

``grader=rule`` (default) reads names and values deterministically; ``--judge`` adds the judged
reading (``calculator_results@v1``: per gold calculator, used? result consistent?, as upstream's
LLM comparison, jury majority per calculator) as ``judged_*`` values, and ``--set grader=judge``
makes them the headline. An unreadable verdict leaves the judged values unscored (counted).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from medevals.judging import templates
from medevals.judging.judge import JudgeTask, ask_jury, judge_roles
from medevals.judging.jury import JuryMethod, read_jury
from medevals.judging.tables import agreement_tables, collect
from medevals.judging.verdicts import CalcResultsVerdict
from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.protocols.freetext import single_turn_request
from medevals.schema import CallRecord, Item, Message, Sample, Score
from medevals.scoring.calc_workflow import read_reported, score_task
from medevals.scoring.stats import CONTINUOUS, MetricSpec, mean_ci

PROMPT_VERSION = "calc-workflow-v1"
INSTRUCTION = (
    "You are a clinical assistant. For the case below, identify every medical calculator or scoring "
    "system the assessment needs, apply each one to the patient's data, and report the results. End "
    'your reply with a JSON object {"calculators": [{"name": "<calculator name>", "value": <result>}, '
    "...]} with one entry per calculator you used, in the order you used them; each value is the number "
    "(or the category) the calculator gives."
)
TOOLS_NOTE = (
    " Calculator tools are available: call the one that fits when there is one, and compute the others "
    "yourself."
)
BASE_PROMPT = (
    "{instruction}\n\nCase:\n{case}\n\nCalculators used, with their results, as JSON:\n"
    '{{"calculators": [{{"name": "'
)
PREFILL = '{"calculators": [{"name": "'
BASE_STOP = ["\n\n\n", "\nCase:"]


class CalcWorkflowOptions(ProtocolOptions):
    tools: Literal["calculators"] | None = None
    max_turns: int = Field(12, ge=1, le=50, description="model calls per task in tool mode")
    max_tokens: int = Field(2048, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    grader: Literal["rule", "judge"] = "rule"
    jury: JuryMethod = "majority"
    judge_max_tokens: int = Field(768, ge=16)
    judge_attempts: int = Field(3, ge=1, le=10)
    judge_retry_temperature: float = Field(0.5, ge=0.0, le=2.0)

    @property
    def requires_judge(self) -> bool:
        return self.grader == "judge"


def library_names() -> dict[str, list[str]]:
    """Gold name -> the names of its mapped medevals calculator (slug, tool name, title)."""
    from medevals.benchmarks.medmcp_calc import LIBRARY_MAP
    from medevals.calculators import get
    from medevals.calculators.tools import tool_name

    out = {}
    for gold, slug in LIBRARY_MAP.items():
        c = get(slug)
        out[gold] = [c.slug, tool_name(c), c.title]
    return out


class CalcWorkflowProtocol(Protocol):
    name = "calc-workflow"
    primary_metric = "value_accuracy"
    Options = CalcWorkflowOptions
    options: CalcWorkflowOptions
    roles = ("judge",)

    @classmethod
    def metric_spec(cls, name: str) -> MetricSpec | None:
        if name.endswith(("accuracy", "recall", "precision", "f1")) or name.startswith("judge:"):
            return CONTINUOUS
        return None

    def single_turn_obstacle(self, variant: str) -> str | None:
        return "with calculator tools the model makes several turns" if self.options.tools else None

    def variants(self) -> list[str]:
        return ["tools" if self.options.tools else "no-tools"]

    def templates(self) -> dict[str, str]:
        out = {
            "version": PROMPT_VERSION,
            "instruction": self._instruction(),
            "base_prompt": BASE_PROMPT,
            **templates.recorded(templates.CALC_RESULTS),
        }
        return out

    def _instruction(self) -> str:
        return INSTRUCTION + (TOOLS_NOTE if self.options.tools else "")

    # ----------------------------------------------------------------- solving

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        o = self.options
        case = str(item.input)
        out: dict[str, Any] = {}
        if o.tools and not ctx.is_base_model():
            from medevals.calculators.tools import openai_tools
            from medevals.protocols.calc import tool_loop

            messages: list[Message] = [{"role": "user", "content": f"{self._instruction()}\n\n{case}"}]
            trace, final = await tool_loop(
                ctx,
                messages,
                openai_tools(),
                max_turns=o.max_turns,
                temperature=o.temperature,
                max_tokens=o.max_tokens,
            )
            out.update(mode="tools", tool_calls=trace, final_turn=final)
        else:
            base = ctx.is_base_model()
            request = single_turn_request(
                base=base,
                instruction=self._instruction(),
                text=case,
                base_prompt=BASE_PROMPT.format(instruction=self._instruction(), case=case),
                stop=BASE_STOP,
                max_tokens=o.max_tokens if not base else min(o.max_tokens, 256),
                temperature=o.temperature,
            )
            await ctx.generate(request)
            out["mode"] = "completion" if base else "chat"
        reply = self.final_text(out, ctx.calls)
        roles = judge_roles(ctx)
        out["judged"] = bool(roles)
        out["judgements"] = []
        if roles:
            task = self.judge_task(item, reply)
            out["judgements"] = [{"key": "calculators", "judges": await ask_jury(ctx, task, roles)}]
        return out

    @staticmethod
    def final_text(output: dict[str, Any], calls: list[CallRecord]) -> str:
        """The reply that holds the answer: the last candidate call (nothing when tools ran out of turns)."""
        cand = [c for c in calls if c.role == "candidate"]
        if not cand or (output.get("mode") == "tools" and not output.get("final_turn", True)):
            return ""
        text = openai_format.text(cand[-1].raw)
        return PREFILL + text if output.get("mode") == "completion" else text

    def judge_task(self, item: Item, reply: str) -> JudgeTask:
        gold = item.target or []
        reported = read_reported(reply)
        if reported:
            shown = "\n".join(f"- {r.name}: {json.dumps(r.value, ensure_ascii=False)}" for r in reported)
        else:
            shown = reply.strip()[-6000:] or "(no answer)"
        gold_text = "\n".join(
            f"{i}. {g['name']}: {json.dumps(g['final_answer'], ensure_ascii=False)}"
            for i, g in enumerate(gold, 1)
        )
        o = self.options
        return JudgeTask(
            template=templates.CALC_RESULTS,
            prompt=templates.render(templates.CALC_RESULTS, gold=gold_text, reported=shown),
            schema=CalcResultsVerdict,
            max_tokens=o.judge_max_tokens,
            attempts=o.judge_attempts,
            retry_temperature=o.judge_retry_temperature,
            expect={"gold": len(gold)},
        )

    # ----------------------------------------------------------------- scoring

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        gold: list[dict[str, Any]] = list(item.target or [])
        reply = self.final_text(output, calls)
        reported = read_reported(reply)
        ts = score_task(reported or [], gold, library_names())
        values: dict[str, float | None] = {
            "rule_selection_recall": ts.selection_recall,
            "rule_selection_precision": ts.selection_precision,
            "rule_selection_f1": ts.selection_f1,
            "rule_value_accuracy": ts.value_accuracy,
            "reported_calculators": float(ts.n_reported),
            "extra_calculators": float(ts.extra),
        }
        if output.get("mode") == "tools":
            trace = output.get("tool_calls") or []
            values["tool_calls"] = float(len(trace))
            mapped = {s for s in item.metadata.get("library") or [] if s}
            if mapped:
                called = {str(t.get("name", "")).replace("_", "-") for t in trace}
                values["library_tools_used"] = len(mapped & called) / len(mapped)
        problems: list[str] = []
        if output.get("judged"):
            j = next((x for x in output.get("judgements") or [] if x.get("key") == "calculators"), None)
            r = read_jury(j.get("judges") or {}, self.options.jury) if j else None
            n = len(gold)
            if r is not None and r.values is not None:
                sel = sum(1 for i in range(1, n + 1) if (r.values.get(f"sel:{i}") or 0) >= 0.5)
                cor = sum(1 for i in range(1, n + 1) if (r.values.get(f"val:{i}") or 0) >= 0.5)
                values["judged_selection_recall"] = sel / n if n else 0.0
                values["judged_value_accuracy"] = cor / n if n else 0.0
                values["judged_selection_precision"] = (
                    min(sel, ts.n_reported) / ts.n_reported if reported else None
                )
                for role, v in r.per_role.items():
                    values[role] = (
                        sum(1 for i in range(1, n + 1) if v.get(f"val:{i}")) / n
                        if isinstance(v, dict) and n
                        else None
                    )
            else:
                values.update(
                    judged_selection_recall=None, judged_value_accuracy=None, judged_selection_precision=None
                )
            if r is not None:
                problems += r.problems
        head = "judged_" if self.options.grader == "judge" else "rule_"
        for k in ("selection_recall", "selection_precision", "selection_f1", "value_accuracy"):
            if f"{head}{k}" in values:
                values[k] = values[f"{head}{k}"]
        value = values.get("value_accuracy")
        if reported is None:
            explanation = 'no {"calculators": [...]} JSON in the reply' if reply.strip() else "no reply"
        else:
            explanation = f"{len(ts.pairs)} of {len(gold)} gold calculators named, {ts.extra} extra"
        return Score(
            value=value,
            answer=json.dumps([[r.name, r.value] for r in reported or []], ensure_ascii=False)[:300],
            target=f"{len(gold)} calculators",
            parsed=reported is not None,
            values=values,
            explanation="; ".join([explanation, *problems]),
        )

    # ----------------------------------------------------------------- aggregates

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        samples = list(samples)
        scored = [s for s in samples if s.score is not None]
        keys = [
            ("value_accuracy", "value accuracy (headline)"),
            ("selection_recall", "calculator selection recall"),
            ("selection_precision", "calculator selection precision"),
            ("selection_f1", "calculator selection F1"),
            ("rule_value_accuracy", "value accuracy, rule"),
            ("judged_value_accuracy", "value accuracy, judged"),
            ("rule_selection_recall", "selection recall, rule"),
            ("judged_selection_recall", "selection recall, judged"),
        ]

        def ci(ss: list[Sample], k: str) -> Any:
            vals = [float(v) for s in ss if s.score is not None and (v := s.score.values.get(k)) is not None]
            return mean_ci(vals, spec=CONTINUOUS) if vals else ""

        present = [
            (k, label) for k, label in keys if any(k in (s.score.values if s.score else {}) for s in scored)
        ]
        tables: list[dict[str, Any]] = [
            {
                "title": "MedMCP-Calc, inputs given (not the published setting): per-task means (95% CI)",
                "columns": ["metric", "tasks", "mean"],
                "rows": [
                    [
                        label,
                        sum(1 for s in scored if s.score and s.score.values.get(k) is not None),
                        ci(scored, k),
                    ]
                    for k, label in present
                ],
                "caption": "The model gets the task's gold calculator inputs as patient facts; upstream it queries "
                "them from an EHR database through MCP tools, which cannot be rebuilt offline. Not comparable "
                "with the paper's table.",
            }
        ]
        by_domain: dict[str, list[Sample]] = defaultdict(list)
        for s in scored:
            by_domain[s.item.subset or "?"].append(s)
        tables.append(
            {
                "title": "By clinical domain (upstream's per-scenario breakdown)",
                "columns": ["domain", "tasks", "value accuracy", "selection recall", "selection precision"],
                "rows": [
                    [
                        d,
                        len(ss),
                        ci(ss, "value_accuracy"),
                        ci(ss, "selection_recall"),
                        ci(ss, "selection_precision"),
                    ]
                    for d, ss in sorted(by_domain.items())
                ],
            }
        )
        reported = [s.score.values.get("reported_calculators") for s in scored if s.score]
        extra = [s.score.values.get("extra_calculators") for s in scored if s.score]
        gold_n = [len(s.item.target or []) for s in scored]
        rows = [
            ["gold calculators per task", round(sum(gold_n) / len(gold_n), 2) if gold_n else ""],
            ["calculators reported per task", _avg(reported)],
            ["extra (not gold) per task", _avg(extra)],
            [
                "tasks without a readable calculator list",
                sum(1 for s in scored if s.score and not s.score.parsed),
            ],
        ]
        tool = [
            s.score.values.get("tool_calls") for s in scored if s.score and "tool_calls" in s.score.values
        ]
        if tool:
            rows.append(["tool calls per task", _avg(tool)])
            rows.append(
                [
                    "mapped library calculators called (tasks with one)",
                    _avg([s.score.values.get("library_tools_used") for s in scored if s.score]),
                ]
            )
        tables.append({"title": "Calculators reported", "columns": ["", "value"], "rows": rows})
        labels, failures, scores = collect(samples)
        if labels:
            tables += agreement_tables(labels, failures, scores, label_name="calculator")
        return {"tables": tables}


def _avg(vals: list[float | None]) -> float | str:
    xs = [float(v) for v in vals if v is not None]
    return round(sum(xs) / len(xs), 3) if xs else ""
