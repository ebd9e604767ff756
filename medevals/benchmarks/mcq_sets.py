"""Multiple-choice benchmarks: MedQA, MedMCQA, PubMedQA, MMLU medical, MedBullets, MedAgentsBench hard sets.

Each is a data mapping plus configuration. Local folder layouts are those of
``../shared/data`` (see its SOURCE.md files); hub ids are the upstream Hugging Face copies.
Answer-leaking fields (explanations, rationales, LONG_ANSWER) are never mapped into items.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark, HubSource
from medevals.benchmarks.mapping import LETTERS, mcq_item
from medevals.benchmarks.readers import read_csv, read_json, read_jsonl, require
from medevals.errors import DataError
from medevals.schema import Item, Taxonomy

QA = Taxonomy(category="Medical knowledge", subcategory="Exam-style question answering")

# --------------------------------------------------------------------------- MedQA

MEDQA_FILE = "phrases_no_exclude_test.jsonl"


def _medqa_local(folder: Path, split: str) -> list[Item]:
    path = folder / MEDQA_FILE
    items = []
    for line, row in read_jsonl(path):
        opts = require(row, "options", path, line, kind=dict)
        items.append(
            mcq_item(
                id=f"{line - 1:04d}",  # MIRAGE ids items by zero-padded line index
                question=require(row, "question", path, line),
                choices=opts,
                answer=require(row, "answer_idx", path, line),
                answer_field="answer_idx",
                where=path,
                line=line,
                subset=row.get("meta_info"),
            )
        )
    return items


def _medqa_hub(row: dict[str, Any], i: int, config: str) -> Item:
    return mcq_item(
        id=f"{i:04d}",
        question=row["question"],
        choices=row["options"],
        answer=row["answer_idx"],
        where="hub:GBaker/MedQA-USMLE-4-options",
        line=i + 1,
        subset=row.get("meta_info"),
    )


MEDQA = Benchmark(
    name="medqa",
    title="MedQA (USMLE, 4 options)",
    protocol="mcq",
    task_type="multiple choice (4)",
    taxonomy=QA,
    license="MIT",
    source="Jin et al. 2021, What disease does this patient have? (jind11/MedQA; MIRAGE copy)",
    description="USMLE-style clinical vignettes, US test split, 4 options.",
    splits={"test": 1273},
    default_split="test",
    local_dir="medqa",
    load_local=_medqa_local,
    local_files=lambda folder, split: [folder / MEDQA_FILE],
    hub=HubSource(
        path="GBaker/MedQA-USMLE-4-options", splits={"test": "test", "train": "train"}, map_row=_medqa_hub
    ),
)

# --------------------------------------------------------------------------- MedMCQA


def _medmcqa_row(row: dict[str, Any], path: Path | str, line: int, zero_based: bool) -> Item:
    cop = require(row, "cop", path, line, kind=int)
    idx = cop if zero_based else cop - 1
    if not 0 <= idx < 4:
        raise DataError(f"'cop' {cop} out of range", path=path, line=line, field="cop")
    choices = {
        L: require(row, f, path, line) for L, f in zip("ABCD", ("opa", "opb", "opc", "opd"), strict=True)
    }
    return mcq_item(
        id=require(row, "id", path, line),
        question=require(row, "question", path, line),
        choices=choices,
        answer="ABCD"[idx],
        answer_field="cop",
        where=path,
        line=line,
        subset=row.get("subject_name"),
        metadata={"choice_type": row.get("choice_type"), "topic": row.get("topic_name")},
    )


def _medmcqa_local(folder: Path, split: str) -> list[Item]:
    path = folder / "dev.json"  # JSON Lines despite the extension
    return [_medmcqa_row(row, path, line, zero_based=False) for line, row in read_jsonl(path)]


MEDMCQA = Benchmark(
    name="medmcqa",
    title="MedMCQA (dev)",
    protocol="mcq",
    task_type="multiple choice (4)",
    taxonomy=QA,
    license="MIT (file) / Apache-2.0 (HF card)",
    source="Pal et al. 2022, MedMCQA (MIRAGE copy of the dev split)",
    description="Indian AIIMS/NEET-PG entrance exam questions; the dev split is the usual test set.",
    splits={"dev": 4183},
    default_split="dev",
    local_dir="medmcqa",
    load_local=_medmcqa_local,
    local_files=lambda folder, split: [folder / "dev.json"],
    hub=HubSource(
        path="openlifescienceai/medmcqa",
        splits={"dev": "validation", "train": "train"},
        map_row=lambda row, i, c: _medmcqa_row(row, "hub:openlifescienceai/medmcqa", i + 1, zero_based=True),
    ),
)

# --------------------------------------------------------------------------- MMLU medical

MMLU_SUBJECTS = (
    "anatomy",
    "clinical_knowledge",
    "college_biology",
    "college_medicine",
    "medical_genetics",
    "professional_medicine",
)


def _mmlu_local(folder: Path, split: str) -> list[Item]:
    items = []
    for subject in MMLU_SUBJECTS:
        path = folder / f"{subject}_test.csv"
        for n, (line, row) in enumerate(
            read_csv(path, header=False, columns=["question", "A", "B", "C", "D", "answer"])
        ):
            items.append(
                mcq_item(
                    id=f"{subject}-{n:03d}",
                    question=row["question"],
                    choices={k: row[k] for k in "ABCD"},
                    answer=row["answer"],
                    where=path,
                    line=line,
                    subset=subject,
                )
            )
    return items


def _mmlu_hub(row: dict[str, Any], i: int, config: str) -> Item:
    return mcq_item(
        id=f"{config}-{i:03d}",
        question=row["question"],
        choices=dict(zip("ABCD", row["choices"], strict=False)),
        answer="ABCD"[int(row["answer"])],
        where=f"hub:cais/mmlu/{config}",
        line=i + 1,
        subset=config,
    )


MMLU_MED = Benchmark(
    name="mmlu-med",
    title="MMLU medical subjects",
    protocol="mcq",
    task_type="multiple choice (4)",
    taxonomy=QA,
    license="MIT",
    source="Hendrycks et al. 2021, MMLU; medical subset as in MIRAGE (6 subjects)",
    description="Anatomy, clinical knowledge, college biology/medicine, medical genetics, professional medicine.",
    splits={"test": 1089},
    default_split="test",
    local_dir="mmlu_med",
    load_local=_mmlu_local,
    local_files=lambda folder, split: [folder / f"{s}_test.csv" for s in MMLU_SUBJECTS],
    hub=HubSource(
        path="cais/mmlu", splits={"test": "test", "dev": "dev"}, map_row=_mmlu_hub, configs=MMLU_SUBJECTS
    ),
    aliases=("mmlu_med", "mmlu-medical"),
)

# --------------------------------------------------------------------------- PubMedQA

YES_NO_MAYBE = {"A": "yes", "B": "no", "C": "maybe"}


def _pubmedqa_item(
    pmid: str, question: str, contexts: list[str], decision: str, where: Path | str, line: int
) -> Item:
    letter = {v: k for k, v in YES_NO_MAYBE.items()}.get(str(decision).strip().lower())
    if letter is None:
        raise DataError(
            f"final_decision '{decision}' is not yes/no/maybe", path=where, line=line, field="final_decision"
        )
    return mcq_item(
        id=str(pmid),
        question=question,
        choices=dict(YES_NO_MAYBE),
        answer=letter,
        where=where,
        line=line,
        context="\n".join(contexts),
        subset=str(decision).lower(),
    )


def _pubmedqa_local(folder: Path, split: str) -> list[Item]:
    path = folder / "ori_pqal.json"
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError("expected a JSON object keyed by PMID", path=path)
    test_ids = read_json(folder / "test_ground_truth.json")
    items = []
    for n, (pmid, row) in enumerate(data.items(), start=1):
        in_test = pmid in test_ids
        if (split == "test") != in_test:
            continue
        contexts = require(row, "CONTEXTS", path, n, kind=list)
        item = _pubmedqa_item(
            pmid,
            require(row, "QUESTION", path, n),
            contexts,
            require(row, "final_decision", path, n),
            path,
            n,
        )
        if in_test and test_ids[pmid] != row["final_decision"]:
            raise DataError(f"PMID {pmid}: label differs from test_ground_truth.json", path=path, line=n)
        items.append(item)
    return items


def _pubmedqa_hub(row: dict[str, Any], i: int, config: str) -> Item:
    return _pubmedqa_item(
        str(row["pubid"]),
        row["QUESTION"],
        list(row["CONTEXTS"]),
        row["final_decision"],
        "hub:bigbio/pubmed_qa",
        i + 1,
    )


PUBMEDQA = Benchmark(
    name="pubmedqa",
    title="PubMedQA (PQA-L, yes/no/maybe)",
    protocol="mcq",
    task_type="yes/no/maybe",
    taxonomy=Taxonomy(category="Medical research assistance", subcategory="Biomedical literature QA"),
    license="MIT",
    source="Jin et al. 2019, PubMedQA (pubmedqa/pubmedqa)",
    description="Research questions answered yes/no/maybe from a PubMed abstract; --set context=false drops "
    "the abstract (MIRAGE's PubMedQA*).",
    splits={"test": 500, "train": 500},
    default_split="test",
    fewshot_split="train",
    local_dir="pubmedqa",
    load_local=_pubmedqa_local,
    local_files=lambda folder, split: [folder / "ori_pqal.json", folder / "test_ground_truth.json"],
    # BigBio's fold0 keeps the official 500-item PQA-L test split (qiaojin/PubMedQA has one 'train' split).
    hub=HubSource(
        path="bigbio/pubmed_qa",
        configs=("pubmed_qa_labeled_fold0_source",),
        splits={"test": "test", "train": "train"},
        map_row=_pubmedqa_hub,
    ),
    options={"context": True},
)

# --------------------------------------------------------------------------- MedBullets


def _medbullets_local(folder: Path, split: str) -> list[Item]:
    n_opts = 5 if split == "op5" else 4
    path = folder / f"medbullets_{split}.csv"
    items = []
    for n, (line, row) in enumerate(read_csv(path)):
        choices = {L: require(row, f"op{L.lower()}", path, line) for L in LETTERS[:n_opts]}
        items.append(
            mcq_item(
                id=f"{split}-{n:03d}",
                question=require(row, "question", path, line),
                choices=choices,
                answer=require(row, "answer_idx", path, line),
                answer_field="answer_idx",
                where=path,
                line=line,
                metadata={"link": row.get("link")},
            )
        )
    return items


MEDBULLETS = Benchmark(
    name="medbullets",
    title="MedBullets (USMLE Step 2/3 style)",
    protocol="mcq",
    task_type="multiple choice (4 or 5)",
    taxonomy=QA,
    license="not stated upstream (research use)",
    source="Chen et al. 2024, Benchmarking LLMs on answering and explaining challenging medical questions",
    description="308 questions from medbullets.com; split op4 (4 options) or op5 (5 options).",
    splits={"op4": 308, "op5": 308},
    default_split="op4",
    local_dir="medbullets",
    load_local=_medbullets_local,
    local_files=lambda folder, split: [folder / f"medbullets_{split}.csv"],
)

# --------------------------------------------------------------------------- MedAgentsBench hard subsets

MAB_SUBSETS = {
    "medqa": 100,
    "pubmedqa": 100,
    "medmcqa": 100,
    "medbullets": 89,
    "mmlu": 73,
    "mmlu-pro": 100,
    "afrimedqa": 32,
}


def _mab_local(folder: Path, split: str) -> list[Item]:
    subsets = list(MAB_SUBSETS) if split == "all" else [split]
    items = []
    for sub in subsets:
        path = folder / sub / "test_hard.jsonl"
        for line, row in read_jsonl(path):
            real = row.get("realidx", line - 1)
            items.append(
                mcq_item(
                    id=f"{sub}-{real}",
                    question=require(row, "question", path, line),
                    choices=require(row, "options", path, line, kind=dict),
                    answer=require(row, "answer_idx", path, line),
                    answer_field="answer_idx",
                    where=path,
                    line=line,
                    subset=sub,
                    drop_placeholders=True,
                )
            )
    return items


MEDAGENTSBENCH = Benchmark(
    name="medagentsbench",
    title="MedAgentsBench hard subsets",
    protocol="mcq",
    task_type="multiple choice (3-10)",
    taxonomy=Taxonomy(category="Clinical decision support", subcategory="Hard reasoning questions"),
    license="Apache-2.0 (sources keep their own; AfriMed-QA reportedly non-commercial)",
    source="Tang et al. 2025, MedAgentsBench (gersteinlab/medagents-benchmark)",
    description="Hard questions (<50% model accuracy) from 7 sets; split 'all' or one subset name. "
    "Every item also appears in the full source sets: deduplicate when aggregating.",
    splits={"all": sum(MAB_SUBSETS.values()), **MAB_SUBSETS},
    default_split="all",
    local_dir="medagentsbench",
    load_local=_mab_local,
    local_files=lambda folder, split: [
        folder / s / "test_hard.jsonl" for s in (MAB_SUBSETS if split == "all" else [split])
    ],
)
