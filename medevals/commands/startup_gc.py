"""The cyclic garbage collector is paused while the CLI starts and resumed when the work begins.

Start-up (imports, typer's option adapters, pydantic model classes, the spec and its items)
allocates a few hundred thousand long-lived objects and next to no cyclic garbage, yet the
collector ran ~120 passes over them, one of them full: a quarter of a one-item run's CPU
(0.19-0.24 of 0.73-0.83 s measured with ``gc.callbacks``). ``resume()`` then freezes what
start-up made (``gc.freeze()``: the permanent generation), so the collections during a run scan
only what the run itself allocates.

``python -m medevals`` pauses before importing the CLI, the ``medevals`` script in ``main()``.
``run`` and ``suite`` resume when the engine starts (``commands/progress.py``); every other
command resumes in the root callback, before its own work.
"""

from __future__ import annotations

import gc

#: Commands that resume in ``progress_runner`` (their start-up ends where the engine begins).
RESUMED_BY_ENGINE = frozenset({"run", "suite"})


def pause() -> None:
    gc.disable()


def resume() -> None:
    """Freeze what exists now and collect again (idempotent: enabled means already resumed)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
