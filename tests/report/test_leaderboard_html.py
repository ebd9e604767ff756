"""The leaderboard page: escaped, one hashed sorting script under a CSP, sortable in a real browser."""

import base64
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from boardfix import bench_metrics, make_run
from clihelp import run_cli

from medevals.report.html.leaderboard import CSP, SORT_JS

EVIL = "openai:<img src=x onerror=\"document.body.setAttribute('data-pwned',1)\">"


def _page(tmp_path, capsys) -> Path:
    runs = tmp_path / "runs"
    make_run(
        runs,
        "r1",
        "openai:zeta",
        {
            "medqa": bench_metrics(0.9, category="Knowledge", cost=1.0),
            "<script>x</script>": bench_metrics(0.8, category="Reasoning & <b>", cost=1.0),
        },
    )
    make_run(runs, "r2", "openai:alpha", {"medqa": bench_metrics(0.3, category="Knowledge")})
    make_run(runs, "r3", "openai:mid", {"medqa": bench_metrics(0.6, category="Knowledge", cost=0.2)})
    make_run(runs, "r4", EVIL, {"medqa": bench_metrics(0.5, category="Knowledge")})
    (runs / "broken").mkdir()
    (runs / "broken" / "journal.jsonl").write_text("{}\n", encoding="utf-8")
    page = tmp_path / "board.html"
    code, out, err = run_cli(["leaderboard", str(runs), "--html", str(page)], capsys)
    assert code == 0, err
    assert f"leaderboard page: {page}" in out
    return page


def test_page_escapes_names_and_allows_only_its_own_script(tmp_path, capsys):
    html = _page(tmp_path, capsys).read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script>x</script>" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=&quot;" in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert html.count("<script>") == 1 and f"<script>{SORT_JS}</script>" in html
    digest = base64.b64encode(hashlib.sha256(SORT_JS.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in CSP and f'content="{CSP}"' in html
    assert "unsafe-inline'; base-uri" in CSP and "script-src 'unsafe" not in CSP
    assert "Unreadable run folders (1)" in html
    assert not re.search(r"<[a-z]+[^>]* on[a-z]+=", html)  # no event-handler attribute anywhere


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

#: Clicks a header as a user would, after the page's own script has set the tables up.
DRIVER = (
    "var th=[].find.call(document.querySelectorAll('table.models thead th'),"
    "function(t){return t.textContent==='%s';});th.click();%s"
)


def _models_after_clicks(page: Path, header: str, clicks: int) -> list[str]:
    assert CHROMIUM is not None
    driver = DRIVER % (header, "th.click();" * (clicks - 1))
    digest = base64.b64encode(hashlib.sha256(driver.encode()).digest()).decode()
    html = page.read_text(encoding="utf-8")
    # the test's driver is allowed beside the page's script, by its own hash; nothing else changes
    html = html.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    html = html.replace("</body>", f"<script>{driver}</script></body>")
    probe = page.with_name(f"probe-{clicks}-{len(header)}.html")
    probe.write_text(html, encoding="utf-8")
    out = subprocess.run(
        [
            CHROMIUM,
            *("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"),
            *("--disable-background-networking", "--disable-component-update"),
            f"--user-data-dir={page.parent / ('profile-' + probe.stem)}",
            "--virtual-time-budget=2000",
            "--dump-dom",
            probe.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "<body" in out.stdout, out.stderr[-2000:]
    assert not re.search(r"<body[^>]*data-pwned", out.stdout)  # the name stayed text
    table = re.search(r'<table class="grid compact sortable models">(.*?)</table>', out.stdout, re.S)
    assert table is not None
    body = table.group(1).split("<tbody>", 1)[1]
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(r"<tr[^>]*><td>(.*?)</td>", body)]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
@pytest.mark.slow
def test_clicking_a_header_sorts_the_table_in_headless_chromium(tmp_path, capsys):
    page = _page(tmp_path, capsys)
    evil = EVIL.replace("<", "&lt;").replace(">", "&gt;")  # as Chromium serialises text
    by_mean = ["openai:zeta", "openai:mid", evil, "openai:alpha"]  # the page's own order
    names = _models_after_clicks(page, "model", 1)  # text: A to Z first
    assert [n for n in names if n != evil] == ["openai:alpha", "openai:mid", "openai:zeta"]
    assert _models_after_clicks(page, "model", 2) == names[::-1]  # a second click reverses it
    # a number: highest first, then lowest first; unknown values stay last, in the page's order
    assert _models_after_clicks(page, "$ / point", 2) == ["openai:mid", "openai:zeta", evil, "openai:alpha"]
    assert _models_after_clicks(page, "mean %", 2) == by_mean[::-1]
