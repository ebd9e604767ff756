"""The resume journal: every finished model call of a run, appended as it completes.

On resume, calls of units that did not finish are replayed from here instead of being sent
again, so an interrupted multi-call unit (a consultation, an agent loop) does not repeat a
single paid call. It is independent of the response cache by design.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path
from typing import IO

from medevals.schema import CallRecord


class Journal:
    def __init__(self, path: Path, finished_units: set[str] | frozenset[str] = frozenset()):
        self.path = path
        self._finished = finished_units
        self._replay: dict[str, deque[CallRecord]] = defaultdict(deque)
        self.n_loaded = 0
        self.n_torn = 0
        if path.exists():
            self._load()
        self._fh: IO[str] | None = None

    def _load(self) -> None:
        with self.path.open("r", encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    self.n_torn += 1  # a write cut by a crash: the call is simply redone
                    continue
                try:
                    rec = CallRecord.model_validate_json(line)
                except ValueError:
                    self.n_torn += 1
                    continue
                if rec.unit_id in self._finished:
                    continue  # its calls are already in samples.jsonl
                self._replay[rec.key].append(rec)
                self.n_loaded += 1
        if self.n_torn:
            # Drop the torn tail so new appends start on a clean line.
            good = [
                ln
                for ln in self.path.read_text(encoding="utf-8").splitlines(keepends=True)
                if ln.endswith("\n")
            ]
            self.path.write_text("".join(good), encoding="utf-8")

    def take(self, key: str) -> CallRecord | None:
        """A finished call with this key from an earlier attempt at the run, once per recorded call."""
        q = self._replay.get(key)
        if not q:
            return None
        return q.popleft()

    def append(self, rec: CallRecord) -> None:
        if self._fh is None:
            self._fh = self.path.open("a", encoding="utf-8")
        self._fh.write(rec.model_dump_json() + "\n")
        self._fh.flush()

    def close(self, *, remove: bool = False) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if remove and self.path.exists():
            self.path.unlink()
