"""A 2xx that is not a usable answer is a retryable fault: never cached, journaled or scored.

The validity rule is ``medevals.models.openai_format.validate`` (its module docstring); lone
surrogates in model text are stored as U+FFFD so every store stays valid UTF-8 JSON.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from fake_openai import Faults, mcq_by_item_number
from genbench import write_bench

from medevals.engine.cache import ResponseCache
from medevals.engine.client import CallFailed, ModelClient, RetryPolicy
from medevals.engine.journal import Journal
from medevals.evaluate import RunConfig, execute, prepare
from medevals.models import openai_format
from medevals.models.openai_compat import OpenAICompatBackend
from medevals.models.openai_format import MalformedResponse, validate
from medevals.schema import ModelRecord, ModelRequest

FAST = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05, timeout=2.0)


def _chat(message: object, **extra: object) -> dict:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop", **extra}]}


VALID = [
    ("chat text", "chat", _chat({"role": "assistant", "content": "B"})),
    ("chat empty string: the model said nothing", "chat", _chat({"content": ""})),
    ("chat content parts", "chat", _chat({"content": [{"type": "text", "text": "B"}]})),
    (
        "tool calls count as content",
        "chat",
        _chat({"content": None, "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": "{}"}}]}),
    ),
    ("legacy function_call", "chat", _chat({"content": None, "function_call": {"name": "f"}})),
    ("refusal", "chat", _chat({"content": None, "refusal": "I can't help with that."})),
    (
        "reasoning only (budget spent thinking)",
        "chat",
        _chat({"content": None, "reasoning_content": "Let me"}),
    ),
    ("reasoning only, 'reasoning' key", "chat", _chat({"reasoning": "Let me think"})),
    ("completion text", "completion", {"choices": [{"text": " B"}]}),
    ("completion empty text", "completion", {"choices": [{"text": ""}]}),
    ("embedding", "embedding", {"data": [{"index": 0, "embedding": [0.1, 0.2]}]}),
    ("embedding base64", "embedding", {"data": [{"index": 0, "embedding": "AAAA"}]}),
]

INVALID = [
    ("not an object", "chat", ["choices"], "not an object"),
    ("no choices key", "chat", {"id": "x"}, "no choices"),
    ("choices is an object", "chat", {"choices": {"0": {"message": {"content": "B"}}}}, "no choices"),
    ("choices is a string", "chat", {"choices": "B"}, "no choices"),
    ("empty choices", "chat", {"choices": []}, "no choices"),
    ("a choice is a string", "chat", {"choices": ["B"]}, "bad choice"),
    ("content null, nothing else", "chat", _chat({"role": "assistant", "content": None}), "no content"),
    ("content missing", "chat", _chat({"role": "assistant"}), "no content"),
    ("empty tool_calls, null content", "chat", _chat({"content": None, "tool_calls": []}), "no content"),
    (
        "empty reasoning, null content",
        "chat",
        _chat({"content": None, "reasoning_content": ""}),
        "no content",
    ),
    ("content a number", "chat", _chat({"content": 3}), "no content"),
    ("message null, no text", "chat", _chat(None), "no content"),
    (
        "second choice empty",
        "chat",
        {"choices": [{"message": {"content": "B"}}, {"message": {}}]},
        "no content",
    ),
    ("completion without text", "completion", {"choices": [{"finish_reason": "stop"}]}, "no content"),
    ("completion text null", "completion", {"choices": [{"text": None}]}, "no content"),
    ("embedding no data", "embedding", {"data": []}, "no data"),
    ("embedding empty vector", "embedding", {"data": [{"embedding": []}]}, "bad embedding"),
    ("embedding of strings", "embedding", {"data": [{"embedding": ["a"]}]}, "bad embedding"),
    (
        "embedding dims differ",
        "embedding",
        {"data": [{"embedding": [0.1, 0.2]}, {"embedding": [0.1]}]},
        "bad embedding",
    ),
]


@pytest.mark.parametrize("name,kind,raw", VALID, ids=[v[0] for v in VALID])
def test_valid_responses(name, kind, raw):
    assert validate(raw, kind) is raw


@pytest.mark.parametrize("name,kind,raw,reason", INVALID, ids=[v[0] for v in INVALID])
def test_invalid_responses_are_retryable_faults(name, kind, raw, reason):
    with pytest.raises(MalformedResponse, match=rf"^malformed response \({reason}\): "):
        validate(raw, kind)


def test_embedding_count_must_match_the_inputs():
    raw = {"data": [{"index": 0, "embedding": [0.1]}]}
    assert validate(raw, "embedding", {"input": "one"}) is raw
    assert validate(raw, "embedding", {"input": [1, 2, 3]}) is raw  # one token list
    with pytest.raises(MalformedResponse, match="1 embeddings for 2 inputs"):
        validate(raw, "embedding", {"input": ["a", "b"]})


def test_readers_never_crash_on_stored_garbage():
    """Rescoring reads raw responses stored by older versions: any shape reads as no answer."""
    for raw in [
        None,
        {},
        {"choices": "x"},
        {"choices": ["x"]},
        {"choices": [{"message": None}]},
        {"usage": "x"},
    ]:
        assert openai_format.text(raw) == ""
        assert openai_format.tool_calls(raw) == [] and openai_format.top_logprobs(raw) == []
        assert openai_format.usage(raw).prompt_tokens == 0
    refusal = _chat({"content": None, "refusal": "I can't help with that."})
    assert openai_format.text(refusal) == "I can't help with that."
    assert openai_format.text(_chat({"content": None, "reasoning_content": "thinking"})) == ""
    assert (
        openai_format.usage(
            {"usage": {"prompt_tokens": float("inf"), "completion_tokens": 3}}
        ).completion_tokens
        == 3
    )


def _client(server, **kw):
    rec = ModelRecord(spec="openai:fake", backend="openai", name="fake", base_url=server.base_url)
    return ModelClient(OpenAICompatBackend(rec, concurrency=4), **{"retry": FAST, **kw})


def _req(**body):
    return ModelRequest(kind="chat", body={"messages": [{"role": "user", "content": "hi"}], **body})


@pytest.mark.parametrize("fault", Faults.MALFORMED)
def test_malformed_200_is_never_cached_or_journaled(fake_server, tmp_path, fault):
    """Always malformed: the call fails after every attempt, and neither store holds a 'success'."""
    server = fake_server(faults=Faults(**{f"rate_{fault}": 1.0}))
    cache = ResponseCache(tmp_path / "c.sqlite")
    journal = Journal(tmp_path / "journal.jsonl")

    async def go():
        c = _client(server, cache=cache, journal=journal, retry=RetryPolicy(max_attempts=3, base_delay=0.001))
        with pytest.raises(CallFailed) as ei:
            await c.call(_req(), unit_id="u1")
        await c.close()
        return ei.value.record, c.stats

    rec, stats = asyncio.run(go())
    journal.close()
    assert rec.attempts == 3 and rec.raw is None
    assert rec.error.startswith(
        "response body is not valid JSON" if fault == "non_json" else "malformed response ("
    )
    assert stats.retries == 2 and stats.failures == 1
    assert len(cache) == 0
    assert not (tmp_path / "journal.jsonl").exists() or (tmp_path / "journal.jsonl").read_text() == ""


@pytest.mark.parametrize("fault", Faults.MALFORMED)
def test_malformed_200_is_retried_until_a_real_answer(fake_server, tmp_path, fault):
    server = fake_server(faults=Faults(**{f"rate_{fault}": 0.5}), seed=3)
    cache = ResponseCache(tmp_path / "c.sqlite")

    async def go():
        c = _client(server, cache=cache)
        recs = await asyncio.gather(*(c.call(_req(seed=i)) for i in range(20)))
        await c.close()
        return recs, c.stats

    recs, stats = asyncio.run(go())
    assert server.faults_sent.get(fault, 0) > 0 and stats.retries == server.faults_sent[fault]
    assert all(openai_format.text(r.raw) == "The answer is (A)." for r in recs)
    assert len(cache) == 20


def test_run_at_20_percent_malformed_and_transport_faults_scores_80_percent(fake_server, tmp_path):
    """The issue's case: malformed 200s lowered accuracy from 80.0% to 78.3%; now they are retried."""
    n = 150
    spec = write_bench(tmp_path / "bench", n)
    share = 0.2 / 8
    rates = {f"rate_{k}": share for k in (*Faults.MALFORMED, "500", "truncated", "empty", "reset")}
    server = fake_server(responder=mcq_by_item_number, faults=Faults(**rates), seed=0)
    cfg = RunConfig(
        model="openai:fake",
        benchmarks=[str(spec)],
        base_url=server.base_url,
        runs_dir=tmp_path / "runs",
        cache_path=tmp_path / "cache.sqlite",
        concurrency=32,
        retry=RetryPolicy(max_attempts=8, base_delay=0.005, max_delay=0.02, timeout=5.0),
    )
    outcome = asyncio.run(execute(prepare(cfg)))
    assert set(Faults.MALFORMED) <= set(server.faults_sent), server.faults_sent
    samples = list(outcome.folder.iter_samples())
    assert len(samples) == n and all(s.error is None for s in samples)
    m = outcome.folder.read_metrics()["benchmarks"]["gen"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(0.8) and m["n_unparseable"] == 0
    reasons = outcome.manifest.stats["retry_reasons"]
    assert reasons.get("malformed response (no content)") == server.faults_sent["no_content"]
    assert reasons.get("malformed response (bad choice)") == server.faults_sent["bad_choice"]
    # every cached response is a valid answer
    db = sqlite3.connect(tmp_path / "cache.sqlite")
    raws = [json.loads(r[0]) for r in db.execute("SELECT raw FROM responses")]
    assert len(raws) == n and all(
        openai_format.text(validate(r, "chat")).startswith("ANSWER: ") for r in raws
    )


LONE = "\ud800"


def test_lone_surrogate_in_model_text_is_stored_as_valid_utf8(fake_server, tmp_path):
    """A model emitting half a surrogate pair: journal and cache stay valid UTF-8 JSON."""
    server = fake_server(responder=lambda path, body: f"x{LONE}y \ud83d\ude00 ANSWER: A")
    cache = ResponseCache(tmp_path / "c.sqlite")
    journal = Journal(tmp_path / "journal.jsonl")

    async def go():
        c = _client(server, cache=cache, journal=journal)
        rec = await c.call(_req(), unit_id="u1")
        await c.close()
        return rec

    rec = asyncio.run(go())
    journal.close()
    assert openai_format.text(rec.raw) == "x\ufffdy \U0001f600 ANSWER: A"  # the pair survives
    line = (tmp_path / "journal.jsonl").read_bytes().decode("utf-8")  # strict: raises on surrogates
    assert openai_format.text(json.loads(line)["raw"]) == "x\ufffdy \U0001f600 ANSWER: A"
    db = sqlite3.connect(tmp_path / "c.sqlite")
    (raw_text,) = db.execute("SELECT CAST(raw AS BLOB) FROM responses").fetchone()
    assert "x\ufffdy" in raw_text.decode("utf-8")


def test_lone_surrogate_run_writes_valid_samples(fake_server, tmp_path):
    spec = write_bench(tmp_path / "bench", 6)
    server = fake_server(responder=lambda path, body: f"{LONE} " + mcq_by_item_number(path, body))
    cfg = RunConfig(
        model="openai:fake",
        benchmarks=[str(spec)],
        base_url=server.base_url,
        runs_dir=tmp_path / "runs",
        cache_path=tmp_path / "cache.sqlite",
        retry=FAST,
    )
    outcome = asyncio.run(execute(prepare(cfg)))
    assert outcome.manifest.status == "complete"
    lines = outcome.folder.samples_path.read_bytes().decode("utf-8").splitlines()
    assert len(lines) == 6 and all(json.loads(ln)["error"] is None for ln in lines)
