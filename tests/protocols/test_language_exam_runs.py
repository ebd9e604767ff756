"""headqa, frenchmedmcqa, cmexam and igakuqa end to end through the fake server: each language's
replies read, answer sets scored (exact match, Hamming), exam points, skipped items counted,
translations split by language, few-shot set examples, likelihood mode on answer sets."""

from __future__ import annotations

from typing import Any

import pytest
from clihelp import run_cli, run_ok
from fake_openai import _last_user_text

from medevals.benchmarks import base, registry
from medevals.protocols.mcq_prompts import PROMPTS

pytestmark = pytest.mark.usefixtures("shared_data")  # the four exams' data: skipped without it

BENCHES = ("headqa", "frenchmedmcqa", "cmexam", "igakuqa")
LIMIT = 20


def _items(name: str, **opts: Any) -> list[Any]:
    return list(base.load(registry.get(name), options=opts).items)[:LIMIT]


def _say(lang: str, letters: list[str]) -> str:
    """A reply in the item's language naming ``letters``."""
    if lang == "es":
        return (
            f"La respuesta correcta es la {letters[0]}."
            if len(letters) == 1
            else "Respuestas: " + " y ".join(letters)
        )
    if lang == "fr":
        return "Réponses : " + ", ".join(letters[:-1]) + (" et " if len(letters) > 1 else "") + letters[-1]
    if lang == "zh":
        return "答案：" + "".join(letters)
    if lang == "ja":
        return "正解は" + "、".join(x.lower() for x in letters) + "です。"
    return "The answer is " + ", ".join(letters) + "."


class Examiner:
    """Knows every item: right on even positions, wrong on odd ones (a single wrong option)."""

    def __init__(self, items: list[Any]):
        self.items = items
        self.right = {it.id: i % 2 == 0 for i, it in enumerate(items)}

    def answer(self, it: Any) -> list[str]:
        target = it.target if isinstance(it.target, list) else [it.target]
        if self.right[it.id]:
            return list(target)
        return [next(k for k in it.choices if k not in target)]

    def __call__(self, path: str, body: dict[str, Any]) -> str:
        text = _last_user_text(body)
        # the item asked: the one whose question ends the prompt's question block (longest match)
        found = [it for it in self.items if it.input in text]
        it = max(found, key=lambda x: len(x.input))
        return _say(it.metadata.get("language", "en"), self.answer(it))


def test_four_exams_in_their_languages(fake_server, tmp_path, capsys):
    items = [it for name in BENCHES for it in _items(name)]
    examiner = Examiner(items)
    server = fake_server(responder=examiner)
    folder = run_ok(
        server,
        tmp_path,
        capsys,
        "-b",
        ",".join(BENCHES),
        "--limit",
        str(LIMIT),
        "-c",
        "8",
        report=True,
        benchmark=None,
    )
    metrics = folder.read_metrics()["benchmarks"]
    for name in BENCHES:
        m = metrics[name]
        assert m["n_scored"] == LIMIT and m["n_unparseable"] == 0, name
        assert m["metrics"]["accuracy"]["value"] == pytest.approx(0.5), name
    # FrenchMedMCQA: right sets score 1 on both; a single wrong option scores 0 on both
    assert metrics["frenchmedmcqa"]["metrics"]["hamming_score"]["value"] == pytest.approx(0.5)
    # skipped rows are counted beside the metrics, never silently dropped
    assert metrics["headqa"]["skipped"] == {
        "n": 67,
        "reasons": {"refers to an image the data does not ship": 67},
    }
    assert metrics["cmexam"]["skipped"]["n"] == 1 and metrics["igakuqa"]["skipped"]["n"] == 529
    # HEAD-QA net score: +3 x 10 right, -1 x 10 wrong
    hq = metrics["headqa"]
    assert hq["metrics"]["exam_points"]["value"] == pytest.approx((3 * 10 - 10) / 20)
    table = next(t for t in hq["extra"]["tables"] if t["title"] == "Exam score")
    assert table["rows"][0][3:6] == [10, 10, 0] and table["rows"][0][6] == "20 / 60"
    # IgakuQA points: the right questions' points out of all
    ig = {it.id: it for it in _items("igakuqa")}
    earned = sum(it.metadata["points"] for i, it in enumerate(ig.values()) if i % 2 == 0)
    assert metrics["igakuqa"]["metrics"]["exam_points"]["value"] == pytest.approx(earned / LIMIT)
    sets = next(
        t for t in metrics["frenchmedmcqa"]["extra"]["tables"] if t["title"].startswith("Answer sets")
    )
    assert sets["rows"][-1][0] == "all" and sets["rows"][-1][1] == LIMIT
    # prompts went out in each benchmark's language, set items with the set instruction
    manifest = folder.read_manifest()
    by_name = {b.name: b for b in manifest.benchmarks}
    assert by_name["headqa"].skipped == {"refers to an image the data does not ship": 67}
    assert by_name["frenchmedmcqa"].templates["fr:set_note"] == PROMPTS["fr"]["set_note"]
    firsts = {}
    for s in folder.iter_samples():
        firsts.setdefault(s.benchmark, s.calls[0].request["messages"][0]["content"])
    assert firsts["headqa"].startswith(PROMPTS["es"]["intro"] + " " + PROMPTS["es"]["answer_one"])
    assert firsts["frenchmedmcqa"].startswith(
        " ".join(PROMPTS["fr"][k] for k in ("intro", "set_note", "answer_set"))
    )
    assert firsts["cmexam"].startswith(PROMPTS["zh"]["intro"] + PROMPTS["zh"]["set_note"])
    assert firsts["igakuqa"].startswith(PROMPTS["ja"]["intro"])
    html = (folder.path / "report.html").read_text(encoding="utf-8")
    assert "skipped (no denominator)" in html and "Answer sets" in html and "Exam score" in html
    # rescoring needs no model and keeps the skipped counts (they live in the manifest)
    code, out, err = run_cli(["rescore", str(folder.path), "--no-report"], capsys)
    assert code == 0, err
    assert folder.read_metrics()["benchmarks"]["headqa"]["skipped"]["n"] == 67
    assert "headqa: 67 items skipped" in " ".join(out.split())


