"""Medical VQA benchmarks in their published formats: VQA-RAD, SLAKE, PathVQA (open VQA) and
GMAI-MMBench (image multiple choice). Local folder first (``$MEDEVALS_DATA/<folder>``), the
upstream Hugging Face copy otherwise; none is staged in ``../shared/data`` (tests use small
fixtures written in each format).

Local layouts read:

- ``vqa_rad/``: the OSF release, ``VQA_RAD Dataset Public.json`` + ``VQA_RAD Image Folder/``
  (test = ``phrase_type`` test_freeform/test_para, 451; train = the rest);
- ``slake/`` (or ``slake/Slake1.0/``): ``train.json``, ``validate.json``, ``test.json`` +
  ``imgs/xmlabN/source.jpg``; English questions only (``q_lang == "en"``), as published results;
- ``pathvqa/``: the authors' release ``qas/<split>/<split>_qa.pkl`` + ``images/<split>/<image>.jpg``
  (the pickles are read with an unpickler that builds only lists, dicts and strings);
- any of the three as a Hugging Face snapshot: ``data/<split>-*.parquet`` with image, question, answer;
- ``gmai_mmbench/``: VLMEvalKit's ``GMAI-MMBench_VAL.tsv`` (base64 images; streamed, each image
  written once to the content-addressed image cache).

Answer-leaking fields are never mapped: VQA-RAD's ``image_case_url`` (the MedPix case page) and
``evaluation``/``question_rephrase`` columns, SLAKE's knowledge-graph ``triple``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark, HubSource
from medevals.benchmarks.image_sets import IMAGING
from medevals.benchmarks.mapping import mcq_item
from medevals.benchmarks.readers import read_json, require
from medevals.errors import DataError
from medevals.images.source import from_bytes, from_hub_value
from medevals.schema import Item, ItemImage

# --------------------------------------------------------------------------- shared helpers


def _vqa_item(
    *, id: str, question: str, answer: object, where: Path | str, line: int, images: list[ItemImage],
    answer_type: str | None = None, metadata: dict[str, Any] | None = None,
) -> Item:  # fmt: skip
    if not str(question).strip():
        raise DataError("empty question", path=where, line=line, field="question")
    if answer is None or not str(answer).strip():
        raise DataError("empty answer", path=where, line=line, field="answer")
    meta = dict(metadata or {})
    if answer_type:
        kind = str(answer_type).strip().lower()
        if kind not in ("open", "closed"):
            raise DataError(
                f"answer_type '{answer_type}' is not OPEN or CLOSED",
                path=where,
                line=line,
                field="answer_type",
            )
        meta["answer_type"] = kind
    return Item(
        id=id,
        input=str(question).strip(),
        target=str(answer).strip(),
        subset=meta.get("answer_type"),
        metadata=meta,
        images=images,
    )


def _image_file(path: Path, where: Path, line: int, field: str) -> ItemImage:
    if not path.is_file():
        raise DataError(f"image file '{path}' not found", path=where, line=line, field=field)
    return ItemImage(path=str(path))


def _parquet_files(folder: Path, split: str) -> list[Path]:
    return sorted(folder.glob(f"data/{split}-*.parquet")) + sorted(folder.glob(f"{split}/*.parquet"))


def _parquet_items(folder: Path, split: str, hub_split: str, bench: str) -> Iterator[Item]:
    """Rows of a Hugging Face snapshot (image, question, answer), streamed batch by batch."""
    import pyarrow.parquet as pq

    n = 0
    for path in _parquet_files(folder, hub_split):
        pf = pq.ParquetFile(path)
        missing = {"image", "question", "answer"} - set(pf.schema_arrow.names)
        if missing:
            raise DataError(f"parquet file lacks column(s) {', '.join(sorted(missing))}", path=path)
        for batch in pf.iter_batches(batch_size=64, columns=["image", "question", "answer"]):
            for row in batch.to_pylist():
                n += 1
                img = from_hub_value(row["image"], where=f"{path}:{n}")
                yield _vqa_item(
                    id=f"{split}-{n:05d}",
                    question=row["question"],
                    answer=row["answer"],
                    where=path,
                    line=n,
                    images=[img],
                )


def _hub_vqa(bench: str) -> Any:
    def map_row(row: dict[str, Any], i: int, config: str) -> Item:
        return _vqa_item(
            id=f"{i + 1:05d}",
            question=row["question"],
            answer=row["answer"],
            where=f"hub:{bench}",
            line=i + 1,
            images=[from_hub_value(row["image"], where=f"hub:{bench}:{i + 1}")],
        )

    return map_row


# --------------------------------------------------------------------------- VQA-RAD

RAD_JSON = "VQA_RAD Dataset Public.json"
RAD_IMAGES = "VQA_RAD Image Folder"


def _rad_local(folder: Path, split: str) -> Iterator[Item]:
    path = folder / RAD_JSON
    if not path.exists() and _parquet_files(folder, split):
        yield from _parquet_items(folder, split, split, "vqa-rad")
        return
    rows = read_json(path)
    if not isinstance(rows, list):
        raise DataError("expected a list of question objects", path=path)
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError("expected an object", path=path, line=line)
        phrase = str(require(row, "phrase_type", path, line))
        if phrase.startswith("test") != (split == "test"):
            continue
        qtype = str(row.get("question_type") or "").strip()
        yield _vqa_item(
            id=str(require(row, "qid", path, line, kind=(int, str))),
            question=require(row, "question", path, line),
            answer=require(row, "answer", path, line, kind=(str, int, float)),
            answer_type=require(row, "answer_type", path, line),
            where=path,
            line=line,
            images=[
                _image_file(
                    folder / RAD_IMAGES / require(row, "image_name", path, line), path, line, "image_name"
                )
            ],
            metadata={
                "question_type": qtype,
                "organ": str(row.get("image_organ") or "").strip(),
                "phrase_type": phrase,
            },
        )


def _rad_files(folder: Path, split: str) -> list[Path]:
    if (folder / RAD_JSON).exists():
        images = folder / RAD_IMAGES
        return [folder / RAD_JSON, *(sorted(images.iterdir()) if images.is_dir() else [])]
    return _parquet_files(folder, split)


VQA_RAD = Benchmark(
    name="vqa-rad",
    title="VQA-RAD (clinician-written questions on radiology images)",
    protocol="vqa",
    task_type="open visual question answering (closed yes/no + open)",
    taxonomy=IMAGING,
    license="CC0 1.0",
    source="Lau et al. 2018, Scientific Data (OSF osf.io/89kps); hub flaviagiammarino/vqa-rad",
    description="Radiology images from MedPix with clinician-generated questions; closed questions scored by "
    "their yes/no, open ones by normalised exact match (token recall and F1 beside).",
    splits={"test": 451, "train": 1797},
    default_split="test",
    local_dir="vqa_rad",
    load_local=_rad_local,
    local_files=_rad_files,
    hub=HubSource(
        path="flaviagiammarino/vqa-rad",
        splits={"test": "test", "train": "train"},
        map_row=_hub_vqa("flaviagiammarino/vqa-rad"),
    ),
    images=True,
)

# --------------------------------------------------------------------------- SLAKE

SLAKE_FILES = {"test": "test.json", "validate": "validate.json", "train": "train.json"}
SLAKE_HUB_SPLITS = {"test": "test", "validate": "validation", "train": "train"}


def _slake_root(folder: Path) -> Path:
    return folder / "Slake1.0" if (folder / "Slake1.0").is_dir() else folder


def _slake_local(folder: Path, split: str) -> Iterator[Item]:
    root = _slake_root(folder)
    path = root / SLAKE_FILES[split]
    if not path.exists() and _parquet_files(folder, SLAKE_HUB_SPLITS[split]):
        yield from _parquet_items(folder, split, SLAKE_HUB_SPLITS[split], "slake")
        return
    rows = read_json(path)
    if not isinstance(rows, list):
        raise DataError("expected a list of question objects", path=path)
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError("expected an object", path=path, line=line)
        if row.get("q_lang", "en") != "en":
            continue
        yield _vqa_item(
            id=str(require(row, "qid", path, line, kind=(int, str))),
            question=require(row, "question", path, line),
            answer=require(row, "answer", path, line, kind=(str, int, float)),
            answer_type=require(row, "answer_type", path, line),
            where=path,
            line=line,
            images=[
                _image_file(root / "imgs" / require(row, "img_name", path, line), path, line, "img_name")
            ],
            metadata={
                "modality": str(row.get("modality") or "").strip() or None,
                "question_type": str(row.get("content_type") or "").strip(),
                "location": str(row.get("location") or "").strip(),
                "base_type": str(row.get("base_type") or "").strip(),
            },
        )


def _slake_files(folder: Path, split: str) -> list[Path]:
    root = _slake_root(folder)
    if (root / SLAKE_FILES[split]).exists():
        imgs = root / "imgs"
        return [root / SLAKE_FILES[split], *(sorted(imgs.rglob("*.*")) if imgs.is_dir() else [])]
    return _parquet_files(folder, SLAKE_HUB_SPLITS[split])


SLAKE = Benchmark(
    name="slake",
    title="SLAKE (English), semantically labelled knowledge-enhanced medical VQA",
    protocol="vqa",
    task_type="open visual question answering (closed yes/no + open)",
    taxonomy=IMAGING,
    license="CC BY 4.0",
    source="Liu et al. 2021, SLAKE (ISBI); official release BoKelvin/SLAKE; hub mdwiratathya/SLAKE-vqa-english",
    description="CT, MRI and X-ray images with English questions (the Chinese half is left out, as in published "
    "English results); closed/open scored as in VQA-RAD, per-modality and per-content-type tables.",
    splits={"test": 1061, "validate": 1053, "train": 4919},
    default_split="test",
    local_dir="slake",
    load_local=_slake_local,
    local_files=_slake_files,
    hub=HubSource(
        path="mdwiratathya/SLAKE-vqa-english",
        splits=SLAKE_HUB_SPLITS,
        map_row=_hub_vqa("mdwiratathya/SLAKE-vqa-english"),
    ),
    images=True,
)

# --------------------------------------------------------------------------- PathVQA

PATH_SPLITS = {"test": "test", "validation": "val", "train": "train"}
PATH_HUB_SPLITS = {"test": "test", "validation": "validation", "train": "train"}


class _DataOnly(pickle.Unpickler):
    """Builds lists, dicts, strings and numbers only: a pickle naming any class is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only plain data is read)")


