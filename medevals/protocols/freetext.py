"""Free-text requests for judged protocols: chat for chat models, a plain transcript for base models.

Base models (the builtin one) have no usable chat template, so a conversation becomes a
``User:``/``Assistant:`` transcript ending in ``Assistant:`` and generation stops at the next
``User:`` turn. Replies are read with ``models.openai_format`` like every other response.

(The ``freetext`` protocol itself, open answers scored against references by judges and ROUGE,
is ``protocols/graded_text.py``; this module only builds requests.)
"""

from __future__ import annotations

from typing import Any

from medevals.schema import Message, ModelRequest


def message_text(m: Message) -> str:
    c = m.get("content")
    if isinstance(c, list):
        return " ".join(p.get("text", "") for p in c if isinstance(p, dict))
    return str(c or "")


def transcript(messages: list[Message]) -> str:
    """A conversation as plain text (also what a judge reads)."""
    return "\n\n".join(f"{str(m.get('role', 'user')).capitalize()}: {message_text(m)}" for m in messages)


def conversation_request(
    messages: list[Message],
    *,
    base: bool,
    max_tokens: int,
    temperature: float = 0.0,
    system: str | None = None,
) -> ModelRequest:
    if base:
        head = f"{system}\n\n" if system else ""
        prompt = f"{head}{transcript(messages)}\n\nAssistant:"
        body: dict[str, Any] = {
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stop": ["\nUser:"],
        }
        return ModelRequest(kind="completion", body=body)
    msgs = ([{"role": "system", "content": system}] if system else []) + list(messages)
    return ModelRequest(
        kind="chat", body={"messages": msgs, "max_tokens": max_tokens, "temperature": temperature}
    )


def single_turn_request(
    *,
    base: bool,
    instruction: str,
    text: str,
    base_prompt: str,
    stop: list[str],
    max_tokens: int,
    temperature: float = 0.0,
) -> ModelRequest:
    """One instruction + one text: a chat turn, or for a base model ``base_prompt`` (already filled
    in, ending where the answer starts) stopping where a next example would begin."""
    if base:
        body: dict[str, Any] = {
            "prompt": base_prompt,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stop": stop,
        }
        return ModelRequest(kind="completion", body=body)
    msgs: list[Message] = [{"role": "user", "content": f"{instruction}\n\n{text}"}]
    return conversation_request(msgs, base=False, max_tokens=max_tokens, temperature=temperature)
