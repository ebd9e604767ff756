"""Several OpenAI-compatible servers serving one model (``--base-url URL1,URL2,...``).

Replicas of one model (vLLM on four GPUs, one server per node) are one backend to the engine:
one model id, one cache identity, one concurrency budget (``-c`` is the total over replicas).
Each request goes to the healthy replica with the fewest requests in flight (least
outstanding; ties go to the one that has served fewest, so an idle start alternates), which
follows replicas of different speed without tuning.

A replica that fails a request with a transient error (connection refused or reset, timeout,
429, 5xx) is *drained*: its circuit opens for a cool-down (5 s, doubling on each failure in
a row up to 60 s, at least the server's Retry-After) and the same request is sent at once to
another replica that has not failed it yet; the engine's retries with backoff
(``engine/client.py``) start only when every replica failed it. After the cool-down one probe
request is let through (half-open): success closes the circuit, failure opens it again for
longer. A permanent error (400, 401, 404) says nothing about the replica's health and is
returned as is. Malformed 2xx bodies are caught by the engine after this layer returns and
retried like any transient fault (to whichever replica is free).

The cache identity (``server_id``) is the sorted list of the replicas' normalised URLs: the
order on the command line does not matter, and a set of replicas never shares answers with a
different set or a single server (``engine/keys.py``: the server is part of the cache key so
that different servers do not share answers; a replica set is one server). The resume journal
is keyed without the server, so a run resumes with any set of replicas.

Per-replica figures (requests, successes, failures by reason, latency of successes, circuit
openings, peak in flight) are returned by ``replica_stats`` and recorded in
``manifest.json -> stats.replicas``.
"""

from __future__ import annotations

import math
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

from medevals.engine.keys import canonical_json
from medevals.errors import reason_key
from medevals.models.base import ModelBackend, PermanentModelError, TransientModelError
from medevals.schema import CallKind, ModelRecord

COOLDOWN_S = 5.0
MAX_COOLDOWN_S = 60.0


def split_urls(url: str) -> list[str]:
    """``URL1,URL2`` -> the URLs (empty entries dropped)."""
    return [u.strip() for u in url.split(",") if u.strip()]


@dataclass
class Replica:
    url: str
    backend: ModelBackend
    outstanding: int = 0
    requests: int = 0
    ok: int = 0
    failures: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)
    circuit_opens: int = 0
    peak_outstanding: int = 0
    latencies: array[float] = field(default_factory=lambda: array("d"))
    #: Failures in a row (0 = closed circuit); the circuit is open until ``open_until``.
    failures_in_row: int = 0
    open_until: float = 0.0
    probing: bool = False

    def available(self, now: float) -> bool:
        if self.failures_in_row == 0:
            return True
        return now >= self.open_until and not self.probing  # half-open: one probe at a time

    def state(self) -> dict[str, Any]:
        """Raw figures (every latency), so several workers' figures merge exactly (``merge_states``)."""
        return {
            "requests": self.requests,
            "ok": self.ok,
            "failures": self.failures,
            "failure_reasons": dict(self.failure_reasons),
            "circuit_opens": self.circuit_opens,
            "peak_in_flight": self.peak_outstanding,
            "latencies": list(self.latencies),
            "drained": self.failures_in_row > 0,
        }


def summarize(state: dict[str, Any]) -> dict[str, Any]:
    """A replica's figures as recorded in the manifest: latencies become n, mean, p50, p95."""
    lat = sorted(state["latencies"])
    out = {k: v for k, v in state.items() if k != "latencies"}
    out["latency_s"] = {
        "n": len(lat),
        "mean": (math.fsum(lat) / len(lat)) if lat else None,
        "p50": _quantile(lat, 0.5),
        "p95": _quantile(lat, 0.95),
    }
    return out


def merge_states(states: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """``{url: state}`` of several workers (each with its own replica set) -> ``{url: summary}``."""
    merged: dict[str, dict[str, Any]] = {}
    for per_url in states:
        for url, st in per_url.items():
            m = merged.get(url)
            if m is None:
                merged[url] = {
                    **st,
                    "failure_reasons": dict(st["failure_reasons"]),
                    "latencies": list(st["latencies"]),
                }
                continue
            for k in ("requests", "ok", "failures", "circuit_opens"):
                m[k] += st[k]
            for reason, n in st["failure_reasons"].items():
                m["failure_reasons"][reason] = m["failure_reasons"].get(reason, 0) + n
            m["peak_in_flight"] = max(m["peak_in_flight"], st["peak_in_flight"])
            m["latencies"] += st["latencies"]
            m["drained"] = m["drained"] or st["drained"]
    return {url: summarize(st) for url, st in merged.items()}


def _quantile(sorted_vals: list[float], q: float) -> float | None:
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, math.ceil(q * len(sorted_vals)) - 1))
    return sorted_vals[k]


