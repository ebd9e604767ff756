"""NER conformance: model replies -> strict / partial counts as the published rule defines them.

The rule (nervaluate README, MantisAI/nervaluate, "Evaluation Scenarios"; SemEval-2013 task 9.1
metrics): every gold entity is matched at most once.

- strict: COR = same boundaries and type; INC = overlapping (or same boundaries) but not both;
  SPU = a prediction overlapping no unmatched gold entity; MIS = a gold entity nothing matched.
- partial: type ignored; COR = same boundaries; PAR = overlap only; SPU / MIS as above.
- POS = COR + INC + PAR + MIS, ACT = COR + INC + PAR + SPU; strict P = COR/ACT, R = COR/POS;
  partial P = (COR + 0.5 PAR)/ACT, R = (COR + 0.5 PAR)/POS; F1 = 2PR/(P+R), 0 when P+R = 0.

Counts are a property of the *sets* of spans: neither the order of the sentences in
samples.jsonl (completion order) nor the order in which a model lists its entities may change
them. Each row is written from the rule by hand, with the case that motivated it.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest

from medevals.benchmarks.ner_sets import iob_spans
from medevals.protocols.ner import NERProtocol
from medevals.schema import CallRecord, Item, Sample

TYPES = ["Chemical", "Disease"]


def tokens_and_gold(tagged: str) -> tuple[list[str], list[dict]]:
    """'Aspirin/B-Chemical causes/O ...' -> tokens and gold spans (the loader's IOB reading)."""
    pairs = [w.rsplit("/", 1) for w in tagged.split()]
    return [t for t, _ in pairs], iob_spans([tag for _, tag in pairs], "conformance", 1)


def reply(*entities: tuple[str, str]) -> str:
    return json.dumps({"entities": [{"text": t, "type": ty} for t, ty in entities]})


def make_sample(uid: str, tagged: str, text: str, types: list[str] = TYPES) -> Sample:
    toks, gold = tokens_and_gold(tagged)
    item = Item(id=uid, input=" ".join(toks), target=gold, metadata={"tokens": toks})
    raw = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    call = CallRecord(model="m", kind="chat", request={}, raw=raw)
    proto = NERProtocol(NERProtocol.Options(types=types))
    return Sample(unit_id=uid, benchmark="ner", item=item, calls=[call], score=proto.score(item, {}, [call]))


def counts(samples: list[Sample], types: list[str] = TYPES) -> dict[str, dict[str, int]]:
    res = NERProtocol(NERProtocol.Options(types=types)).summarize(samples)["ner"]["overall"]
    keys = ("correct", "incorrect", "partial", "missed", "spurious")
    return {scheme: {k: res[scheme][k] for k in keys} for scheme in ("strict", "partial")}


def c(cor=0, inc=0, par=0, mis=0, spu=0) -> dict[str, int]:
    return {"correct": cor, "incorrect": inc, "partial": par, "missed": mis, "spurious": spu}


# (case, sentence with IOB tags, model reply, expected strict counts, expected partial counts)
ROWS = [
    # nervaluate README scenario I: surface string and type match.
    (
        "I exact match",
        "Phenytoin/B-Chemical toxicity/O ./O",
        reply(("Phenytoin", "Chemical")),
        c(cor=1),
        c(cor=1),
    ),
    # scenario II: the system hypothesises an entity that is not in the gold annotation.
    (
        "II spurious",
        "an/O awful/O headache/O ./O",
        reply(("awful headache", "Disease")),
        c(spu=1),
        c(spu=1),
    ),
    # scenario III: the system misses an entity (an empty list is a readable reply).
    (
        "III missed",
        "lithium/B-Chemical overdose/O ./O",
        reply(),
        c(mis=1),
        c(mis=1),
    ),
    # scenario IV: right boundaries, wrong type (a chemical called a disease): strict INC, partial COR.
    (
        "IV wrong type",
        "propranolol/B-Chemical was/O given/O",
        reply(("propranolol", "Disease")),
        c(inc=1),
        c(cor=1),
    ),
    # scenario V: right type, wrong boundaries ("of warfarin" for "warfarin"): strict INC, partial PAR.
    (
        "V wrong boundary",
        "dose/O of/O warfarin/B-Chemical ./O",
        reply(("of warfarin", "Chemical")),
        c(inc=1),
        c(par=1),
    ),
    # scenario VI: boundaries and type wrong ("oral contraceptives" as a disease).
    (
        "VI wrong boundary and type",
        "oral/O contraceptives/B-Chemical ./O",
        reply(("oral contraceptives", "Disease")),
        c(inc=1),
        c(par=1),
    ),
    # Defect: a sentence with no gold entity as the first stored sample crashed nervaluate
    # (IndexError inferring the input format from true[0][0]); samples are written in
    # completion order, so this happened on real runs. A prediction there is spurious.
    (
        "empty gold, one prediction",
        "No/O mention/O here/O ./O",
        reply(("mention", "Disease")),
        c(spu=1),
        c(spu=1),
    ),
    # Defect, same crash: empty gold and an empty prediction scores nothing at all.
    (
        "empty gold, empty prediction",
        "Nothing/O to/O find/O ./O",
        reply(),
        c(),
        c(),
    ),
    # Defect: the model lists the shorter overlapping mention first. The gold entity is matched
    # once, by the exact prediction (COR); the other overlapping prediction has no gold entity
    # left and is spurious. nervaluate pairs greedily in listing order, which gave INC + SPU.
    (
        "overlapping mention listed before the exact one",
        "breast/B-Disease cancer/I-Disease risk/O",
        reply(("cancer", "Disease"), ("breast cancer", "Disease")),
        c(cor=1, spu=1),
        c(cor=1, spu=1),
    ),
    # The same two mentions in the other order: identical counts.
    (
        "exact mention listed before the overlapping one",
        "breast/B-Disease cancer/I-Disease risk/O",
        reply(("breast cancer", "Disease"), ("cancer", "Disease")),
        c(cor=1, spu=1),
        c(cor=1, spu=1),
    ),
    # A mention repeated in the sentence is one entity per occurrence, as in the gold IOB.
    (
        "repeated mention labels every occurrence",
        "Torsade/B-Disease de/I-Disease pointes/I-Disease and/O torsade/B-Disease de/I-Disease pointes/I-Disease",
        reply(("torsade de pointes", "Disease")),
        c(cor=2),
        c(cor=2),
    ),
    # Text that is not in the sentence is a spurious prediction, never silently dropped.
    (
        "entity text not in the sentence",
        "renal/B-Disease failure/I-Disease ./O",
        reply(("renal failure", "Disease"), ("kidney stones", "Disease")),
        c(cor=1, spu=1),
        c(cor=1, spu=1),
    ),
    # A reply without an entity list predicts nothing: every gold entity is missed.
    (
        "unparseable reply",
        "renal/B-Disease failure/I-Disease after/O cisplatin/B-Chemical",
        "I cannot answer that in JSON.",
        c(mis=2),
        c(mis=2),
    ),
]


@pytest.mark.parametrize(("case", "tagged", "text", "strict", "partial"), ROWS, ids=[r[0] for r in ROWS])
def test_row(case, tagged, text, strict, partial):
    got = counts([make_sample("s0", tagged, text)])
    assert got == {"strict": strict, "partial": partial}, case


def _corpus() -> list[Sample]:
    return [make_sample(f"s{i:02d}", r[1], r[2]) for i, r in enumerate(ROWS)]


def test_corpus_is_the_sum_of_the_rows_with_the_published_formulas():
    total = {
        scheme: {k: sum(r[3 if scheme == "strict" else 4][k] for r in ROWS) for k in c()}
        for scheme in ("strict", "partial")
    }
    res = NERProtocol(NERProtocol.Options(types=TYPES)).summarize(_corpus())["ner"]["overall"]
    for scheme, t in total.items():
        pos = t["correct"] + t["incorrect"] + t["partial"] + t["missed"]
        act = t["correct"] + t["incorrect"] + t["partial"] + t["spurious"]
        hit = t["correct"] + (0.5 * t["partial"] if scheme == "partial" else 0)
        p, r = hit / act, hit / pos
        assert res[scheme]["precision"] == pytest.approx(p)
        assert res[scheme]["recall"] == pytest.approx(r)
        assert res[scheme]["f1"] == pytest.approx(2 * p * r / (p + r))


def _metrics(samples: list[Sample]) -> dict:
    out = NERProtocol(NERProtocol.Options(types=TYPES)).summarize(samples)
    return {"ner": out["ner"], "f1": out["f1"], "problems": out["problems"]}


def test_any_sample_order_gives_identical_metrics():
    # samples.jsonl is in completion order: an empty-gold sentence first, last or anywhere,
    # the metrics (counts, P/R/F1, per type, and the bootstrap CI of the headline F1) are equal.
    samples = _corpus()
    reference = _metrics(samples)
    empty_first = sorted(samples, key=lambda s: bool(s.item.target))
    assert not empty_first[0].item.target
    orders = [empty_first, list(reversed(samples))]
    rng = random.Random(14)
    for _ in range(5):
        shuffled = samples[:]
        rng.shuffle(shuffled)
        orders.append(shuffled)
    for order in orders:
        assert _metrics(order) == reference


def test_entity_listing_order_does_not_change_counts():
    tagged = "breast/B-Disease cancer/I-Disease and/O aspirin/B-Chemical asthma/B-Disease"
    mentions = [
        ("cancer", "Disease"),
        ("breast cancer", "Disease"),
        ("aspirin", "Disease"),
        ("asthma", "Disease"),
    ]
    seen = {
        json.dumps(counts([make_sample("s", tagged, reply(*perm))]), sort_keys=True)
        for perm in itertools.permutations(mentions)
    }
    assert len(seen) == 1
    # strict: breast cancer COR, aspirin INC (type), asthma COR, cancer SPU
    assert json.loads(seen.pop())["strict"] == c(cor=2, inc=1, spu=1)


def test_rescore_of_a_run_in_any_stored_order_gives_the_same_metrics(
    fake_server, tmp_path, capsys, shared_data
):
    """A real run folder (16 sentences, 4 without a gold entity) rescored with the samples in
    completion order, with an empty-gold sentence first, and reversed: no crash, equal metrics."""
    from clihelp import run_cli, run_ok

    from medevals.benchmarks import base, registry

    items = base.load(registry.get("ncbi-disease"), "test", shared_data).items[:16]
    by_sentence = {it.input: it for it in items}

    def respond(path, body):
        text = body["messages"][-1]["content"]
        it = next(it for s, it in by_sentence.items() if s in text)
        toks = it.metadata["tokens"]
        ents = [" ".join(toks[s["start"] : s["end"] + 1]) for s in it.target][::2]  # every other one
        if int(it.id[-2:]) % 3 == 0:
            ents.append(toks[0])  # a spurious (or wrong-boundary) mention
        return reply(*((e, "Disease") for e in ents))

    server = fake_server(responder=respond)
    folder = run_ok(server, tmp_path, capsys, "--limit", "16", "-c", "16", benchmark="ncbi-disease")
    lines = folder.samples_path.read_text().splitlines()
    assert len(lines) == 16

    def gold_of(line: str) -> list:
        return json.loads(line)["item"]["target"]

    results = []
    for order in (lines, sorted(lines, key=lambda x: bool(gold_of(x))), lines[::-1]):
        folder.samples_path.write_text("\n".join(order) + "\n")
        code, out, err = run_cli(["rescore", str(folder.path)], capsys)
        assert code == 0, err + out
        m = folder.read_metrics()["benchmarks"]["ncbi-disease"]
        results.append((m["extra"]["ner"], m["extra"]["f1"], m["metrics"]))
    assert results[0] == results[1] == results[2]
    strict = results[0][0]["overall"]["strict"]
    assert strict["possible"] == sum(len(it.target) for it in items)
