"""Long-document QA sets on staged corpora (``longdoc`` protocol, LongHealth style).

``pubmedqa-long``: each PubMedQA test question (PQA-L, yes/no/maybe) with its own abstract
hidden among the other 999 PQA-L abstracts up to each token budget, plus its unanswerable
twin (the same question over other abstracts only; the right answer is then LongHealth's
"Question cannot be answered with provided documents"). The abstract's conclusion
(``LONG_ANSWER``) is never shown: it is not part of the corpus documents.
"""

from __future__ import annotations

from pathlib import Path

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.documents import paired_items
from medevals.benchmarks.readers import read_json, require
from medevals.errors import DataError
from medevals.schema import Item, Taxonomy

YES_NO_MAYBE = {"A": "yes", "B": "no", "C": "maybe"}


def _pubmedqa_long(folder: Path, split: str) -> list[Item]:
    path = folder / "ori_pqal.json"
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError("expected a JSON object keyed by PMID", path=path)
    test_ids = read_json(folder / "test_ground_truth.json")
    corpus = {"kind": "pubmedqa", "path": str(path.resolve())}
    letter = {v: k for k, v in YES_NO_MAYBE.items()}
    items: list[Item] = []
    for n, (pmid, row) in enumerate(data.items(), start=1):
        if pmid not in test_ids:
            continue
        decision = str(require(row, "final_decision", path, n)).strip().lower()
        if decision not in letter:
            raise DataError(f"'{decision}' is not yes/no/maybe", path=path, line=n, field="final_decision")
        items += paired_items(
            id=str(pmid),
            question=require(row, "QUESTION", path, n),
            choices=dict(YES_NO_MAYBE),
            answer=letter[decision],
            answer_docs=[str(pmid)],
            corpus=corpus,
            subset=decision,
        )
    return items


PUBMEDQA_LONG = Benchmark(
    name="pubmedqa-long",
    title="PubMedQA long-document (abstract hidden among PQA-L abstracts, LongHealth-style pairs)",
    protocol="longdoc",
    task_type="long-document QA",
    taxonomy=Taxonomy(category="Medical research assistance", subcategory="Long-document QA"),
    license="MIT",
    source="Jin et al. 2019, PubMedQA (pubmedqa/pubmedqa); construction after Adams et al. 2024, LongHealth",
    description="500 PubMedQA test questions, each answerable (own abstract + distractor abstracts to the "
    "budget) and unanswerable (distractors only; abstaining is right); variants are token budgets.",
    splits={"test": 1000},
    default_split="test",
    local_dir="pubmedqa",
    load_local=_pubmedqa_long,
    local_files=lambda folder, split: [folder / "ori_pqal.json", folder / "test_ground_truth.json"],
)
