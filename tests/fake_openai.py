"""A local fake OpenAI-compatible server for tests and performance benchmarks only.

Raw asyncio HTTP/1.1 with keep-alive (no framework, so it is never the bottleneck), running
in a background thread. Answers are scripted by a ``responder``; faults (429 with
Retry-After, 500, 503, hangs, connection resets, truncated JSON, empty choices, slow streams; and,
outside ``Faults.spread``, malformed 200s and endless bodies: see ``Faults.MALFORMED``/``STREAMS``)
are injected at configured rates with a seeded RNG. Every request body is recorded for assertions.

``python tests/fake_openai.py --latency 0.2`` runs it as its own process (so a benchmark's
client does not share the server's GIL): it prints ``PORT <n>`` once listening, and
``GET /_stats`` returns request counts and first/last request times as JSON.
This is a test fixture: it is never a user-facing backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
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
    rate_slow: float = 0.0
    #: 200 replies that are not usable answers: content null and no tool calls; ``choices`` an
    #: object; a choice that is a string; an HTML page instead of JSON.
    rate_no_content: float = 0.0
    rate_choices_object: float = 0.0
    rate_bad_choice: float = 0.0
    rate_non_json: float = 0.0
    #: A 200 whose chunked body never ends (64 KB chunks as fast as the client reads), and one
    #: whose body drips one byte every ``drip_s`` forever (no single read ever waits long).
    rate_endless: float = 0.0
    rate_drip: float = 0.0
    #: A 200 with ``Content-Encoding: gzip`` whose small body inflates to ``bomb_mb`` MB.
    rate_gzip_bomb: float = 0.0
    bomb_mb: int = 40
    retry_after: float = 0.05
    hang_s: float = 30.0
    #: A slow stream sends the status line at once, then the body in small chunks over this long.
    slow_s: float = 0.3
    drip_s: float = 0.05

    NAMES = ("429", "500", "503", "hang", "reset", "truncated", "empty", "slow")
    MALFORMED = ("no_content", "choices_object", "bad_choice", "non_json")
    STREAMS = ("endless", "drip", "gzip_bomb")

    @classmethod
    def spread(cls, total: float, **kw: float) -> Faults:
        """Every fault kind at an equal share of ``total`` (e.g. 0.2 -> 2.5% each)."""
        share = total / len(cls.NAMES)
        return cls(**{f"rate_{n}": share for n in cls.NAMES}, **kw)

    def pick(self, rng: random.Random) -> str | None:
        r = rng.random()
        for name in self.NAMES + self.MALFORMED + self.STREAMS:
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


def image_hashes(body: dict[str, Any]) -> list[str]:
    """sha256 of every image the request carries, decoded from its data URI, in message order.

    A URL that is not a base64 data URI gets the marker ``not-inlined:<url>`` so a test sees
    references that leaked to the wire instead of image bytes.
    """
    import base64
    import hashlib

    out: list[str] = []
    for m in body.get("messages") or []:
        content = m.get("content") if isinstance(m, dict) else None
        if not isinstance(content, list):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url", "")
                head, _, data = url.partition(";base64,")
                if not head.startswith("data:image/") or not data:
                    out.append(f"not-inlined:{url[:80]}")
                    continue
                out.append(hashlib.sha256(base64.b64decode(data, validate=True)).hexdigest())
    return out


def image_hash_letter(hashes: list[str], letters: list[str]) -> str:
    """The letter an image-aware fake answers: a function of the ordered image hashes only."""
    import hashlib

    digest = hashlib.sha256("|".join(hashes).encode()).hexdigest()
    return letters[int(digest[:12], 16) % len(letters)]


def image_answerer(reply: str = "The answer is ({}).") -> Responder:
    """Image-aware mode: answer with a letter chosen from the options shown ("A." / "A:" / '("A":'
    lines) by a hash of the received image bytes, in order, formatted into ``reply``. Tests compute
    the same letter from the image files: a match proves the images arrived intact and in order.
    A request without images is answered (A)."""

    def respond(path: str, body: dict[str, Any]) -> str:
        hashes = image_hashes(body)
        text = _last_user_text(body)
        letters = re.findall(r'(?m)^\(?"?([A-J])(?:"|\))?[.:] ', text) or ["A", "B", "C", "D"]
        return reply.format(image_hash_letter(hashes, letters) if hashes else "A")

    return respond


answer_from_images = image_answerer()


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
    #: Injected faults by kind, and when the first and latest model request arrived (time.time()).
    faults_sent: dict[str, int] = field(default_factory=dict)
    first_request_t: float | None = None
    last_request_t: float | None = None
    #: A request whose prompt contains this marker is refused with 401, the body echoing the
    #: Authorization header (as some proxies do), to test that keys are redacted from errors.
    echo_auth_marker: str | None = None
    #: A request whose prompt contains this marker gets a 200 whose content and ``error`` field
    #: echo the Authorization header (a misbehaving proxy), to test redaction of stored replies.
    echo_auth_200_marker: str | None = None
    auth_headers: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.n_requests = 0
        self._n_model = 0
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle
    def start(self) -> FakeOpenAI:
        return self.start_on(0)

    def start_on(self, port: int) -> FakeOpenAI:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", port, backlog=1024)
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
                if "authorization" in headers:
                    self.auth_headers.add(headers["authorization"])
                self._auth = headers.get("authorization", "")
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
            401: "Unauthorized",
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

    async def _send_slowly(self, writer: asyncio.StreamWriter, payload: bytes) -> None:
        """Headers at once, then the body trickled in 8 chunks over ``faults.slow_s``."""
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        step = max(1, -(-len(payload) // 8))
        for i in range(0, len(payload), step):
            await asyncio.sleep(self.faults.slow_s / 8)
            writer.write(payload[i : i + step])
            await writer.drain()
        self.statuses.append(200)

    async def _send_fault(
        self, writer: asyncio.StreamWriter, fault: str, kind: str, body: dict[str, Any]
    ) -> None:
        """A malformed 200 (see ``Faults.MALFORMED``) or a body that never ends (``Faults.STREAMS``)."""
        if fault == "non_json":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send(writer, 200, page, {"Content-Type": "text/html"})
            return
        if fault in Faults.MALFORMED:
            resp = make_response(kind, "ANSWER: A", body, self.model)
            if fault == "no_content":
                for ch in resp["choices"]:
                    ch.pop("text", None)
                    if "message" in ch:
                        ch["message"]["content"] = None
            elif fault == "choices_object":
                resp["choices"] = {"0": resp["choices"][0]}
            else:  # bad_choice
                resp["choices"] = ["ANSWER: A"]
            self._send(writer, 200, json.dumps(resp).encode())
            return
        if fault == "gzip_bomb":
            bomb = _gzip_bomb(self.faults.bomb_mb)
            self._send(writer, 200, bomb, {"Content-Encoding": "gzip"})
            await writer.drain()
            return
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        writer.write(head.encode())
        self.statuses.append(200)
        chunk = b'{"pad": "' + b"x" * 65536 if fault == "endless" else b" "
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            while True:  # until the client hangs up
                writer.write(frame)
                await writer.drain()
                if fault == "drip":
                    await asyncio.sleep(self.faults.drip_s)
                elif writer.transport.is_closing():
                    return
        except (ConnectionError, RuntimeError):
            return

    async def _respond(self, method: str, path: str, raw: bytes, writer: asyncio.StreamWriter) -> bool:
        with self._lock:
            self.n_requests += 1
        if method == "GET" and path == "/_stats":
            stats = {
                "n_requests": self.n_requests,
                "n_model_requests": len(self.requests) if self.record_bodies else self._n_model,
                "first_request_t": self.first_request_t,
                "last_request_t": self.last_request_t,
                "faults": self.faults_sent,
            }
            self._send(writer, 200, json.dumps(stats).encode())
            return True
        if method == "POST" and path == "/_reset":
            self.requests.clear()
            self._n_model = 0
            self.first_request_t = self.last_request_t = None
            self.faults_sent = {}
            self._send(writer, 200, b"{}")
            return True
        if method == "GET" and path.endswith("/models"):
            self._send(writer, 200, json.dumps({"data": [{"id": self.model}]}).encode())
            return True
        if path not in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings"):
            self._send(writer, 404, b'{"error":{"message":"not found"}}')
            return True
        body = json.loads(raw or b"{}")
        now = time.time()
        self.first_request_t = self.first_request_t or now
        self.last_request_t = now
        self._n_model += 1
        fault = self.faults.pick(self._rng)
        if self.record_bodies:
            entry = {"path": path, "body": body, "t": now, "fault": fault}
            if b'"image_url"' in raw:
                entry["image_hashes"] = image_hashes(body)
            self.requests.append(entry)
        if fault is not None:
            self.faults_sent[fault] = self.faults_sent.get(fault, 0) + 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if self.echo_auth_marker and self.echo_auth_marker in _last_user_text(body):
            msg = {"error": {"message": f"invalid credentials in header: {self._auth}"}}
            self._send(writer, 401, json.dumps(msg).encode())
            return True
        if self.echo_auth_200_marker and self.echo_auth_200_marker in _last_user_text(body):
            kind = "chat" if path.endswith("/chat/completions") else "completion"
            resp = make_response(kind, f"ANSWER: A (your header was {self._auth})", body, self.model)
            resp["error"] = {"message": f"debug: received {self._auth}"}
            self._send(writer, 200, json.dumps(resp).encode())
            return True
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
        if fault is not None and fault in Faults.MALFORMED + Faults.STREAMS:
            await self._send_fault(writer, fault, kind, body)
            return fault in Faults.MALFORMED
        out = self.responder(path, body)
        resp = out if isinstance(out, dict) else make_response(kind, out, body, self.model)
        payload = json.dumps(resp).encode()
        if fault == "truncated":
            payload = payload[: len(payload) // 2]
            self._send(writer, 200, payload)
            return True
        if fault == "slow":
            await self._send_slowly(writer, payload)
            return True
        self._send(writer, 200, payload)
        await writer.drain()
        return True


@functools.lru_cache(maxsize=4)
def _gzip_bomb(mb: int) -> bytes:
    """``mb`` MB of spaces, gzip-compressed (about a thousandth of the size)."""
    return gzip.compress(b" " * (mb * 1024 * 1024), compresslevel=9)


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


def mcq_by_item_number(path: str, body: dict[str, Any]) -> str:
    """For generated benchmark items ("... item 17 ..."): answer 'ANSWER: X', right for 4 in 5 items.

    The correct letter of item i is "ABCD"[i % 4] (see perf/throughput.py); every fifth
    item gets the next letter instead, so every harness must score exactly 80%.
    """
    m = re.search(r"item (\d+)", _last_user_text(body) or json.dumps(body))
    i = int(m.group(1)) if m else 0
    letter = "ABCD"[(i + (1 if i % 5 == 0 else 0)) % 4]
    return f"ANSWER: {letter}"


def main() -> None:
    """Serve until killed, in this process: ``PORT <n>`` on stdout once listening."""
    import argparse
    import signal

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds before every reply")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fault-rate", type=float, default=0.0, help="total rate, spread over every kind")
    ap.add_argument(
        "--malformed-rate", type=float, default=0.0, help="malformed 200s, spread over Faults.MALFORMED"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--responder", choices=["mcq", "constant", "images"], default="mcq")
    args = ap.parse_args()
    server = FakeOpenAI(
        responder={
            "mcq": mcq_by_item_number,
            "images": answer_from_images,
            "constant": constant("The answer is (A)."),
        }[args.responder],
        latency_s=args.latency,
        faults=Faults(
            **{
                **Faults.spread(args.fault_rate).__dict__,
                **{f"rate_{n}": args.malformed_rate / len(Faults.MALFORMED) for n in Faults.MALFORMED},
            }
        ),
        seed=args.seed,
        record_bodies=False,
    )
    server.start_on(args.port)
    print(f"PORT {server.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(0.5):
            pass
    server.stop()


if __name__ == "__main__":
    main()
