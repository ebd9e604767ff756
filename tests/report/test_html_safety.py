"""The report page runs nothing and hides nothing: a strict Content-Security-Policy, and every
bidi override or other invisible control in model text shown as a visible code point."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from clihelp import run_ok

from medevals.report.html.escape import esc, neutralise

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
#: "Trojan source": shown raw, the override makes the dose read backwards on screen.
TROJAN = "Give 5 mg\u202e01 x\u202c daily\u2066 \u2069\u200b\u200d\ufeff\U000e0041\x00\x1b[31m"


def test_every_invisible_control_is_shown_as_its_code_point():
    for ch in BIDI:
        assert esc(f"a{ch}b") == f"a&lt;U+{ord(ch):04X}&gt;b"
    hidden = [
        chr(cp)
        for cp in range(sys.maxunicode + 1)
        if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zl", "Zp") and chr(cp) not in "\t\n\r"
    ]
    assert len(hidden) > 150
    missed = [f"U+{ord(c):04X}" for c in hidden if neutralise(c) == c]
    assert missed == [], missed
    for kept in "\t\n\r aé中ب👍\u00a0€":  # text, whitespace, scripts and emoji stay as they are
        assert neutralise(kept) == kept


def _report_for(text: str, fake_server, tmp_path: Path, capsys) -> str:
    server = fake_server(responder=lambda path, body: f"{text} The answer is (A).")
    folder = run_ok(server, tmp_path, capsys, "--limit", "2", report=True)
    return (folder.path / "report.html").read_text(encoding="utf-8")


def test_report_shows_bidi_and_invisible_characters_visibly(fake_server, tmp_path, capsys):
    html = _report_for(TROJAN, fake_server, tmp_path, capsys)
    for ch in {*BIDI, "\u200b", "\u200d", "\ufeff", "\U000e0041", "\x00", "\x1b"}:
        assert ch not in html, f"U+{ord(ch):04X} reached the page"
    assert "Give 5 mg&lt;U+202E&gt;01 x&lt;U+202C&gt; daily&lt;U+2066&gt; &lt;U+2069&gt;" in html
    assert "&lt;U+E0041&gt;&lt;U+0000&gt;&lt;U+001B&gt;[31m" in html


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.csp: list[str] = []
        self.tags: list[str] = []
        self.in_head = True

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            assert self.in_head, "the CSP must be in <head> to apply"
            self.csp.append(a.get("content") or "")
        if tag == "body":
            self.in_head = False


def _directives(csp: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in csp.split(";"):
        name, *values = part.split()
        assert name not in out, f"directive {name} given twice (the second is ignored)"
        out[name] = values
    return out


def test_report_has_a_strict_csp_and_no_script(fake_server, tmp_path, capsys):
    html = _report_for("<script>alert(1)</script>", fake_server, tmp_path, capsys)
    head = _Head()
    head.feed(html)
    assert len(head.csp) == 1
    d = _directives(head.csp[0])
    assert d["default-src"] == ["'none'"]
    assert d["img-src"] == ["data:"]
    assert d["style-src"] == ["'unsafe-inline'"]
    assert d["base-uri"] == ["'none'"] and d["form-action"] == ["'none'"]
    assert "script-src" not in d and "unsafe-eval" not in head.csp[0]  # no script allowed at all
    assert "script" not in head.tags and "iframe" not in head.tags and "object" not in head.tags
    # the CSP comes before anything it governs
    assert html.index("Content-Security-Policy") < html.index("<style>") < html.index("<body>")


# --------------------------------------------------------------------------- a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)"
)

PROBE_BODY = (
    "<script>document.body.setAttribute('data-ran','inline')</script>"
    "<img src=\"x.png\" onerror=\"document.body.setAttribute('data-ran','handler')\">"
)


def _chromium(page: Path) -> tuple[str, str]:
    """(DOM after scripts had their chance, browser console log) of ``page`` in headless Chromium."""
    assert CHROMIUM is not None
    out = subprocess.run(
        [
            CHROMIUM,
            *("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"),
            f"--user-data-dir={page.parent / ('profile-' + page.stem)}",
            *("--virtual-time-budget=2000", "--enable-logging=stderr", "--v=0"),
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "<body" in out.stdout, out.stderr[-2000:]
    return out.stdout, out.stderr


@needs_chromium
@pytest.mark.slow
def test_chromium_parses_and_enforces_the_report_csp(fake_server, tmp_path, capsys):
    """The report's own CSP meta in front of a page that runs script two ways (an inline script,
    an event handler): Chromium must parse every directive (no 'unrecognized' or 'ignored'
    complaint) and block both."""
    html = _report_for("plain", fake_server, tmp_path, capsys)
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">', html)
    assert meta is not None
    control, probe = tmp_path / "control.html", tmp_path / "probe.html"
    control.write_text(f"<!DOCTYPE html><html><head></head><body>{PROBE_BODY}</body></html>")
    probe.write_text(f"<!DOCTYPE html><html><head>{meta.group()}</head><body>{PROBE_BODY}</body></html>")

    dom, _ = _chromium(control)  # without the CSP the script does run: the check below can fail
    assert "data-ran=" in dom
    dom, log = _chromium(probe)
    assert "data-ran=" not in dom, dom[:500]
    assert "violates the following Content Security Policy directive" in log
    csp_lines = [
        line
        for line in log.splitlines()
        if "Content Security Policy" in line or "Content-Security-Policy" in line
    ]
    bad = [line for line in csp_lines if re.search(r"unrecognized|ignored|invalid|not supported", line, re.I)]
    assert bad == [], bad


@needs_chromium
@pytest.mark.slow
def test_chromium_shows_code_points_not_bidi_overrides(fake_server, tmp_path, capsys):
    _report_for(TROJAN, fake_server, tmp_path, capsys)
    (report,) = (tmp_path / "runs").glob("*/report.html")
    dom, log = _chromium(report)
    assert "Give 5 mg&lt;U+202E&gt;01 x&lt;U+202C&gt;" in dom
    assert not any(ch in dom for ch in BIDI)
    assert (
        "violates the following Content Security Policy" not in log
    )  # the page itself needs nothing blocked
