"""API keys never reach a run folder, the cache or the console; hostile model output is inert in
the HTML report, checked in a real headless Chromium (skipped when chromium is not installed)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from clihelp import run_fake
from fake_openai import Faults, mcq_by_item_number
from genbench import write_bench


def secrets_half(key: str) -> str:
    """The key's random tail: catches a key written truncated or masked only at the front."""
    return key[-16:]


def _assert_nowhere(tmp_path: Path, cache: Path | None, text: str, *needles: str) -> None:
    """No file of the runs folder or the cache (DB + WAL/SHM), and not ``text``, holds any needle."""
    files = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    if cache is not None:
        files += [p for p in cache.parent.iterdir() if p.is_file()]
    for needle in needles:
        for p in files:
            assert needle.encode() not in p.read_bytes(), f"secret found in {p}"
        assert needle not in text


def test_api_key_never_written_anywhere(fake_server, tmp_path, capsys, monkeypatch):
    canary = "sk-canary-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    spec = write_bench(tmp_path / "bench", 20)
    # Item 7 is refused with a 401 whose body echoes the Authorization header back; item 3 gets a
    # 200 echoing it in the content and in an "error" field (a misbehaving proxy).
    server = fake_server(
        responder=mcq_by_item_number,
        faults=Faults(rate_500=0.2),
        seed=1,
        echo_auth_marker="item 7:",
        echo_auth_200_marker="item 3:",
    )
    cache = tmp_path / "cache" / "c.sqlite"
    code, out, err, folder = run_fake(server, tmp_path, capsys, benchmark=str(spec), cache=cache, report=True)
    assert code == 1 and "incomplete: 1 of 20 samples failed" in err, err  # the 401 unit
    assert server.auth_headers == {f"Bearer {canary}"}  # the key was really used
    errors = [s.error for s in folder.iter_samples() if s.error]
    assert len(errors) == 1 and "HTTP 401" in errors[0] and "[redacted]" in errors[0]
    echoed = next(s for s in folder.iter_samples() if s.item.id == "q3")
    raw = echoed.calls[0].raw
    assert raw["error"]["message"] == "debug: received Bearer [redacted]"
    assert raw["choices"][0]["message"]["content"] == "ANSWER: A (your header was Bearer [redacted])"
    files = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    files += [p for p in cache.parent.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"manifest.json", "samples.jsonl", "metrics.json", "report.html"}
    assert any(p.name.startswith("c.sqlite") for p in files)
    _assert_nowhere(tmp_path, cache, out + err, canary, secrets_half(canary))


def test_key_echoed_in_a_200_is_redacted_in_the_journal_and_cache(fake_server, tmp_path, monkeypatch):
    """The stores written before a sample exists: a resumed run must not replay the key either."""
    import asyncio

    from medevals.engine.cache import ResponseCache
    from medevals.engine.client import ModelClient
    from medevals.engine.journal import Journal
    from medevals.models.registry import create_backend, make_record
    from medevals.schema import ModelRequest

    canary = "sk-canary-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    server = fake_server(echo_auth_200_marker="ECHO")
    journal, cache = Journal(tmp_path / "journal.jsonl"), ResponseCache(tmp_path / "c.sqlite")

    async def go():
        c = ModelClient(
            create_backend(make_record("openai:fake", base_url=server.base_url)), journal=journal, cache=cache
        )
        rec = await c.call(
            ModelRequest(kind="chat", body={"messages": [{"role": "user", "content": "ECHO"}]})
        )
        await c.close()
        return rec

    rec = asyncio.run(go())
    journal.close()
    cache.close()
    assert server.auth_headers == {f"Bearer {canary}"}
    assert "Bearer [redacted]" in rec.raw["choices"][0]["message"]["content"]
    for p in tmp_path.iterdir():
        assert canary.encode() not in p.read_bytes(), f"API key found in {p}"


def test_key_in_the_base_url_is_sent_as_basic_auth_and_never_written(
    fake_server, tmp_path, capsys, monkeypatch
):
    import base64

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    canary = "canary" + secrets.token_hex(16)
    token = base64.b64encode(f"bob:{canary}".encode()).decode()
    spec = write_bench(tmp_path / "bench", 12)
    server = fake_server(
        responder=mcq_by_item_number, echo_auth_marker="item 7:", echo_auth_200_marker="item 3:"
    )
    url = server.base_url.replace("http://", f"http://bob:{canary}@")
    cache = tmp_path / "cache" / "c.sqlite"
    code, out, err, folder = run_fake(
        url, tmp_path, capsys, "--judge", f"openai:fake@{url}", benchmark=str(spec), cache=cache, report=True
    )
    assert code == 1 and "incomplete: 1 of 12 samples failed" in err, err  # the 401 unit
    assert server.auth_headers == {f"Basic {token}"}  # sent as HTTP Basic authentication
    manifest = folder.read_manifest()
    assert manifest.model.base_url == server.base_url
    assert any(server.base_url in a for a in manifest.command)  # the URL is kept, its userinfo is not
    _assert_nowhere(tmp_path, cache, out + err, canary, token, f"bob:{canary[:6]}")


