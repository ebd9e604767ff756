"""A local fake OpenAI-compatible server for tests and performance benchmarks only.

Raw asyncio HTTP/1.1 with keep-alive (no framework, so it is never the bottleneck), running
in a background thread. Answers are scripted by a ``responder``; faults (429 with
Retry-After, 500, 503, hangs, connection resets, truncated JSON, empty choices) are injected
at configured rates with a seeded RNG. Every request body is recorded for assertions.
This is a test fixture: it is never a user-facing backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Responder = Callable[[str, dict[str, Any]], str | dict[str, Any]]
"""(path, request body) -> reply text, or a full response dict to send as is."""


@dataclass
class Faults:
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_hang: float = 0.0
    rate_reset: float = 0.0
    rate_truncated: float = 0.0
    rate_empty: float = 0.0
    retry_after: float = 0.05
    hang_s: float = 30.0

    def pick(self, rng: random.Random) -> str | None:
        r = rng.random()
        for name in ("429", "500", "503", "hang", "reset", "truncated", "empty"):
            rate = getattr(self, f"rate_{name}")
            if r < rate:
                return name
            r -= rate
        return None


def answer_letter_from_target(targets: dict[str, str]) -> Responder:
    """Reply 'The answer is (X)' using a question-text -> letter map (else 'A')."""

    def respond(path: str, body: dict[str, Any]) -> str:
        text = _last_user_text(body)
        for q, letter in targets.items():
            if q in text:
                return f"The answer is ({letter})."
        return "The answer is (A)."

    return respond


def _last_user_text(body: dict[str, Any]) -> str:
    if "prompt" in body:
        return str(body["prompt"]).rsplit("Question:", 1)[-1]
    for m in reversed(body.get("messages") or []):
        if m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else " ".join(p.get("text", "") for p in c if isinstance(p, dict))
    return ""


def constant(text: str) -> Responder:
    return lambda path, body: text


@dataclass
class FakeOpenAI:
    responder: Responder = field(default_factory=lambda: constant("The answer is (A)."))
    latency_s: float = 0.0
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    model: str = "fake-model"
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    record_bodies: bool = True

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.n_requests = 0
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle
    def start(self) -> FakeOpenAI:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-openai")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]:
                task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
                }
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                keep = await self._respond(method, path, raw, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _send(
        self, writer: asyncio.StreamWriter, status: int, payload: bytes, extra: dict[str, str] | None = None
    ) -> None:
        reason = {
            200: "OK",
            404: "Not Found",
            429: "Too Many Requests",
            500: "Internal Server Error",
            503: "Service Unavailable",
        }
        hdrs = {"Content-Type": "application/json", "Content-Length": str(len(payload)), **(extra or {})}
        head = f"HTTP/1.1 {status} {reason.get(status, 'X')}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in hdrs.items()
        )
        writer.write(head.encode() + b"\r\n" + payload)
        self.statuses.append(status)

    async def _respond(self, method: str, path: str, raw: bytes, writer: asyncio.StreamWriter) -> bool:
        with self._lock:
            self.n_requests += 1
        if method == "GET" and path.endswith("/models"):
            self._send(writer, 200, json.dumps({"data": [{"id": self.model}]}).encode())
            return True
        if path not in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings"):
            self._send(writer, 404, b'{"error":{"message":"not found"}}')
            return True
        body = json.loads(raw or b"{}")
        if self.record_bodies:
            self.requests.append({"path": path, "body": body, "t": time.time()})
        fault = self.faults.pick(self._rng)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if fault == "429":
            self._send(
                writer,
                429,
                b'{"error":{"message":"rate limited"}}',
                {"Retry-After": f"{self.faults.retry_after}"},
            )
            return True
        if fault in ("500", "503"):
            self._send(writer, int(fault), b'{"error":{"message":"server error"}}')
            return True
        if fault == "hang":
            await asyncio.sleep(self.faults.hang_s)
            return False
        if fault == "reset":
            writer.transport.abort()
            return False
        kind = "chat" if path.endswith("/chat/completions") else "completion"
        if fault == "empty":
            self._send(writer, 200, json.dumps({"id": "x", "choices": [], "usage": {}}).encode())
            return True
        out = self.responder(path, body)
        resp = out if isinstance(out, dict) else make_response(kind, out, body, self.model)
        payload = json.dumps(resp).encode()
        if fault == "truncated":
            payload = payload[: len(payload) // 2]
            self._send(writer, 200, payload)
            return True
        self._send(writer, 200, payload)
        await writer.drain()
        return True


def make_response(kind: str, text: str, body: dict[str, Any], model: str = "fake-model") -> dict[str, Any]:
    n = int(body.get("n") or 1)
    prompt_len = len(json.dumps(body.get("messages") or body.get("prompt") or "")) // 4
    choices = []
    for i in range(n):
        ch: dict[str, Any] = {"index": i, "finish_reason": "stop"}
        if kind == "chat":
            ch["message"] = {"role": "assistant", "content": text}
        else:
            ch["text"] = text
        if body.get("logprobs"):
            letter = m.group(1) if (m := re.search(r"\(([A-J])\)", text)) else text.strip()[:1] or "A"
            ch["logprobs"] = {
                "content": [
                    {
                        "token": f" {letter}",
                        "logprob": -0.1,
                        "top_logprobs": [
                            {"token": f" {letter}", "logprob": -0.1},
                            {"token": " Z", "logprob": -3.0},
                        ],
                    }
                ]
            }
        choices.append(ch)
    return {
        "id": "cmpl-fake",
        "object": "chat.completion" if kind == "chat" else "text_completion",
        "model": model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_len,
            "completion_tokens": max(1, len(text) // 4),
            "total_tokens": prompt_len + 1,
        },
    }