def test_igakuqa_in_both_languages_is_split_by_language(fake_server, tmp_path, capsys):
    both = _items("igakuqa", translation="both")  # each question in Japanese, then in English
    examiner = Examiner(both)  # right on the Japanese, wrong on the English
    server = fake_server(responder=examiner)
    folder = run_ok(
        server, tmp_path, capsys, "--set", "translation=both", "--limit", "20", benchmark="igakuqa"
    )
    m = folder.read_metrics()["benchmarks"]["igakuqa"]
    # the first 20 items of 'both' are 10 questions, each in Japanese then English
    langs = m["languages"]
    assert set(langs) == {"en", "ja"} and langs["ja"]["n"] == 10 and langs["en"]["n"] == 10
    assert langs["ja"]["value"] == 1.0 and langs["en"]["value"] == 0.0
    assert [it.metadata["language"] for it in both[:4]] == ["ja", "en", "ja", "en"]
    sent = [r["body"]["messages"][0]["content"] for r in server.requests]
    assert sum(x.startswith(PROMPTS["ja"]["intro"]) for x in sent) == 10
    assert sum(x.startswith(PROMPTS["en"]["intro"]) for x in sent) == 10


def test_set_language_puts_japanese_items_in_english(fake_server, tmp_path, capsys):
    """--set language=en: English instructions and labels around the Japanese question, English reading."""
    items = _items("igakuqa")
    server = fake_server(
        responder=lambda path, body: (
            "The answer is "
            + ", ".join(
                (lambda it: it.target if isinstance(it.target, list) else [it.target])(
                    max((x for x in items if x.input in _last_user_text(body)), key=lambda x: len(x.input))
                )
            )
        )
    )
    folder = run_ok(server, tmp_path, capsys, "--set", "language=en", "--limit", "6", benchmark="igakuqa")
    assert folder.read_metrics()["benchmarks"]["igakuqa"]["metrics"]["accuracy"]["value"] == 1.0
    assert all("Question: " in r["body"]["messages"][0]["content"] for r in server.requests)


