"""Clinical calculation from a patient note, with or without calculator tools.

Without tools the model is asked to reason and end with JSON ``{"answer": ...}`` (MedCalc-Bench's
zero-shot setup); base models get a completion prompt. With ``--tools calculators`` the chat request
offers the library's calculators as OpenAI function tools: each tool call is executed locally and its
result (or typed error) fed back as a ``tool`` message, up to ``max_turns`` model calls; every call goes
through ``ctx.generate``. Scoring is MedCalc-Bench's: within [lower, upper] for decimals, exact for
integer scores, same date for dates; accuracy on the original and the physician-corrected labels.
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
from medevals.scoring.calc_answer import judge
from medevals.scoring.json_extract import extract_json

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


def answer_text(text: str) -> str:
    """The answer field of the last JSON object, else the text after the last 'answer' mention, else all."""
    ex = extract_json(text, want=dict)
    if ex.value is not None and "answer" in ex.value:
        return str(ex.value["answer"])
    low = (text or "").lower()
    i = low.rfind("answer")
    return text[i + 6 :] if i >= 0 else (text or "")


class CalcProtocol(Protocol):
    name = "calc"
    primary_metric = "accuracy"
    Options = CalcOptions
    options: CalcOptions

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
        from medevals.calculators.tools import openai_tools, run_tool

        messages: list[Message] = [
            {"role": "system", "content": TOOLS_SYSTEM},
            {"role": "user", "content": USER.format(note=note, question=question)},
        ]
        if self.options.tool_set == "matching" and "calculator_id" in ctx.item.metadata:
            tools = openai_tools([get(ctx.item.metadata["calculator_id"])])
        else:
            tools = openai_tools()
        trace: list[dict[str, Any]] = []
        for _turn in range(self.options.max_turns):
            body = {
                "messages": messages,
                "tools": tools,
                "tool_choice": "auto",
                "temperature": self.options.temperature,
                "max_tokens": self.options.max_tokens or 1024,
            }
            rec = await ctx.generate(ModelRequest(kind="chat", body=json.loads(json.dumps(body))))
            calls = openai_format.tool_calls(rec.raw)
            if not calls:
                return {"mode": "tools", "tool_calls": trace, "final_turn": True}
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
        return {"mode": "tools", "tool_calls": trace, "final_turn": False}

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        text = openai_format.text(calls[-1].raw) if calls else ""
        if output.get("mode") == "tools" and not output.get("final_turn", True):
            text = ""  # step limit reached without a final answer
        if output.get("mode") == "completion":  # base model: the answer is the first line it writes
            ans = next((ln for ln in text.splitlines() if ln.strip()), "")
        else:
            ans = answer_text(text)
        otype = item.metadata.get("output_type", "decimal")
        ok, parsed = judge(ans, item.target, otype)
        values: dict[str, float | None] = {"accuracy": float(bool(ok))}
        labels = item.metadata.get("labels") or {}
        for key in ("original", "corrected"):
            lab = labels.get(key)
            if lab is None:
                values[f"accuracy_{key}"] = None
            else:
                values[f"accuracy_{key}"] = float(bool(judge(ans, lab, otype)[0]))
        if output.get("mode") == "tools":
            values["tool_calls"] = float(len(output.get("tool_calls") or []))
        return Score(
            value=float(bool(ok)),
            answer=parsed if not hasattr(parsed, "isoformat") else str(parsed),
            target=item.target.get("answer") if isinstance(item.target, dict) else item.target,
            parsed=ok is not None,
            values=values,
            explanation=None if ok is not None else "no number/date in the answer",
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
