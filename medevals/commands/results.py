"""``medevals leaderboard``: query the DuckDB results index over run folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from medevals.commands.output import out


def leaderboard(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Run folders or directories of them (default: runs/).")
    ] = None,
    sql: Annotated[
        str | None, typer.Option(help="Run this SQL against the index instead (tables: runs, results).")
    ] = None,
    write: Annotated[
        bool, typer.Option("--write-index", help="Also save index.duckdb in the runs directory.")
    ] = False,
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
    """Leaderboard (newest finished result per model x benchmark, with CIs and errors) and win rates.

    The index is built from manifests and metrics.json files only. Examples:

        medevals leaderboard runs/

        medevals leaderboard runs/ --sql "SELECT category, model, avg(value) FROM results GROUP BY ALL"

        medevals leaderboard runs/ --pair openai:model-a openai:model-b
    """
    import duckdb

    from medevals.errors import ConfigError
    from medevals.report.table import fmt_pct
    from medevals.runs.index import build_index, win_rates, write_index
    from medevals.runs.index import leaderboard as board

    targets = paths or [Path("runs")]
    con = build_index(targets)
    if sql:
        try:
            cur = con.execute(sql)
        except duckdb.Error as e:  # the user's query: a one-line error, not a traceback
            raise ConfigError(f"--sql: {' '.join(str(e).split())}") from None
        t = Table(*[d[0] for d in cur.description])
        for row in cur.fetchall():
            t.add_row(*("" if v is None else str(v) for v in row))
        out.print(t)
        return
    if pair:
        _print_pair(con, *pair)
        return
    rows = board(con)
    if not rows:
        out.print("no finished runs with metrics found in " + ", ".join(map(str, targets)))
        raise typer.Exit(1)
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
    wins = win_rates(con)
    if wins:
        w = Table(title="Head-to-head win rate over shared benchmarks (ties = 1/2)")
        for col in ("model", "win rate", "comparisons", "benchmarks"):
            w.add_column(col)
        for model, rate, comps, n_b in wins:
            w.add_row(model, f"{100 * rate:.1f}%", str(comps), str(n_b))
        out.print(w)
    if write:
        for p in targets:
            if p.is_dir() and not (p / "manifest.json").exists():
                try:
                    out.print(f"index: {write_index(p)}")
                except duckdb.Error as e:  # a read-only or full runs folder
                    raise ConfigError(f"{p / 'index.duckdb'}: cannot write the index ({e})") from None


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
