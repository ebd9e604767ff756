"""Reading OpenAI-shaped responses: the one place that knows where text, logprobs and tool calls live.

Servers differ in details (llama.cpp returns chat-style ``logprobs.content`` even for
``/v1/completions``; vLLM and OpenAI return the legacy ``tokens``/``top_logprobs`` layout
there), so every consumer goes through these functions instead of indexing raw JSON.

What a *valid* response is (``validate``; anything else is a retryable fault, never cached,
journaled or scored as the model's answer):

- every kind: the body is a JSON object;
- ``chat`` and ``completion``: ``choices`` is a non-empty list and every choice is an object
  that carries a reply: a ``message`` object whose ``content`` is a string or a list of content
  parts, or a ``text`` string. A message whose content is missing or null still counts when it
  carries a non-empty ``tool_calls`` list (or a legacy ``function_call`` object), a non-empty
  ``refusal`` string, or a non-empty ``reasoning_content`` / ``reasoning`` string. That last case, a
  reasoning-only reply, is the model's answer, not a fault: the model spent its token budget
  thinking, the same request would get the same reply, and it is scored as the empty answer it
  is (normally unparseable, and counted as such). An empty string is likewise a reply (the model
  said nothing), while a missing or null content with none of the above is a fault: the server
  answered without an answer. ``n`` is not checked against the number of choices (llama.cpp
  ignores ``n``; protocols read the choices there are).
- ``embedding``: ``data`` is a non-empty list of objects, one per input (a string or a token
  list is one input, a list of them is one each), each with an ``embedding`` that is a non-empty
  list starting with a number (or a string, for ``encoding_format=base64``), all of one length.
"""

from __future__ import annotations

import math
import re
from typing import Any

from medevals.models.base import TransientModelError
from medevals.schema import Usage


class MalformedResponse(TransientModelError):
    """The server answered 2xx but the body is not a usable response (retryable).

    Messages start with ``malformed response (REASON)``: the part before the first colon is the
    retry reason counted in ``stats.retry_reasons``, so it stays a short fixed phrase.
    """


def _bad(reason: str, detail: str) -> MalformedResponse:
    return MalformedResponse(f"malformed response ({reason}): {detail}")


