"""The report as a browser lays it out: single-run and compare reports at a wide and a narrow
width in headless Chromium, measured through the DevTools protocol.

Checked: the page never scrolls sideways and no element spills out of its box or off the page
(a scrolling table wrapper is the only place content may be wider than the screen, and at
desktop width the run cards, benchmark table and paired table never need it); no word is
broken mid-word ("local:b undled"); no plot is empty; no plot text overlaps another or leaves
its plot. Full-page PNGs go to the test's tmp folder (and to $MEDEVALS_SCREENSHOTS when set,
for a human to look at).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cdp import CHROMIUM, Browser
from clihelp import run_ok
from pairfix import make_pair

from medevals.report.html import write_report

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)"),
    pytest.mark.slow,
]

WIDTHS = (1280, 760)

MEASURE = r"""
(() => {
  const W = document.documentElement.clientWidth;
  const out = {page: document.documentElement.scrollWidth - W, spill: [], offscreen: [], scrollers: [],
               broken: [], plots: 0, emptyPlots: [], overlaps: [], outside: []};
  const describe = el => {
    let s = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
    if (typeof el.className === 'string' && el.className) s += '.' + el.className.trim().split(/\s+/).join('.');
    const sec = el.closest('section');
    return s + (sec && sec.id ? ' in #' + sec.id : '') + ' "' + (el.textContent || '').trim().slice(0, 50) + '"';
  };
  const scroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return p;
    }
    return null;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const r = el.getBoundingClientRect();
    if (!r.width && !r.height) continue;  // not rendered (a closed details' content)
    const cs = getComputedStyle(el);
    if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      if (el.tagName.toLowerCase() !== 'pre') out.scrollers.push(describe(el));
      continue;
    }
    if (scroller(el)) continue;
    if (r.right > W + 0.5 || r.left < -0.5) out.offscreen.push(describe(el));
    if (cs.overflowX === 'visible' && cs.display !== 'inline' && el.clientWidth > 0
        && el.scrollWidth > el.clientWidth + 1) out.spill.push(describe(el) + ` ${el.scrollWidth}>${el.clientWidth}`);
  }
  // a word split across lines between two letters or digits
  const range = document.createRange();
  const top = (node, i) => { range.setStart(node, i); range.setEnd(node, i + 1);
                             const rs = range.getClientRects(); return rs.length ? Math.round(rs[0].top) : null; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('pre, code.cmd, svg')) continue;
    const re = /\S{2,}/g;
    for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
      range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
      const rects = Array.from(range.getClientRects()).filter(x => x.width > 0);
      if (new Set(rects.map(x => Math.round(x.top))).size < 2) continue;
      for (let i = m.index + 1; i < m.index + m[0].length; i++) {
        const a = node.data[i - 1], b = node.data[i];
        if (/[\p{L}\p{N}]/u.test(a) && /[\p{L}\p{N}]/u.test(b) && top(node, i - 1) !== top(node, i)) {
          out.broken.push(describe(el) + ' word "' + m[0] + '"'); break;
        }
      }
    }
  }
  for (const f of document.querySelectorAll('figure.plot')) {
    out.plots++;
    const title = (f.querySelector('.plot-title') || {}).textContent || '?';
    const svg = f.querySelector('svg');
    if (!svg || !svg.querySelector('circle, polyline, rect + rect')) { out.emptyPlots.push(title); continue; }
    const box = svg.getBoundingClientRect();
    const texts = Array.from(svg.querySelectorAll('text')).map(t => [t.textContent, t.getBoundingClientRect()]);
    for (const [t, r] of texts)
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
        out.outside.push(title + ': ' + t);
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
      const [ta, a] = texts[i], [tb, b] = texts[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) out.overlaps.push(`${title}: "${ta}" / "${tb}"`);
    }
  }
  if (document.body.textContent.includes('No points to plot')) out.emptyPlots.push('No points to plot');
  return out;
})()
"""


def _responder(path, body):
    text = str(body)
    return f"The answer is ({'ABCD'[len(text) % 4]}).\nConfidence: {40 + len(text) % 50}%"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A single-run report (strategies with cost-accuracy, reliability and probe plots, a run card)
    and a compare report of two such runs plus the hand-built pair (paired section, drill-downs)."""
    from fake_openai import FakeOpenAI

    tmp = tmp_path_factory.mktemp("layout")
    server = FakeOpenAI(responder=_responder).start()
    capsys = _NoCapture()
    runs = []
    try:
        for name, strategy in (
            ("model-a", "zero-shot,cot+conf,sc3,probe:position"),
            ("model-b", "zero-shot,cot+conf"),
        ):
            args = ["--limit", "12", "--strategy", strategy]
            runs.append(
                run_ok(server, tmp, capsys, *args, model=f"openai:{name}", runs=tmp / name, report=False)
            )
    finally:
        server.stop()
    a, b = make_pair(tmp / "pair")
    single = write_report([runs[0]], tmp / "single.html")
    compare = write_report([runs[0], runs[1]], tmp / "compare.html")
    paired = write_report([a, b], tmp / "paired.html")
    return {"single": single, "compare": compare, "paired": paired}


class _NoCapture:
    """run_ok wants a capsys; a module fixture has none, and the output is not under test here."""

    def readouterr(self):
        class _R:
            out = ""
            err = ""

        return _R()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with Browser(tmp_path_factory.mktemp("chromium-profile")) as b:
        yield b


@pytest.mark.parametrize("which", ["single", "compare", "paired"])
@pytest.mark.parametrize("width", WIDTHS)
def test_report_layout_has_no_overflow_broken_words_or_empty_plots(reports, browser, which, width, tmp_path):
    page: Path = reports[which]
    shot = tmp_path / f"{which}-{width}.png"
    m = browser.measure(page.resolve().as_uri(), width, MEASURE, screenshot=shot)
    keep = os.environ.get("MEDEVALS_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert m["page"] <= 0, "the page scrolls sideways"
    assert m["offscreen"] == [] and m["spill"] == [], (m["offscreen"], m["spill"])
    assert m["broken"] == [], m["broken"]
    assert m["emptyPlots"] == [] and m["overlaps"] == [] and m["outside"] == [], m
    if which != "paired":
        assert m["plots"] >= 3  # cost-accuracy, reliability, position probe ...
    if width >= 1200:  # a desktop screen shows these whole, without a sideways scrollbar
        crowded = [
            s for s in m["scrollers"] if any(f"in #{sid}" in s for sid in ("runs", "comparison", "paired"))
        ]
        assert crowded == [], crowded
