"""Response cache in SQLite, shared across runs, keyed by ``keys.request_key``.

Only successful responses are stored. WAL mode lets several runs share the file. The cache
is an optimisation only: resume reads the run folder, never the cache, so a run resumes
correctly with ``--no-cache`` or after the cache file is deleted.
"""

from __future__ import annotations

import json
import sqlite3
import time
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


def default_cache_path() -> Path:
    from medevals.models.builtin import model_cache_dir

    return model_cache_dir() / "cache.sqlite"


class ResponseCache:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> tuple[dict[str, Any], float] | None:
        row = self._db.execute("SELECT raw, latency_s FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return json.loads(row[0]), float(row[1])

    def put(self, key: str, model: str, kind: str, raw: dict[str, Any], latency_s: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, model, kind, raw, latency_s, created) VALUES (?, ?, ?, ?, ?, ?)",
            (key, model, kind, json.dumps(raw, ensure_ascii=False), latency_s, time.time()),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._db.close()
