"""The resume journal: every finished model call of a run, appended as it completes.

On resume, calls of units that did not finish are replayed from here instead of being sent
again, so an interrupted multi-call unit (a consultation, an agent loop) does not repeat a
single paid call. It is independent of the response cache by design. Records are appended
whole or not at all (``jsonl_append``): a full disk never leaves half a record behind.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

from medevals.engine.jsonl_append import LineAppender, cut_torn_tail, storage_error
from medevals.schema import CallRecord


class Journal:
    def __init__(self, path: Path, finished_units: set[str] | frozenset[str] = frozenset()):
        self.path = path
        self._finished = finished_units
        self._replay: dict[str, deque[CallRecord]] = defaultdict(deque)
        #: The same records by unit, for executors that ship a unit's calls with it (Ray).
        self._by_unit: dict[str, list[CallRecord]] = defaultdict(list)
        self.n_loaded = 0
        self.n_torn = 0
        if path.exists():
            self._load()
        self._out = LineAppender(path)

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
                self._by_unit[rec.unit_id].append(rec)
                self.n_loaded += 1
        if self.n_torn:
            # Drop a torn tail so new appends start on a clean line (an unreadable whole line
            # is left in place and skipped again next time).
            try:
                cut_torn_tail(self.path)
            except OSError as e:
                raise storage_error(self.path, e) from None

    def take(self, key: str) -> CallRecord | None:
        """A finished call with this key from an earlier attempt at the run, once per recorded call."""
        q = self._replay.get(key)
        if not q:
            return None
        rec = q.popleft()
        mine = self._by_unit.get(rec.unit_id)
        if mine:
            mine[:] = [r for r in mine if r is not rec]
        return rec

    def take_unit(self, unit_id: str) -> list[CallRecord]:
        """Every recorded call of unit ``unit_id``, once: an executor that runs the unit elsewhere
        (a Ray worker) ships them with it, and the unit replays them by key as ``take`` would."""
        recs = self._by_unit.pop(unit_id, [])
        for rec in recs:
            q = self._replay.get(rec.key)
            if q:
                kept = [r for r in q if r is not rec]
                q.clear()
                q.extend(kept)
        return recs

    def append(self, rec: CallRecord) -> None:
        """Record a finished call; raises ``StorageError`` (file unchanged) when the disk is full."""
        self._out.append(rec.model_dump_json() + "\n")

    def close(self, *, remove: bool = False) -> None:
        self._out.close()
        if remove and self.path.exists():
            self.path.unlink()
