"""A run against a server that fails 20% of requests in every way still scores every item."""

import asyncio
import json

import pytest
from fake_openai import Faults, mcq_by_item_number
from genbench import write_bench

from medevals.engine.client import RetryPolicy
from medevals.evaluate import RunConfig, execute, prepare

N = 200  # with seed 0, the first 200 fault draws include every kind of fault

RETRY_AFTER = 0.5  # longer than any backoff here can be (<= 0.3 s), so honouring it shows
# The run's settings except the backoff base (1 s by default), shortened so the test takes seconds.
RETRY = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.3, timeout=2.0)


@pytest.mark.slow
def test_run_at_20_percent_faults_scores_every_item(fake_server, tmp_path):
    spec = write_bench(tmp_path / "bench", N)
    server = fake_server(
        responder=mcq_by_item_number,
        faults=Faults.spread(0.2, retry_after=RETRY_AFTER, hang_s=10.0, slow_s=0.4),
        seed=0,
    )
    cfg = RunConfig(
        model="openai:fake",
        benchmarks=[str(spec)],
        base_url=server.base_url,
        runs_dir=tmp_path / "runs",
        use_cache=False,
        concurrency=64,
        retry=RETRY,
    )
    outcome = asyncio.run(execute(prepare(cfg)))
    assert outcome.manifest.status == "complete"
    # Every kind of fault was really injected (seeded), slow streams included.
    assert set(server.faults_sent) == set(Faults.NAMES), server.faults_sent
    folder = outcome.folder
    samples = list(folder.iter_samples())
    assert len(samples) == N and len({s.unit_id for s in samples}) == N
    assert all(s.error is None and s.score is not None for s in samples)
    m = folder.read_metrics()["benchmarks"]["gen"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(0.8) and m["n"] == N and m["n_unparseable"] == 0

    stats = folder.read_manifest().stats
    # Every injected failure was retried once, under its own reason. A hang is a client timeout;
    # on a loaded machine a slow but healthy reply may time out too, so timeouts are ">=".
    sent, reasons = server.faults_sent, stats["retry_reasons"]

    def count(prefix: str) -> int:
        return sum(n for r, n in reasons.items() if r.startswith(prefix))

    assert stats["failures"] == 0
    assert count("HTTP 429") == sent["429"] and count("HTTP 500") == sent["500"]
    assert count("HTTP 503") == sent["503"] and count("malformed response (no choices)") == sent["empty"]
    assert count("response body is not valid JSON") == sent["truncated"]
    assert count("connection error") == sent["reset"]
    assert count("timeout after 2s") >= sent["hang"]
    assert stats["retries"] == sum(reasons.values()) >= sum(n for f, n in sent.items() if f != "slow")
    # Each sample records how many attempts its call took.
    assert sum(c.attempts - 1 for s in samples for c in s.calls) == stats["retries"]

    # Retry-After honoured: a request answered 429 is not sent again before the server said so.
    by_body: dict[str, list[dict]] = {}
    for r in server.requests:
        by_body.setdefault(json.dumps(r["body"], sort_keys=True), []).append(r)
    gaps = [
        tries[i + 1]["t"] - tries[i]["t"]
        for tries in by_body.values()
        for i in range(len(tries) - 1)
        if tries[i]["fault"] == "429"
    ]
    assert gaps and min(gaps) >= RETRY_AFTER - 0.01, gaps
