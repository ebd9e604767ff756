"""``medevals leaderboard``: query the DuckDB results index over run folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from medevals.commands.output import err, out

#: Above this many model x benchmark rows the terminal shows the models table only: a longer
#: table takes rich seconds to lay out and nobody reads it in a terminal.
DETAIL_ROWS = 300


def leaderboard(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Run folders or directories of them (default: runs/).")
    ] = None,
    sql: Annotated[
        str | None,
        typer.Option(help="Run this SQL against the index instead (tables: runs, results, folders)."),
    ] = None,
    write: Annotated[
        bool | None,
        typer.Option(
            "--write-index/--no-write-index",
            help="Keep the index in index.duckdb in the runs directory, updated incrementally "
            "(default: when the directory is writable; --write-index makes a failure an error).",
        ),
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option("--index", help="The index file to keep and update (default: RUNS/index.duckdb)."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the leaderboard as one self-contained HTML page (sortable)."),
    ] = None,
    detail: Annotated[
        bool | None,
        typer.Option(
            "--detail/--no-detail",
            help=f"The per-benchmark table, one row per model x benchmark (default: when it has at "
            f"most {DETAIL_ROWS} rows; a larger board is a page: --html).",
        ),
    ] = None,
    pair: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--pair",
            metavar="A B",
            help="Two models (as in the model column): paired differences on their shared items, "
            "per benchmark, from the runs the leaderboard shows (reads their samples).",
        ),
    ] = None,
) -> None:
    """Leaderboard (newest finished result per model x benchmark, with CIs and errors), models
    with win rates, category means and cost per point.

    The index is built from manifests and metrics.json files only, and kept in
    RUNS/index.duckdb: a second call re-reads only new or changed run folders. Unreadable
    folders are listed, one line each, and counted. Examples:

        medevals leaderboard runs/ --html leaderboard.html

        medevals leaderboard runs/ --sql "SELECT category, model, avg(value) FROM results GROUP BY ALL"

        medevals leaderboard runs/ --pair openai:model-a openai:model-b
    """
    import time

    import duckdb

    from medevals.errors import ConfigError

    targets = paths or [Path("runs")]
    t0 = time.perf_counter()
    con, refresh, where = _open_index(targets, write, index)
    seconds = time.perf_counter() - t0
    if sql:
        try:
            cur = con.execute(sql)
        except duckdb.Error as e:  # the user's query: a one-line error, not a traceback
            raise ConfigError(f"--sql: {' '.join(str(e).split())}") from None
        t = Table(*[d[0] for d in cur.description])
        for row in cur.fetchall():
            t.add_row(*("" if v is None else str(v) for v in row))
        out.print(t)
        _report_index(refresh, seconds, where)
        return
    if pair:
        _print_pair(con, *pair)
        _report_index(refresh, seconds, where)
        return
    if html is not None:
        from medevals.report.html.leaderboard import render_leaderboard
        from medevals.report.html.page import write_page

        page = render_leaderboard(con, refresh.problems, n_folders=refresh.found)
        try:
            out.print(f"leaderboard page: {write_page(page, html)}", soft_wrap=True, highlight=False)
        except OSError as e:
            raise ConfigError(f"--html: {e}") from None
    shown = _print_board(con, detail)
    _report_index(refresh, seconds, where)
    if not shown:
        out.print("no finished runs with metrics found in " + ", ".join(map(str, targets)))
        raise typer.Exit(1)


def _report_index(refresh: Any, seconds: float, where: str) -> None:
    """After the output (an error stays the one line it is): each unreadable folder on a line of
    its own, then what the refresh did."""
    for _, problem in refresh.problems:
        err.print(f"unreadable: {problem}", style="yellow", soft_wrap=True)
    err.print(
        f"index: {refresh.found:,} run folder(s), {refresh.read:,} read, {refresh.reused:,} unchanged, "
        f"{refresh.removed:,} removed, {len(refresh.problems):,} unreadable ({seconds:.2f} s; {where})",
        style="dim",
        soft_wrap=True,
    )


def _open_index(targets: list[Path], write: bool | None, index: Path | None) -> tuple[Any, Any, str]:
    """(connection, refresh, where the index lives). The file is ``--index``, else
    ``RUNS/index.duckdb`` for one runs directory; it is updated in place. A file that cannot be
    opened (read-only folder, another process holding it) falls back to an in-memory index with
    a note, unless ``--write-index`` or ``--index`` asked for the file."""
    import duckdb

    from medevals.errors import ConfigError
    from medevals.runs.index import open_index

    target = index
    if target is None and write is not False and len(targets) == 1:
        t = targets[0]
        if t.is_dir() and not (t / "manifest.json").exists():
            target = t / "index.duckdb"
    if write is False or target is None:
        if write and index is None:
            raise ConfigError("--write-index: give one runs directory (or --index FILE)")
        con, refresh = open_index(targets)
        return con, refresh, "in memory"
    try:
        con, refresh = open_index(targets, str(target))
        return con, refresh, str(target)
    except duckdb.Error as e:
        why = " ".join(str(e).split())
        if write or index is not None:  # asked for the file: a read-only or full runs folder
            raise ConfigError(f"{target}: cannot write the index ({why})") from None
        err.print(
            f"note: {target}: cannot keep the index there ({why[:200]}); indexing in memory", style="dim"
        )
        con, refresh = open_index(targets)
        return con, refresh, "in memory"


def _print_board(con: Any, detail: bool | None) -> bool:
    from medevals.runs.index import leaderboard as board

    rows = board(con)
    if not rows:
        return False
    if detail or (detail is None and len(rows) <= DETAIL_ROWS):
        _print_detail(rows)
    elif detail is None:
        err.print(
            f"note: {len(rows):,} model x benchmark rows: the per-benchmark table is left out "
            "(--detail prints it; --html writes the whole board as a sortable page)",
            style="dim",
            soft_wrap=True,
        )
    _print_models(con)
    return True


def _print_detail(rows: list[tuple[Any, ...]]) -> None:
    from medevals.report.table import fmt_pct

    t = Table(
        title="Leaderboard (primary metric %, 95% CI; newest finished run per model x benchmark; "
        "errors = samples that failed for good, not in n)"
    )
    for col in ("benchmark", "model", "value [95% CI]", "n", "unscored", "errors", "cost", "category", "run"):
        t.add_column(col)
    for model, bench, cat, value, lo, hi, n, n_errors, n_unscored, cost, run_id in rows:
        t.add_row(
            bench,
            model,
            fmt_pct({"value": value, "ci_low": lo, "ci_high": hi}),
            str(n),
            "" if n_unscored is None else str(n_unscored),
            "" if n_errors is None else str(n_errors),
            "unknown" if cost is None else f"${cost:.4f}",
            cat or "",
            run_id,
        )
    out.print(t)


def _print_models(con: Any) -> None:
    from medevals.runs.index import category_means, model_summary, win_rates

    wins = {m: (rate, comps) for m, rate, comps, _ in win_rates(con)}
    cats: dict[str, dict[str, float]] = {}
    for c in category_means(con):
        cats.setdefault(c["category"], {})[c["model"]] = c["mean"]
    w = Table(
        title="Models: mean share, head-to-head win rate over shared benchmarks (ties = 1/2; "
        "comparisons), mean per taxonomy category, cost per percentage point"
    )
    w.add_column("model", overflow="fold")
    for col in ("mean %", "win rate", *sorted(cats), "$/point"):
        w.add_column(col, overflow="fold")
    for m in model_summary(con):
        name = m["model"]
        rate, comps = wins.get(name, (None, 0))
        w.add_row(
            name,
            "—" if m["mean"] is None else f"{100 * m['mean']:.1f} ({m['shares']})",
            "—" if rate is None else f"{100 * rate:.1f}% ({comps})",
            *("—" if (v := cats[c].get(name)) is None else f"{100 * v:.1f}" for c in sorted(cats)),
            "unknown" if m["cost_per_point"] is None else f"${m['cost_per_point']:.5f}",
        )
    out.print(w)


def _print_pair(con: object, model_a: str, model_b: str) -> None:
    """``--pair A B``: each benchmark both models have, paired unit by unit on the leaderboard's runs."""
    from medevals.errors import ConfigError
    from medevals.report.paired import pair_output
    from medevals.runs.folder import RunFolder
    from medevals.runs.index import leaderboard as board
    from medevals.runs.index import pair_runs
    from medevals.runs.paired_runs import RunPair, compare_runs

    models = sorted({r[0] for r in board(con)})
    for m in (model_a, model_b):
        if m not in models:
            raise ConfigError(
                f"--pair: no finished run of model '{m}' (models: {', '.join(models) or 'none'})"
            )
    rows = pair_runs(con, model_a, model_b)
    if not rows:
        raise ConfigError(f"--pair: '{model_a}' and '{model_b}' share no benchmark")
    by_folders: dict[tuple[str, str], list[str]] = {}
    for bench, pa, pb in rows:
        by_folders.setdefault((pa, pb), []).append(bench)
    for (pa, pb), benches in by_folders.items():
        full = compare_runs(RunFolder(pa), RunFolder(pb))
        pair = RunPair(full.a, full.b, [v for v in full.variants if v.benchmark in benches], [], [])
        names = (f"{model_a} ({full.a.path.name})", f"{model_b} ({full.b.path.name})")
        for x in pair_output(pair, *names, out.width):
            out.print(x, highlight=False, markup=False, soft_wrap=True)
