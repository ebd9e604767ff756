"""``medevals agreement RUN``: judge-vs-judge (and judge-vs-baseline) agreement of a finished run.

Reads only the run folder (manifest + samples.jsonl): judge replies are re-read with the
current verdict parser, no model is called. Benchmarks whose protocol has no judges are
listed as such.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from medevals.commands.output import out


def _cell(c: Any, percent: bool = False) -> str:
    """A table cell; in a column named "% ..." a share (0.85) shows as a percentage (85.0)."""
    if percent and isinstance(c, dict) and "value" in c and c.get("value") is not None:
        from medevals.report.table import fmt_pct

        v = c["value"]
        if not (isinstance(v, float) and math.isnan(v)):
            return fmt_pct(c)
    if percent and isinstance(c, float) and not math.isnan(c):
        return f"{100 * c:.1f}"
    if isinstance(c, float):
        return f"{c:.3f}"
    if isinstance(c, dict) and "value" in c:
        v, lo, hi = c.get("value"), c.get("ci_low"), c.get("ci_high")
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return f"n/a (n={c.get('n', 0)})"
        ci = "" if lo is None or (isinstance(lo, float) and math.isnan(lo)) else f" [{lo:.3f}, {hi:.3f}]"
        return f"{v:.3f}{ci}"
    return str(c)


def agreement(
    run: Annotated[Path, typer.Argument(help="A run folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the tables as JSON.")] = False,
) -> None:
    """Agreement between judges (Cohen's / Fleiss' kappa, ICC, macro-F1, 95% bootstrap CIs) and judge failures."""
    from medevals.protocols.registry import protocol_from_record
    from medevals.runs.folder import RunFolder, _finite

    folder = RunFolder.open(run)
    manifest = folder.read_manifest()
    result: dict[str, list[dict[str, Any]]] = {}
    for b in manifest.benchmarks:
        proto = protocol_from_record(b, str(folder.manifest_path))
        fn = getattr(proto, "agreement", None)
        if fn is None:
            if not as_json:
                out.print(f"{b.name}: protocol '{b.protocol}' uses no judge", style="dim")
            continue
        result[b.name] = fn(s for s in folder.iter_samples() if s.benchmark == b.name)
    if as_json:
        print(json.dumps(_finite(result), indent=1))
        return
    for name, tables in result.items():
        if not tables:
            out.print(f"{name}: no judge verdicts in this run")
        for t in tables:
            tab = Table(title=f"{name}: {t['title']}", title_justify="left")
            for c in t["columns"]:
                tab.add_column(str(c))
            pct = [str(c).startswith("%") for c in t["columns"]]
            for row in t["rows"]:
                tab.add_row(*(_cell(c, pct[i] if i < len(pct) else False) for i, c in enumerate(row)))
            out.print(tab)
