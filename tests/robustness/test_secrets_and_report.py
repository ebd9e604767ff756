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


def test_api_key_never_written_anywhere(fake_server, tmp_path, capsys, monkeypatch):
    canary = "sk-canary-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    spec = write_bench(tmp_path / "bench", 20)
    # Item 7 is refused with a 401 whose body echoes the Authorization header back.
    server = fake_server(
        responder=mcq_by_item_number, faults=Faults(rate_500=0.2), seed=1, echo_auth_marker="item 7:"
    )
    cache = tmp_path / "cache" / "c.sqlite"
    code, out, err, folder = run_fake(server, tmp_path, capsys, benchmark=str(spec), cache=cache, report=True)
    assert code == 1 and "incomplete: 1 of 20 samples failed" in err, err  # the 401 unit
    assert server.auth_headers == {f"Bearer {canary}"}  # the key was really used
    errors = [s.error for s in folder.iter_samples() if s.error]
    assert len(errors) == 1 and "HTTP 401" in errors[0] and "[redacted]" in errors[0]
    files = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    files += [p for p in cache.parent.iterdir() if p.is_file()]  # the DB and any WAL/SHM files
    assert {p.name for p in files} >= {"manifest.json", "samples.jsonl", "metrics.json", "report.html"}
    assert any(p.name.startswith("c.sqlite") for p in files)
    needle = canary.encode()
    for p in files:
        assert needle not in p.read_bytes(), f"API key found in {p}"
        assert secrets_half(canary).encode() not in p.read_bytes(), f"part of the API key found in {p}"
    assert canary not in out + err


def secrets_half(key: str) -> str:
    """The key's random tail: catches a key written truncated or masked only at the front."""
    return key[-16:]


PAYLOAD = (
    "<script>document.body.setAttribute('data-pwned','script')</script>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','onerror')\">"
    "<svg onload=\"document.body.setAttribute('data-pwned','svg')\"></svg>"
    "<a href=\"javascript:document.body.setAttribute('data-pwned','link')\">click</a>"
    "\"><script>document.body.setAttribute('data-pwned','attr-break')</script>"
)


class _DomCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.body_attrs: dict[str, str | None] = {}
        self.handlers: list[str] = []
        self.js_links: list[str] = []
        self.scripts_with_payload = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.body_attrs = dict(attrs)
        for k, v in attrs:
            if k.startswith("on") and v and "pwned" in v:
                self.handlers.append(f"<{tag} {k}>")
            if k in ("href", "src", "action") and v and v.strip().lower().startswith("javascript:"):
                self.js_links.append(f"<{tag} {k}={v}>")
        self._in_script = tag == "script"

    def handle_data(self, data: str) -> None:
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
    assert dom.handlers == [] and dom.js_links == [] and dom.scripts_with_payload == 0