def _read_pickle(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return _DataOnly(fh).load()
    except FileNotFoundError:
        raise DataError("file not found", path=path) from None
    except (pickle.UnpicklingError, EOFError, ValueError) as e:
        raise DataError(f"unreadable pickle ({e})", path=path) from None


def _pathvqa_local(folder: Path, split: str) -> Iterator[Item]:
    sub = PATH_SPLITS[split]
    path = folder / "qas" / sub / f"{sub}_qa.pkl"
    if not path.exists() and _parquet_files(folder, PATH_HUB_SPLITS[split]):
        yield from _parquet_items(folder, split, PATH_HUB_SPLITS[split], "pathvqa")
        return
    rows = _read_pickle(path)
    if not isinstance(rows, list):
        raise DataError("expected a list of question dicts", path=path)
    for line, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError("expected a dict", path=path, line=line)
        image = require(row, "image", path, line)
        yield _vqa_item(
            id=f"{sub}-{line:05d}",
            question=require(row, "question", path, line),
            answer=require(row, "answer", path, line, kind=(str, int, float)),
            where=path,
            line=line,
            images=[_image_file(folder / "images" / sub / f"{image}.jpg", path, line, "image")],
            metadata={"modality": "pathology", "image": image},
        )


def _pathvqa_files(folder: Path, split: str) -> list[Path]:
    sub = PATH_SPLITS[split]
    pkl = folder / "qas" / sub / f"{sub}_qa.pkl"
    if pkl.exists():
        imgs = folder / "images" / sub
        return [pkl, *(sorted(imgs.iterdir()) if imgs.is_dir() else [])]
    return _parquet_files(folder, PATH_HUB_SPLITS[split])


PATHVQA = Benchmark(
    name="pathvqa",
    title="PathVQA (pathology image questions)",
    protocol="vqa",
    task_type="open visual question answering (closed yes/no + open)",
    taxonomy=IMAGING,
    license="MIT (per the hub card)",
    source="He et al. 2020, PathVQA: 30000+ questions for medical VQA; hub flaviagiammarino/path-vqa",
    description="Pathology figures from textbooks and PEIR with generated questions; yes/no questions are closed.",
    splits={"test": 6719, "validation": 6259, "train": 19654},
    default_split="test",
    local_dir="pathvqa",
    load_local=_pathvqa_local,
    local_files=_pathvqa_files,
    hub=HubSource(
        path="flaviagiammarino/path-vqa",
        splits=PATH_HUB_SPLITS,
        map_row=_hub_vqa("flaviagiammarino/path-vqa"),
    ),
    images=True,
)

# --------------------------------------------------------------------------- GMAI-MMBench

GMAI_TSV = "GMAI-MMBench_VAL.tsv"
GMAI_META = ("modality", "clinical vqa task", "department", "perceptual granularity", "category")


def _gmai_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """TSV rows streamed from disk (the published file is ~9 GB; never read whole)."""
    if not path.exists():
        raise DataError(
            "file not found: download GMAI-MMBench_VAL.tsv (huggingface.co/datasets/OpenGVLab/GMAI-MMBench, "
            "gated; also VLMEval/GMAI-MMBench) into this folder",
            path=path,
        )
    csv.field_size_limit(sys.maxsize)
    with path.open("r", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [h.strip().lower() for h in next(reader, [])]
        for name in ("index", "question", "answer", "image"):
            if name not in header:
                raise DataError(f"missing column '{name}'", path=path, line=1)
        for row in reader:
            if not any(row):
                continue
            if len(row) != len(header):
                raise DataError(
                    f"expected {len(header)} columns, found {len(row)}", path=path, line=reader.line_num
                )
            yield reader.line_num, dict(zip(header, row, strict=True))


def _gmai_local(folder: Path, split: str) -> Iterator[Item]:
    path = folder / GMAI_TSV
    for line, row in _gmai_rows(path):
        choices = {
            k: row[k.lower()]
            for k in "ABCDEFGHIJ"
            if row.get(k.lower(), "").strip() and row[k.lower()].strip().lower() != "nan"
        }
        try:
            data = base64.b64decode(row["image"], validate=True)
        except (binascii.Error, ValueError):
            raise DataError("image is not valid base64", path=path, line=line, field="image") from None
        image = from_bytes(data, where=f"{path}:{line}")
        meta = {k: row[k] for k in GMAI_META if row.get(k)}
        if "clinical vqa task" in meta:
            meta["question_type"] = meta["clinical vqa task"]
        yield mcq_item(
            id=str(row["index"]),
            question=row["question"],
            choices=choices,
            answer=row["answer"],
            where=path,
            line=line,
            subset=row.get("clinical vqa task") or None,
            metadata=meta,
            images=[image],
        )


GMAI_MMBENCH = Benchmark(
    name="gmai-mmbench",
    title="GMAI-MMBench (validation set, image multiple choice across 38 modalities)",
    protocol="mcq",
    task_type="image multiple choice (2-5 options)",
    taxonomy=IMAGING,
    license="Apache-2.0 (hub card); source datasets carry their own terms",
    source="Chen et al. 2024, GMAI-MMBench (NeurIPS D&B); OpenGVLab/GMAI-MMBench, VLMEvalKit GMAI-MMBench_VAL.tsv",
    description="Validation split (answers public; the test split's are withheld) in VLMEvalKit's TSV format; "
    "per-modality, clinical-task, department and granularity breakdowns.",
    splits={"val": 4550},
    default_split="val",
    local_dir="gmai_mmbench",
    load_local=_gmai_local,
    local_files=lambda folder, split: [folder / GMAI_TSV],
    images=True,
)
