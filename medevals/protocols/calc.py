"""Clinical calculation from a patient note, with or without calculator tools.

Without tools the model is asked to reason and end with JSON ``{"answer": ...}`` (MedCalc-Bench's
zero-shot setup); base models get a completion prompt. With ``--tools calculators`` the chat request
offers the library's calculators as OpenAI function tools: each tool call is executed locally and its
result (or typed error) fed back as a ``tool`` message, up to ``max_turns`` model calls; every call goes
through ``ctx.generate``. Reading and judging live in ``scoring/calc_answer.py``: each label set is
judged by its own published rule by default (``tolerance=auto``: the original labels and medcalc-gen
by MedCalc-Bench's ``check_correctness``, the physician-corrected labels by that set's limits rule);
``--set tolerance=medcalc|limits|physician`` applies one rule to every label set, and is recorded
with the other options in the manifest. Accuracy is reported on the original and the corrected labels.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.schema import CallRecord, Item, Message, ModelRequest, Sample, Score
from medevals.scoring.calc_answer import answer_kind, judge_answer, read_answer

SYSTEM = (
    "You are a helpful assistant for calculating a score for a given patient note. Please think step-by-step "
    "to solve the question and then give the required score. If the note does not contain what the "
    'calculation needs, answer "N/A". End your reply with a JSON object '
    '{"step_by_step_thinking": "...", "answer": "..."} where answer is only the number or date.'
)
TOOLS_SYSTEM = (
    "You are a clinical calculation assistant with calculator tools. Extract the needed values from the "
    "patient note, call the matching calculator tool (give units when they differ from the default), and "
    'then reply with JSON {"answer": "..."} using the tool result. If a value needed by the calculation '
    'is not in the note, answer "N/A".'
)
USER = "Here is the patient note:\n{note}\n\nHere is the task:\n{question}"
COMPLETION = "Patient note:\n{note}\n\nQuestion: {question}\nGive only the final number or date.\nAnswer:"


class CalcOptions(ProtocolOptions):
    tools: Literal["calculators"] | None = None
    tool_set: Literal["all", "matching"] = Field(
        "all",
        description="offer all 55 calculators, or only the item's own calculator (small context windows)",
    )
    max_turns: int = Field(6, ge=1, le=30, description="model calls per item in tool mode")
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    tolerance: Literal["auto", "medcalc", "limits", "physician"] = Field(
        "auto",
        description="how an answer is judged: auto = each label set by its own published rule "
        "(original labels and medcalc-gen: MedCalc-Bench check_correctness, integer scores rounded "
        "half-to-even then exact; corrected labels: within the row's lower/upper limits); medcalc, "
        "limits or physician (validate-medcalc-labels' ±1 ordinal / ±5% agreement) for all",
    )


async def tool_loop(
    ctx: SolveContext,
    messages: list[Message],
    tools: list[dict[str, Any]],
    *,
    max_turns: int,
    temperature: float,
    max_tokens: int,
) -> tuple[list[dict[str, Any]], bool]:
    """Chat with the calculator tools until a reply calls none (True) or ``max_turns`` calls (False).

    Each tool call runs locally (``calculators.tools.run_tool``) and its result, or typed error, goes
    back as a ``tool`` message; every model call goes through ``ctx.generate``. Returns the trace
    (name, arguments, result per call) and whether the last reply was a final answer."""
    from medevals.calculators.tools import run_tool

    trace: list[dict[str, Any]] = []
    for _turn in range(max_turns):
        body = {
            "messages": messages,
            "tools": tools,
            "tool_choice": "auto",
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        rec = await ctx.generate(ModelRequest(kind="chat", body=json.loads(json.dumps(body))))
        calls = openai_format.tool_calls(rec.raw)
        if not calls:
            return trace, True
        messages.append(
            {"role": "assistant", "content": openai_format.text(rec.raw) or None, "tool_calls": calls}
        )
        for call in calls:
            fn = call.get("function") or {}
            result = run_tool(str(fn.get("name", "")), fn.get("arguments") or "{}")
            trace.append({"name": fn.get("name"), "arguments": fn.get("arguments"), "result": result})
            messages.append(
                {"role": "tool", "tool_call_id": call.get("id", ""), "content": json.dumps(result)}
            )
    return trace, False


def label_rule(tolerance: str, label: dict[str, Any], labels: dict[str, Any]) -> str:
    """The rule a label is judged by: under ``auto`` the corrected labels use their own limits rule,
    every other label set (original, medcalc-gen) MedCalc-Bench's."""
    if tolerance != "auto":
        return tolerance
    corrected = labels.get("corrected")
    return "limits" if corrected is not None and label == corrected else "medcalc"


