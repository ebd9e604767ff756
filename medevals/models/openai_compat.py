"""Any OpenAI-compatible HTTP server: vLLM, SGLang, llama.cpp, Ollama, hosted APIs.

Uses one pooled ``aiohttp.ClientSession`` (HTTP keep-alive, pool sized to the run's
concurrency). aiohttp rather than httpx because httpcore's pool scans every connection (with a
``poll`` syscall each) on every request: at 32-128 connections that cost ~3 ms of CPU per call
and made the harness, not the server, the bottleneck (see perf/throughput.py).

Limits per attempt: ``timeout`` is one total deadline (connect + send + the whole reply read;
not a per-read timeout, which a server trickling one byte at a time would never trip), and a
reply body over ``max_response_bytes`` (default 32 MiB, ``--max-response-mb``) is dropped as a
transient error: an endless stream costs one capped buffer, not the machine's memory.
The API key is read from an environment variable at start-up (or user:password comes off the
base URL, see ``models/credentials.py``) and lives only in the request headers; it is never part
of a record, a cache key or a log line, and a server echoing it back has it redacted.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import time
from typing import Any

from medevals.engine.keys import canonical_json, normalize_base_url
from medevals.errors import ConfigError
from medevals.models.base import ModelBackend, PermanentModelError, TransientModelError
from medevals.models.credentials import Redactor, basic_auth, split_credentials
from medevals.models.openai_format import may_hold_surrogates, scrub_surrogates
from medevals.models.tls import import_aiohttp, load_ca_certs
from medevals.schema import CallKind, ModelRecord

aiohttp = import_aiohttp()  # CA certificates are read only if a TLS connection is made (models/tls.py)

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


def _env_proxy(url: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
    """The proxy the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) sets for ``url``, if any."""
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    try:
        proxy, auth = get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None
    return str(proxy), auth


class OpenAICompatBackend(ModelBackend):
    #: Image parts are sent as data URIs; whether the served model reads them is the server's business.
    accepts_images: bool | None = True

    def __init__(
        self, record: ModelRecord, *, concurrency: int = 8, extra_headers: dict[str, str] | None = None
    ):
        super().__init__(record)
        if record.base_url and record._url_credentials is None:  # a record made without make_record
            record.base_url, record._url_credentials = split_credentials(record.base_url)
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
        self._client: aiohttp.ClientSession | None = None
        self._proxy: str | None = None
        self._redactor = Redactor([])
        self._proxy_auth: aiohttp.BasicAuth | None = None
        self._defaults: dict[str, Any] = dict(record.settings.get("extra_body") or {})
        # Fixed at construction (before any credentials are split off the URL, and before the
        # builtin backend learns its ephemeral port): the cache identity of this server.
        server = normalize_base_url(self.base_url)
        self._server_id = server + ("#" + canonical_json(self._defaults) if self._defaults else "")

    @property
    def server_id(self) -> str | None:
        """The normalised base URL (+ any ``extra_body`` defaults merged into every request)."""
        return self._server_id

    def _api_key(self) -> str | None:
        env = self.record.api_key_env
        if not env or self.record._url_credentials is not None:
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
        headers = dict(self._headers)
        creds = self.record._url_credentials
        if creds is not None:  # user:password@ from the base URL (models/credentials.py)
            token = basic_auth(*creds)
            headers["Authorization"] = token
            self._redactor = Redactor([creds[0], creds[1], token.split(" ", 1)[1]])
        elif key := self._api_key():
            headers["Authorization"] = f"Bearer {key}"
            self._redactor = Redactor([key])
        connector = aiohttp.TCPConnector(limit=self._concurrency + 4, limit_per_host=0)
        # HTTP(S)_PROXY / NO_PROXY are honoured as by the httpx client this replaced, but looked up
        # once here: aiohttp's trust_env does it (plus a .netrc read in a thread) on every request.
        self._proxy, self._proxy_auth = _env_proxy(self.base_url)
        if self.base_url.startswith("https://"):  # (aiohttp ignores https proxies from the environment)
            load_ca_certs()  # TLS will be spoken: aiohttp's default contexts get their CA certificates
        self._client = aiohttp.ClientSession(
            headers=headers, connector=connector, timeout=aiohttp.ClientTimeout(total=None)
        )

    def _redact(self, text: str) -> str:
        """A server that echoes the key in an error body must not put it in a run folder or log."""
        return self._redactor.text(text) if self._redactor else text

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self._client is None:
            await self.start()
        assert self._client is not None
        payload = {**self._defaults, **body, "model": self.record.name}
        phase = "before headers"
        try:
            # One deadline for the whole attempt (connect, send, headers and the entire body): a
            # server that trickles bytes forever cannot keep an attempt alive past it.
            async with asyncio.timeout(timeout):
                async with self._client.post(
                    self.base_url + _PATHS[kind],
                    data=json.dumps(payload),
                    proxy=self._proxy,
                    proxy_auth=self._proxy_auth,
                ) as resp:
                    phase = "reading body"
                    status = resp.status
                    retry_after = resp.headers.get("retry-after")
                    content = await _read_capped(resp, self.max_response_bytes)
        except TimeoutError as e:
            raise TransientModelError(f"timeout after {timeout:g}s ({phase})") from e
        except (aiohttp.ClientError, OSError) as e:
            raise TransientModelError(f"connection error to {self.base_url}: {type(e).__name__}: {e}") from e
        if status >= 400:
            snippet = self._redact(content.decode("utf-8", "replace"))[:300].replace("\n", " ")
            if status in _RETRYABLE_STATUS:
                raise TransientModelError(f"HTTP {status}: {snippet}", parse_retry_after(retry_after))
            raise PermanentModelError(f"HTTP {status} from {self.base_url}{_PATHS[kind]}: {snippet}")
        try:
            raw = json.loads(content)
        except ValueError as e:
            raise TransientModelError(f"response body is not valid JSON ({len(content)} bytes)") from e
        if may_hold_surrogates(content):
            raw = scrub_surrogates(raw)
        if self._redactor and self._redactor.in_bytes(content):
            # A server (or proxy) echoing a credential in a 2xx, in content or any other field:
            # redacted before the reply reaches the journal, the cache or a sample.
            raw = self._redactor.tree(raw)
        return raw


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    """The whole body, or TransientModelError once it passes ``cap`` bytes (the connection is dropped).

    A declared Content-Length over the cap fails before reading. Every body is then read in
    pieces and counted after decompression (aiohttp inflates gzip/deflate as it reads), so
    neither a body without a length (chunked, or ended by closing) nor a small compressed body
    that inflates to gigabytes can pass the cap.
    """
    length = resp.content_length
    if length is not None and length > cap:
        resp.close()
        raise TransientModelError(f"response too large: Content-Length {length} bytes > cap {cap} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > cap:
            resp.close()
            raise TransientModelError(f"response too large: over the cap of {cap} bytes as read")
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
