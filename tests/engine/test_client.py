"""The one call path: cache keys, retries with backoff, Retry-After, faults, journal replay."""

import asyncio
import time

import pytest
from fake_openai import Faults

from medevals.engine.cache import ResponseCache
from medevals.engine.client import CallFailed, ModelClient, RetryPolicy
from medevals.engine.costs import PriceTable
from medevals.engine.journal import Journal
from medevals.engine.keys import request_key
from medevals.errors import ModelError
from medevals.models.openai_compat import OpenAICompatBackend, parse_retry_after
from medevals.schema import ModelRecord, ModelRequest

FAST = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05, timeout=2.0)


def _client(server, **kw):
    rec = ModelRecord(spec="openai:fake", backend="openai", name="fake", base_url=server.base_url)
    return ModelClient(OpenAICompatBackend(rec, concurrency=4), **{"retry": FAST, **kw})


def _req(**body):
    return ModelRequest(kind="chat", body={"messages": [{"role": "user", "content": "hi"}], **body})


def test_key_covers_temperature_seed_n_and_sample_index():
    base = {"messages": [{"role": "user", "content": "q"}], "temperature": 0}
    k = request_key("m", "chat", base)
    assert k != request_key("m", "chat", {**base, "temperature": 0.7})
    assert k != request_key("m", "chat", {**base, "seed": 1})
    assert k != request_key("m", "chat", {**base, "n": 5})
    assert k != request_key("m", "chat", base, sample_index=1)
    assert k != request_key("other", "chat", base)
    assert k == request_key("m", "chat", dict(reversed(list(base.items()))))  # order-insensitive


def test_cache_hit_skips_the_server(fake_server, tmp_path):
    server = fake_server()
    cache = ResponseCache(tmp_path / "c.sqlite")

    async def go():
        c = _client(server, cache=cache)
        a = await c.call(_req(temperature=0))
        b = await c.call(_req(temperature=0))
        d = await c.call(_req(temperature=0.5))
        await c.close()
        return a, b, d, c.stats

    a, b, d, stats = asyncio.run(go())
    assert not a.cached and b.cached and not d.cached
    assert server.n_requests == 2 and stats.cache_hits == 1
    assert b.raw == a.raw


def test_retries_honour_retry_after(fake_server):
    server = fake_server(faults=Faults(rate_429=1.0, retry_after=0.2))

    async def go():
        c = _client(server, retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01, timeout=2))
        t0 = time.perf_counter()
        with pytest.raises(CallFailed) as ei:
            await c.call(_req())
        return time.perf_counter() - t0, ei.value.record, c.stats

    elapsed, rec, stats = asyncio.run(go())
    assert rec.attempts == 3 and "HTTP 429" in rec.error
    assert elapsed >= 0.4  # two waits of at least Retry-After (0.2 s), not the 0.01 s backoff
    assert stats.retries == 2 and stats.retry_reasons == {"HTTP 429": 2}


@pytest.mark.parametrize("fault", ["rate_500", "rate_503", "rate_truncated", "rate_empty", "rate_reset"])
def test_transient_faults_are_retried_until_success(fake_server, fault):
    server = fake_server(faults=Faults(**{fault: 0.5}), seed=3)

    async def go():
        c = _client(server)
        recs = await asyncio.gather(*(c.call(_req(temperature=0, seed=i)) for i in range(20)))
        await c.close()
        return recs, c.stats

    recs, stats = asyncio.run(go())
    assert all(r.error is None and r.raw["choices"] for r in recs)
    assert stats.retries > 0


def test_timeout_is_retried(fake_server):
    server = fake_server(faults=Faults(rate_hang=0.5, hang_s=5), seed=1)

    async def go():
        c = _client(server, retry=RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.02, timeout=0.3))
        recs = await asyncio.gather(*(c.call(_req(seed=i)) for i in range(6)))
        return recs, c.stats

    recs, stats = asyncio.run(go())
    assert all(r.error is None for r in recs)
    assert stats.retry_reasons.get("timeout after 0.3s (before headers)", 0) > 0


def test_permanent_error_is_not_retried(fake_server):
    server = fake_server(responder=lambda path, body: {"not": "used"})
    server.faults = Faults()

    async def go():
        rec = ModelRecord(
            spec="openai:fake", backend="openai", name="fake", base_url=server.base_url.replace("/v1", "/v2")
        )
        c = ModelClient(OpenAICompatBackend(rec), retry=FAST)
        with pytest.raises(CallFailed) as ei:
            await c.call(_req())
        return ei.value.record

    rec = asyncio.run(go())
    assert rec.attempts == 1 and "HTTP 404" in rec.error


def test_unreachable_server_aborts_after_consecutive_failures():
    rec = ModelRecord(spec="openai:x", backend="openai", name="x", base_url="http://127.0.0.1:9/v1")

    async def go():
        c = ModelClient(
            OpenAICompatBackend(rec), retry=RetryPolicy(max_attempts=1, max_consecutive_failures=3)
        )
        for i in range(2):
            with pytest.raises(CallFailed):
                await c.call(_req(seed=i))
        with pytest.raises(ModelError, match=r"failed 3 calls in a row.*connection error"):
            await c.call(_req(seed=9))

    asyncio.run(go())


def test_journal_replays_finished_calls_without_the_cache(fake_server, tmp_path):
    server = fake_server()
    path = tmp_path / "journal.jsonl"

    async def first():
        j = Journal(path)
        c = _client(server, journal=j)
        await c.call(_req(seed=1), unit_id="u1")
        await c.call(_req(seed=2), unit_id="u2")
        j.close()

    async def second():
        j = Journal(path, finished_units=frozenset({"u2"}))
        c = _client(server, journal=j)
        r1 = await c.call(_req(seed=1), unit_id="u1")  # unfinished unit: replayed
        r2 = await c.call(_req(seed=2), unit_id="u2")  # finished unit's call is not replayed
        return r1, r2

    asyncio.run(first())
    assert server.n_requests == 2
    r1, r2 = asyncio.run(second())
    assert r1.replayed and not r2.replayed
    assert server.n_requests == 3


def test_torn_journal_line_is_dropped(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text(
        '{"model": "m", "kind": "chat", "request": {}, "key": "k", "unit_id": "u"}\n{"model": "m", "kin',
        encoding="utf-8",
    )
    j = Journal(path)
    assert j.n_loaded == 1 and j.n_torn == 1
    assert path.read_text(encoding="utf-8").endswith("\n")


def test_cost_accounting(fake_server):
    server = fake_server()
    prices = PriceTable()
    prices.set("fake", 1.0, 2.0)

    async def go():
        c = _client(server, prices=prices)
        return await c.call(_req())

    rec = asyncio.run(go())
    u = rec.usage
    assert rec.cost_usd == pytest.approx((u.prompt_tokens * 1.0 + u.completion_tokens * 2.0) / 1e6)


def test_unknown_price_is_unknown_not_zero(fake_server):
    server = fake_server()
    rec = asyncio.run(_client(server).call(_req()))
    assert rec.cost_usd is None


def test_parse_retry_after():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0 + 1e-9
