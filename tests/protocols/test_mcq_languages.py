"""Prompt languages end to end: --set language=X, a spec's language:, templates in the manifest,
and answers read in each language through the fake server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from clihelp import run_fake, run_ok
from fake_openai import _last_user_text

from medevals.languages import LANGUAGES
from medevals.protocols import mcq
from medevals.protocols.mcq_prompts import PROMPTS, VERSION
from medevals.scoring.extract import extract_choice, extract_choices

#: What each language's model says when it concludes (a chat model answering in the prompt's language).
REPLIES = {
    "en": "The correct answer is (C).",
    "es": "La respuesta correcta es la C.",
    "fr": "La bonne réponse est C.",
    "it": "La risposta corretta è la C.",
    "de": "Die richtige Antwort ist C.",
    "pt": "A resposta correta é a C.",
    "zh": "答案是C。",
    "ja": "正解はCです。",
}


def test_english_prompt_strings_are_unchanged():
    """English runs (and their cached responses) stay as they were before languages existed."""
    assert mcq.INSTRUCTION == (
        "The following is a multiple-choice question about medicine. Answer with the letter of the correct option only."
    )
    assert mcq.COT_INSTRUCTION == (
        "The following is a multiple-choice question about medicine. Think step by step, then end your reply "
        'with a final line "The answer is (X)" where X is the letter of the correct option.'
    )
    assert mcq.STEM_ONLY_INSTRUCTION.endswith("are given. Answer with the letter of the correct option only.")
    assert (
        mcq.COMPLETION_HEADER
        == "The following are multiple-choice questions (with answers) about medicine.\n\n"
    )


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_each_language_reads_its_own_prompted_answer_forms(lang):
    """The answer forms a language's prompts ask for are read back by that language's phrases."""
    p = PROMPTS[lang]
    opts = {"A": "x1", "B": "x2", "C": "x3", "D": "x4"}
    assert set(p) == set(PROMPTS["en"])
    assert extract_choice(p["example_answer"].format(answer="C"), opts, lang).answer == "C"
    assert extract_choices(p["example_answer"].format(answer="A, C"), opts, lang).answer == ["A", "C"]
    assert extract_choice(REPLIES[lang], opts, lang).answer == "C"
    # the chain-of-thought instruction's final line, filled in
    final = re.search(r'["“「«]\s*(.*?\(X\).*?)\s*["”」»]', p["cot_one"]).group(1)
    assert extract_choice("...\n" + final.replace("X", "B"), opts, lang).answer == "B", final
    assert mcq.verbal_confidence(p["verbal"].replace("N", "85")) == pytest.approx(0.85)


def _spec(tmp_path: Path, language: str | None, rows: list[dict[str, Any]]) -> Path:
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    lang = f"language: {language}\n" if language else ""
    spec.write_text(
        f"name: local-exam\ndata: items.jsonl\n{lang}fields: {{question: q, options: opts, answer: a}}\n",
        encoding="utf-8",
    )
    return spec


ROWS = [
    {"q": f"Pregunta {i}: ¿cuál es el fármaco indicado?", "opts": ["uno", "dos", "tres", "cuatro"], "a": "C"}
    for i in range(4)
]


def _by_language(path: str, body: dict[str, Any]) -> str:
    """Reply in the prompt's language (recognised by its instruction), always with option C."""
    text = _last_user_text(body)
    lang = next((k for k, p in PROMPTS.items() if k != "en" and text.startswith(p["intro"])), "en")
    return REPLIES[lang]


@pytest.mark.parametrize("lang", [x for x in LANGUAGES if x != "en"])
def test_spec_language_selects_prompt_and_extraction(fake_server, tmp_path, capsys, lang):
    server = fake_server(responder=_by_language)
    spec = _spec(tmp_path, lang, ROWS)
    folder = run_ok(server, tmp_path, capsys, benchmark=str(spec))
    m = folder.read_metrics()["benchmarks"]["local-exam"]
    assert m["metrics"]["accuracy"]["value"] == 1.0 and m["n_unparseable"] == 0
    sent = server.requests[0]["body"]["messages"][0]["content"]
    p = PROMPTS[lang]
    assert sent.startswith(p["intro"]) and p["question"] in sent and sent.endswith(p["answer"])
    record = folder.read_manifest().benchmarks[0]
    assert record.templates["prompt_version"] == VERSION and record.templates[f"{lang}:intro"] == p["intro"]
    assert {s.item.metadata["language"] for s in folder.iter_samples()} == {lang}


def test_set_language_overrides_every_item(fake_server, tmp_path, capsys):
    """--set language=fr puts English items to the model in French and reads French answers."""
    server = fake_server(responder=_by_language)
    folder = run_ok(server, tmp_path, capsys, "--limit", "3", "--set", "language=French")
    assert folder.read_manifest().benchmarks[0].options["language"] == "fr"
    assert all(
        r["body"]["messages"][0]["content"].startswith(PROMPTS["fr"]["intro"]) for r in server.requests
    )
    assert all(s.score.answer == "C" for s in folder.iter_samples())


def test_english_run_never_reads_other_languages(fake_server, tmp_path, capsys):
    server = fake_server(responder=lambda path, body: REPLIES["es"])
    folder = run_ok(server, tmp_path, capsys, "--limit", "2")
    assert folder.read_metrics()["benchmarks"]["demo"]["n_unparseable"] == 2
    assert "prompt_version" not in folder.read_manifest().benchmarks[0].templates


def test_unknown_language_is_a_one_line_error(fake_server, tmp_path, capsys):
    server = fake_server()
    code, _, err, _ = run_fake(server, tmp_path, capsys, "--set", "language=klingon")
    assert code == 2 and "unknown language 'klingon'" in err and len(err.strip().splitlines()) == 1
    spec = _spec(tmp_path, "xx", ROWS)
    code, _, err, _ = run_fake(server, tmp_path, capsys, benchmark=str(spec))
    assert code == 2 and "spec.yaml:3" in err and "field 'language'" in err
    assert not server.requests


def test_items_in_two_languages_get_a_language_breakdown():
    """A benchmark whose items are in several languages reports the metric per language (and one
    in a single language adds nothing)."""
    from medevals.schema import Item, Sample, Score
    from medevals.scoring.metrics import Aggregator

    def sample(i: int, lang: str | None, value: float) -> Sample:
        meta = {"language": lang} if lang else {}
        item = Item(id=str(i), input="q", choices={"A": "a", "B": "b"}, target="A", metadata=meta)
        return Sample(unit_id=str(i), benchmark="b", item=item, score=Score(value=value))

    agg = Aggregator()
    for i, (lang, v) in enumerate([("ja", 1.0), ("ja", 0.0), (None, 1.0), (None, 1.0), ("ja", 1.0)]):
        agg.add(sample(i, lang, v))
    langs = agg.result()["languages"]
    assert set(langs) == {"en", "ja"}
    assert langs["ja"]["value"] == pytest.approx(2 / 3) and langs["ja"]["n"] == 3
    assert langs["en"]["value"] == 1.0 and langs["en"]["n"] == 2
    one = Aggregator()
    one.add(sample(0, "ja", 1.0))
    assert "languages" not in one.result()
