"""``--base-url URL1,URL2``: replicas of one model, least-outstanding balancing, draining, stats."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from clihelp import run_fake, run_ok
from fake_openai import mcq_by_item_number
from genbench import write_bench

from medevals.errors import ConfigError
from medevals.models.base import ModelBackend, PermanentModelError, TransientModelError
from medevals.models.registry import create_backend, make_record
from medevals.models.replicas import ReplicaSetBackend


def _urls(*servers) -> str:
    return ",".join(s.base_url for s in servers)


def _replicas(folder) -> dict:
    return folder.read_manifest().stats["replicas"]["candidate"]


def test_two_replicas_share_the_load(fake_server, tmp_path, capsys):
    a = fake_server(responder=mcq_by_item_number, latency_s=0.02)
    b = fake_server(responder=mcq_by_item_number, latency_s=0.02)
    spec = write_bench(tmp_path / "bench", 60)
    folder = run_ok(_urls(a, b), tmp_path, capsys, "-c", "8", benchmark=str(spec))
    m = folder.read_metrics()["benchmarks"]["gen"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(0.8) and m["n_scored"] == 60
    na, nb = len(a.requests), len(b.requests)
    assert na + nb == 60 and min(na, nb) >= 20, (na, nb)  # both served a fair share
    stats = _replicas(folder)
    assert stats[a.base_url]["requests"] == stats[a.base_url]["ok"] == na
    assert stats[b.base_url]["requests"] == stats[b.base_url]["ok"] == nb
    assert stats[a.base_url]["latency_s"]["n"] == na and stats[a.base_url]["latency_s"]["p50"] >= 0.02
    assert stats[a.base_url]["failures"] == 0 and stats[a.base_url]["peak_in_flight"] >= 2


def test_the_faster_replica_gets_more_requests(fake_server, tmp_path, capsys):
    """Least outstanding, not round robin: a replica that answers 10x faster frees its slots sooner."""
    fast = fake_server(responder=mcq_by_item_number, latency_s=0.01)
    slow = fake_server(responder=mcq_by_item_number, latency_s=0.1)
    spec = write_bench(tmp_path / "bench", 60)
    run_ok(_urls(slow, fast), tmp_path, capsys, "-c", "4", benchmark=str(spec))
    assert len(fast.requests) > 2 * len(slow.requests), (len(fast.requests), len(slow.requests))


def test_a_replica_killed_mid_run_is_drained_and_its_requests_go_to_the_other(fake_server, tmp_path, capsys):
    doomed = fake_server(latency_s=0.02)
    steady = fake_server(responder=mcq_by_item_number, latency_s=0.02)
    seen = {"n": 0}

    def respond_then_die(path, body):
        seen["n"] += 1
        if seen["n"] == 10:  # stopped from another thread: its own loop cannot wait for itself
            threading.Thread(target=doomed.stop, daemon=True).start()
        return mcq_by_item_number(path, body)

    doomed.responder = respond_then_die
    spec = write_bench(tmp_path / "bench", 80)
    folder = run_ok(_urls(doomed, steady), tmp_path, capsys, "-c", "8", benchmark=str(spec))
    samples = [json.loads(line) for line in folder.samples_path.read_text().splitlines()]
    assert len(samples) == 80 and all(s["error"] is None for s in samples)
    assert folder.read_metrics()["benchmarks"]["gen"]["metrics"]["accuracy"]["value"] == pytest.approx(0.8)
    manifest = folder.read_manifest()
    # every failed request was re-sent to the other replica at once: the engine saw no failure
    assert manifest.stats["retries"] == 0 and manifest.stats["failures"] == 0
    assert all(c["attempts"] == 1 for s in samples for c in s["calls"])
    st = _replicas(folder)
    dead, alive = st[doomed.base_url], st[steady.base_url]
    assert dead["failures"] >= 1 and dead["circuit_opens"] >= 1 and dead["drained"]
    assert 10 <= dead["ok"] < 20 and alive["ok"] == 80 - dead["ok"] == len(steady.requests)
    assert alive["failures"] == 0 and dead["requests"] == dead["ok"] + dead["failures"]


def test_replica_order_does_not_change_the_cache_key_but_another_set_does(fake_server, tmp_path, capsys):
    a = fake_server(responder=mcq_by_item_number)
    b = fake_server(responder=mcq_by_item_number)
    spec = write_bench(tmp_path / "bench", 12)
    cache = tmp_path / "cache.sqlite"

    def run(url: str, name: str) -> int:
        before = len(a.requests) + len(b.requests)
        code, _o, err, _f = run_fake(
            url, tmp_path, capsys, benchmark=str(spec), cache=cache, runs=tmp_path / name
        )
        assert code == 0, err
        return len(a.requests) + len(b.requests) - before

    assert run(_urls(a, b), "r1") == 12
    assert run(_urls(b, a), "r2") == 0  # the same set: every answer from the cache
    assert run(a.base_url, "r3") == 12  # one server alone is another server


def test_replica_set_identity_and_bad_lists(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-secret")
    ab = make_record("openai:m", base_url="http://H1:8000/v1/, http://h2:8000/v1")
    ba = make_record("openai:m", base_url="http://h2:8000/v1,http://h1:8000/v1")
    ka, kb = create_backend(ab), create_backend(ba)
    assert isinstance(ka, ReplicaSetBackend) and ka.server_id == kb.server_id
    assert ka.server_id != create_backend(make_record("openai:m", base_url="http://h1:8000/v1")).server_id
    with pytest.raises(ConfigError, match="same server twice"):
        make_record("openai:m", base_url="http://h1/v1,http://H1:80/v1/")
    with pytest.raises(ConfigError, match="different credentials"):
        make_record("openai:m", base_url="http://u:secret-one@h1/v1,http://h2/v1")
    shared = make_record("openai:m", base_url="http://u:secret-one@h1/v1,http://u:secret-one@h2/v1")
    assert shared.base_url == "http://h1/v1,http://h2/v1" and shared._url_credentials == ("u", "secret-one")
    assert all(
        r.backend.record._url_credentials == ("u", "secret-one") for r in create_backend(shared).replicas
    )


class _Stub(ModelBackend):
    def __init__(self, name: str, outcomes: list[str]):
        self.name, self.outcomes, self.calls = name, outcomes, 0

    async def send(self, kind, body, timeout):
        self.calls += 1
        what = self.outcomes.pop(0) if self.outcomes else "ok"
        if what == "down":
            raise TransientModelError("connection error: refused")
        if what == "bad":
            raise PermanentModelError("HTTP 400: bad request")
        return {"served_by": self.name}


def _stub_set(a: _Stub, b: _Stub, cooldown: float) -> ReplicaSetBackend:
    rs = ReplicaSetBackend(make_record("openai:m", base_url="http://a/v1,http://b/v1"), cooldown_s=cooldown)
    rs.replicas[0].backend, rs.replicas[1].backend = a, b
    return rs


def test_circuit_opens_cools_down_probes_and_closes():
    async def scenario():
        a, b = _Stub("a", ["down", "down"]), _Stub("b", [])
        rs = _stub_set(a, b, cooldown=0.05)
        assert (await rs.send("chat", {}, 1))["served_by"] == "b"  # a failed, retried on b at once
        assert [a.calls, b.calls] == [1, 1]
        for _ in range(3):  # a is drained during its cool-down
            assert (await rs.send("chat", {}, 1))["served_by"] == "b"
        assert a.calls == 1
        await asyncio.sleep(0.06)
        await rs.send("chat", {}, 1)  # half-open: one probe to a, which fails again -> b
        assert a.calls == 2 and rs.replicas[0].failures_in_row == 2
        await asyncio.sleep(0.06)  # the second cool-down is twice as long
        await rs.send("chat", {}, 1)
        assert a.calls == 2
        await asyncio.sleep(0.06)
        assert (await rs.send("chat", {}, 1))["served_by"] == "a"  # probe succeeds: closed again
        assert rs.replicas[0].failures_in_row == 0
        st = rs.replica_stats()
        assert st["http://a/v1"]["circuit_opens"] == 2 and st["http://a/v1"]["failures"] == 2

    asyncio.run(scenario())


def test_every_replica_down_is_a_transient_error_for_the_engine_and_4xx_is_not_rerouted():
    async def scenario():
        rs = _stub_set(_Stub("a", ["down"]), _Stub("b", ["down"]), cooldown=10)
        with pytest.raises(TransientModelError, match=r"replica http://b/v1"):
            await rs.send("chat", {}, 1)
        with pytest.raises(TransientModelError, match="all 2 replicas are drained") as e:
            await rs.send("chat", {}, 1)
        assert 9 < e.value.retry_after <= 10
        bad = _stub_set(_Stub("a", ["bad"]), _Stub("b", []), cooldown=10)
        with pytest.raises(PermanentModelError):
            await bad.send("chat", {}, 1)
        assert bad.replicas[1].backend.calls == 0 and bad.replicas[0].failures_in_row == 0

    asyncio.run(scenario())