class CalcProtocol(Protocol):
    name = "calc"
    primary_metric = "accuracy"
    Options = CalcOptions
    options: CalcOptions

    def single_turn_obstacle(self, variant: str) -> str | None:
        if self.options.tools:
            return "with calculator tools the model makes several turns (tool calls, then the answer)"
        return None

    def templates(self) -> dict[str, str]:
        t = {"system": SYSTEM, "user": USER, "completion": COMPLETION}
        if self.options.tools:
            t["tools_system"] = TOOLS_SYSTEM
        return t

    def variants(self) -> list[str]:
        return ["tools" if self.options.tools else "zero-shot"]

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        note, question = item.context or "", str(item.input)
        o = self.options
        if o.tools:
            return await self._solve_tools(note, question, ctx)
        if ctx.is_base_model():
            body: dict[str, Any] = {
                "prompt": COMPLETION.format(note=note, question=question),
                "max_tokens": o.max_tokens or 24,
                "temperature": o.temperature,
                "stop": ["\n\n", "\nPatient note:", "\nQuestion:"],
            }
            await ctx.generate(ModelRequest(kind="completion", body=body))
            return {"mode": "completion"}
        messages: list[Message] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": USER.format(note=note, question=question)},
        ]
        body = {"messages": messages, "temperature": o.temperature, "max_tokens": o.max_tokens or 2048}
        await ctx.generate(ModelRequest(kind="chat", body=body))
        return {"mode": "chat"}

    async def _solve_tools(self, note: str, question: str, ctx: SolveContext) -> dict[str, Any]:
        from medevals.calculators import get
        from medevals.calculators.tools import openai_tools

        messages: list[Message] = [
            {"role": "system", "content": TOOLS_SYSTEM},
            {"role": "user", "content": USER.format(note=note, question=question)},
        ]
        if self.options.tool_set == "matching" and "calculator_id" in ctx.item.metadata:
            tools = openai_tools([get(ctx.item.metadata["calculator_id"])])
        else:
            tools = openai_tools()
        trace, final = await tool_loop(
            ctx,
            messages,
            tools,
            max_turns=self.options.max_turns,
            temperature=self.options.temperature,
            max_tokens=self.options.max_tokens or 1024,
        )
        return {"mode": "tools", "tool_calls": trace, "final_turn": final}

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        text = openai_format.text(calls[-1].raw) if calls else ""
        if output.get("mode") == "tools" and not output.get("final_turn", True):
            text = ""  # step limit reached without a final answer
        labels = item.metadata.get("labels") or {}
        kind = answer_kind(
            item.metadata.get("output_type", "decimal"),
            item.metadata.get("calculator_id"),
            [item.target, *labels.values()],
        )
        # a base model's completion answers on the first line it writes
        ans = read_answer(text, kind, first_line=output.get("mode") == "completion")
        rule = label_rule(self.options.tolerance, item.target, labels)
        ok = judge_answer(ans, item.target, kind, rule)  # type: ignore[arg-type]
        values: dict[str, float | None] = {"accuracy": float(bool(ok))}
        for key in ("original", "corrected"):
            lab = labels.get(key)
            if lab is None:
                values[f"accuracy_{key}"] = None
            else:
                r = label_rule(self.options.tolerance, lab, labels)
                values[f"accuracy_{key}"] = float(bool(judge_answer(ans, lab, kind, r)))  # type: ignore[arg-type]
        if output.get("mode") == "tools":
            values["tool_calls"] = float(len(output.get("tool_calls") or []))
        return Score(
            value=float(bool(ok)),
            answer=ans.display if ans.kind != "none" else None,
            target=item.target.get("answer") if isinstance(item.target, dict) else item.target,
            parsed=ok is not None,
            values=values,
            explanation=f"read from {ans.method}; {rule} rule"
            if ok is not None
            else f"no {'date' if kind == 'date' else 'number'} or abstention in the answer ({ans.method})",
            method=ans.method,
        )

    def summarize(self, samples: Iterable[Sample]) -> dict[str, Any]:
        from medevals.scoring.stats import wilson

        by_calc: dict[str, list[float]] = defaultdict(list)
        by_cat: dict[str, list[float]] = defaultdict(list)
        by_cat_corr: dict[str, list[float]] = defaultdict(list)
        for s in samples:
            if s.score is None or s.score.value is None:
                continue
            by_calc[s.item.subset or "?"].append(s.score.value)
            by_cat[s.item.metadata.get("category", "?")].append(s.score.value)
            c = s.score.values.get("accuracy_corrected")
            if c is not None:
                by_cat_corr[s.item.metadata.get("category", "?")].append(c)

        def cell(xs: list[float]) -> dict[str, Any]:
            k, n = int(sum(xs)), len(xs)
            lo, hi = wilson(k, n)
            return {"value": k / n if n else None, "ci_low": lo, "ci_high": hi, "n": n}

        cats = sorted(set(by_cat) | set(by_cat_corr))
        return {
            "tables": [
                {
                    "title": "Accuracy by category",
                    "columns": ["category", "accuracy", "accuracy (corrected labels)"],
                    "rows": [
                        [
                            c,
                            cell(by_cat[c]) if by_cat.get(c) else "-",
                            cell(by_cat_corr[c]) if by_cat_corr.get(c) else "-",
                        ]
                        for c in cats
                    ],
                },
                {
                    "title": "Accuracy by calculator",
                    "columns": ["calculator", "accuracy"],
                    "rows": [[k, cell(v)] for k, v in sorted(by_calc.items())],
                },
            ]
        }
