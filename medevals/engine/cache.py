"""Response cache in SQLite, shared across runs, keyed by ``keys.request_key``.

Only successful responses are stored. WAL mode lets several runs share the file. The cache
is an optimisation only: resume reads the run folder, never the cache, so a run resumes
correctly with ``--no-cache`` or after the cache file is deleted.

Because it is only an optimisation, a cache that fails (disk full, read-only, locked past the
busy timeout, a corrupt file) must never cost an answer: the first failure is reported once
through ``on_error``, the cache turns itself off for the rest of the run, and every call goes
to the model as if ``--no-cache`` had been given.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
  key TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  kind TEXT NOT NULL,
  raw TEXT NOT NULL,
  latency_s REAL NOT NULL,
  created REAL NOT NULL
)
"""

#: What a failing cache can raise: SQLite errors (full, locked, corrupt, read-only), file-system
#: errors creating its folder, and a stored row that does not decode.
_FAULTS = (sqlite3.Error, OSError, ValueError, TypeError)


def default_cache_path() -> Path:
    from medevals.models.builtin import model_cache_dir

    return model_cache_dir() / "cache.sqlite"


class ResponseCache:
    def __init__(
        self, path: Path | str, *, on_error: Callable[[str], None] | None = None, readonly: bool = False
    ):
        """``readonly``: open an existing cache for lookups only (SQLite ``mode=ro``); ``put`` does
        nothing. Ray workers look answers up this way on the driver's node, while the driver
        stays the only writer (``engine/ray_executor.py``)."""
        self.path = Path(path)
        self.on_error = on_error
        self.readonly = readonly
        #: Why the cache turned itself off (None while it works).
        self.problem: str | None = None
        self._db: sqlite3.Connection | None = None
        try:
            if readonly:
                self._db = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=30,
                )
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except _FAULTS as e:
            self._disable("open", e)

    @property
    def disabled(self) -> bool:
        return self.problem is not None

    def _disable(self, what: str, e: BaseException) -> None:
        if self.problem is not None:
            return
        self.problem = (
            f"response cache {self.path}: {what} failed ({type(e).__name__}: {e}); "
            "the cache is off for the rest of this run, answers are still kept in the run folder"
        )
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        if self.on_error is not None:
            self.on_error(self.problem)

    def get(self, key: str) -> tuple[dict[str, Any], float] | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT raw, latency_s FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            return json.loads(row[0]), float(row[1])
        except _FAULTS as e:
            self._disable("read", e)
            return None

    def put(self, key: str, model: str, kind: str, raw: dict[str, Any], latency_s: float) -> None:
        if self._db is None or self.readonly:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, model, kind, raw, latency_s, created) VALUES (?, ?, ?, ?, ?, ?)",
                (key, model, kind, json.dumps(raw, ensure_ascii=False), latency_s, time.time()),
            )
        except _FAULTS as e:
            self._disable("write", e)

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
