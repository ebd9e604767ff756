"""The response cache is keyed by the server too; the resume journal by the request alone."""

from __future__ import annotations

import asyncio

import pytest
from clihelp import run_ok
from fake_openai import constant, mcq_by_item_number
from genbench import write_bench

from medevals.engine.cache import ResponseCache
from medevals.engine.client import ModelClient, RetryPolicy
from medevals.engine.journal import Journal
from medevals.engine.keys import cache_key, normalize_base_url, request_key
from medevals.models.builtin import BuiltinBackend, builtin_record
from medevals.models.openai_compat import OpenAICompatBackend
from medevals.schema import ModelRecord, ModelRequest

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, timeout=5.0)


@pytest.mark.parametrize(
    "a,b",
    [
        ("http://host:8000/v1", "http://host:8000/v1/"),
        ("http://host:8000/v1", "HTTP://HOST:8000/v1"),
        ("http://host:8000/v1", "http://user:secret@host:8000/v1"),
        ("http://host/v1", "http://host:80/v1"),
        ("https://api.example.com/v1", "https://api.example.com:443/v1//"),
    ],
)
def test_same_server_same_identity(a, b):
    assert normalize_base_url(a) == normalize_base_url(b)


@pytest.mark.parametrize(
    "a,b",
    [
        ("http://host:8000/v1", "http://host:8001/v1"),
        ("http://host:8000/v1", "https://host:8000/v1"),
        ("http://host:8000/v1", "http://other:8000/v1"),
        ("http://host:8000/v1", "http://host:8000/v2"),
        ("http://localhost:8000/v1", "http://127.0.0.1:8000/v1"),  # names are not resolved
    ],
)
def test_other_server_other_identity(a, b):
    assert normalize_base_url(a) != normalize_base_url(b)


def test_server_identity_never_holds_credentials():
    assert normalize_base_url("http://user:sk-SECRET@host:8000/v1") == "http://host:8000/v1"


def test_cache_key_adds_the_server_to_the_request_key():
    k = request_key("openai:m", "chat", {"messages": [], "temperature": 0})
    assert cache_key(k, None) == k
    assert cache_key(k, "http://a/v1") != cache_key(k, "http://b/v1") != k


def _backend(url: str, **settings) -> OpenAICompatBackend:
    return OpenAICompatBackend(
        ModelRecord(spec="openai:fake", backend="openai", name="fake", base_url=url, settings=settings)
    )


def test_backend_server_ids():
    assert _backend("http://H:8000/v1/").server_id == "http://h:8000/v1"
    # extra_body defaults go into every request, so they are part of what answers
    assert (
        _backend("http://h:8000/v1", extra_body={"top_k": 1}).server_id
        != _backend("http://h:8000/v1").server_id
    )
    # the builtin model's loopback port changes each run: its identity is the weights version
    assert BuiltinBackend(builtin_record("gemma3-270m", {})).server_id is None


def test_same_model_name_on_another_server_is_not_answered_from_the_cache(fake_server, tmp_path, capsys):
    """The issue's case: server B (25%) was scored 80% from server A's cached answers, 0 requests."""
    n = 40
    spec = write_bench(tmp_path / "bench", n)
    cache = tmp_path / "cache.sqlite"
    a = fake_server(responder=mcq_by_item_number)
    b = fake_server(responder=constant("ANSWER: A"))
    fa = run_ok(a, tmp_path, capsys, benchmark=str(spec), cache=cache, runs=tmp_path / "ra")
    fb = run_ok(b, tmp_path, capsys, benchmark=str(spec), cache=cache, runs=tmp_path / "rb")
    acc = {f: f.read_metrics()["benchmarks"]["gen"]["metrics"]["accuracy"]["value"] for f in (fa, fb)}
    assert acc[fa] == pytest.approx(0.8) and acc[fb] == pytest.approx(0.25)
    assert len(a.requests) == n and len(b.requests) == n
    # the same server again (with a trailing slash) is answered from the cache
    fc = run_ok(a.base_url + "/", tmp_path, capsys, benchmark=str(spec), cache=cache, runs=tmp_path / "rc")
    assert len(a.requests) == n and fc.read_manifest().stats["cache_hits"] == n


def test_journal_replays_after_the_server_moved(fake_server, tmp_path):
    """A resumed run replays its own journal by request key, whatever port its server now has."""
    a, b = fake_server(), fake_server()
    path = tmp_path / "journal.jsonl"
    req = ModelRequest(kind="chat", body={"messages": [{"role": "user", "content": "hi"}], "seed": 1})

    async def call(server, journal):
        c = ModelClient(
            _backend(server.base_url), retry=FAST, journal=journal, cache=ResponseCache(tmp_path / "c")
        )
        rec = await c.call(req, unit_id="u1")
        await c.close()
        return rec

    j = Journal(path)
    first = asyncio.run(call(a, j))
    j.close()
    again = asyncio.run(call(b, Journal(path)))
    assert again.replayed and again.raw == first.raw and again.key == first.key
    assert len(a.requests) == 1 and len(b.requests) == 0
