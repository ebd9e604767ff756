"""Any OpenAI-compatible HTTP server: vLLM, SGLang, llama.cpp, Ollama, hosted APIs.

Uses one pooled ``httpx.AsyncClient`` (HTTP keep-alive, pool sized to the run's concurrency).
The API key is read from an environment variable at start-up and lives only in the request
headers; it is never part of a record, a cache key or a log line.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from typing import Any

import httpx

from medevals.errors import ConfigError
from medevals.models.base import ModelBackend, PermanentModelError, TransientModelError
from medevals.models.openai_format import MalformedResponse, validate
from medevals.schema import CallKind, ModelRecord

_PATHS = {"chat": "/chat/completions", "completion": "/completions", "embedding": "/embeddings"}
_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class OpenAICompatBackend(ModelBackend):
    def __init__(
        self, record: ModelRecord, *, concurrency: int = 8, extra_headers: dict[str, str] | None = None
    ):
        super().__init__(record)
        if not record.base_url:
            raise ConfigError(
                f"model '{record.spec}': no base URL; pass --base-url http://HOST:PORT/v1 (or set OPENAI_BASE_URL)"
            )
        if not record.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"model '{record.spec}': base URL '{record.base_url}' must start with http:// or https://"
            )
        self.base_url = record.base_url.rstrip("/")
        self._concurrency = concurrency
        self._headers = {"Content-Type": "application/json", **(extra_headers or {})}
        self._client: httpx.AsyncClient | None = None
        self._defaults: dict[str, Any] = dict(record.settings.get("extra_body") or {})

    def _api_key(self) -> str | None:
        env = self.record.api_key_env
        if not env:
            return None
        key = os.environ.get(env)
        if key is None and self.record.settings.get("api_key_required"):
            raise ConfigError(
                f"model '{self.record.spec}': environment variable {env} is not set (it holds the API key)"
            )
        return key

    async def start(self) -> None:
        if self._client is not None:
            return
        key = self._api_key()
        headers = dict(self._headers)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        limits = httpx.Limits(
            max_connections=self._concurrency + 4, max_keepalive_connections=self._concurrency + 4
        )
        self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers, limits=limits, timeout=None)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self._client is None:
            await self.start()
        assert self._client is not None
        payload = {**self._defaults, **body, "model": self.record.name}
        try:
            resp = await self._client.post(_PATHS[kind], content=json.dumps(payload), timeout=timeout)
        except httpx.TimeoutException as e:
            raise TransientModelError(f"timeout after {timeout:g}s ({type(e).__name__})") from e
        except (httpx.TransportError, OSError) as e:
            raise TransientModelError(f"connection error to {self.base_url}: {type(e).__name__}: {e}") from e
        status = resp.status_code
        if status >= 400:
            snippet = resp.text[:300].replace("\n", " ")
            if status in _RETRYABLE_STATUS:
                raise TransientModelError(
                    f"HTTP {status}: {snippet}", parse_retry_after(resp.headers.get("retry-after"))
                )
            raise PermanentModelError(f"HTTP {status} from {self.base_url}{_PATHS[kind]}: {snippet}")
        try:
            raw = resp.json()
        except ValueError as e:
            raise TransientModelError(f"response body is not valid JSON ({len(resp.content)} bytes)") from e
        try:
            return validate(raw, kind)
        except MalformedResponse as e:
            raise TransientModelError(str(e)) from e
