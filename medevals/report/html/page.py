"""The page: header, navigation, the sections in order, and writing the file."""

from __future__ import annotations

import datetime as dt
import errno
import os
from collections.abc import Iterable
from pathlib import Path

import medevals
from medevals.report.html.escape import esc
from medevals.report.html.paired import paired_section
from medevals.report.html.plots import pareto_section, protocol_plots
from medevals.report.html.runs import RunView, benchmark_names
from medevals.report.html.samples import sample_browser
from medevals.report.html.style import CSS, FILTER_CSS
from medevals.report.html.tables import breakdowns, categories, comparison, protocol_tables, run_card
from medevals.runs.folder import RunFolder


def render_html(folders: list[RunFolder], *, max_samples: int = 200) -> str:
    """The report for ``folders`` (one column per run) as one self-contained HTML string."""
    runs = [RunView(i, f) for i, f in enumerate(folders)]
    names = benchmark_names(runs)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    body: list[str] = [
        "<header><h1>medevals report</h1>",
        f'<p class="muted">Generated {esc(now)} by medevals {esc(medevals.__version__)} · '
        f"{len(runs)} run{'s' if len(runs) != 1 else ''} · {len(names)} benchmark"
        f"{'s' if len(names) != 1 else ''}</p></header>",
    ]
    if not runs:
        body.append("<p>No runs given.</p>")
        return _page(body)
    samples = [
        '<section id="samples"><h2>Samples</h2>',
        f'<p class="muted">The first {max_samples:,} samples of each run, in file order; open one for '
        "its score, how the answer was read, and every call with the exact messages sent. Long "
        "texts are shortened in the middle; the run folder's samples.jsonl has everything.</p>",
        *(sample_browser(r, max_samples) for r in runs),
        "</section>",
    ]
    sections = [
        (
            "runs",
            "runs",
            '<section id="runs"><h2>Runs</h2><div class="cards">'
            + "".join(run_card(r) for r in runs)
            + "</div></section>",
        ),
        ("comparison", "benchmarks", comparison(runs, names)),
        ("paired", "paired differences", paired_section(runs, max_pairs=max_samples)),
        ("categories", "categories", categories(runs, names)),
        ("breakdowns", "breakdowns", breakdowns(runs, names)),
        ("pareto", "cost–accuracy", pareto_section(runs, names)),
        ("protocol-tables", "analyses", protocol_tables(runs, names)),
        ("protocol-plots", "plots", protocol_plots(runs, names)),
        ("samples", "samples", "".join(samples)),
    ]
    present = [(sid, label, html) for sid, label, html in sections if html]
    # only sections the page has: a link that goes nowhere is a broken page
    body.append(
        '<nav class="small">'
        + " · ".join(f'<a href="#{sid}">{label}</a>' for sid, label, _ in present)
        + "</nav>"
    )
    body.extend(html for _, _, html in present)
    body.append(
        "<footer>Every value on this page was read from the run folders (metrics.json, or the samples "
        "when it is out of date); paired differences are computed from the samples.</footer>"
    )
    return _page(body)


#: The page's Content-Security-Policy: nothing is fetched or run. No script-src at all (the page
#: has no script, so default-src 'none' forbids every one, inline or not), images only as
#: embedded data: URIs, the inline stylesheet and style attributes; base-uri and form-action do
#: not fall back to default-src, so they are closed by name. (frame-ancestors cannot be set in
#: a meta tag.)
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _page(body: Iterable[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        "<title>medevals report</title>"
        f"<style>{CSS}{FILTER_CSS}</style></head><body>" + "".join(body) + "</body></html>\n"
    )


def write_report(folders: list[RunFolder], out_path: Path, *, max_samples: int = 200) -> Path:
    """Render the report and write it to ``out_path`` (UTF-8); returns the path."""
    return write_page(render_html(folders, max_samples=max_samples), out_path)


def write_page(page_text: str, out_path: Path) -> Path:
    """Write an HTML page to ``out_path`` (UTF-8); returns the path.

    A regular file is replaced atomically (temp file + rename), so a full disk or a kill leaves
    the previous page whole; a failed write raises an OSError that names ``out_path``.
    """
    out_path = Path(out_path)
    page = page_text.encode("utf-8")
    if out_path.is_dir():
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), str(out_path))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    special = out_path.exists() and not out_path.is_file()  # /dev/stdout, a pipe
    target = out_path if special else out_path.with_name(f".{out_path.name}.tmp")
    try:
        target.write_bytes(page)
        if not special:
            os.replace(target, out_path)
    except OSError as e:
        if not special:
            target.unlink(missing_ok=True)
        raise OSError(e.errno, e.strerror, str(out_path)) from None
    return out_path
