"""Long-document QA: context assembly (deterministic per seed, within budget, evidence recorded),
pairs, and a run end to end through the CLI and the fake server with scripted replies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from clihelp import run_ok
from fake_openai import _last_user_text

from medevals.benchmarks.documents import ABSTAIN_TEXT, paired_items
from medevals.protocols.longdoc import HEAD, TAIL, LongDocOptions, LongDocProtocol, parse_budget


def corpus_file(tmp_path: Path, n: int = 40) -> dict:
    rows = []
    for i in range(n):
        words = " ".join(f"w{i}x{j}" for j in range(20 + 7 * (i % 9)))
        rows.append({"id": f"p{i}", "documents": [{"id": f"d{i}", "text": f"Note {i}: {words}."}]})
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return {"kind": "rows", "path": str(path), "field": "documents", "id_field": "id"}


def pair(corpus: dict, answer_docs=("d3",), exclude=()) -> list:
    return paired_items(
        id="q1",
        question="What did note 3 say?",
        choices={"A": "yes", "B": "no"},
        answer="A",
        answer_docs=list(answer_docs),
        exclude_docs=list(exclude),
        corpus=corpus,
    )


def proto(**kw) -> LongDocProtocol:
    return LongDocProtocol(LongDocOptions(**kw))


OVERHEAD = 300  # characters of a prompt without documents (any fixed number: assembly is linear)


def test_budget_parsing():
    assert parse_budget("4k") == 4096 and parse_budget("128k") == 131072 and parse_budget("6000") == 6000
    with pytest.raises(ValueError):
        parse_budget("lots")
    with pytest.raises(ValueError):
        parse_budget("100")


def test_pair_adds_the_abstention_option_and_twin(tmp_path):
    ans, twin = pair(corpus_file(tmp_path))
    assert ans.choices == twin.choices == {"A": "yes", "B": "no", "C": ABSTAIN_TEXT}
    assert (ans.target, twin.target) == ("A", "C")
    assert ans.metadata["answerable"] and not twin.metadata["answerable"]
    assert twin.id == "q1~unanswerable" and twin.metadata["pair"] == "q1"


def test_assembly_is_deterministic_within_budget_and_places_evidence(tmp_path):
    corpus = corpus_file(tmp_path)
    ans, twin = pair(corpus, exclude=["d4"])
    p = proto()
    for budget in ("300", "600", "1k"):
        a1 = p.assemble(ans, budget, 0, OVERHEAD)
        a2 = p.assemble(ans, budget, 0, OVERHEAD)
        assert a1 == a2  # deterministic per seed
        limit = parse_budget(budget) * 4
        assert OVERHEAD + len(a1["_context"]) - len(HEAD + TAIL) <= limit  # within the budget
        assert "d3" in a1["documents"] and "d4" not in a1["documents"]
        i = a1["documents"].index("d3")
        assert a1["evidence_index"] == [i]
        before = a1["_context"].index("Note 3:")
        assert abs(a1["evidence_depth"] - before / len(a1["_context"])) < 1e-3
        t = p.assemble(twin, budget, 0, OVERHEAD)
        assert "d3" not in t["documents"] and "d4" not in t["documents"]
        assert "Note 3:" not in t["_context"] and "position" not in t
        # the budget is used: no unused distractor would still fit
        room = limit - OVERHEAD - (len(t["_context"]) - len(HEAD + TAIL))
        unused = [f"d{k}" for k in range(40) if f"d{k}" not in t["documents"] + ["d3", "d4"]]
        assert unused, "the corpus must be larger than the budget for this test"
    other = p.assemble(ans, "1k", 1, OVERHEAD)
    assert other["documents"] != p.assemble(ans, "1k", 0, OVERHEAD)["documents"]  # the seed matters
    # a larger budget keeps the smaller budget's distractors (one seeded distractor order per question)
    small = set(p.assemble(ans, "300", 0, OVERHEAD)["documents"])
    large = set(p.assemble(ans, "1k", 0, OVERHEAD)["documents"])
    assert small < large
    del room


def test_evidence_position_spreads_over_the_context(tmp_path):
    corpus = corpus_file(tmp_path)
    p = proto()
    seen = set()
    for seed in range(40):
        seen.add(p.assemble(pair(corpus)[0], "1k", seed, OVERHEAD)["position"])
    assert len(seen) >= 4  # seeded shuffles put the evidence anywhere, not always first


def test_answer_documents_over_the_budget_make_the_pair_not_applicable(tmp_path):
    corpus = corpus_file(tmp_path)
    ans, twin = pair(corpus, answer_docs=[f"d{k}" for k in range(20)])
    p = proto()
    assert (
        p.assemble(ans, "300", 0, OVERHEAD)
        == p.assemble(twin, "300", 0, OVERHEAD)
        == {
            "applicable": False,
            "reason": "the answer documents alone exceed the budget",
        }
    )
    sc = p.score(ans, {"applicable": False, "reason": "x"}, [], "300")
    assert sc.applicable is False and sc.value is None


# --------------------------------------------------------------------------- end to end


def _abstracts(data: Path) -> dict[str, tuple[str, str]]:
    raw = json.loads((data / "pubmedqa" / "ori_pqal.json").read_text())
    letter = {"yes": "A", "no": "B", "maybe": "C"}
    return {
        r["QUESTION"]: ("\n".join(r["CONTEXTS"])[:200], letter[r["final_decision"]]) for r in raw.values()
    }


def reader(abstracts: dict[str, tuple[str, str]]):
    """Answers right when the question's own abstract is among the documents, else abstains (D)."""

    def respond(path: str, body: dict) -> str:
        text = _last_user_text(body) if "messages" in body else body["prompt"]
        q = re.search(r"Question: (.*)", text)
        assert q, text[-500:]
        evidence, letter = abstracts[q.group(1).strip()]
        return f"The answer is ({letter})." if evidence in text else "The answer is (D)."

    return respond


