"""A self-contained HTML report over one or more run folders.

One file, inline CSS, no external assets and no JavaScript (sample filtering is CSS-only, via
radio buttons), so it opens anywhere, offline, and reads the same with scripts disabled.
Sections: run cards (provenance), a per-benchmark comparison with 95% CI bars, a MedHELM-style
mean per taxonomy category, subset/variant breakdowns, and a sample browser that streams the
first ``max_samples`` samples of each run (never the whole file).

Where things are: ``page.py`` (the page, section order, writing the file), ``tables.py``
(run cards, comparison, categories, breakdowns, protocol tables), ``cells.py`` (metric cells,
CI bars, badges), ``plots.py`` (inline SVG plots, the Pareto frontier), ``samples.py`` (the
sample browser), ``runs.py`` (what is read from a run folder), ``formats.py`` (number
formatting), ``escape.py`` (escaping untrusted text), ``style.py`` (the stylesheet); ``leaderboard.py`` is
the leaderboard page over the results index (``medevals leaderboard --html``).

SECURITY: benchmark data and model output are untrusted (a response may well contain
``<script>``, ``onerror=`` attributes or ``javascript:`` links). Every string that comes from a
run folder goes through :func:`escape.esc` (``html.escape(..., quote=True)``) before it reaches
the page; attribute values built from such text are always escaped *and* double-quoted; no
untrusted text is ever placed inside ``<script>`` or ``<style>``, and none becomes a link.
Element ids and class names are generated from indices and fixed vocabularies only.
"""

from medevals.report.html.page import render_html, write_report

__all__ = ["render_html", "write_report"]
