"""aiohttp imported without reading the CA bundle (models/tls.py): a plain-HTTP run never loads
certificates; an https endpoint loads them into aiohttp's own default contexts first.

Each case runs in a fresh interpreter: in the test process aiohttp is already imported (the fake
server), and then nothing is deferred.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, **env: str) -> list[str]:
    e = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy", "no_proxy"):
        if k not in env:
            e.pop(k, None)
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=e, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


PRELUDE = """
    import asyncio, ssl
    from medevals.models import tls
    from medevals.models.openai_compat import OpenAICompatBackend
    from medevals.models.registry import make_record
    import aiohttp.connector as c

    def cas():
        return c._SSL_CONTEXT_VERIFIED.cert_store_stats()["x509_ca"]

    async def start(url):
        b = OpenAICompatBackend(make_record("openai:m", base_url=url))
        await b.start()
        await b.close()
"""


@pytest.fixture(scope="module")
def system_cas() -> int:
    n = ssl.create_default_context().cert_store_stats()["x509_ca"]
    if n == 0:
        pytest.skip("no CA certificates in a file OpenSSL loads eagerly on this machine")
    return n


def test_plain_http_never_loads_ca_certificates(system_cas):
    code = (
        PRELUDE
        + """
    print(tls.pending(), cas(), "set_default_verify_paths" in ssl.SSLContext.__dict__)
    asyncio.run(start("http://127.0.0.1:9/v1"))
    print(tls.pending(), cas())
    """
    )
    assert _python(code) == ["2", "0", "False", "2", "0"]


def test_https_endpoint_loads_them_into_aiohttp_defaults(system_cas):
    code = (
        PRELUDE
        + """
    asyncio.run(start("https://127.0.0.1:9/v1"))
    print(tls.pending(), cas(), c._SSL_CONTEXT_VERIFIED.verify_mode == ssl.CERT_REQUIRED)
    """
    )
    assert _python(code) == ["0", str(system_cas), "True"]


def test_another_threads_contexts_are_untouched(system_cas):
    code = """
    import ssl, threading
    from medevals.models import tls
    made = []
    def other():
        made.append(ssl.create_default_context().cert_store_stats()["x509_ca"])
    # a context made on another thread while aiohttp imports (the deferral in place) loads as usual
    t = threading.Thread(target=other)
    import builtins
    orig_import = builtins.__import__
    def hook(name, *a, **k):
        if "set_default_verify_paths" in ssl.SSLContext.__dict__ and not made:
            t.start(); t.join()
        return orig_import(name, *a, **k)
    builtins.__import__ = hook
    tls.import_aiohttp()
    builtins.__import__ = orig_import
    print(made[0] if made else -1, tls.pending())
    """
    assert _python(code) == [str(system_cas), "2"]


@pytest.fixture
def tls_proxy(fake_server, tmp_path):
    """https://127.0.0.1:PORT/v1 in front of the fake server: a self-signed certificate made here
    (openssl) and a TLS-terminating relay in a thread. Yields (base URL, certificate file)."""
    import asyncio
    import shutil
    import threading

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the TLS relay")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)]
    args += ["-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(["openssl", *args], check=True, capture_output=True)
    upstream = fake_server().port
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    loop = asyncio.new_event_loop()
    servers: list[asyncio.Server] = []

    async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        finally:
            w.close()

    async def relay(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(pipe(r, uw), pipe(ur, w), return_exceptions=True)

    servers.append(loop.run_until_complete(asyncio.start_server(relay, "127.0.0.1", 0, ssl=ctx)))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{servers[0].sockets[0].getsockname()[1]}/v1", cert
    loop.call_soon_threadsafe(servers[0].close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


CALL = """
    import asyncio
    from medevals.models.openai_compat import OpenAICompatBackend
    from medevals.models.registry import make_record

    async def main():
        b = OpenAICompatBackend(make_record("openai:m", base_url=URL))
        await b.start()
        try:
            raw = await b.send("chat", {"messages": [{"role": "user", "content": "hi"}]}, 10)
            print("ok", bool(raw["choices"]))
        except Exception as e:
            print("failed", "CERTIFICATE_VERIFY_FAILED" in str(e))
        finally:
            await b.close()

    asyncio.run(main())
"""


def test_https_is_verified_against_the_ca_certificates_loaded_late(tls_proxy):
    url, cert = tls_proxy
    code = f"URL = {url!r}\n" + textwrap.dedent(CALL)
    # a certificate nobody trusts fails verification (closed, never unverified) ...
    assert _python(code) == ["failed", "True"]
    # ... and one the environment trusts (SSL_CERT_FILE, read when the certificates load) works
    assert _python(code, SSL_CERT_FILE=str(cert)) == ["ok", "True"]