def test_pubmedqa_long_run_end_to_end(fake_server, tmp_path, capsys, shared_data):
    server = fake_server(responder=reader(_abstracts(shared_data)))
    folder = run_ok(
        server, tmp_path, capsys, "--limit", "6", "--set", "budgets=1k,4k", benchmark="pubmedqa-long"
    )
    samples = list(folder.iter_samples(ordered=True))
    assert len(samples) == 12 and {s.variant for s in samples} == {"1k", "4k"}
    for s in samples:
        assert s.output["prompt_tokens_est"] <= parse_budget(s.variant)
        answerable = s.item.metadata["answerable"]
        assert (s.item.metadata["pair"] in s.output["documents"]) is answerable
        assert s.score.value == 1.0
    m = folder.read_metrics()["benchmarks"]["pubmedqa-long"]
    assert m["headline_variant"] == "1k"
    v = m["variants"]["4k"]
    assert v["value"] == 1.0 and v["metrics"]["abstention_accuracy"]["n"] == 3
    titles = [t["title"] for t in m["extra"]["tables"]]
    assert any("evidence position" in t for t in titles)
    # the same command with another seed builds other contexts; the same seed the same ones
    again = run_ok(
        server,
        tmp_path,
        capsys,
        "--limit",
        "6",
        "--set",
        "budgets=1k,4k",
        "--new",
        benchmark="pubmedqa-long",
        runs=tmp_path / "runs2",
    )
    docs = lambda f: {s.unit_id: s.output["documents"] for s in f.iter_samples(ordered=True)}  # noqa: E731
    assert docs(again) == docs(folder)


def test_a_model_that_never_abstains_fails_the_twins(fake_server, tmp_path, capsys, shared_data):
    server = fake_server(responder=lambda path, body: "The answer is (A).")
    folder = run_ok(
        server, tmp_path, capsys, "--limit", "4", "--set", "budgets=1k", benchmark="pubmedqa-long"
    )
    m = folder.read_metrics()["benchmarks"]["pubmedqa-long"]
    assert m["metrics"]["abstention_accuracy"]["value"] == 0.0
    assert m["metrics"]["false_abstention"]["value"] == 0.0
    assert m["metrics"]["answerable_accuracy"]["n"] == 2