def validate(raw: Any, kind: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """``raw`` if it is a valid response of this kind (see the module docstring), else MalformedResponse."""
    if not isinstance(raw, dict):
        raise _bad("not an object", f"the body is a JSON {type(raw).__name__}")
    if kind == "embedding":
        _validate_embedding(raw, body)
        return raw
    choices = raw.get("choices")
    if not isinstance(choices, list):
        what = "missing" if choices is None else f"a {type(choices).__name__}"
        raise _bad("no choices", f"'choices' is {what}, expected a list")
    if not choices:
        raise _bad("no choices", "'choices' is an empty list")
    for i, ch in enumerate(choices):
        if not isinstance(ch, dict):
            raise _bad("bad choice", f"choice {i} is a {type(ch).__name__}, expected an object")
        if not _has_reply(ch):
            raise _bad("no content", f"choice {i} has no content, text, tool calls, refusal or reasoning")
    return raw


def _has_reply(ch: dict[str, Any]) -> bool:
    msg = ch.get("message")
    if isinstance(msg, dict):
        content = msg.get("content")
        if isinstance(content, (str, list)):
            return True
        if content is not None:
            return False  # a number or an object where text belongs
        return bool(
            (isinstance(msg.get("tool_calls"), list) and msg["tool_calls"])
            or isinstance(msg.get("function_call"), dict)
            or _nonempty_str(msg.get("refusal"))
            or _nonempty_str(msg.get("reasoning_content"))
            or _nonempty_str(msg.get("reasoning"))
        )
    return isinstance(ch.get("text"), str)


def _nonempty_str(v: Any) -> bool:
    return isinstance(v, str) and bool(v)


def _n_inputs(body: dict[str, Any] | None) -> int | None:
    inp = (body or {}).get("input")
    if isinstance(inp, str):
        return 1
    if isinstance(inp, list) and inp:
        return 1 if isinstance(inp[0], int) else len(inp)
    return None


def _validate_embedding(raw: dict[str, Any], body: dict[str, Any] | None) -> None:
    data = raw.get("data")
    if not isinstance(data, list) or not data:
        raise _bad("no data", "embedding response has no 'data' list")
    want = _n_inputs(body)
    if want is not None and len(data) != want:
        raise _bad("no data", f"{len(data)} embeddings for {want} inputs")
    dim = None
    for i, d in enumerate(data):
        emb = d.get("embedding") if isinstance(d, dict) else None
        if isinstance(emb, str) and emb:
            continue
        if not isinstance(emb, list) or not emb or not isinstance(emb[0], (int, float)):
            raise _bad("bad embedding", f"data[{i}] has no embedding vector")
        if dim is not None and len(emb) != dim:
            raise _bad("bad embedding", f"data[{i}] has {len(emb)} dimensions, data[0] has {dim}")
        dim = len(emb)


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: A lone surrogate in a body: as a JSON escape (\ud800) or as raw (invalid) UTF-8 bytes ED A0-BF.
_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def may_hold_surrogates(body: bytes) -> bool:
    """Cheap test on a raw body: can its JSON decode to a string with a surrogate code point?"""
    if b"\\u" not in body and b"\xed" not in body:  # the usual case, two memchr-speed scans
        return False
    return _SURROGATE_BYTES.search(body) is not None


def scrub_surrogates(obj: Any) -> Any:
    """``obj`` with every lone surrogate replaced by U+FFFD (valid pairs were joined by the JSON parser).

    Python's JSON parser accepts "\\ud800" and yields a string that cannot be encoded as UTF-8,
    so a model that emits half a surrogate pair would make samples.jsonl, the journal and the
    cache unwritable. The replacement keeps every store valid UTF-8 JSON; it changes only
    characters that had no meaning.
    """
    if isinstance(obj, str):
        return _LONE_SURROGATE.sub("\ufffd", obj)
    if isinstance(obj, dict):
        return {scrub_surrogates(k): scrub_surrogates(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub_surrogates(v) for v in obj]
    return obj


def _choices(raw: dict[str, Any] | None) -> list[Any]:
    """The choices list of a stored response; [] for anything else (rescoring never crashes on old data)."""
    ch = raw.get("choices") if isinstance(raw, dict) else None
    return ch if isinstance(ch, list) else []


def _choice(raw: dict[str, Any] | None, index: int) -> dict[str, Any]:
    choices = _choices(raw)
    ch = choices[index] if index < len(choices) else None
    return ch if isinstance(ch, dict) else {}


def choice_count(raw: dict[str, Any] | None) -> int:
    return len(_choices(raw))


def text(raw: dict[str, Any] | None, index: int = 0) -> str:
    """The generated text of choice ``index`` ('' when the choice has none, e.g. only tool calls).

    A message with null content and a ``refusal`` string (OpenAI's refusal field) reads as the
    refusal, so a refusal is seen as one (judges classify it) instead of as silence. Reasoning
    (``reasoning_content``) is never read as the answer.
    """
    ch = _choice(raw, index)
    msg = ch.get("message")
    if isinstance(msg, dict):
        content = msg.get("content")
        if isinstance(content, list):  # some servers return content parts
            return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
        if isinstance(content, str):
            return content
        refusal = msg.get("refusal")
        return refusal if isinstance(refusal, str) else ""
    t = ch.get("text")
    return t if isinstance(t, str) else ""


def texts(raw: dict[str, Any] | None) -> list[str]:
    return [text(raw, i) for i in range(choice_count(raw))]


def finish_reason(raw: dict[str, Any] | None, index: int = 0) -> str | None:
    return _choice(raw, index).get("finish_reason")


def tool_calls(raw: dict[str, Any] | None, index: int = 0) -> list[dict[str, Any]]:
    msg = _choice(raw, index).get("message")
    calls = msg.get("tool_calls") if isinstance(msg, dict) else None
    return [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []


def top_logprobs(raw: dict[str, Any] | None, index: int = 0) -> list[dict[str, float]]:
    """Per generated position, a map token -> logprob of the alternatives the server returned.

    The sampled token is included at its own logprob even if the server left it out of the
    alternatives. Returns [] when the response carries no logprobs.
    """
    lp = _choice(raw, index).get("logprobs")
    if not isinstance(lp, dict):
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
    """Token counts; a missing or garbled ``usage`` reads as 0 (it does not make the answer unusable)."""
    u = raw.get("usage") if isinstance(raw, dict) else None
    if not isinstance(u, dict):
        return Usage()
    return Usage(
        prompt_tokens=_count(u.get("prompt_tokens")), completion_tokens=_count(u.get("completion_tokens"))
    )


def _count(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return 0
    return max(0, int(v))


def embeddings(raw: dict[str, Any] | None) -> list[list[float]]:
    data = sorted((raw or {}).get("data") or [], key=lambda d: d.get("index", 0))
    return [d["embedding"] for d in data]
