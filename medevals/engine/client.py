"""The one path every model call takes: journal replay -> cache -> backend with retries -> accounting.

Candidate, judge, patient-simulator and embedding calls all go through a ``ModelClient``, so
caching, retries, concurrency limits, cost and latency are handled once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from medevals.engine.cache import ResponseCache
from medevals.engine.costs import PriceTable
from medevals.engine.journal import Journal
from medevals.engine.keys import cache_key, request_key
from medevals.errors import ConfigError, ModelError, reason_key
from medevals.images.store import ImageStore
from medevals.models import openai_format
from medevals.models.base import (
    DEFAULT_MAX_RESPONSE_BYTES,
    ModelBackend,
    PermanentModelError,
    TransientModelError,
)
from medevals.schema import CallRecord, ModelRequest

log = logging.getLogger("medevals.engine")


@dataclass
class RetryPolicy:
    """Per-call limits: attempts, backoff, the deadline of one attempt, the size of one reply."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    #: Total deadline of one attempt in seconds: connect + send + the whole reply read. A server
    #: that keeps a connection alive by trickling bytes cannot hold an attempt longer than this.
    timeout: float = 300.0
    #: Abort the run (keeping everything done) after this many calls in a row failed for good.
    max_consecutive_failures: int = 5
    #: Longest Retry-After honoured; a server asking for more is waited on for this long, and
    #: each such cut is counted (``stats.retry_after_capped``) and warned about once per client.
    max_retry_after: float = 300.0
    #: Largest reply body accepted; a longer one (or an endless stream) is a transient error.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; a server's Retry-After is a floor."""
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * (2 ** (attempt - 1))))
        if retry_after is not None:
            return max(min(retry_after, self.max_retry_after), backoff)
        return backoff


def retry_policy(*, timeout: float, max_retries: int, max_response_mb: float) -> RetryPolicy:
    """The policy of the ``run`` command's options, each checked (a bad one is a one-line error)."""
    if not (math.isfinite(timeout) and timeout > 0):
        raise ConfigError(f"--timeout must be a positive number of seconds (got {timeout:g})")
    if max_retries < 0:
        raise ConfigError(f"--max-retries must be 0 or more (got {max_retries})")
    if not (math.isfinite(max_response_mb) and max_response_mb > 0):
        raise ConfigError(f"--max-response-mb must be a positive number (got {max_response_mb:g})")
    return RetryPolicy(
        max_attempts=max_retries + 1, timeout=timeout, max_response_bytes=int(max_response_mb * 1024 * 1024)
    )


@dataclass
class CallStats:
    """Running totals for the progress bar and the run's metrics."""

    calls: int = 0
    sent: int = 0
    cache_hits: int = 0
    replayed: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown_calls: int = 0
    #: Retries where the server asked to wait longer than ``RetryPolicy.max_retry_after``.
    retry_after_capped: int = 0
    retry_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class CallFailed(Exception):
    """A call that failed for good; carries its record (with the error) for the sample."""

    def __init__(self, record: CallRecord):
        super().__init__(record.error)
        self.record = record


