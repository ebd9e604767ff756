"""``medevals suite``: run a named list of benchmarks (TOML) on one or more models, then compare and index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medevals.commands import executor_options as xo
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
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model spec, as for `medevals run` (default: the suite's [[model]] list)."
        ),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL (URL1,URL2: replicas).")
    ] = None,
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
    executor: xo.Executor = "local",
    ray_address: xo.RayAddress = None,
    ray_workers: xo.RayWorkers = 1,
    ray_num_cpus: xo.RayCpus = 1.0,
    ray_num_gpus: xo.RayGpus = 0.0,
) -> None:
    """Run every benchmark of a suite on every model (one run folder each), then one combined report.

    Models: `--model` (one), or the suite's `[[model]]` list. Re-running resumes unfinished runs
    and reuses complete ones (no model call); when every run is complete it says so and points at
    the folders. `--new` runs everything afresh. `--executor ray` fans the (model x benchmark) runs
    out over a Ray cluster, with one progress row per run.
    """
    from medevals.commands.progress import exit_if_incomplete, progress_runner
    from medevals.errors import ConfigError, DataError
    from medevals.evaluate import RunConfig, command_line, find_complete, prepare
    from medevals.report.html import write_report
    from medevals.report.table import compare_table
    from medevals.runs.folder import RunFolder
    from medevals.suites import SuiteModel, entry_where, load_suite
    from medevals.suites.fanout import PlannedRun

    s = load_suite(suite)
    ray = xo.ray_options(executor, ray_address, ray_workers, ray_num_cpus, ray_num_gpus)
    if model:
        models = [SuiteModel(spec=model, base_url=base_url, api_key_env=api_key_env)]
    elif s.model:
        models = s.model
    else:
        raise ConfigError(
            f"suite {s.name}: no model: pass --model SPEC or list [[model]] entries in the suite"
        )
    done_folders: dict[tuple[int, int], RunFolder] = {}
    plan: list[PlannedRun] = []
    reused = 0
    for mi, m in enumerate(models):
        for i, entry in enumerate(s.benchmark):
            cfg = RunConfig(
                model=m.spec,
                benchmarks=[entry.name],
                base_url=m.base_url or base_url,
                api_key_env=m.api_key_env or api_key_env,
                options=entry.run_options(),
                data_dir=data_dir,
                split=s.defaults.split,
                limit=limit or entry.limit or s.defaults.limit,
                repeats=s.defaults.repeats,
                seed=s.defaults.seed,
                concurrency=concurrency or m.concurrency,
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
                done_folders[(mi, i)] = done
                if not quiet:
                    label = f"{m.spec} {entry.name}" if len(models) > 1 else entry.name
                    out.print(f"{label}: complete in {done.path}", style="dim", highlight=False)
                continue
            plan.append(PlannedRun(m.spec, entry.name, prepared, key=(mi, i)))
    if ray is not None and plan:
        _run_on_ray(plan, ray, quiet)
    else:
        for r in plan:
            r.outcome = progress_runner(r.prepared.cfg, quiet, r.prepared)
    failed = [r for r in plan if r.error is not None]
    specs = [m.spec for m in models]
    labels = [m.spec if specs.count(m.spec) == 1 else f"{m.spec}@{m.base_url}" for m in models]
    folders, per_model, outcomes = [], {label: {"benchmarks": {}} for label in labels}, []
    by_key = {r.key: r for r in plan}
    for mi in range(len(models)):
        for i in range(len(s.benchmark)):
            done = done_folders.get((mi, i))
            r = by_key.get((mi, i))
            if done is not None:
                folders.append(done)
                metrics = done.read_metrics()
            elif r is not None and r.outcome is not None:
                write_report([r.outcome.folder], r.outcome.folder.report_path)
                outcomes.append(r.outcome)
                folders.append(r.outcome.folder)
                metrics = r.outcome.metrics
            else:
                continue
            per_model[labels[mi]]["benchmarks"].update(metrics["benchmarks"])
    if reused == len(models) * len(s.benchmark):
        out.print(
            f"suite {s.name} is already complete ({reused} run folders); nothing was run "
            "(--new runs it again in new folders)",
            highlight=False,
        )
    out.print(compare_table([(spec, merged) for spec, merged in per_model.items() if merged["benchmarks"]]))
    if folders:
        target = out_file or runs_dir / f"suite-{s.name}.html"
        out.print(f"report: {write_report(folders, target)}")
    for f in folders:
        out.print(f"run folder: {f.path}")
    if failed:
        from medevals.errors import MedevalsError

        for r in failed:
            out.print(f"{r.model} {r.benchmark}: {r.error}", highlight=False, markup=False, soft_wrap=True)
        first = failed[0].error
        if not isinstance(first, MedevalsError):
            raise first  # type: ignore[misc]  # a bug: keep its traceback
        stopped = MedevalsError(
            f"{len(failed)} of {len(plan)} runs stopped (the others finished); first: "
            f"{failed[0].model} {failed[0].benchmark}: {first}"
        )
        stopped.exit_code = first.exit_code
        raise stopped
    exit_if_incomplete(outcomes, allow_errors)


def _run_on_ray(plan, ray, quiet: bool) -> None:  # type: ignore[no-untyped-def]
    """The runs on Ray with one progress row per run and a row for the suite; SIGINT, SIGTERM and
    SIGHUP interrupt every run (each saved, resumable) and exit 128 + signal."""
    import asyncio
    import signal
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from medevals.commands.output import err
    from medevals.engine.ray_executor import RayExecutor
    from medevals.errors import Interrupted
    from medevals.evaluate import _Stop
    from medevals.suites.fanout import FanoutHooks, run_on_ray

    show = not quiet and err.is_terminal
    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}", markup=False),
        console=err,
        disable=not show,
        refresh_per_second=4,
    )
    rows: dict[int, object] = {}
    started: dict[int, tuple[float, int]] = {}
    overall = progress.add_task(f"suite: {len(plan)} runs", total=len(plan), rate="", note="")

    def label(r) -> str:  # type: ignore[no-untyped-def]
        return f"{r.model} · {r.prepared.benchmarks[0].bench.name}"

    def on_start(r, folder, resumed, skipped, total) -> None:  # type: ignore[no-untyped-def]
        started[id(r)] = (time.perf_counter(), skipped)
        rows[id(r)] = progress.add_task(
            label(r), total=total, completed=skipped, rate="", note=folder.path.name
        )
        if not quiet and not show:
            verb = f"resuming ({skipped}/{total} done)" if resumed else "writing"
            err.print(
                f"{label(r)}: {verb} {folder.path}",
                style="dim",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )

    def on_progress(r, done, total, stats) -> None:  # type: ignore[no-untyped-def]
        t0, base = started.get(id(r), (time.perf_counter(), 0))
        rate = (done - base) / max(1e-9, time.perf_counter() - t0)
        progress.update(rows[id(r)], completed=done, rate=f"{rate:.1f} it/s")  # type: ignore[arg-type]

    def on_end(r) -> None:  # type: ignore[no-untyped-def]
        progress.advance(overall)
        if r.outcome is not None:
            note = r.outcome.manifest.status
        else:
            note = f"stopped: {str(r.error).splitlines()[0][:80]}" if r.error else "stopped"
        if id(r) in rows:
            progress.update(rows[id(r)], note=note)  # type: ignore[arg-type]
        if not quiet and not show:
            err.print(f"{label(r)}: {note}", highlight=False, markup=False, soft_wrap=True)

    def on_warning(r, message) -> None:  # type: ignore[no-untyped-def]
        err.print(f"warning: {label(r)}: {message}", markup=False, highlight=False, soft_wrap=True)

    hooks = FanoutHooks(on_start=on_start, on_progress=on_progress, on_end=on_end, on_warning=on_warning)
    stop = _Stop()

    async def go() -> None:
        if not quiet:
            err.print("connecting to Ray ...", style="dim")
        executor = RayExecutor(ray)
        stop.install()  # a signal cancels this task, and so every run in it
        try:
            await run_on_ray(plan, executor, hooks)
        finally:
            stop.remove()
            await executor.close()

    with progress:
        try:
            asyncio.run(go())
        except (asyncio.CancelledError, KeyboardInterrupt):
            sig = stop.signum or signal.SIGINT
            saved = sum(1 for r in plan if r.outcome is not None)
            raise Interrupted(
                f"interrupted ({signal.Signals(sig).name}): {saved} of {len(plan)} runs finished, the others "
                "saved what they finished; rerun the same command to resume",
                sig,
            ) from None
