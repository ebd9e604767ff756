"""A suite's (model x benchmark) runs fanned out over a Ray cluster from one driver process.

Each run is an ordinary ``evaluate.execute`` with a run folder of its own, executed by the
model's Ray workers (``engine/ray_executor.py``); all of them share one asyncio loop in this
process, which stays the only writer of every run folder. The runs of one model share that
model's workers (an in-process model loads once per worker, not once per benchmark), and as
many models run at once as the cluster has room for workers of the requested size
(``RayExecutor.capacity() // --ray-workers``); the others wait for a model to finish and free
its workers. A run that fails does not stop the others: its error is returned with its run,
and the same command later resumes whatever is unfinished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medevals.engine.client import CallStats
    from medevals.engine.ray_executor import RayExecutor
    from medevals.evaluate import Prepared, RunOutcome
    from medevals.runs.folder import RunFolder


@dataclass
class PlannedRun:
    """One (model x benchmark) run of a suite, prepared (data loaded, options checked)."""

    model: str
    benchmark: str
    prepared: Prepared
    #: (model index, entry index) in the suite: two entries may name the same benchmark
    key: tuple[int, int] = (0, 0)
    outcome: RunOutcome | None = None
    error: BaseException | None = None


@dataclass
class FanoutHooks:
    """What the caller shows: a run started (folder, resumed, done, total), progressed, ended."""

    on_start: Callable[[PlannedRun, RunFolder, bool, int, int], None] = lambda *a: None
    on_progress: Callable[[PlannedRun, int, int, CallStats], None] = lambda *a: None
    on_end: Callable[[PlannedRun], None] = lambda r: None
    on_warning: Callable[[PlannedRun, str], None] = lambda r, m: None
    extra: dict[str, Any] = field(default_factory=dict)


def _model_key(p: Prepared) -> str:
    from medevals.engine.keys import canonical_json

    return canonical_json(
        {
            "model": p.model.model_dump(),
            "roles": {k: v.model_dump() for k, v in sorted(p.roles.items())},
            "concurrency": p.concurrency,
        }
    )


async def run_on_ray(runs: list[PlannedRun], executor: RayExecutor, hooks: FanoutHooks) -> None:
    """Execute every run; each ``PlannedRun`` gets its ``outcome`` or its ``error``.

    Cancelling this coroutine (a signal) cancels every run; each ends ``interrupted`` with its
    finished samples saved, and the cancellation is re-raised once all of them have wound down.
    """
    from medevals.evaluate import execute

    groups: dict[str, list[PlannedRun]] = {}
    for r in runs:
        groups.setdefault(_model_key(r.prepared), []).append(r)
    room = asyncio.Semaphore(max(1, executor.capacity() // max(1, executor.options.workers)))

    async def one(r: PlannedRun) -> None:
        try:
            r.outcome = await execute(
                r.prepared,
                progress=lambda done, total, stats: hooks.on_progress(r, done, total, stats),
                on_start=lambda folder, resumed, skipped, total: hooks.on_start(
                    r, folder, resumed, skipped, total
                ),
                on_warning=lambda message: hooks.on_warning(r, message),
                executor=executor,
                handle_signals=False,
            )
        except asyncio.CancelledError:
            raise
        except Exception as e:  # this run's failure; the others go on
            r.error = e
        finally:
            hooks.on_end(r)

    async def model(group: list[PlannedRun]) -> None:
        async with room:
            try:  # the model's workers, for all its runs
                pool = await executor.acquire(group[0].prepared)
            except Exception as e:  # this model cannot start (workers, versions): its runs say why
                for r in group:
                    r.error = e
                    hooks.on_end(r)
                return
            try:
                await asyncio.gather(*(one(r) for r in group))
            finally:
                await executor.release(pool)

    await asyncio.gather(*(model(g) for g in groups.values()))