class ModelClient:
    def __init__(
        self,
        backend: ModelBackend,
        *,
        role: str = "candidate",
        concurrency: int = 8,
        cache: ResponseCache | None = None,
        prices: PriceTable | None = None,
        retry: RetryPolicy | None = None,
        stats: CallStats | None = None,
        journal: Journal | None = None,
        images: ImageStore | None = None,
        on_warning: Callable[[str], None] | None = None,
    ):
        self.backend = backend
        self.role = role
        self.cache = cache
        self.prices = prices or PriceTable()
        self.retry = retry or RetryPolicy()
        self.stats = stats or CallStats()
        self.journal = journal
        #: Image references in a request become data URIs only on the way out (never in records).
        self.images = images
        limit = (
            concurrency if backend.max_concurrency is None else min(concurrency, backend.max_concurrency * 2)
        )
        self._sem = asyncio.Semaphore(max(1, limit))
        self._server_id = backend.server_id
        backend.max_response_bytes = self.retry.max_response_bytes
        #: Where a once-per-run warning goes (the run's warnings: console and manifest); a logger otherwise.
        self._on_warning = on_warning or log.warning
        self._warned_retry_after = False
        self._consecutive_failures = 0
        self._started = False
        self._start_lock = asyncio.Lock()

    @property
    def model_id(self) -> str:
        return self.backend.model_id

    async def start(self) -> None:
        async with self._start_lock:
            if not self._started:
                from medevals.steps import step

                # loading weights in-process (builtin:, hf:) takes seconds: shown as a step
                with step(f"loading {self.backend.record.spec}", unit="model"):
                    await self.backend.start()
                self._started = True

    async def close(self) -> None:
        await self.backend.close()

    async def call(
        self, request: ModelRequest, *, unit_id: str = "", sample_index: int = 0, label: str | None = None
    ) -> CallRecord:
        """Return the record of this call: replayed, cached or freshly sent. Raises CallFailed.

        ``label`` replaces the client's role in the record (an agent role of a system answered by
        this model); it is not part of the request key, so it never changes what is cached.
        """
        scope = unit_id if self.backend.per_unit else None
        key = request_key(self.model_id, request.kind, request.body, sample_index, unit=scope)
        role = label or self.role
        st = self.stats
        st.calls += 1
        if self.journal is not None:
            prior = self.journal.take(key)
            if prior is not None:
                st.replayed += 1
                return prior.model_copy(update={"replayed": True, "role": role})
        rec = CallRecord(
            role=role,
            model=self.model_id,
            kind=request.kind,
            request=request.body,
            key=key,
            unit_id=unit_id,
        )
        ckey = cache_key(key, self._server_id) if self.cache is not None else key
        if self.cache is not None:
            # A cache may answer asynchronously (a Ray worker asks the driver's node: engine/ray_executor.py)
            aget = getattr(self.cache, "aget", None)
            hit = await aget(ckey) if aget is not None else self.cache.get(ckey)
            if hit is not None:
                raw, latency = hit
                st.cache_hits += 1
                rec.raw, rec.latency_s, rec.cached, rec.attempts = raw, latency, True, 0
                rec.usage = openai_format.usage(raw)
                # What the call costs at the given prices; ``cached`` says no money was spent now
                # (Sample.cost_usd leaves cached calls out), so a re-run from the cache keeps its
                # cost-accuracy points where the first run put them.
                rec.cost_usd = self.prices.cost(
                    self.backend.record.backend, self.backend.record.name, rec.usage
                )
                self._journal(rec)
                return rec
        if not self._started:
            await self.start()
        await self._send_with_retries(rec, request if self.images is None else self.images.inline(request))
        if rec.error is not None:
            st.failures += 1
            self._consecutive_failures += 1
            if self._consecutive_failures >= self.retry.max_consecutive_failures:
                raise ModelError(
                    f"{self.role} model {self.backend.record.spec} failed {self._consecutive_failures} calls in a row; "
                    f"last error: {rec.error}"
                )
            raise CallFailed(rec)
        self._consecutive_failures = 0
        rec.usage = openai_format.usage(rec.raw)
        st.prompt_tokens += rec.usage.prompt_tokens
        st.completion_tokens += rec.usage.completion_tokens
        rec.cost_usd = self.prices.cost(self.backend.record.backend, self.backend.record.name, rec.usage)
        if rec.cost_usd is None:
            st.cost_unknown_calls += 1
        else:
            st.cost_usd += rec.cost_usd
        if self.cache is not None and rec.raw is not None:
            self.cache.put(ckey, self.model_id, request.kind, rec.raw, rec.latency_s)
        self._journal(rec)
        return rec

    def _journal(self, rec: CallRecord) -> None:
        if self.journal is not None:
            self.journal.append(rec)

    async def _send_with_retries(self, rec: CallRecord, request: ModelRequest) -> None:
        policy, st = self.retry, self.stats
        for attempt in range(1, policy.max_attempts + 1):
            rec.attempts = attempt
            async with self._sem:
                st.sent += 1
                t0 = time.perf_counter()
                try:
                    raw = await self.backend.send_for_unit(
                        rec.unit_id, request.kind, request.body, policy.timeout
                    )
                    # A 2xx that is not a usable answer is a transient fault like a 503: it is
                    # retried, and never cached, journaled or scored (openai_format.validate).
                    rec.raw = openai_format.validate(raw, request.kind, request.body)
                    rec.latency_s = time.perf_counter() - t0
                    rec.error = None
                    return
                except TransientModelError as e:
                    rec.latency_s = time.perf_counter() - t0
                    rec.error = f"{e} (after {attempt} attempt{'s' if attempt > 1 else ''})"
                    reason = reason_key(str(e))
                    retry_after = e.retry_after
                except PermanentModelError as e:
                    rec.latency_s = time.perf_counter() - t0
                    rec.error = str(e)
                    return
            if attempt < policy.max_attempts:
                st.retries += 1
                st.retry_reasons[reason] = st.retry_reasons.get(reason, 0) + 1
                if retry_after is not None and retry_after > policy.max_retry_after:
                    self._retry_after_capped(retry_after)
                await asyncio.sleep(policy.delay(attempt, retry_after))

    def _retry_after_capped(self, asked: float) -> None:
        """Waiting less than a server asked is a choice the user must hear about: count it, warn once."""
        self.stats.retry_after_capped += 1
        if not self._warned_retry_after:
            self._warned_retry_after = True
            self._on_warning(
                f"{self.role} model {self.backend.record.spec} asked to wait {asked:.0f} s before retrying "
                f"(Retry-After); waiting the cap of {self.retry.max_retry_after:.0f} s instead "
                f"(counted in manifest stats.retry_after_capped)"
            )
