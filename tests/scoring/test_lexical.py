"""BERTScore beside ROUGE: used when the package and its model are there, a one-line note otherwise."""

from __future__ import annotations

import sys
import types

from medevals.scoring.lexical import bertscore


def test_bertscore_missing_package_is_a_note(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    r = bertscore(["a"], ["b"])
    assert (
        r.f1 is None
        and r.note == "BERTScore not computed: the bert-score package is not installed (ROUGE only)"
    )


def test_bertscore_with_the_package_passes_settings_and_clips(monkeypatch):
    seen = {}

    def fake_score(cands, refs, **kw):
        seen.update(kw, cands=cands, refs=refs)
        return None, None, [1.2, 0.5]

    monkeypatch.setitem(sys.modules, "bert_score", types.SimpleNamespace(score=fake_score))
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())
    r = bertscore(["r1", "r2"], ["p1", "p2"], model_type="m", rescale=True, clip=(0.0, 1.0))
    assert r.f1 == [1.0, 0.5] and seen["model_type"] == "m" and seen["rescale_with_baseline"] is True
    assert seen["cands"] == ["p1", "p2"] and seen["refs"] == ["r1", "r2"]
    assert r.note == "BERTScore: m, rescaled with its baseline, clipped to [0, 1]"
    seen.clear()
    plain = bertscore(["r1", "r2"], ["p1", "p2"])
    assert plain.f1 == [1.2, 0.5] and "rescale_with_baseline" not in seen and "model_type" not in seen


def test_bertscore_model_missing_offline_is_a_note(monkeypatch):
    def no_model(cands, refs, **kw):
        raise OSError("We couldn't connect to 'https://huggingface.co' to load this file")

    monkeypatch.setitem(sys.modules, "bert_score", types.SimpleNamespace(score=no_model))
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())
    r = bertscore(["r"], ["p"])
    assert r.f1 is None and r.note.startswith("BERTScore not computed: OSError: We couldn't connect")
    assert r.note.endswith("(ROUGE only)")
    assert (
        bertscore(["r"], ["p"], enabled=False).note
        == "BERTScore disabled (--set bertscore=false): ROUGE only"
    )
