"""``medevals suite``: run a named list of benchmarks (TOML) against one model, then compare and index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medevals.commands.output import out

app = typer.Typer(help="Run suites: named lists of benchmarks with settings (TOML).", no_args_is_help=True)


@app.command("list")
def list_suites() -> None:
    """Bundled suites and their benchmarks."""
    from rich.text import Text

    from medevals.suites import bundled_suites, load_suite

    for p in bundled_suites():
        s = load_suite(str(p))
        names = ", ".join(e.name for e in s.benchmark)
        out.print(Text.assemble((s.name, "bold"), f": {s.description}\n  {names}"))


@app.command("run")
def run_suite(
    suite: Annotated[
        str, typer.Argument(help="Bundled suite name (see `medevals suite list`) or a .toml path.")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="Model spec, as for `medevals run`.")],
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL.")] = None,
    api_key_env: Annotated[str | None, typer.Option(help="Env var holding the API key.")] = None,
    limit: Annotated[int | None, typer.Option(help="Override every entry's item limit.")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c")] = None,
    data_dir: Annotated[
        str | None, typer.Option(help="Benchmark data folder (default $MEDEVALS_DATA).")
    ] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    no_cache: Annotated[bool, typer.Option("--no-cache")] = False,
    new: Annotated[
        bool, typer.Option("--new", help="Run every entry again in new folders, even those already complete.")
    ] = False,
    allow_errors: Annotated[
        bool,
        typer.Option("--allow-errors", help="Exit 0 even when some samples failed for good (see `run`)."),
    ] = False,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Combined HTML report.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run every benchmark of a suite (one run folder each), then one combined report.

    Re-running resumes unfinished entries and reuses complete ones (no model call); when every
    entry is complete it says so and points at the folders. `--new` runs everything afresh.
    """
    from medevals.cli import _exit_if_incomplete, _progress_runner
    from medevals.errors import ConfigError, DataError
    from medevals.evaluate import RunConfig, command_line, find_complete, prepare
    from medevals.report.html import write_report
    from medevals.report.table import compare_table
    from medevals.suites import entry_where, load_suite

    s = load_suite(suite)
    folders, metrics, outcomes = [], [], []
    reused = 0
    for i, entry in enumerate(s.benchmark):
        cfg = RunConfig(
            model=model,
            benchmarks=[entry.name],
            base_url=base_url,
            api_key_env=api_key_env,
            options=dict(entry.options),
            data_dir=data_dir,
            split=s.defaults.split,
            limit=limit or entry.limit or s.defaults.limit,
            repeats=s.defaults.repeats,
            seed=s.defaults.seed,
            concurrency=concurrency,
            runs_dir=runs_dir,
            new=new,
            use_cache=not no_cache,
            command=command_line(),
        )
        try:
            prepared = prepare(cfg)
        except (ConfigError, DataError) as e:  # a bad entry: say which one, in which file
            raise ConfigError(f"{entry_where(s, i)}: [[benchmark]] '{entry.name}': {e}") from None
        done = None if new else find_complete(runs_dir, prepared.config_hash)
        if done is not None:
            reused += 1
            folders.append(done)
            metrics.append(done.read_metrics())
            if not quiet:
                out.print(f"{entry.name}: complete in {done.path}", style="dim", highlight=False)
            continue
        outcome = _progress_runner(cfg, quiet, prepared)
        write_report([outcome.folder], outcome.folder.report_path)
        outcomes.append(outcome)
        folders.append(outcome.folder)
        metrics.append(outcome.metrics)
    if reused == len(s.benchmark):
        out.print(
            f"suite {s.name} is already complete ({reused} run folders); nothing was run "
            "(--new runs it again in new folders)",
            highlight=False,
        )
    merged = {"benchmarks": {k: v for m in metrics for k, v in m["benchmarks"].items()}}
    out.print(compare_table([(model, merged)]))
    target = out_file or runs_dir / f"suite-{s.name}.html"
    out.print(f"report: {write_report(folders, target)}")
    for f in folders:
        out.print(f"run folder: {f.path}")
    _exit_if_incomplete(outcomes, allow_errors)
