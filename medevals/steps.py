"""Progress of the long steps outside the item loop: model load, corpus embedding, index building.

The item loop has its own bar (items/s, ETA). The steps before it ran silently: embedding the 1000
PubMedQA abstracts was minutes of blank screen. Code doing such a step says what it does, how much
there is (when it knows) and how far it got; whoever runs the command decides how to show it,
through a hook set for the current context. A ``ContextVar`` carries the hook, so the run's asyncio
tasks and ``asyncio.to_thread`` calls inherit it, and library use without a hook costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class StepEvent:
    """One report of a step: started (done 0), advanced, or ended (``finished``; ``ok`` False when
    it raised). ``total`` None = not known in advance (a model load): no rate, no ETA."""

    key: int
    label: str
    done: int
    total: int | None
    unit: str
    elapsed_s: float
    finished: bool = False
    ok: bool = True

    @property
    def rate(self) -> float | None:
        """Units per second so far (None before the first unit or without a total)."""
        if self.total is None or self.done <= 0 or self.elapsed_s <= 0:
            return None
        return self.done / self.elapsed_s

    @property
    def eta_s(self) -> float | None:
        rate = self.rate
        if rate is None or self.total is None:
            return None
        return max(0.0, (self.total - self.done) / rate)


StepHook = Callable[[StepEvent], None]

_hook: ContextVar[StepHook | None] = ContextVar("medevals_step_hook", default=None)
_next_key = iter(range(1, 1 << 62))


@contextmanager
def reporting(hook: StepHook | None) -> Iterator[None]:
    """Send the steps started in this context (and the tasks and threads it starts) to ``hook``."""
    token = _hook.set(hook)
    try:
        yield
    finally:
        _hook.reset(token)


class Step:
    """A running step; ``advance(n)`` after each finished part (a batch of documents)."""

    def __init__(self, label: str, total: int | None, unit: str) -> None:
        self.key = next(_next_key)
        self.label, self.total, self.unit = label, total, unit
        self.done = 0
        self.t0 = time.perf_counter()
        self._hook = _hook.get()

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._emit()

    def _emit(self, finished: bool = False, ok: bool = True) -> None:
        if self._hook is None:
            return
        self._hook(
            StepEvent(
                self.key,
                self.label,
                self.done,
                self.total,
                self.unit,
                time.perf_counter() - self.t0,
                finished,
                ok,
            )
        )


@contextmanager
def step(label: str, total: int | None = None, unit: str = "it") -> Iterator[Step]:
    """``with step("embedding corpus", total=1000, unit="docs") as s: ... s.advance(64)``."""
    s = Step(label, total, unit)
    s._emit()
    try:
        yield s
    except BaseException:
        s._emit(finished=True, ok=False)
        raise
    s._emit(finished=True)