def test_url_credentials_and_an_api_key_variable_together_are_refused(
    fake_server, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("MY_KEY", "sk-" + secrets.token_hex(8))
    server = fake_server()
    url = server.base_url.replace("http://", "http://bob:pw123456@")
    code, _out, err, folder = run_fake(url, tmp_path, capsys, "--api-key-env", "MY_KEY")
    assert code == 2 and folder is None and server.n_requests == 0
    assert "carries credentials" in err and "pw123456" not in err


@pytest.mark.parametrize(
    "value",
    [
        "sk-proj-" + "Ab3" * 12,
        "hf_" + "aB3dE" * 7,
        "3f9a" * 10,  # hex
        "AbCdEfGh12345678IjKlMnOp9876",  # mixed case + digits, a valid identifier
        "key with spaces and more than sixteen",
    ],
)
def test_key_given_as_api_key_env_is_refused_and_not_echoed(fake_server, tmp_path, capsys, value):
    server = fake_server()
    code, out, err, folder = run_fake(server, tmp_path, capsys, "--api-key-env", value)
    assert code == 2 and folder is None and server.n_requests == 0
    assert "looks like a key itself" in err and value not in out + err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "MY_PROVIDER_KEY_2", "groq_api_key", "Together_Key"])
def test_variable_names_are_not_mistaken_for_keys(name):
    from medevals.models.credentials import looks_like_secret

    assert not looks_like_secret(name)


PAYLOAD = (
    "<script>document.body.setAttribute('data-pwned','script')</script>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','onerror')\">"
    "<svg onload=\"document.body.setAttribute('data-pwned','svg')\"></svg>"
    "<a href=\"javascript:document.body.setAttribute('data-pwned','link')\">click</a>"
    "\"><script>document.body.setAttribute('data-pwned','attr-break')</script>"
    "\u202egnp.exe\u202c"  # a bidi override: must show as <U+202E>, never reorder the text
)


class _DomCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.body_attrs: dict[str, str | None] = {}
        self.handlers: list[str] = []
        self.js_links: list[str] = []
        self.scripts_with_payload = 0
        self.csp = ""
        self.text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.body_attrs = dict(attrs)
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content") or ""
        for k, v in attrs:
            if k.startswith("on") and v and "pwned" in v:
                self.handlers.append(f"<{tag} {k}>")
            if k in ("href", "src", "action") and v and v.strip().lower().startswith("javascript:"):
                self.js_links.append(f"<{tag} {k}={v}>")
        self._in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        self.text += data
        if self._in_script and "pwned" in data:
            self.scripts_with_payload += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return exe


def _dump_dom(exe: str, page: Path) -> _DomCheck:
    out = subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={page.parent / 'chromium-profile'}",
            "--virtual-time-budget=2000",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "<body" in out.stdout, out.stderr[-2000:]
    check = _DomCheck()
    check.feed(out.stdout)
    return check


@pytest.mark.slow
def test_hostile_model_output_is_inert_in_chromium(fake_server, tmp_path, capsys):
    exe = _chromium()
    # Control: the same payload unescaped does run in this browser, so the check below can fail.
    control = tmp_path / "control" / "page.html"
    control.parent.mkdir()
    control.write_text(f"<!doctype html><html><body><p>{PAYLOAD}</p></body></html>", encoding="utf-8")
    ran = _dump_dom(exe, control)
    assert "data-pwned" in ran.body_attrs

    spec = write_bench(tmp_path / "bench", 4)
    server = fake_server(responder=lambda path, body: f"{PAYLOAD} The answer is (A).")
    code, _out, err, folder = run_fake(server, tmp_path, capsys, benchmark=str(spec), report=True)
    assert code == 0, err
    report = folder.path / "report.html"
    assert "&lt;script&gt;document.body.setAttribute" in report.read_text(encoding="utf-8")
    dom = _dump_dom(exe, report)
    assert "data-pwned" not in dom.body_attrs, dom.body_attrs
    assert dom.csp.startswith("default-src 'none';"), dom.csp  # the browser's DOM keeps the policy
    assert "\u202e" not in dom.text and "<U+202E>gnp.exe<U+202C>" in dom.text
    assert dom.handlers == [] and dom.js_links == [] and dom.scripts_with_payload == 0
