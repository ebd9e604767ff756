"""What the CLI does to start fast: the cyclic GC paused until the work begins, no pydantic plugin scan.

Start-up (imports, typer's option adapters, pydantic model classes, the spec and its items)
allocates a few hundred thousand long-lived objects and next to no cyclic garbage, yet the
collector ran ~120 passes over them, one of them full: a quarter of a one-item run's CPU
(0.19-0.24 of 0.73-0.83 s measured with ``gc.callbacks``). ``resume()`` then freezes what
start-up made (``gc.freeze()``: the permanent generation), so the collections during a run scan
only what the run itself allocates.

``python -m medevals`` pauses before importing the CLI, the ``medevals`` script in ``main()``.
``run`` and ``suite`` resume when the engine starts (``commands/progress.py``); every other
command resumes in the root callback, before its own work.

pydantic looks for plugins by reading the entry points of every installed distribution the first
time a model class is built (~55 ms of CPU with ~190 distributions here). The CLI process has
no use for them, so ``pause()`` sets ``PYDANTIC_DISABLE_PLUGINS=__all__`` unless the variable is
already set: set it to any other value (e.g. ``none``) to keep plugins loading.
"""

from __future__ import annotations

import gc
import os

#: Commands that resume in ``progress_runner`` (their start-up ends where the engine begins).
RESUMED_BY_ENGINE = frozenset({"run", "suite"})


def pause() -> None:
    gc.disable()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def resume() -> None:
    """Freeze what exists now and collect again (idempotent: enabled means already resumed)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
