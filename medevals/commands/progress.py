"""The live progress runner and the ``incomplete`` exit shared by ``medevals run`` and ``medevals suite run``.

Its own module so ``commands/suite.py`` and ``cli.py`` both import it (suite used to import private
helpers from ``cli.py``, a cycle). Heavy imports (rich.progress, the engine) stay inside functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from medevals.commands import startup
from medevals.commands.output import err

if TYPE_CHECKING:
    from collections.abc import Callable

    from medevals.engine.ray_executor import RayOptions
    from medevals.evaluate import Prepared, RunConfig, RunOutcome


def progress_runner(
    cfg: RunConfig, quiet: bool, prepared: Prepared | None = None, ray: RayOptions | None = None
) -> RunOutcome:
    """Prepare and execute with a live progress bar (items/s, tokens, cost, cache hits, retries).

    SIGTERM and SIGHUP stop it as Ctrl-C does; during the run the engine turns all three into
    ``Interrupted`` (N of M saved, resumable). Typer would swallow a bare KeyboardInterrupt.
    """
    import signal

    from medevals.errors import Interrupted

    caught: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        caught.append(signum)
        raise KeyboardInterrupt

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            previous[getattr(signal, name)] = signal.signal(getattr(signal, name), on_signal)
    try:
        return _run_with_progress(cfg, quiet, prepared, ray)
    except KeyboardInterrupt:
        sig = caught[0] if caught else signal.SIGINT
        raise Interrupted(
            f"interrupted ({signal.Signals(sig).name}) before the run started: nothing to resume", sig
        ) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_with_progress(
    cfg: RunConfig, quiet: bool, prepared: Prepared | None, ray: RayOptions | None = None
) -> RunOutcome:
    import asyncio

    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from medevals.evaluate import execute, prepare
    from medevals.steps import reporting

    prepared = prepared or prepare(cfg)
    show = not quiet and err.is_terminal
    progress = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        _count_column(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[eta]}"),
        TextColumn("{task.fields[stats]}"),
        console=err,
        disable=not show,
        refresh_per_second=4,
    )
    state: dict[str, Any] = {}

    def on_start(folder, resumed: bool, skipped: int, total: int) -> None:
        import time

        if not quiet:
            verb = f"resuming ({skipped}/{total} done)" if resumed else "writing"
            err.print(f"{verb} {folder.path}", style="dim")
        state["t0"], state["base"] = time.perf_counter(), skipped
        label = prepared.model.spec if prepared.model.spec != "none" else prepared.cfg.benchmarks[0]
        state["task"] = progress.add_task(label, total=total, completed=skipped, rate="", eta="", stats="")

    def on_progress(done: int, total: int, stats) -> None:
        import time

        el = max(1e-9, time.perf_counter() - state["t0"])
        cost = f"${stats.cost_usd:.4f}" if not stats.cost_unknown_calls else "$?"
        rate = (done - state["base"]) / el
        progress.update(
            state["task"],
            completed=done,
            rate=f"{rate:.1f} it/s",
            eta=eta_text((total - done) / rate if rate > 0 else None),
            stats=f"tok {stats.prompt_tokens + stats.completion_tokens:,} {cost} cache {stats.cache_hits} retry {stats.retries}",
        )

    def on_warning(message: str) -> None:
        err.print(f"warning: {message}", markup=False, highlight=False, soft_wrap=True)

    on_step = step_printer(progress, show=show, quiet=quiet)

    async def go() -> RunOutcome:
        executor = None
        if ray is not None:
            from medevals.engine.ray_executor import RayExecutor

            if not quiet:
                err.print("connecting to Ray ...", style="dim")
            executor = RayExecutor(ray)
        try:
            return await execute(
                prepared,
                progress=on_progress if show else None,  # hidden: nothing to update per item
                on_start=on_start,
                on_warning=on_warning,
                executor=executor,
            )
        finally:
            if executor is not None:
                await executor.close()

    startup.resume()  # start-up is over: what it made is frozen, the run's own garbage is collected
    with progress, reporting(on_step):
        return asyncio.run(go())


def _count_column() -> Any:
    """``640/1000``; nothing for a step without a count (a model load), not ``0/?`` or ``1/1``."""
    from rich.progress import MofNCompleteColumn
    from rich.text import Text

    class Count(MofNCompleteColumn):
        def render(self, task: Any) -> Text:
            return super().render(task) if task.fields.get("count", True) else Text("")

    return Count()


def eta_text(seconds: float | None) -> str:
    """``eta 0:08:40`` from the rate so far (rich's own estimate needs several updates within 30 s,
    which a corpus embedded 64 documents at a time on a slow machine never gives)."""
    if seconds is None:
        return "eta ?"
    s = round(seconds)
    return f"eta {s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


#: A step that ends sooner leaves no row behind (a fast model connection, a cached index).
STEP_SHOWN_S = 2.0


def step_printer(progress: Any, *, show: bool, quiet: bool) -> Callable[[Any], None]:
    """Show the long steps before the item loop (model load, corpus embedding, index building) as
    rows of the run's progress display: rate and ETA when the amount is known. Rows of steps
    under ``STEP_SHOWN_S`` are removed when they end; without a terminal a step that took longer
    prints one line when it ends (what, how many, how long, how fast)."""
    rows: dict[int, Any] = {}

    def on_step(ev: Any) -> None:
        if not show:
            if ev.finished and ev.ok and ev.elapsed_s >= STEP_SHOWN_S and not quiet:
                what = f"{ev.done} {ev.unit} in " if ev.total is not None else ""
                rate = f" ({ev.rate:.1f} {ev.unit}/s)" if ev.rate else ""
                err.print(f"{ev.label}: {what}{ev.elapsed_s:.1f} s{rate}", style="dim", highlight=False)
            return
        row = rows.get(ev.key)
        if row is None:
            row = rows[ev.key] = progress.add_task(
                ev.label, total=ev.total, rate="", eta="", stats="", count=ev.total is not None
            )
        if ev.finished and (ev.elapsed_s < STEP_SHOWN_S or not ev.ok):
            progress.remove_task(row)
            return
        rate = f"{ev.rate:.1f} {ev.unit}/s" if ev.rate else ""
        if ev.total is None and ev.finished:
            progress.update(row, total=1, completed=1, rate=rate, eta="")
        else:
            eta = "" if ev.finished or ev.total is None else eta_text(ev.eta_s)
            progress.update(row, completed=ev.done, rate=rate, eta=eta)
        if ev.finished:
            progress.stop_task(row)

    return on_step


def exit_if_incomplete(outcomes: list[RunOutcome], allow_errors: bool) -> None:
    """One line saying why a run is ``incomplete``; exit 1 unless --allow-errors accepts it."""
    bad = [o for o in outcomes if o.failed]
    if not bad:
        return
    kinds: dict[str, int] = {}
    for o in bad:
        for b in o.metrics.get("benchmarks", {}).values():
            for kind, n in (b.get("errors") or {}).items():
                kinds[kind] = kinds.get(kind, 0) + n
    why = ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:3])
    failed, total = sum(o.failed for o in bad), sum(o.total for o in bad)
    first = next((o.first_error for o in bad if o.first_error), "unknown")
    folders = ", ".join(str(o.folder.path) for o in bad)
    hint = "" if allow_errors else "; or pass --allow-errors to accept it as is"
    err.print(
        f"incomplete: {failed} of {total} samples failed ({why}) and are not in the metrics; "
        f"first error: {first}; rerun the same command to retry them ({folders}){hint}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if not allow_errors:
        raise typer.Exit(1)