def test_few_shot_set_examples_come_from_dev(fake_server, tmp_path, capsys):
    items = _items("frenchmedmcqa")
    dev = {it.id: it for it in base.load(registry.get("frenchmedmcqa"), "dev").items}
    server = fake_server(responder=Examiner(items + list(dev.values())))
    folder = run_ok(
        server, tmp_path, capsys, "--strategy", "3shot", "--limit", "2", benchmark="frenchmedmcqa"
    )
    s = next(iter(folder.iter_samples()))
    assert len(s.output["examples"]) == 3 and all(x in dev for x in s.output["examples"])
    msgs = s.calls[0].request["messages"]
    shown = [m["content"] for m in msgs if m["role"] == "assistant"]
    want = [
        PROMPTS["fr"]["example_answer"].format(answer=", ".join(dev[x].target)) for x in s.output["examples"]
    ]
    assert shown == want
    assert "split 'dev'" in folder.read_manifest().benchmarks[0].options["fewshot_source"]


def test_likelihood_mode_generates_answer_sets(fake_server, tmp_path, capsys):
    """One next-token letter cannot name a set: set items are generated, single items use logprobs."""
    server = fake_server(responder=lambda path, body: "答案：A")
    folder = run_ok(server, tmp_path, capsys, "--mode", "likelihood", "--limit", "3", benchmark="cmexam")
    for s in folder.iter_samples():
        assert s.output["mode"] == "generate" and "logprobs" not in s.calls[0].request
        assert "likelihood mode does not apply" in s.score.explanation


def test_numeric_entry_questions(fake_server, tmp_path, capsys, monkeypatch):
    """IgakuQA's answer-box questions: asked without options, the number read in Japanese or
    English, voted under sc3, and not applicable where options or examples are needed."""
    monkeypatch.setitem(registry.BUILTIN, "igakuqa-numeric", "mcqscore:IGAKUQA_NUMERIC")
    items = list(base.load(registry.get("igakuqa-numeric")).items)
    assert len(items) == 12
    values = {"04": "0.4", "7.20": "7.2", "130": "1,130", "100": "10.0", "21": "2.1"}

    def respond(path: str, body: dict[str, Any]) -> str:
        it = max((x for x in items if x.input in _last_user_text(body)), key=lambda x: len(x.input))
        return (
            f"計算すると、答えは {values.get(it.target, it.target)} です。"
            if it.id != "112C66"
            else "わかりません"
        )

    server = fake_server(responder=respond)
    folder = run_ok(
        server, tmp_path, capsys, "--strategy", "zero-shot,sc3,3shot,probes", benchmark="igakuqa-numeric"
    )
    m = folder.read_metrics()["benchmarks"]["igakuqa-numeric"]
    head = m["variants"]["zero-shot"]
    assert head["n_scored"] == 12 and head["n_unparseable"] == 1 and head["value"] == pytest.approx(11 / 12)
    assert m["variants"]["sc3"]["value"] == pytest.approx(11 / 12)
    for v in ("3shot", "probe:position", "probe:options-only"):
        assert m["variants"][v]["not_applicable"] and m["variants"][v]["n_not_applicable"] == 12, v
    s = next(x for x in folder.iter_samples() if x.variant == "zero-shot" and x.item.id == "116F74")
    prompt = s.calls[0].request["messages"][0]["content"]
    assert prompt.startswith(PROMPTS["ja"]["intro_number"]) and "\nA. " not in prompt
    assert s.score.answer == "0.4" and s.score.value == 1.0


@pytest.mark.slow
def test_four_exams_on_the_builtin_model(tmp_path, capsys):
    """The embedded base model (plumbing, not a result): single-answer items by option logprobs, answer
    sets generated (a completion prompt in the item's language) and read or counted unparseable."""
    folder = run_ok(
        None,
        tmp_path,
        capsys,
        "-b",
        ",".join(BENCHES),
        "--limit",
        "3",
        model="builtin:gemma3-270m",
        benchmark=None,
    )
    metrics = folder.read_metrics()["benchmarks"]
    for name in BENCHES:
        assert metrics[name]["n_scored"] == 3 and metrics[name]["n_errors"] == 0, name
    for s in folder.iter_samples():
        prompt = s.calls[0].request["prompt"]
        lang = s.item.metadata["language"]
        assert PROMPTS[lang]["question"] in prompt and prompt.rstrip().endswith(
            PROMPTS[lang]["answer"].rstrip()
        )
        if s.item.metadata.get("multi_answer"):
            assert s.output["mode"] == "generate" and s.calls[0].request["max_tokens"] == 16
        else:
            assert s.output["mode"] == "likelihood" and s.score.answer in s.item.choices
