"""The transport interface every backend implements.

A backend only moves one request to a model and returns the raw OpenAI-shaped JSON. Caching,
retries, the resume journal, cost and latency accounting live once, in
``medevals.engine.client``, so no call (candidate, judge, patient, embedding) goes around them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from medevals.schema import CallKind, ModelRecord

#: Default cap on one reply body (32 MiB): far above any completion, embedding batch or logprob
#: dump, far below what an endless stream would fill memory with. ``--max-response-mb`` sets it.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024


class TransientModelError(Exception):
    """Worth retrying: 429, 5xx, timeouts, connection resets, truncated or empty bodies."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentModelError(Exception):
    """Not worth retrying: 4xx other than 408/409/429 (bad request, auth, unknown model)."""


class ModelBackend(ABC):
    """One model reachable by chat/completion/embedding requests."""

    #: Concurrency the backend can really serve (e.g. llama.cpp slots); None = no opinion.
    max_concurrency: int | None = None
    #: A base (non-chat) model: protocols default to likelihood scoring for it.
    base_model: bool = False
    #: Whether image content parts reach the model: False is refused before the first request of
    #: a benchmark with images; None = not known until ``start()`` (or not knowable: allowed).
    accepts_images: bool | None = None
    #: Whether the model can answer with OpenAI tool calls: False makes ``--tools`` a warning (the
    #: tools are offered, the model answers in plain text); None = not known (no warning).
    accepts_tools: bool | None = None
    #: Largest reply body a network backend reads (set by the engine from its RetryPolicy).
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    #: The answer depends on which unit asks, not only on the request (``replay:``): the engine
    #: puts the unit into the call's cache/journal key and sends through ``send_for_unit``.
    per_unit: bool = False

    def __init__(self, record: ModelRecord):
        self.record = record

    @property
    def model_id(self) -> str:
        """Identity of the model in request keys: backend + model name (+ weights version), never the URL or key."""
        return f"{self.record.backend}:{self.record.name}"

    @property
    def server_id(self) -> str | None:
        """Which server answers, for the response-cache key (``engine.keys.cache_key``); None = in-process."""
        return None

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources (load weights, open connections). Called once before the first send."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    @abstractmethod
    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request (body without ``model``) and return the raw JSON response.

        ``timeout`` is the total deadline of this attempt (connect, send and the whole reply).
        Raises TransientModelError for retryable failures and PermanentModelError otherwise. The
        engine then checks the reply with ``openai_format.validate`` (a malformed one is retried).
        """

    def replica_stats(self) -> dict[str, Any] | None:
        """Per-server figures of a backend spread over several servers (``models/replicas.py``)."""
        return None

    async def send_for_unit(
        self, unit_id: str, kind: CallKind, body: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """``send`` on behalf of unit ``unit_id`` (what the engine calls); only ``per_unit`` backends use the unit."""
        return await self.send(kind, body, timeout)
