"""Multiple choice: zero-shot, few-shot and chain-of-thought prompting, generative or likelihood scoring.

*generate* asks for the letter (chat models get a chat request, base models a completion
ending in ``Answer:``) and reads it with ``scoring.extract.extract_choice``. *likelihood*
asks for one token with the top logprobs and picks the option letter the model puts most
probability on (HELM's "joint" multiple-choice adapter); it suits base models such as the
builtin one and also yields a confidence for calibration. ``auto`` picks likelihood for base
models and generate otherwise.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from medevals.errors import ConfigError
from medevals.models import openai_format
from medevals.protocols.base import Protocol, ProtocolOptions, SolveContext
from medevals.schema import CallRecord, Item, Message, ModelRequest, Score
from medevals.scoring.extract import choice_from_logprobs, extract_choice

INSTRUCTION = (
    "The following is a multiple-choice question about medicine. "
    "Answer with the letter of the correct option only."
)
COT_INSTRUCTION = (
    "The following is a multiple-choice question about medicine. Think step by step, then end your reply "
    'with a final line "The answer is (X)" where X is the letter of the correct option.'
)
COMPLETION_HEADER = "The following are multiple-choice questions (with answers) about medicine.\n\n"

_SHOT = re.compile(r"^(\d+)-?shot$")


class MCQOptions(ProtocolOptions):
    mode: Literal["auto", "generate", "likelihood"] = "auto"
    strategy: list[str] = Field(default_factory=lambda: ["zero-shot"])
    shots: int = Field(5, ge=1, le=25, description="examples for the few-shot strategy")
    context: bool = True
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_logprobs: int = Field(20, ge=2, le=20)
    system_prompt: str | None = None

    @field_validator("strategy", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [s.strip() for s in v.split(",") if s.strip()]
        return v

    @field_validator("strategy")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for s in v:
            if s not in ("zero-shot", "few-shot", "cot", "cot-few-shot") and not _SHOT.match(s):
                raise ValueError(f"unknown strategy '{s}' (zero-shot, few-shot, Nshot, cot, cot-few-shot)")
        return v


def format_question(item: Item, with_context: bool) -> str:
    parts = []
    if with_context and item.context:
        parts.append(f"Context: {item.context}")
    question = item.input if isinstance(item.input, str) else str(item.input)
    parts.append(f"Question: {question}")
    assert item.choices is not None
    parts.extend(f"{k}. {v}" for k, v in item.choices.items())
    return "\n".join(parts)


class MCQProtocol(Protocol):
    name = "mcq"
    primary_metric = "accuracy"
    Options = MCQOptions
    options: MCQOptions

    def variants(self) -> list[str]:
        return list(self.options.strategy)

    def uses_fewshot(self) -> bool:
        return any(self._shots(v) for v in self.options.strategy)

    def templates(self) -> dict[str, str]:
        t = {
            "instruction": INSTRUCTION,
            "completion_header": COMPLETION_HEADER,
            "question": "[Context: {context}\\n]Question: {question}\\n{letter}. {option} (one line per option)",
        }
        if any(v.startswith("cot") for v in self.options.strategy):
            t["cot_instruction"] = COT_INSTRUCTION
        if self.options.system_prompt:
            t["system"] = self.options.system_prompt
        return t

    def _shots(self, variant: str) -> int:
        if variant in ("few-shot", "cot-few-shot"):
            return self.options.shots
        m = _SHOT.match(variant)
        return int(m.group(1)) if m else 0

    def _mode(self, ctx: SolveContext, variant: str) -> str:
        mode = self.options.mode
        if mode == "auto":
            mode = "likelihood" if ctx.is_base_model() and not variant.startswith("cot") else "generate"
        if mode == "likelihood" and variant.startswith("cot"):
            raise ConfigError("strategy 'cot' needs generated text: use --set mode=generate (or mode=auto)")
        return mode

    def _examples(self, item: Item, ctx: SolveContext, k: int) -> list[Item]:
        if not k:
            return []
        pool = [x for x in ctx.fewshot_pool if x.id != item.id and x.input != item.input]
        if len(pool) < k:
            raise ConfigError(f"few-shot needs {k} examples but the pool has {len(pool)}")
        return ctx.rng.sample(pool, k)

    def build_request(self, item: Item, ctx: SolveContext, variant: str) -> tuple[ModelRequest, str]:
        if not item.choices:
            raise ConfigError(f"item {item.id}: the mcq protocol needs options")
        mode = self._mode(ctx, variant)
        cot = variant.startswith("cot")
        examples = self._examples(item, ctx, self._shots(variant))
        o = self.options
        with_ctx = o.context
        if ctx.is_base_model():
            prompt = (
                COMPLETION_HEADER
                + "".join(f"{format_question(ex, with_ctx)}\nAnswer: {ex.target}\n\n" for ex in examples)
                + f"{format_question(item, with_ctx)}\nAnswer:"
            )
            body: dict[str, Any] = {"prompt": prompt, "temperature": o.temperature}
            if mode == "likelihood":
                body.update(max_tokens=1, logprobs=o.top_logprobs, temperature=0.0)
            else:
                body.update(max_tokens=o.max_tokens or (1024 if cot else 8), stop=["\n\n", "\nQuestion:"])
            return ModelRequest(kind="completion", body=body), mode
        messages: list[Message] = []
        if o.system_prompt:
            messages.append({"role": "system", "content": o.system_prompt})
        instruction = COT_INSTRUCTION if cot else INSTRUCTION
        for i, ex in enumerate(examples):
            prefix = f"{instruction}\n\n" if i == 0 else ""
            messages.append({"role": "user", "content": f"{prefix}{format_question(ex, with_ctx)}\nAnswer:"})
            messages.append({"role": "assistant", "content": f"The answer is ({ex.target})."})
        prefix = "" if examples else f"{instruction}\n\n"
        messages.append({"role": "user", "content": f"{prefix}{format_question(item, with_ctx)}\nAnswer:"})
        body = {"messages": messages, "temperature": o.temperature}
        if mode == "likelihood":
            body.update(max_tokens=1, logprobs=True, top_logprobs=o.top_logprobs, temperature=0.0)
        else:
            body["max_tokens"] = o.max_tokens or (2048 if cot else 32)
        return ModelRequest(kind="chat", body=body), mode

    async def solve(self, item: Item, ctx: SolveContext) -> dict[str, Any]:
        request, mode = self.build_request(item, ctx, ctx.variant)
        await ctx.generate(request)
        return {"mode": mode}

    def score(
        self, item: Item, output: dict[str, Any], calls: list[CallRecord], variant: str = "default"
    ) -> Score:
        assert item.choices is not None
        raw = calls[-1].raw if calls else None
        letters = list(item.choices)
        confidence = None
        if output.get("mode") == "likelihood":
            tops = openai_format.top_logprobs(raw)
            answer, probs = choice_from_logprobs(tops[0] if tops else {}, letters)
            method = "logprob" if answer else "unparseable"
            confidence = probs.get(answer) if answer else None
        else:
            ex = extract_choice(openai_format.text(raw), item.choices)
            answer, method = ex.answer, ex.method
        correct = float(answer == item.target)
        return Score(
            value=correct,
            answer=answer,
            target=item.target,
            parsed=answer is not None,
            values={"accuracy": correct},
            confidence=confidence,
            explanation=method,
        )
