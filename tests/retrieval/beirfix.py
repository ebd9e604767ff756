"""A tiny self-written BEIR folder and a deterministic fake embedder for retrieval tests."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

DOCS = [
    {"_id": "d1", "title": "Aspirin", "text": "aspirin reduces fever and pain"},
    {"_id": "d2", "title": "Insulin", "text": "insulin treats diabetes mellitus"},
    {"_id": "d3", "title": "Statins", "text": "statins lower blood cholesterol"},
    {"_id": "d4", "title": "Antibiotics", "text": "antibiotics cure bacterial infection"},
]
QUERIES = [
    {"_id": "q1", "text": "which drug treats diabetes"},
    {"_id": "q2", "text": "what lowers cholesterol"},
    {"_id": "q3", "text": "fever and pain relief"},
]
QRELS = [("q1", "d2", 1), ("q2", "d3", 2), ("q3", "d1", 1)]


def write_beir(folder: Path, *, bad: bool = False) -> Path:
    """The folder; with ``bad`` also a document without an id and a judgement naming an unknown doc."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = list(DOCS) + ([{"title": "orphan", "text": "a document nobody can cite"}] if bad else [])
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    (folder / "qrels").mkdir(exist_ok=True)
    rows = list(QRELS) + ([("q1", "d999", 1)] if bad else [])
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in rows)
    )
    return folder


def _vector(text: str, dim: int = 64) -> list[float]:
    v = [0.0] * dim
    for w in re.findall(r"[a-z]+", text.lower()):
        v[int(hashlib.md5(w[:5].encode()).hexdigest(), 16) % dim] += 1.0
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


def embedding_responder(path: str, body: dict[str, Any]) -> dict[str, Any] | str:
    """Bag of word-prefixes hashed into 64 dimensions: similar words, similar vectors."""
    if not path.endswith("/embeddings"):
        return "The answer is (A)."
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(texts)],
        "usage": {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0},
    }
