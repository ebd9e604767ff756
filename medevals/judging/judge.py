"""Asking judges: one call per judge role through ``ctx.generate``, one repair turn, records kept.

Chat judges get the filled template as a user message. Base (completion) judges cannot follow
"reply with JSON", so their prompt ends by opening the verdict object (``{"criteria_met":``)
and stops at ``}``; the reply text is rebuilt as the opened object + the value + the closing
brace the harness opened. The value is *constrained* to the schema's two literals: of ``true``
and ``false``, the one the model gives the higher log-probability at the value position (HELM-
style likelihood reading, as the MCQ protocol does for base models). When neither literal is
among the returned top log-probabilities the model's own text is used as is. Either way the
text then goes through the same JSON + schema reading as everything else, so a base judge
writing "maybe" (with no true/false in its top tokens) is a failure, not a guess. A verdict
with a single scored field (``ScoreVerdict``: 1-5) is constrained the same way to its digits. A
verdict with several fields (axis ratings, lists of numbers) cannot be read from one token: a
base judge gets the prompt ending in ``{`` and writes the object itself, read like any reply.

A judge that fails to answer (an unreadable verdict after the repair turn, or a call that
failed after the engine's own retries) is asked again with a *fresh* call, up to
``JudgeTask.attempts`` times, before the judgement is left as a failure: the public HealthBench
grader re-asks until it reads a boolean, and a criterion left unjudged makes its conversation
unscored. A fresh call carries its own sample index (so neither the response cache nor the
resume journal hands back the failed reply) and ``retry_temperature`` (a judge at temperature 0
would mostly repeat itself). Every reply, repair and call error is kept in the record.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from medevals.judging import templates
from medevals.judging.verdicts import Verdict, parse_reply
from medevals.models import openai_format
from medevals.protocols.base import SolveContext
from medevals.schema import ModelRequest

_JUDGE_ROLE = re.compile(r"^judge:(\d+)$")
TOP_LOGPROBS = 20


@dataclass(frozen=True)
class JudgeTask:
    """One question to the judges: which template, the filled prompt, and the verdict schema."""

    template: str
    prompt: str
    schema: type[Verdict]
    max_tokens: int = 256
    #: Fresh calls (each with one repair turn) before the judgement is left as a failure.
    attempts: int = 3
    temperature: float = 0.0
    #: Temperature of the fresh calls after the first (the simple-evals grader samples at 0.5).
    retry_temperature: float = 0.5
    #: What the judge was shown, for reading a valued verdict (axes asked, items numbered);
    #: kept in the record so ``rescore`` reads the reply against the same expectation.
    expect: dict[str, Any] | None = None


def judge_roles(ctx: SolveContext) -> list[str]:
    """The ``judge:i`` roles of this run, in ``--judge`` order."""
    found = [(int(m.group(1)), r) for r in ctx.clients if (m := _JUDGE_ROLE.match(r))]
    return [r for _, r in sorted(found)]


def _prefill(schema: type[Verdict]) -> str:
    # No trailing space: tokenizers attach the space to the next word (" true"), and a prompt
    # ending in a space pushed the builtin model to digits instead of true/false.
    if schema.literals is None:  # several fields: the judge writes the object
        return "{"
    return f'{{"{schema.label_field}":'


def _first_request(task: JudgeTask, base: bool, temperature: float | None = None) -> ModelRequest:
    temp = task.temperature if temperature is None else temperature
    if base:
        prompt = task.prompt + templates.COMPLETION_SUFFIX + _prefill(task.schema)
        body: dict[str, Any] = {
            "prompt": prompt,
            "max_tokens": 16,
            "temperature": temp,
            "stop": ["}", ",", "\n"],
            "logprobs": TOP_LOGPROBS,
        }
        if task.schema.literals is None:
            body = {"prompt": prompt, "max_tokens": task.max_tokens, "temperature": temp, "stop": ["\n\n\n"]}
        return ModelRequest(kind="completion", body=body)
    body = {
        "messages": [{"role": "user", "content": task.prompt}],
        "max_tokens": task.max_tokens,
        "temperature": temp,
    }
    return ModelRequest(kind="chat", body=body)


def _repair_request(task: JudgeTask, base: bool, first: ModelRequest, text: str, error: str) -> ModelRequest:
    note = templates.render(templates.REPAIR, error=error, schema=task.schema.schema_hint(task.expect))
    if base:
        body = dict(first.body)
        body["prompt"] = (
            first.body["prompt"]
            + text[len(_prefill(task.schema)) :]
            + "\n\n"
            + note
            + templates.COMPLETION_SUFFIX
            + _prefill(task.schema)
        )
        return ModelRequest(kind="completion", body=body)
    body = dict(first.body)
    body["messages"] = [
        *first.body["messages"],
        {"role": "assistant", "content": text},
        {"role": "user", "content": note},
    ]
    return ModelRequest(kind="chat", body=body)


def constrained_literal(
    raw: dict[str, Any] | None, literals: tuple[str, ...] = ("true", "false")
) -> str | None:
    """Of ``literals``, the one with the highest log-probability at the first generated position."""
    tops = openai_format.top_logprobs(raw)
    if not tops:
        return None
    best: dict[str, float] = {}
    for token, lp in tops[0].items():
        word = token.strip().lower()
        if word in literals and lp > best.get(word, float("-inf")):
            best[word] = lp
    return max(best, key=lambda w: best[w]) if best else None


def _reply_text(raw: dict[str, Any] | None, base: bool, schema: type[Verdict]) -> str:
    text = openai_format.text(raw)
    if not base:
        return text
    if schema.literals is None:
        return _prefill(schema) + text
    value = constrained_literal(raw, schema.literals) or text.strip()
    return _prefill(schema) + " " + value + ("" if "}" in value else "}")


#: Sample-index stride of fresh judge calls: far above any repeat or ensemble index (MCQ uses
#: ``repeat * 1000 + k``), so a retry never shares a cache or journal key with another call.
FRESH_STRIDE = 1_000_000


async def ask(ctx: SolveContext, role: str, task: JudgeTask) -> dict[str, Any]:
    """Ask one judge; returns the record stored in the sample output (read by ``verdicts.read_record``).

    The record: ``attempts`` (every reply text, in order: first replies, repair replies, fresh
    replies), ``call_errors`` (every failed call), ``call_error`` (set when the last call
    failed), ``fresh_calls`` (how many fresh calls were made).
    """
    from medevals.engine.client import CallFailed

    record: dict[str, Any] = {
        "role": role,
        "template": task.template,
        "attempts": [],
        "call_error": None,
        "call_errors": [],
        "fresh_calls": 0,
    }
    if task.expect is not None:
        record["expect"] = task.expect
    base = ctx.is_base_model(role)
    for fresh in range(max(1, task.attempts)):
        record["fresh_calls"] = fresh + 1
        request = _first_request(task, base, None if fresh == 0 else task.retry_temperature)
        index = None if fresh == 0 else ctx.repeat + FRESH_STRIDE * fresh
        for turn in range(2):  # the call, then one repair turn when its reply cannot be read
            try:
                rec = await ctx.generate(request, role=role, sample_index=index)
            except CallFailed as e:  # the engine already retried: a timeout or refusal to serve
                record["call_error"] = str(e)
                record["call_errors"].append(str(e))
                break
            record["call_error"] = None
            text = _reply_text(rec.raw, base, task.schema)
            record["attempts"].append(text)
            verdict, _kind, reason = parse_reply(text, task.schema, task.expect)
            if verdict is not None:
                return record
            if turn == 0:
                request = _repair_request(task, base, request, text, reason or "unreadable")
    return record


async def ask_jury(ctx: SolveContext, task: JudgeTask, roles: list[str]) -> dict[str, dict[str, Any]]:
    """Every judge on one task, concurrently; keyed by role."""
    records = await asyncio.gather(*(ask(ctx, r, task) for r in roles))
    return dict(zip(roles, records, strict=True))
