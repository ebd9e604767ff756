"""mediconfusion: images from a user folder in upstream's layout (scripts/download.py: DIR/<local>.jpg),
a one-line error without it, official prompt, and per-pair scoring end to end through the fake server."""

from __future__ import annotations

import json

import pytest
from clihelp import run_cli, run_ok
from fake_openai import image_answerer, image_hash_letter
from imgfixtures import jpeg_bytes, sha

from medevals.benchmarks import base, registry
from medevals.benchmarks.image_sets import MC_PROMPT, MC_SYSTEM
from medevals.scoring.confusion import category_table, pair_outcome


@pytest.fixture
def mc(shared_data):
    if not (shared_data / "mediconfusion").is_dir():
        pytest.skip("mediconfusion not staged")
    return shared_data / "mediconfusion"


def _image_folder(mc, tmp_path, *, skip: int = 0):
    """A generated stand-in for upstream's download: one tiny JPEG per local id (distinct bytes)."""
    folder = tmp_path / "mc-images"
    folder.mkdir()
    ids = sorted(v["local"] for v in json.loads((mc / "image_dict.json").read_text()).values())
    for n, local in enumerate(ids[skip:]):
        (folder / f"{local}.jpg").write_bytes(jpeg_bytes(n + 1))
    return folder, len(ids)


def test_official_prompt_is_upstreams_verbatim(mc):
    prompts = json.loads((mc / "prompts" / "answering.json").read_text())
    official = prompts["prompts"]["mc"]["gpt"].format("{question}", "{A}", "{B}")
    assert official == MC_PROMPT
    assert prompts["init_prompts"]["default"] == MC_SYSTEM


def test_without_images_one_line_says_what_and_how(mc, tmp_path, capsys):
    code, out, err = run_cli(
        [
            "run",
            "-m",
            "openai:x",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "-b",
            "mediconfusion",
            "--runs-dir",
            str(tmp_path),
        ],
        capsys,
    )
    msg = (err + out).strip()
    assert code == 2
    assert "--set images=DIR" in msg and "scripts/download.py" in msg and "not redistributable" in msg
    assert len([ln for ln in msg.splitlines() if ln.strip()]) == 1


def test_missing_images_are_counted(mc, tmp_path):
    folder, n = _image_folder(mc, tmp_path, skip=3)
    with pytest.raises(Exception, match=r"images are missing from .*mc-images \(first: \d+\.jpg\)"):
        base.load(registry.get("mediconfusion"), options={"images": str(folder)})
    assert n == 228


def test_loader_pairs(mc, tmp_path):
    folder, _ = _image_folder(mc, tmp_path)
    items = list(base.load(registry.get("mediconfusion"), options={"images": str(folder)}).items)
    assert len(items) == 176
    for it in items:
        assert len(it.images) == 2 and sorted(it.target) == ["A", "B"] and set(it.choices) == {"A", "B"}
        dumped = it.model_dump_json()
        assert "cap_1" not in dumped and "ROCO_" not in dumped


def test_end_to_end_set_accuracy_and_confusion(mc, fake_server, tmp_path, capsys):
    folder_imgs, _ = _image_folder(mc, tmp_path)
    server = fake_server(responder=image_answerer("{}"))  # a bare letter: valid under upstream's rule
    folder = run_ok(
        server, tmp_path, capsys, "-c", "8", "--set", f"images={folder_imgs}", benchmark="mediconfusion"
    )
    data = json.loads((mc / "dataset.json").read_text())
    local_bytes = {}
    ids = sorted(v["local"] for v in json.loads((mc / "image_dict.json").read_text()).values())
    for n, local in enumerate(ids):
        local_bytes[local] = jpeg_bytes(n + 1)
    outcomes = []
    for s in folder.iter_samples():
        row = data[s.item.id]
        want = [image_hash_letter([sha(local_bytes[row[f"im_{i}_local"]])], ["A", "B"]) for i in (1, 2)]
        assert s.score is not None and s.score.answer == want
        o = pair_outcome(want, [row["im_1_correct"], row["im_2_correct"]])
        outcomes.append((o, [row["category_1"], row["category_2"]]))
        assert s.score.value == float(o.set_correct)
        # the official prompt: system + text then image, as upstream sends it
        body = s.calls[0].request
        assert body["messages"][0] == {"role": "system", "content": MC_SYSTEM}
        user = body["messages"][1]["content"]
        assert (
            user[0]["type"] == "text"
            and user[0]["text"].startswith("Based on the image")
            and user[1]["type"] == "image_url"
        )
        assert row["cap_1"].strip()[:40] not in json.dumps(body)
    assert len(outcomes) == 176
    total = category_table(outcomes)["total"]
    m = folder.read_metrics()["benchmarks"]["mediconfusion"]
    assert m["primary"] == "set_accuracy"
    assert m["metrics"]["set_accuracy"]["value"] == pytest.approx(total["set_accuracy"])
    assert m["metrics"]["confusion"]["value"] == pytest.approx(total["confusion"])
    assert m["metrics"]["individual_accuracy"]["value"] == pytest.approx(total["individual_accuracy"])
    tables = {t["title"]: t for t in m["extra"]["tables"]}
    cat = tables["Paired confusion by category (zero-shot)"]
    assert cat["rows"][-1][0] == "total" and cat["rows"][-1][2] == f"{100 * total['set_accuracy']:.1f}%"
    assert len(server.requests) == 352
    assert folder.read_manifest().benchmarks[0].options["images"] == str(folder_imgs)
