"""Open VQA runs through the fake server, with and without a judge (the matching rules: tests/conformance)."""

from __future__ import annotations

import json

import pytest
from clihelp import run_ok
from imgfixtures import jpeg_bytes, write

ANSWERS = {
    "Is there a fracture?": "Yes.",
    "Which organ is shown?": "Answer: The liver",
    "What is the lesion?": "a cyst",
}


def _slake(tmp_path):
    root = tmp_path / "data" / "slake"
    write(root / "imgs" / "xmlab1" / "source.jpg", jpeg_bytes(1))
    rows = [
        {"qid": 1, "img_name": "xmlab1/source.jpg", "question": "Is there a fracture?", "answer": "No", "q_lang": "en", "modality": "X-Ray", "answer_type": "CLOSED", "content_type": "Abnormality"},
        {"qid": 2, "img_name": "xmlab1/source.jpg", "question": "Which organ is shown?", "answer": "Liver", "q_lang": "en", "modality": "CT", "answer_type": "OPEN", "content_type": "Organ"},
        {"qid": 3, "img_name": "xmlab1/source.jpg", "question": "What is the lesion?", "answer": "hepatic cyst", "q_lang": "en", "modality": "CT", "answer_type": "OPEN", "content_type": "Abnormality"},
    ]  # fmt: skip
    (root / "test.json").write_text(json.dumps(rows))
    return tmp_path / "data"


def _respond(path, body):
    text = json.dumps(body)
    if "Reference answer:" in text:  # the judge: "a cyst" is equivalent to "hepatic cyst"? say no; liver yes
        return (
            '{"equivalent": true, "explanation": "same organ"}'
            if "liver" in text.lower()
            else '{"equivalent": false, "explanation": "vaguer"}'
        )
    user = body["messages"][-1]["content"]
    q = next(p["text"] for p in user if p["type"] == "text")
    return next(a for k, a in ANSWERS.items() if k in q)


def test_vqa_run_without_and_with_judge(fake_server, tmp_path, capsys, monkeypatch):
    data = _slake(tmp_path)
    monkeypatch.setenv("MEDEVALS_DATA", str(data))
    server = fake_server(responder=_respond)
    folder = run_ok(server, tmp_path / "plain", capsys, benchmark="slake")
    scores = {s.item.id: s.score for s in folder.iter_samples()}
    assert scores["1"].value == 0.0 and scores["1"].values["closed_accuracy"] == 0.0
    assert scores["2"].value == 1.0 and scores["2"].answer == "The liver"  # "Answer:" lead-in dropped
    assert scores["3"].value == 0.0 and scores["3"].values["open_token_recall"] == pytest.approx(0.5)
    m = folder.read_metrics()["benchmarks"]["slake"]
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(1 / 3)
    titles = [t["title"] for t in m["extra"]["tables"]]
    assert (
        "VQA by question kind (zero-shot)" in titles and "Accuracy by imaging modality (zero-shot)" in titles
    )

    judged = run_ok(
        server, tmp_path / "judged", capsys, "--judge", f"openai:j0@{server.base_url}", benchmark="slake"
    )
    js = {s.item.id: s.score for s in judged.iter_samples()}
    assert js["2"].values["open_judged"] == 1.0 and js["3"].values["open_judged"] == 0.0
    assert js["1"].values.get("open_judged") is None  # closed questions are never judged
    judge_prompts = [r for r in server.requests if "Reference answer:" in json.dumps(r["body"])]
    assert len(judge_prompts) == 2 and all("image_url" not in json.dumps(r["body"]) for r in judge_prompts)
