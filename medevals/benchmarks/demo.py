"""The bundled demo set: 40 multiple-choice questions written for medevals (no external data).

It exists so ``medevals demo`` runs on a fresh machine with no network and no data folder.
It is a plumbing check, not a medical benchmark: 40 items give a CI about +-15 points wide.
"""

from __future__ import annotations

from pathlib import Path

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.mapping import mcq_item
from medevals.benchmarks.readers import read_jsonl, require
from medevals.schema import Item, Taxonomy

DATA_DIR = Path(__file__).parent / "data"
DEMO_FILE = "demo_mcq.jsonl"


def _load(folder: Path, split: str) -> list[Item]:
    path = folder / DEMO_FILE
    return [
        mcq_item(
            id=require(row, "id", path, line),
            question=require(row, "question", path, line),
            choices=require(row, "options", path, line, kind=dict),
            answer=require(row, "answer", path, line),
            where=path,
            line=line,
            subset=row.get("subject"),
        )
        for line, row in read_jsonl(path)
    ]


DEMO = Benchmark(
    name="demo",
    title="medevals demo set (40 MCQ)",
    protocol="mcq",
    task_type="multiple choice (4)",
    taxonomy=Taxonomy(category="Medical knowledge", subcategory="Demo"),
    license="Apache-2.0 (written for medevals)",
    source="bundled with medevals",
    description="40 original questions across 8 subjects; for checking an install and a model endpoint.",
    splits={"test": 40},
    default_split="test",
    load_local=_load,
    local_files=lambda folder, split: [folder / DEMO_FILE],
    bundled_dir=DATA_DIR,
)
