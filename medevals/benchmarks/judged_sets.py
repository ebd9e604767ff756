"""Judged benchmarks: HealthBench (rubrics), CUPCase (open-ended diagnosis), MEDEC (error detection).

Data mapping and configuration only; the protocols hold the logic. Rubric files are checked
criterion by criterion, so a rubric without points or tags fails naming file, line and field
(``rubrics[3].points``) instead of silently scoring against a different denominator.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark, Skipped
from medevals.benchmarks.mapping import mcq_item
from medevals.benchmarks.readers import read_csv, read_jsonl, require
from medevals.errors import DataError
from medevals.schema import Item, Taxonomy

# --------------------------------------------------------------------------- HealthBench

HEALTHBENCH_FILE = "context_seeking_consensus_hard_104.jsonl"
#: Where openai/simple-evals reads the official files (``healthbench_eval.py`` INPUT_PATH*,
#: ``healthbench_meta_eval.py`` INPUT_PATH): a user who downloads them into
#: ``$MEDEVALS_DATA/healthbench/`` under these names gets the full sets.
HEALTHBENCH_URL = "https://openaipublic.blob.core.windows.net/simple-evals/healthbench/"
HEALTHBENCH_FILES = {
    "test": HEALTHBENCH_FILE,  # staged: the 104-conversation context-seeking consensus subset
    "full": "2025-05-07-06-14-12_oss_eval.jsonl",  # 5,000 conversations
    "hard": "hard_2025-05-08-21-00-10.jsonl",  # 1,000
    "consensus": "consensus_2025-05-09-20-00-46.jsonl",  # 3,671
}
HEALTHBENCH_META_FILE = "2025-05-07-06-14-12_oss_meta_eval.jsonl"


def parse_rubrics(
    rubrics: Any, path: Path | str, line: int, *, field: str = "rubrics", require_tags: bool = True
) -> list[dict[str, Any]]:
    """Validated rubric criteria: criterion text, non-zero numeric points, a list of string tags.

    HealthBench's files always carry ``tags`` (a criterion without them would drop out of every
    axis table silently, so it is an error); a generic rubric file may leave them out.
    """
    if not isinstance(rubrics, list):
        raise DataError(
            f"expected a list of criteria, got {type(rubrics).__name__}", path=path, line=line, field=field
        )
    if not rubrics:
        raise DataError("empty rubric list", path=path, line=line, field=field)
    out = []
    for i, rb in enumerate(rubrics):
        where = f"{field}[{i}]"
        if not isinstance(rb, dict):
            raise DataError(f"expected an object, got {type(rb).__name__}", path=path, line=line, field=where)
        crit = rb.get("criterion")
        if not isinstance(crit, str) or not crit.strip():
            what = "missing" if crit is None else "expected a non-empty string"
            raise DataError(what, path=path, line=line, field=f"{where}.criterion")
        pts = rb.get("points")
        if pts is None:
            raise DataError("missing", path=path, line=line, field=f"{where}.points")
        if isinstance(pts, bool) or not isinstance(pts, int | float):
            raise DataError(
                f"expected a number, got {type(pts).__name__}", path=path, line=line, field=f"{where}.points"
            )
        if pts == 0:
            raise DataError("points must not be 0", path=path, line=line, field=f"{where}.points")
        tags = rb.get("tags")
        if tags is None and not require_tags:
            tags = []
        if tags is None:
            raise DataError("missing", path=path, line=line, field=f"{where}.tags")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise DataError("expected a list of strings", path=path, line=line, field=f"{where}.tags")
        out.append({"criterion": crit, "points": float(pts), "tags": list(tags)})
    if not any(r["points"] > 0 for r in out):
        raise DataError(
            "no criterion with positive points (the score would be undefined)",
            path=path,
            line=line,
            field=field,
        )
    return out


def official_file(folder: Path, name: str, what: str) -> Path:
    """``folder/name``, or a one-line error saying which official file to download and where."""
    path = folder / name
    if not path.is_file():
        raise DataError(
            f"{what} not found: download {HEALTHBENCH_URL}{name} into this folder (file name unchanged)",
            path=path,
        )
    return path


def messages(value: Any, path: Path, line: int, field: str) -> list[dict[str, str]]:
    """A conversation: a list of {role: user|assistant|system, content: text}."""
    if not isinstance(value, list) or not value:
        raise DataError("expected a non-empty list of messages", path=path, line=line, field=field)
    for i, m in enumerate(value):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant", "system"):
            raise DataError(
                "expected {role: user|assistant|system, content}",
                path=path,
                line=line,
                field=f"{field}[{i}].role",
            )
        if not isinstance(m.get("content"), str):
            raise DataError("expected a string", path=path, line=line, field=f"{field}[{i}].content")
    return [{"role": m["role"], "content": m["content"]} for m in value]


def healthbench_rows(path: Path) -> list[Item]:
    items = []
    for line, row in read_jsonl(path):
        prompt = messages(require(row, "prompt", path, line, kind=list), path, line, "prompt")
        tags = row.get("example_tags") or []
        if not isinstance(tags, list):
            raise DataError("expected a list", path=path, line=line, field="example_tags")
        category = next(
            (t.split(":", 1)[1] for t in tags if t.startswith("physician_agreed_category:")), None
        )
        items.append(
            Item(
                id=require(row, "prompt_id", path, line),
                input=prompt,
                target=parse_rubrics(require(row, "rubrics", path, line, kind=list), path, line),
                subset=category,
                metadata={"example_tags": tags},
            )
        )
    return items


HEALTHBENCH = Benchmark(
    name="healthbench",
    title="HealthBench (staged: context-seeking consensus hard 104; full/hard/consensus from the official files)",
    protocol="rubric",
    task_type="rubric-graded conversation (judge)",
    taxonomy=Taxonomy(category="Patient communication and education", subcategory="Health conversations"),
    license="MIT",
    source="Arora et al. 2025, HealthBench (openai/simple-evals); protocols-fyi/benchmark.healthbench subset",
    description="Multi-turn health conversations; each reply graded against physician-written rubric criteria by a judge.",
    # test: the staged 104-conversation subset; full / hard / consensus: the official files,
    # read when the user puts them in the data folder (healthbench:full ...).
    splits={"test": 104, "full": 5000, "hard": 1000, "consensus": 3671},
    default_split="test",
    local_dir="healthbench",
    load_local=lambda folder, split: healthbench_rows(
        folder / HEALTHBENCH_FILE
        if split == "test"
        else official_file(folder, HEALTHBENCH_FILES[split], f"the official HealthBench '{split}' file")
    ),
    local_files=lambda folder, split: [folder / HEALTHBENCH_FILES[split]],
)


def healthbench_meta_rows(path: Path) -> list[Item]:
    """One item per meta-eval row: conversation, response, criterion, the physicians' labels.

    Official fields (``healthbench_meta_eval.py``): ``prompt``, ``completion``, ``rubric`` (the
    criterion text), ``category`` (``cluster:...``), ``binary_labels`` and
    ``anonymized_physician_ids`` (one per label), ``prompt_id``, ``completion_id``.
    """
    items = []
    for line, row in read_jsonl(path):
        labels = require(row, "binary_labels", path, line, kind=list)
        if not labels or not all(isinstance(x, bool) for x in labels):
            raise DataError(
                "expected a non-empty list of true/false", path=path, line=line, field="binary_labels"
            )
        ids = require(row, "anonymized_physician_ids", path, line, kind=list)
        if len(ids) != len(labels) or not all(isinstance(x, str) for x in ids):
            raise DataError(
                f"expected {len(labels)} physician ids (one per label), got {len(ids)}",
                path=path,
                line=line,
                field="anonymized_physician_ids",
            )
        items.append(
            Item(
                id=f"row-{line:06d}",
                input=messages(row.get("prompt"), path, line, "prompt"),
                target=labels,
                subset=require(row, "category", path, line),
                metadata={
                    "completion": require(row, "completion", path, line),
                    "rubric": require(row, "rubric", path, line),
                    "physicians": ids,
                    "prompt_id": row.get("prompt_id"),
                    "completion_id": row.get("completion_id"),
                },
            )
        )
    return items


HEALTHBENCH_META = Benchmark(
    name="healthbench-meta",
    title="HealthBench meta-evaluation (judge vs physician grades)",
    protocol="rubric-meta",
    task_type="judge agreement with physicians (macro-F1)",
    taxonomy=Taxonomy(category="Patient communication and education", subcategory="Health conversations"),
    license="MIT",
    source="Arora et al. 2025, HealthBench meta-evaluation (openai/simple-evals healthbench_meta_eval.py)",
    description="Responses with physician 'met' labels per consensus criterion; the judge grades the same "
    "criteria and is scored by macro-F1 against the physicians, beside physician-physician agreement.",
    # The official file is not staged here: its row count is shown once it is loaded.
    splits={"test": 0},
    default_split="test",
    local_dir="healthbench",
    load_local=lambda folder, split: healthbench_meta_rows(
        official_file(folder, HEALTHBENCH_META_FILE, "the official HealthBench meta-evaluation file")
    ),
    local_files=lambda folder, split: [folder / HEALTHBENCH_META_FILE],
)

# --------------------------------------------------------------------------- CUPCase

CUPCASE_FILE = "CUPCASE_RTEST_eval.csv"


def _cupcase_local(folder: Path, split: str) -> list[Item]:
    path = folder / CUPCASE_FILE
    items = []
    for line, row in read_csv(path):
        items.append(
            Item(
                id=require(row, "id", path, line),
                input=require(row, "clean text", path, line),
                target=require(row, "final diagnosis", path, line),
                metadata={"distractors": [row.get(f"distractor{k}", "") for k in (1, 2, 3)]},
            )
        )
    return items


CUPCASE = Benchmark(
    name="cupcase",
    title="CUPCase (open-ended final diagnosis from case reports)",
    protocol="open-diagnosis",
    task_type="open-ended diagnosis (judge + string baseline)",
    taxonomy=Taxonomy(category="Clinical decision support", subcategory="Diagnosis"),
    license="not stated (PMC case reports); verify before redistribution",
    source="Perets et al. 2025, CUPCase (oriel9p/CUPCASE_RTEST)",
    description="525 published case reports; name the final diagnosis, graded by a judge and a string/synonym baseline; "
    "full text vs the first 20% of words.",
    splits={"test": 525},
    default_split="test",
    local_dir="cupcase",
    load_local=_cupcase_local,
    local_files=lambda folder, split: [folder / CUPCASE_FILE],
)

# --------------------------------------------------------------------------- CUPCase, multiple choice

#: The option order of every item comes from this fixed seed and the item id (not the run's
#: --seed): the same question always shows the same options, so runs and models compare.
CUPCASE_MCQ_SEED = "cupcase-mcq:v1"
CUPCASE_MCQ_QUESTION = "\n\nWhich of the following is the most likely final diagnosis?"
_NO_OPTION = {"", "nan"}


def _cupcase_mcq_local(folder: Path, split: str) -> list[Item | Skipped]:
    """The gold diagnosis and its three distractors in a seeded order (A-D).

    A row whose options are not four distinct diagnoses (a distractor missing, written 'nan' in
    this file, or equal to another option ignoring case) cannot make a fair 4-option question:
    it is skipped and counted by reason, never shown with a duplicate or blank option.
    """
    path = folder / CUPCASE_FILE
    out: list[Item | Skipped] = []
    for line, row in read_csv(path):
        case_id = require(row, "id", path, line)
        gold = require(row, "final diagnosis", path, line).strip()
        distractors = [(row.get(f"distractor{k}") or "").strip() for k in (1, 2, 3)]
        if any(d.lower() in _NO_OPTION for d in distractors):
            out.append(Skipped(case_id, "a distractor is missing ('nan')"))
            continue
        options = [gold, *distractors]
        if len({o.lower() for o in options}) < 4:
            out.append(Skipped(case_id, "two options are the same diagnosis (ignoring case)"))
            continue
        order = list(range(4))
        random.Random(f"{CUPCASE_MCQ_SEED}:{case_id}").shuffle(order)
        letters = "ABCD"
        choices = {letters[i]: options[j] for i, j in enumerate(order)}
        out.append(
            mcq_item(
                id=case_id,
                question=require(row, "clean text", path, line).strip() + CUPCASE_MCQ_QUESTION,
                choices=choices,
                answer=letters[order.index(0)],
                where=path,
                line=line,
                answer_field="final diagnosis",
                metadata={"option_seed": CUPCASE_MCQ_SEED},
            )
        )
    return out


CUPCASE_MCQ = Benchmark(
    name="cupcase-mcq",
    title="CUPCase multiple choice (final diagnosis + 3 distractors)",
    protocol="mcq",
    task_type="multiple choice (4)",
    taxonomy=Taxonomy(category="Clinical decision support", subcategory="Diagnosis"),
    license="not stated (PMC case reports); verify before redistribution",
    source="Perets et al. 2025, CUPCase (oriel9p/CUPCASE_RTEST; curhumai fork's CSV)",
    description="The CUPCase case reports as 4-option questions: the final diagnosis and its three "
    "distractors in a seeded order; rows without four distinct options are skipped and counted.",
    splits={"test": 317},
    default_split="test",
    local_dir="cupcase",
    load_local=_cupcase_mcq_local,
    local_files=lambda folder, split: [folder / CUPCASE_FILE],
)

# --------------------------------------------------------------------------- MEDEC

MEDEC_FILES = {
    "test": "MEDEC-MS-TestSet-with-GroundTruth-and-ErrorType.csv",
    "validation": "MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv",
}


def _medec_local(folder: Path, split: str) -> list[Item]:
    path = folder / MEDEC_FILES[split]
    items = []
    for line, row in read_csv(path):
        if not (row.get("Text ID") or "").strip():  # upstream test file ends with empty rows
            continue
        flag_raw = require(row, "Error Flag", path, line)
        if flag_raw.strip() not in ("0", "1"):
            raise DataError(f"expected 0 or 1, got {flag_raw!r}", path=path, line=line, field="Error Flag")
        flag = int(flag_raw)
        sid_raw = require(row, "Error Sentence ID", path, line).strip()
        try:
            sid = int(sid_raw)
        except ValueError:
            raise DataError(
                f"expected an integer, got {sid_raw!r}", path=path, line=line, field="Error Sentence ID"
            ) from None
        if flag == 1 and sid < 0:
            raise DataError(
                "flagged text without an error sentence id", path=path, line=line, field="Error Sentence ID"
            )
        etype = (row.get("Error Type") or "").strip()
        items.append(
            Item(
                id=require(row, "Text ID", path, line),
                input=require(row, "Sentences", path, line),
                target={
                    "flag": flag,
                    "sentence_id": sid if flag else -1,
                    "error_sentence": row.get("Error Sentence", "") if flag else "",
                    "corrected_sentence": require(row, "Corrected Sentence", path, line) if flag else "",
                },
                subset=etype if flag and etype and etype != "NA" else "no error",
            )
        )
    return items


MEDEC = Benchmark(
    name="medec",
    title="MEDEC-MS (medical error detection and correction)",
    protocol="error-detection",
    task_type="error flag, sentence localisation, correction",
    taxonomy=Taxonomy(category="Clinical note generation", subcategory="Error detection and correction"),
    license="CC-BY-4.0",
    source="Ben Abacha et al. 2025, MEDEC (abachaa/MEDEC)",
    description="Clinical texts with zero or one injected medical error; flag it, find the sentence, correct it.",
    splits={"test": 597, "validation": 574},
    default_split="test",
    local_dir="medec",
    load_local=_medec_local,
    local_files=lambda folder, split: [folder / MEDEC_FILES[split]],
)
