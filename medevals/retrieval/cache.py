"""Where retrieval indexes live on disk: one folder per corpus hash under the medevals cache."""

from __future__ import annotations

import os
from pathlib import Path


def index_dir(corpus_hash: str) -> Path:
    """``$MEDEVALS_HOME/retrieval/<hash>`` (``MEDEVALS_INDEX_DIR`` overrides the root, e.g. for tests)."""
    from medevals.models.builtin import model_cache_dir

    root = Path(os.environ["MEDEVALS_INDEX_DIR"]) if os.environ.get("MEDEVALS_INDEX_DIR") else None
    root = root or model_cache_dir() / "retrieval"
    path = root / corpus_hash[:24]
    path.mkdir(parents=True, exist_ok=True)
    return path