class ReplicaSetBackend(ModelBackend):
    """One model behind several OpenAI-compatible base URLs (see the module docstring)."""

    accepts_images: bool | None = True

    def __init__(
        self,
        record: ModelRecord,
        *,
        concurrency: int = 8,
        cooldown_s: float = COOLDOWN_S,
        max_cooldown_s: float = MAX_COOLDOWN_S,
    ):
        from medevals.models.openai_compat import OpenAICompatBackend

        super().__init__(record)
        urls = split_urls(record.base_url or "")
        self.cooldown_s, self.max_cooldown_s = cooldown_s, max_cooldown_s
        self.replicas: list[Replica] = []
        for url in urls:
            sub = record.model_copy(update={"base_url": url})
            sub._url_credentials = record._url_credentials
            self.replicas.append(Replica(url, OpenAICompatBackend(sub, concurrency=concurrency)))
        self._server_id = canonical_json(sorted(str(r.backend.server_id) for r in self.replicas))

    @property
    def server_id(self) -> str | None:
        """The sorted normalised URLs of every replica: one cache identity for the set."""
        return self._server_id

    @property
    def max_response_bytes(self) -> int:  # type: ignore[override]
        return self.replicas[0].backend.max_response_bytes

    @max_response_bytes.setter
    def max_response_bytes(self, value: int) -> None:
        for r in self.replicas:
            r.backend.max_response_bytes = value

    def _api_key(self) -> str | None:
        """Checked once for the set (every replica reads the same variable)."""
        return self.replicas[0].backend._api_key()  # type: ignore[attr-defined]

    async def start(self) -> None:
        for r in self.replicas:
            await r.backend.start()

    async def close(self) -> None:
        for r in self.replicas:
            await r.backend.close()

    def _pick(self, tried: set[int], now: float) -> Replica | None:
        best: Replica | None = None
        for i, r in enumerate(self.replicas):
            if i in tried or not r.available(now):
                continue
            if best is None or (r.outstanding, r.requests) < (best.outstanding, best.requests):
                best = r
        return best

    def _open(self, r: Replica, now: float, retry_after: float | None) -> None:
        r.failures_in_row += 1
        r.circuit_opens += 1
        wait = min(self.max_cooldown_s, self.cooldown_s * 2 ** (r.failures_in_row - 1))
        r.open_until = now + max(wait, retry_after or 0.0)

    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        tried: set[int] = set()
        last: TransientModelError | None = None
        while True:
            now = time.monotonic()
            r = self._pick(tried, now)
            if r is None:
                if last is not None:
                    raise last
                soonest = min(x.open_until for x in self.replicas) - now
                raise TransientModelError(
                    f"all {len(self.replicas)} replicas are drained after failures (next probe in "
                    f"{max(0.0, soonest):.1f} s)",
                    retry_after=max(0.0, soonest),
                )
            tried.add(self.replicas.index(r))
            half_open = r.failures_in_row > 0
            r.probing = r.probing or half_open
            r.outstanding += 1
            r.requests += 1
            r.peak_outstanding = max(r.peak_outstanding, r.outstanding)
            t0 = time.perf_counter()
            try:
                raw = await r.backend.send(kind, body, timeout)
            except TransientModelError as e:
                r.failures += 1
                reason = reason_key(str(e))
                r.failure_reasons[reason] = r.failure_reasons.get(reason, 0) + 1
                self._open(r, time.monotonic(), e.retry_after)
                last = TransientModelError(f"{e} [replica {r.url}]", e.retry_after)
                continue
            except PermanentModelError:
                r.failures += 1
                r.failure_reasons["permanent"] = r.failure_reasons.get("permanent", 0) + 1
                raise
            finally:
                r.outstanding -= 1
                if half_open:
                    r.probing = False
            r.ok += 1
            r.latencies.append(time.perf_counter() - t0)
            r.failures_in_row = 0
            return raw

    def replica_state(self) -> dict[str, Any]:
        return {r.url: r.state() for r in self.replicas}

    def replica_stats(self) -> dict[str, Any]:
        return {r.url: summarize(r.state()) for r in self.replicas}
