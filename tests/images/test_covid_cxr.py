"""covid-cxr: exact task sizes from the staged metadata, no leaking field in any prompt, and a real-image
end-to-end run through the image-aware fake server (answers checked against the image hashes)."""

from __future__ import annotations

import collections
import csv
import hashlib
import json

import pytest
from clihelp import run_ok
from fake_openai import answer_from_images, image_hash_letter

from medevals.benchmarks import base, registry


@pytest.fixture
def covid(shared_data):
    if not (shared_data / "covid_chestxray").is_dir():
        pytest.skip("covid_chestxray not staged")
    return shared_data / "covid_chestxray"


def test_task_sizes_and_balance(covid):
    bench = registry.get("covid-cxr")
    data = base.load(bench, "test")
    items = list(data.items)
    assert len(items) == bench.splits["test"] == 358
    by_task = collections.Counter(i.subset for i in items)
    assert by_task == {"finding": 151, "view": 162, "frontal-lateral": 12, "longitudinal": 33}
    for split, n in bench.splits.items():
        assert len(base.load(bench, split).items) == n
    assert collections.Counter(i.target for i in items if i.subset == "longitudinal") == {"A": 16, "B": 17}
    for it in items:
        assert it.images and all(im.path for im in it.images)
        assert it.target in (it.choices or {})
        if it.subset in ("finding", "frontal-lateral"):
            assert len(it.choices or {}) == 4 and len(set((it.choices or {}).values())) == 4
        if it.subset in ("frontal-lateral", "longitudinal"):
            assert len(it.images) == 2
    # the same image is never in two finding items, and ids are neutral
    assert len({i.images[0].path for i in items if i.subset == "finding"}) == 151
    assert all("covid" not in i.id.lower() and "pneumonia" not in i.id.lower() for i in items)


def _leaky_strings(covid) -> list[str]:
    """File names, URLs, DOIs and clinical notes of the staged rows: none may reach a prompt."""
    staged = {
        r["metadata_row"] for r in csv.DictReader((covid / "subset_manifest.csv").open(encoding="utf-8"))
    }
    out: list[str] = []
    with (covid / "metadata.csv").open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if str(i) not in staged:
                continue
            out.append(row["filename"].rsplit(".", 1)[0])
            for f in ("url", "doi", "clinical_notes"):
                if len(row[f].strip()) > 8:
                    out.append(row[f].strip()[:60])
    return out


def _prompt_text(body: dict) -> str:
    """Every text the model sees (image parts excluded: their base64 is not text)."""
    bits = []
    for m in body.get("messages") or []:
        c = m.get("content")
        if isinstance(c, str):
            bits.append(c)
        else:
            bits.extend(p.get("text", "") for p in c if p.get("type") == "text")
    return "\n".join(bits)


@pytest.mark.parametrize("split", ["longitudinal", "frontal-lateral", "finding"])
def test_end_to_end_real_images_through_fake_server(covid, fake_server, tmp_path, capsys, split):
    server = fake_server(responder=answer_from_images)
    folder = run_ok(server, tmp_path, capsys, "-c", "8", "--limit", "24", benchmark=f"covid-cxr:{split}")
    samples = list(folder.iter_samples())
    assert len(samples) == min(24, registry.get("covid-cxr").splits[split])
    manifest_sha = {
        r["image_path"].split("/")[-1]: r["sha256"]
        for r in csv.DictReader((covid / "subset_manifest.csv").open(encoding="utf-8"))
    }
    leaks = _leaky_strings(covid)
    sent = {}
    for req in server.requests:
        text = _prompt_text(req["body"])
        assert not [s for s in leaks if s in text], "a leaking field reached a prompt"
        sent.setdefault(json.dumps(req["image_hashes"]), 0)
    for s in samples:
        refs = [im["ref"] for im in s.output["images"]]
        hashes = [r.split("/")[1].split(".")[0] for r in refs]
        assert json.dumps(hashes) in sent  # the server decoded exactly the stored bytes, in this order
        for im, ref in zip(s.item.images, refs, strict=True):
            stored = folder.path / ref
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == ref.split("/")[1].split(".")[0]
            src = manifest_sha[im.path.split("/")[-1]]
            if ref.endswith(".jpg"):
                assert ref == f"images/{src}.jpg"  # an RGB JPEG goes byte for byte as stored
        want = image_hash_letter(hashes, list(s.item.choices or {}))
        assert s.score is not None and s.score.answer == want
    metrics = folder.read_metrics()["benchmarks"]["covid-cxr"]
    assert metrics["n"] == len(samples)
