"""Per-attempt limits: one total deadline, a cap on the reply body, a logged Retry-After cap."""

from __future__ import annotations

import asyncio
import logging

import pytest
from clihelp import run_fake
from fake_openai import Faults

from medevals.engine.client import CallFailed, ModelClient, RetryPolicy, retry_policy
from medevals.errors import ConfigError
from medevals.models.base import DEFAULT_MAX_RESPONSE_BYTES
from medevals.models.openai_compat import OpenAICompatBackend
from medevals.schema import ModelRecord, ModelRequest

#: Liveness guard only: each call below ends within about a second once limited.
GUARD_S = 30


def _client(server, retry: RetryPolicy) -> ModelClient:
    rec = ModelRecord(spec="openai:fake", backend="openai", name="fake", base_url=server.base_url)
    return ModelClient(OpenAICompatBackend(rec, concurrency=4), retry=retry)


def _req() -> ModelRequest:
    return ModelRequest(kind="chat", body={"messages": [{"role": "user", "content": "hi"}]})


def _fail_once(server, retry: RetryPolicy) -> tuple[str, object]:
    async def go():
        c = _client(server, retry)
        try:
            with pytest.raises(CallFailed) as ei:
                await asyncio.wait_for(c.call(_req()), GUARD_S)
        finally:
            await c.close()
        return ei.value.record.error, c.stats

    return asyncio.run(go())


def test_timeout_is_a_total_deadline_not_a_per_read_timeout(fake_server):
    """A body dripping one byte every 50 ms never waits 0.3 s for a read; the deadline still ends it."""
    server = fake_server(faults=Faults(rate_drip=1.0, drip_s=0.05))
    error, _ = _fail_once(server, RetryPolicy(max_attempts=1, timeout=0.3))
    assert error.startswith("timeout after 0.3s (reading body)"), error


def test_endless_body_is_cut_at_the_cap(fake_server):
    """A chunked body that never ends: the attempt fails once the cap is passed (memory stays bounded)."""
    server = fake_server(faults=Faults(rate_endless=1.0))
    cap = 1024 * 1024
    error, stats = _fail_once(
        server, RetryPolicy(max_attempts=2, base_delay=0.001, timeout=60, max_response_bytes=cap)
    )
    assert error.startswith(f"response too large: over the cap of {cap} bytes as read"), error
    assert stats.retry_reasons == {"response too large": 1}


def test_declared_length_over_the_cap_fails_before_reading(fake_server):
    server = fake_server(responder=lambda path, body: "x" * 300_000)
    error, _ = _fail_once(server, RetryPolicy(max_attempts=1, max_response_bytes=100_000))
    assert error.startswith("response too large: Content-Length "), error


def test_reply_under_the_cap_is_read_whole(fake_server):
    server = fake_server(responder=lambda path, body: "x" * 300_000)

    async def go():
        c = _client(server, RetryPolicy(max_attempts=1, max_response_bytes=400_000))
        rec = await c.call(_req())
        await c.close()
        return rec

    rec = asyncio.run(go())
    assert rec.raw["choices"][0]["message"]["content"] == "x" * 300_000


def test_default_cap_is_generous():
    assert RetryPolicy().max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES == 32 * 1024 * 1024


def test_retry_after_beyond_the_cap_is_counted_and_warned_once(fake_server, caplog):
    server = fake_server(faults=Faults(rate_429=1.0, retry_after=3600))
    policy = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.01, max_retry_after=0.05)
    with caplog.at_level(logging.WARNING, logger="medevals.engine"):
        error, stats = _fail_once(server, policy)
    assert "HTTP 429" in error
    assert stats.retries == 3 and stats.retry_after_capped == 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "medevals.engine"]
    assert len(warnings) == 1 and "asked to wait 3600 s" in warnings[0] and "0 s instead" in warnings[0]


def test_retry_after_within_the_cap_is_not_counted(fake_server, caplog):
    server = fake_server(faults=Faults(rate_429=1.0, retry_after=0.01))
    with caplog.at_level(logging.WARNING, logger="medevals.engine"):
        _, stats = _fail_once(server, RetryPolicy(max_attempts=2, base_delay=0.001))
    assert stats.retries == 1 and stats.retry_after_capped == 0 and not caplog.records


@pytest.mark.parametrize(
    "kw,msg",
    [
        ({"timeout": 0}, "--timeout must be a positive number"),
        ({"timeout": -1}, "--timeout must be a positive number"),
        ({"timeout": float("nan")}, "--timeout must be a positive number"),
        ({"timeout": float("inf")}, "--timeout must be a positive number"),
        ({"max_retries": -1}, "--max-retries must be 0 or more"),
        ({"max_response_mb": 0}, "--max-response-mb must be a positive number"),
    ],
)
def test_bad_limits_are_config_errors(kw, msg):
    args = {"timeout": 300.0, "max_retries": 5, "max_response_mb": 32.0, **kw}
    with pytest.raises(ConfigError, match=msg):
        retry_policy(**args)


def test_limits_from_options():
    p = retry_policy(timeout=2.5, max_retries=0, max_response_mb=0.5)
    assert (p.timeout, p.max_attempts, p.max_response_bytes) == (2.5, 1, 512 * 1024)


@pytest.mark.parametrize(
    "opt,value,msg",
    [
        ("--timeout", "0", "--timeout must be a positive number of seconds (got 0)"),
        ("--timeout", "-1", "--timeout must be a positive number of seconds (got -1)"),
        ("--max-retries", "-1", "--max-retries must be 0 or more (got -1)"),
        ("--max-response-mb", "-5", "--max-response-mb must be a positive number (got -5)"),
    ],
)
def test_cli_rejects_bad_limits_in_one_line(fake_server, tmp_path, capsys, opt, value, msg):
    server = fake_server()
    code, _out, err, folder = run_fake(server, tmp_path, capsys, opt, value)
    assert code == 2 and folder is None and server.n_requests == 0
    assert err.strip().splitlines() == [f"error: {msg}"]


def test_retry_after_cap_reaches_the_run_warnings_and_manifest(fake_server, tmp_path):
    from fake_openai import mcq_by_item_number
    from genbench import write_bench

    from medevals.evaluate import RunConfig, execute, prepare

    spec = write_bench(tmp_path / "bench", 20)
    server = fake_server(responder=mcq_by_item_number, faults=Faults(rate_429=0.3, retry_after=3600), seed=2)
    cfg = RunConfig(
        model="openai:fake",
        benchmarks=[str(spec)],
        base_url=server.base_url,
        runs_dir=tmp_path / "runs",
        use_cache=False,
        retry=RetryPolicy(max_attempts=8, base_delay=0.001, max_delay=0.01, max_retry_after=0.02),
    )
    shown: list[str] = []
    outcome = asyncio.run(execute(prepare(cfg), on_warning=shown.append))
    n_429 = server.faults_sent["429"]
    assert outcome.manifest.status == "complete" and n_429 > 1
    stats = outcome.folder.read_manifest().stats
    assert stats["retry_after_capped"] == n_429
    assert len(shown) == 1 and "asked to wait 3600 s" in shown[0] and stats["warnings"] == shown


def test_compressed_body_is_capped_as_inflated(fake_server):
    """A small gzip body (40 KB) that inflates to 40 MB: the cap counts what is read, not what was sent."""
    server = fake_server(faults=Faults(rate_gzip_bomb=1.0, bomb_mb=40))
    cap = 1024 * 1024
    error, _ = _fail_once(server, RetryPolicy(max_attempts=1, max_response_bytes=cap))
    assert error.startswith(f"response too large: over the cap of {cap} bytes as read"), error
