"""VQA-RAD, SLAKE, PathVQA and GMAI-MMBench loaders on small fixtures written in each published format."""

from __future__ import annotations

import base64
import json
import pickle
from pathlib import Path

import pytest
from imgfixtures import jpeg_bytes, png_bytes, sha, write

from medevals.benchmarks import base, registry
from medevals.errors import DataError


@pytest.fixture(autouse=True)
def _blobs(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDEVALS_IMAGE_BLOBS", str(tmp_path / "blobs"))


def _rad_row(qid, phrase, image, answer, atype, qtype="PRES"):
    return {
        "qid": qid, "phrase_type": phrase, "qid_linked_id": f"0{qid}", "image_case_url": "https://medpix.example/case?diagnosis=glioma",
        "image_name": image, "image_organ": "HEAD", "evaluation": "not evaluated", "question": f"Question {qid}?",
        "question_rephrase": "NULL", "question_relation": "NULL", "question_frame": "NULL", "question_type": qtype,
        "answer": answer, "answer_type": atype,
    }  # fmt: skip


def test_vqa_rad_osf_layout(tmp_path):
    root = tmp_path / "data" / "vqa_rad"
    for i in (1, 2):
        write(root / "VQA_RAD Image Folder" / f"synpic{i}.jpg", jpeg_bytes(i))
    rows = [
        _rad_row(1, "freeform", "synpic1.jpg", "Yes", "CLOSED"),
        _rad_row(2, "test_freeform", "synpic1.jpg", "Yes", "CLOSED"),
        _rad_row(3, "test_para", "synpic2.jpg", "left temporal lobe", "OPEN", "POS"),
        _rad_row(4, "para", "synpic2.jpg", 2, "OPEN", "COUNT"),
    ]
    (root / "VQA_RAD Dataset Public.json").write_text(json.dumps(rows))
    bench = registry.get("vqa-rad")
    test = list(base.load(bench, "test", tmp_path / "data").items)
    train = list(base.load(bench, "train", tmp_path / "data").items)
    assert [i.id for i in test] == ["2", "3"] and [i.id for i in train] == ["1", "4"]
    assert test[0].metadata["answer_type"] == "closed" and test[1].metadata["answer_type"] == "open"
    assert train[1].target == "2" and test[1].metadata["question_type"] == "POS"
    assert test[1].images[0].path.endswith("VQA_RAD Image Folder/synpic2.jpg")
    assert all("medpix" not in i.model_dump_json() for i in test + train)  # the case URL names the diagnosis


def test_vqa_rad_bad_answer_type_names_file_line_field(tmp_path):
    root = tmp_path / "data" / "vqa_rad"
    write(root / "VQA_RAD Image Folder" / "synpic1.jpg", jpeg_bytes(1))
    (root / "VQA_RAD Dataset Public.json").write_text(
        json.dumps([_rad_row(1, "test_freeform", "synpic1.jpg", "yes", "MAYBE")])
    )
    with pytest.raises(DataError, match=r"Public.json:1: field 'answer_type'"):
        list(base.load(registry.get("vqa-rad"), "test", tmp_path / "data").items)


def test_slake_layout_english_only(tmp_path):
    root = tmp_path / "data" / "slake" / "Slake1.0"
    write(root / "imgs" / "xmlab0" / "source.jpg", jpeg_bytes(3))
    rows = [
        {"img_id": 0, "img_name": "xmlab0/source.jpg", "question": "What modality is used?", "answer": "MRI", "q_lang": "en",
         "location": "Abdomen", "modality": "MRI", "answer_type": "OPEN", "base_type": "vqa", "content_type": "Modality",
         "triple": ["vhead", "_", "_"], "qid": 9835},
        {"img_id": 0, "img_name": "xmlab0/source.jpg", "question": "这是什么模态？", "answer": "MRI", "q_lang": "zh",
         "location": "Abdomen", "modality": "MRI", "answer_type": "OPEN", "base_type": "vqa", "content_type": "Modality",
         "triple": ["vhead", "_", "_"], "qid": 9836},
        {"img_id": 0, "img_name": "xmlab0/source.jpg", "question": "Is the liver healthy?", "answer": "Yes", "q_lang": "en",
         "location": "Abdomen", "modality": "MRI", "answer_type": "CLOSED", "base_type": "kvqa", "content_type": "Abnormality",
         "triple": ["liver", "status", "healthy"], "qid": 9837},
    ]  # fmt: skip
    (root / "test.json").write_text(json.dumps(rows, ensure_ascii=False))
    items = list(base.load(registry.get("slake"), "test", tmp_path / "data").items)
    assert [i.id for i in items] == ["9835", "9837"]
    assert items[0].metadata["modality"] == "MRI" and items[1].metadata["answer_type"] == "closed"
    assert "healthy" not in items[1].model_dump_json().replace(
        "Is the liver healthy?", ""
    )  # the KG triple is not mapped


def test_pathvqa_pickle_layout_and_refuses_code(tmp_path):
    root = tmp_path / "data" / "pathvqa"
    write(root / "images" / "test" / "test_0001.jpg", jpeg_bytes(4))
    write(root / "images" / "test" / "test_0002.jpg", jpeg_bytes(5))
    rows = [
        {"image": "test_0001", "question": "Is this a carcinoma?", "answer": "yes"},
        {"image": "test_0002", "question": "What is present?", "answer": "granulomas"},
    ]
    (root / "qas" / "test").mkdir(parents=True)
    (root / "qas" / "test" / "test_qa.pkl").write_bytes(pickle.dumps(rows))
    items = list(base.load(registry.get("pathvqa"), "test", tmp_path / "data").items)
    assert [i.target for i in items] == ["yes", "granulomas"] and items[0].metadata["modality"] == "pathology"

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (root / "qas" / "test" / "test_qa.pkl").write_bytes(pickle.dumps([Evil()]))
    with pytest.raises(DataError, match=r"refusing to load [\w.]*print"):
        list(base.load(registry.get("pathvqa"), "test", tmp_path / "data").items)


def test_hub_snapshot_parquet_layout(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    root = tmp_path / "data" / "pathvqa" / "data"
    root.mkdir(parents=True)
    imgs = [png_bytes(7), png_bytes(8)]
    table = pa.table(
        {
            "image": [{"bytes": b, "path": None} for b in imgs],
            "question": ["Is there necrosis?", "What organ is this?"],
            "answer": ["no", "liver"],
        }
    )
    pq.write_table(table, root / "test-00000-of-00001.parquet")
    items = list(base.load(registry.get("pathvqa"), "test", tmp_path / "data").items)
    assert [i.id for i in items] == ["test-00001", "test-00002"]
    # the image bytes were written once, content-addressed, and the item points at them
    assert [sha(Path(i.images[0].path).read_bytes()) for i in items] == [sha(b) for b in imgs]


def _gmai_tsv(path, rows):
    header = ["index", "question", "A", "B", "C", "D", "E", "answer", "category", "l2-category", "image",
              "modality", "clinical VQA task", "department", "perceptual granularity"]  # fmt: skip
    lines = ["\t".join(header)]
    for r in rows:
        lines.append("\t".join(str(r.get(h, "")) for h in header))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_gmai_mmbench_vlmevalkit_tsv(tmp_path):
    img = base64.b64encode(png_bytes(9)).decode()
    rows = [
        {"index": 101, "question": "Which organ is shown?", "A": "liver", "B": "lung", "C": "kidney", "answer": "B",
         "image": img, "modality": "CT", "clinical VQA task": "Organ Recognition", "department": "Radiology",
         "perceptual granularity": "Image Level", "category": "organ"},
        {"index": 102, "question": "Is there a lesion?", "A": "yes", "B": "no", "answer": "A", "image": img,
         "modality": "MR", "clinical VQA task": "Disease Diagnosis", "department": "Neurology",
         "perceptual granularity": "Box Level", "category": "lesion"},
    ]  # fmt: skip
    _gmai_tsv(tmp_path / "data" / "gmai_mmbench" / "GMAI-MMBench_VAL.tsv", rows)
    items = list(base.load(registry.get("gmai-mmbench"), "val", tmp_path / "data").items)
    assert [i.id for i in items] == ["101", "102"]
    assert items[0].choices == {"A": "liver", "B": "lung", "C": "kidney"} and items[0].target == "B"
    assert items[1].choices == {"A": "yes", "B": "no"}
    assert items[0].subset == "Organ Recognition" and items[1].metadata["department"] == "Neurology"
    assert sha(Path(items[0].images[0].path).read_bytes()) == sha(png_bytes(9))
    assert "base64" not in items[0].model_dump_json() and img[:40] not in items[0].model_dump_json()

    rows[1]["image"] = "not base64!!"
    _gmai_tsv(tmp_path / "data" / "gmai_mmbench" / "GMAI-MMBench_VAL.tsv", rows)
    with pytest.raises(DataError, match=r"GMAI-MMBench_VAL.tsv:3: field 'image': image is not valid base64"):
        list(base.load(registry.get("gmai-mmbench"), "val", tmp_path / "data").items)


def test_missing_gmai_file_says_where_to_get_it(tmp_path):
    (tmp_path / "data" / "gmai_mmbench").mkdir(parents=True)
    with pytest.raises(DataError, match=r"download GMAI-MMBench_VAL\.tsv"):
        list(base.load(registry.get("gmai-mmbench"), "val", tmp_path / "data").items)
