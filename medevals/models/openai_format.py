"""Reading OpenAI-shaped responses: the one place that knows where text, logprobs and tool calls live.

Servers differ in details (llama.cpp returns chat-style ``logprobs.content`` even for
``/v1/completions``; vLLM and OpenAI return the legacy ``tokens``/``top_logprobs`` layout
there), so every consumer goes through these functions instead of indexing raw JSON.
"""

from __future__ import annotations

from typing import Any

from medevals.schema import Usage


class MalformedResponse(ValueError):
    """The server answered 2xx but the body is not a usable completion (retryable)."""


def validate(raw: Any, kind: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise MalformedResponse(f"response is {type(raw).__name__}, expected a JSON object")
    if kind == "embedding":
        if not raw.get("data"):
            raise MalformedResponse("embedding response has no data")
        return raw
    choices = raw.get("choices")
    if not choices or not isinstance(choices, list):
        raise MalformedResponse("response has no choices")
    return raw


def choice_count(raw: dict[str, Any] | None) -> int:
    return len((raw or {}).get("choices") or [])


def text(raw: dict[str, Any] | None, index: int = 0) -> str:
    """The generated text of choice ``index`` ('' when the choice has none, e.g. only tool calls)."""
    if not raw:
        return ""
    choices = raw.get("choices") or []
    if index >= len(choices):
        return ""
    ch = choices[index]
    if "message" in ch:
        content = (ch.get("message") or {}).get("content")
        if isinstance(content, list):  # some servers return content parts
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content or ""
    return ch.get("text") or ""


def texts(raw: dict[str, Any] | None) -> list[str]:
    return [text(raw, i) for i in range(choice_count(raw))]


def finish_reason(raw: dict[str, Any] | None, index: int = 0) -> str | None:
    choices = (raw or {}).get("choices") or []
    return choices[index].get("finish_reason") if index < len(choices) else None


def tool_calls(raw: dict[str, Any] | None, index: int = 0) -> list[dict[str, Any]]:
    choices = (raw or {}).get("choices") or []
    if index >= len(choices):
        return []
    return list(((choices[index].get("message") or {}).get("tool_calls")) or [])


def top_logprobs(raw: dict[str, Any] | None, index: int = 0) -> list[dict[str, float]]:
    """Per generated position, a map token -> logprob of the alternatives the server returned.

    The sampled token is included at its own logprob even if the server left it out of the
    alternatives. Returns [] when the response carries no logprobs.
    """
    choices = (raw or {}).get("choices") or []
    if index >= len(choices):
        return []
    lp = choices[index].get("logprobs")
    if not lp:
        return []
    out: list[dict[str, float]] = []
    if isinstance(lp.get("content"), list):  # chat layout (also llama.cpp completions)
        for pos in lp["content"]:
            alts: dict[str, float] = {}
            for alt in pos.get("top_logprobs") or []:
                _keep_max(alts, alt.get("token", ""), alt.get("logprob"))
            _keep_max(alts, pos.get("token", ""), pos.get("logprob"))
            out.append(alts)
        return out
    tops = lp.get("top_logprobs")  # legacy completions layout
    tokens = lp.get("tokens") or []
    token_lps = lp.get("token_logprobs") or []
    if isinstance(tops, list):
        for i, pos in enumerate(tops):
            alts = {}
            for tok, val in (pos or {}).items():
                _keep_max(alts, tok, val)
            if i < len(tokens) and i < len(token_lps):
                _keep_max(alts, tokens[i], token_lps[i])
            out.append(alts)
    return out


def _keep_max(alts: dict[str, float], token: str, logprob: Any) -> None:
    if logprob is None:
        return
    val = float(logprob)
    if token not in alts or val > alts[token]:
        alts[token] = val


def usage(raw: dict[str, Any] | None) -> Usage:
    u = (raw or {}).get("usage") or {}
    return Usage(
        prompt_tokens=int(u.get("prompt_tokens") or 0), completion_tokens=int(u.get("completion_tokens") or 0)
    )


def embeddings(raw: dict[str, Any] | None) -> list[list[float]]:
    data = sorted((raw or {}).get("data") or [], key=lambda d: d.get("index", 0))
    return [d["embedding"] for d in data]
