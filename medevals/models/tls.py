"""aiohttp imported without reading the CA bundle: a plain-HTTP endpoint never pays for TLS.

Importing ``aiohttp.connector`` builds two default SSL contexts, and each parses the system CA
bundle (OpenSSL 3: ~35 ms apiece on these machines, the largest single piece of a short run's
start-up), even when every request goes to ``http://127.0.0.1:8000``. ``import_aiohttp()``
imports aiohttp with ``SSLContext.set_default_verify_paths`` deferred for the contexts created
during that import on this thread; ``load_ca_certs()`` loads the certificates into those same
context objects, so aiohttp's defaults end up exactly as aiohttp made them. Every client that
speaks TLS (an https base URL) calls it before its first request.

Until then the deferred verified context holds no CA certificates: an https connection made by
anything else verifies against nothing and fails (closed); it never succeeds unverified.
"""

from __future__ import annotations

import ssl
import sys
import threading
from types import ModuleType

_deferred: list[ssl.SSLContext] = []
_lock = threading.Lock()


def import_aiohttp() -> ModuleType:
    """``import aiohttp``, deferring the CA bundle read of the contexts it makes at import."""
    if "aiohttp" in sys.modules:  # already imported (by a test server, Ray, ...): nothing deferred
        import aiohttp

        return aiohttp
    own = "set_default_verify_paths" in ssl.SSLContext.__dict__
    real = ssl.SSLContext.set_default_verify_paths
    importer = threading.get_ident()

    def deferred(self: ssl.SSLContext) -> None:
        if threading.get_ident() != importer:  # another thread's context: untouched
            return real(self)
        with _lock:
            _deferred.append(self)
        return None

    ssl.SSLContext.set_default_verify_paths = deferred  # type: ignore[method-assign]
    try:
        import aiohttp
    finally:
        if own:
            ssl.SSLContext.set_default_verify_paths = real  # type: ignore[method-assign]
        else:
            del ssl.SSLContext.set_default_verify_paths
    return aiohttp


def load_ca_certs() -> None:
    """Load the system CA certificates into the contexts whose loading was deferred (once)."""
    with _lock:  # held while loading: a second caller returns only once the certificates are in
        while _deferred:
            _deferred[-1].set_default_verify_paths()
            _deferred.pop()


def pending() -> int:
    """How many contexts still wait for their CA certificates (0 once loaded or never deferred)."""
    with _lock:
        return len(_deferred)
