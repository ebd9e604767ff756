"""Is the Hugging Face hub usable from here? Answered at once, before ``datasets`` is asked.

Why: without a local folder, ``datasets.load_dataset`` on a machine that cannot reach the hub
retries with back-off for ~30 s, printing a retry line each time, before failing. Offline mode
(``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE``) is read from the environment; otherwise one TCP
connect to the hub host (``HF_ENDPOINT``, or the HTTPS proxy that would carry the request),
name lookup included, bounded by ``CONNECT_TIMEOUT`` seconds. The answer is kept for the process:
a run of several benchmarks asks once.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.request
from urllib.parse import urlsplit

#: seconds for name lookup plus connect; a reachable hub answers a TCP connect far faster.
CONNECT_TIMEOUT = 3.0
DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUE = {"1", "on", "yes", "true"}
_cache: dict[tuple[str, int], str | None] = {}


def offline_setting() -> str | None:
    """The offline variable that is set (as huggingface_hub reads it), or None."""
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return f"{var}={os.environ[var]}"
    return None


def _target() -> tuple[str, int, str]:
    """(host, port, what) the first hub request would connect to: the endpoint, or its proxy."""
    endpoint = os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
    parts = urlsplit(endpoint)
    host = parts.hostname or "huggingface.co"
    scheme = parts.scheme or "https"
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if p.hostname:
            return p.hostname, p.port or (443 if p.scheme == "https" else 80), f"proxy {p.hostname}"
    return host, parts.port or (443 if scheme == "https" else 80), host


def _connect(host: str, port: int, result: list[str | None]) -> None:
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
        result.append(None)
    except OSError as e:
        result.append(e.strerror or str(e) or type(e).__name__)


def unreachable_reason() -> str | None:
    """Why the hub cannot be used right now (one short phrase), or None when it answers."""
    setting = offline_setting()
    if setting:
        return f"offline mode is set ({setting})"
    host, port, what = _target()
    if (host, port) not in _cache:
        result: list[str | None] = []
        # a thread bounds the name lookup too (socket timeouts do not cover getaddrinfo)
        t = threading.Thread(target=_connect, args=(host, port, result), daemon=True)
        t.start()
        t.join(CONNECT_TIMEOUT)
        problem = result[0] if result else f"no answer within {CONNECT_TIMEOUT:g} s"
        _cache[(host, port)] = None if problem is None else f"{what}:{port} unreachable: {problem}"
    return _cache[(host, port)]
