"""Free-text benchmarks scored against references (protocol ``freetext``, ``protocols/graded_text.py``).

Data mapping and configuration only. Every field that states or hints at the answer goes into
``target`` or ``metadata`` (never ``input``): ACI-Bench's metadata (chief complaint), MedR-Bench's
differential, final diagnosis, treatment analysis and disease categories, MedicationQA's
answer source (section title, URL), MedSafetyBench's safe response (not loaded at all).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark, HubSource
from medevals.benchmarks.readers import read_csv, read_json, read_xlsx, require
from medevals.errors import DataError
from medevals.judging import templates
from medevals.schema import Item, Taxonomy
from medevals.scoring.statements import split_statements

# --------------------------------------------------------------------------- ACI-Bench

ACI_FILES = {
    "test1": "clinicalnlp_taskB_test1.csv",
    "test2": "clinicalnlp_taskC_test2.csv",
    "test3": "clef_taskC_test3.csv",
    "valid": "valid.csv",
}
ACI_SPLITS = {"test": ("test1", "test2", "test3"), **{k: (k,) for k in ACI_FILES}}

ACI_PROMPT = (
    "Write the clinical visit note for the doctor-patient conversation below. Organise it in the "
    "usual sections, each under an upper-case header (for example CHIEF COMPLAINT, HISTORY OF "
    "PRESENT ILLNESS, REVIEW OF SYSTEMS, PHYSICAL EXAM, RESULTS, ASSESSMENT AND PLAN), and state "
    "only what the conversation supports.\n\nConversation:\n{input}"
)


def _aci_local(folder: Path, split: str) -> list[Item]:
    items = []
    for part in ACI_SPLITS[split]:
        path = folder / ACI_FILES[part]
        for line, row in read_csv(path):
            items.append(
                Item(
                    id=require(row, "encounter_id", path, line),
                    input=require(row, "dialogue", path, line),
                    target=require(row, "note", path, line),
                    subset=require(row, "dataset", path, line),
                    metadata={"split": part},
                )
            )
    return items


ACI_BENCH = Benchmark(
    name="aci-bench",
    title="ACI-Bench (doctor-patient dialogue to clinical note)",
    protocol="freetext",
    task_type="visit note from a dialogue (ROUGE, optional judge jury)",
    taxonomy=Taxonomy(category="Clinical note generation", subcategory="Visit note from a conversation"),
    license="CC-BY-4.0",
    source="Yim et al. 2023, ACI-Bench (wyim/aci-bench, challenge_data)",
    description="Full visit notes written from 120 test dialogues (3 challenge splits x 40); ROUGE on the full "
    "note and its four divisions as the benchmark reports them, and a 1-5 jury when --judge is given.",
    splits={"test": 120, "test1": 40, "test2": 40, "test3": 40, "valid": 20},
    default_split="test",
    local_dir="aci_bench",
    load_local=_aci_local,
    local_files=lambda folder, split: [folder / ACI_FILES[p] for p in ACI_SPLITS[split]],
    fewshot_split="valid",
    options={
        "prompt": ACI_PROMPT,
        "checks": ["axes"],
        "primary": "rouge1",
        "requires_judge": False,
        "subject": "a clinical visit note written from a doctor-patient conversation",
        "axis_guide": {
            "accuracy": "Does the note state the clinical information of the conversation correctly?",
            "completeness": "Does the note include all important medical details from the conversation?",
            "clarity": "Is the note clear and organised in a standard clinical format for clinicians?",
        },
        "sections": "aci",
        "breakdown": ["split"],
        "max_tokens": 2048,
    },
)

# --------------------------------------------------------------------------- MedR-Bench

MEDR_DIAGNOSIS_FILE = "diagnosis_957_cases_reconstructed.json"
MEDR_TREATMENT_FILE = "demo_treatment_100.json"

MEDR_DIAGNOSIS_PROMPT = (
    "Study the following patient case summary, analyse it step by step and give the final diagnosis.\n\n"
    "{input}\n\n"
    "Reply in this format:\n"
    "### Reasoning:\n<step 1> the first step of your thinking\n<step 2> ...\n\n"
    "### Answer:\nthe final diagnosis only, on one line\n\n"
    "### Differential:\nup to 9 other diagnoses you considered, most likely first, one per line"
)
MEDR_TREATMENT_PROMPT = (
    "Study the following patient case summary, plan the treatment step by step and give the treatment "
    "you select for this patient.\n\n"
    "{input}\n\n"
    "Reply in this format:\n"
    "### Reasoning:\n<step 1> the first step of your thinking\n<step 2> ...\n\n"
    "### Answer:\nthe selected treatment for the patient, without further explanation"
)


def _medr_cases(path: Path) -> dict[str, Any]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError("expected an object keyed by case id", path=path)
    return data


def _medr_case(case_id: str, rec: Any, path: Path, fields: tuple[str, ...]) -> dict[str, str]:
    where = f"{case_id}.generate_case"
    if not isinstance(rec, dict) or not isinstance(rec.get("generate_case"), dict):
        raise DataError("expected an object with 'generate_case'", path=path, field=case_id)
    g = rec["generate_case"]
    out = {}
    for f in fields:
        v = g.get(f)
        if not isinstance(v, str) or not v.strip():
            raise DataError("missing or empty", path=path, field=f"{where}.{f}")
        out[f] = v
    return out


def _rare(rec: dict[str, Any]) -> str:
    return "rare disease" if rec.get("checked_rare_disease") else "other"


def _medr_diagnosis_local(folder: Path, split: str) -> list[Item]:
    path = folder / MEDR_DIAGNOSIS_FILE
    items = []
    fields = ("case_summary", "differential_diagnosis", "final_diagnosis", "diagnosis_results")
    for case_id, rec in _medr_cases(path).items():
        g = _medr_case(case_id, rec, path, fields)
        # MedR-Bench's reference reasoning: the differential, then the final diagnosis.
        reasoning = g["differential_diagnosis"] + "\nFinal diagnosis:\n" + g["final_diagnosis"]
        items.append(
            Item(
                id=case_id,
                input=g["case_summary"],
                target=g["diagnosis_results"],
                subset=_rare(rec),
                metadata={
                    "statements": split_statements(reasoning),
                    "disorder_category": list(rec.get("disorder_category") or []),
                    "body_category": list(rec.get("body_category") or []),
                },
            )
        )
    return items


def _medr_treatment_local(folder: Path, split: str) -> list[Item]:
    path = folder / MEDR_TREATMENT_FILE
    items = []
    fields = ("case_summary", "treatment_planning_analysis", "treatment_plan_results")
    for case_id, rec in _medr_cases(path).items():
        g = _medr_case(case_id, rec, path, fields)
        reasoning = (
            g["treatment_planning_analysis"] + "\nTreatment plan results:\n" + g["treatment_plan_results"]
        )
        items.append(
            Item(
                id=case_id,
                input=g["case_summary"],
                target=g["treatment_plan_results"],
                subset=_rare(rec),
                metadata={
                    "statements": split_statements(reasoning),
                    "disorder_category": list(rec.get("disorder_category") or []),
                },
            )
        )
    return items


MEDR_SOURCE = (
    "Qiu et al. 2025, MedR-Bench (MAGIC-AI4Med/MedRBench; case files from the wumingxin238/MedRBench fork)"
)

MEDRBENCH_DIAGNOSIS = Benchmark(
    name="medrbench-diagnosis",
    title="MedR-Bench diagnosis (957 PMC cases, oracle setting)",
    protocol="freetext",
    task_type="open diagnosis with reasoning (judge: top-k, reasoning recall)",
    taxonomy=Taxonomy(category="Clinical decision support", subcategory="Diagnosis"),
    license="CC BY-SA (version unstated); cases from PMC-OA articles",
    source=MEDR_SOURCE,
    description="Case summaries (with ancillary tests) from 2024 case reports, 491 with a rare disease; the "
    "final diagnosis judged top-1/top-k against the reference, and the reasoning's recall of the "
    "reference reasoning statements.",
    splits={"test": 957},
    default_split="test",
    local_dir="medrbench",
    load_local=_medr_diagnosis_local,
    local_files=lambda folder, split: [folder / MEDR_DIAGNOSIS_FILE],
    options={
        "prompt": MEDR_DIAGNOSIS_PROMPT,
        "checks": ["differential", "statements"],
        "primary": "top1",
        "baseline_primary": "baseline_top1",
        "match_template": templates.DIAGNOSIS_CORRECT,
        "answer_header": "### Answer",
        "list_header": "### Differential",
        "k": 5,
        "breakdown": ["disorder_category"],
        "max_tokens": 2048,
    },
)

MEDRBENCH_TREATMENT = Benchmark(
    name="medrbench-treatment",
    title="MedR-Bench treatment planning (100-case sample of 496)",
    protocol="freetext",
    task_type="treatment plan (judge jury against the reference plan, accuracy, reasoning recall)",
    taxonomy=Taxonomy(category="Clinical decision support", subcategory="Treatment planning"),
    license="CC BY-SA (version unstated); cases from PMC-OA articles",
    source=MEDR_SOURCE + "; 100-case seeded sample (demo_treatment_100.json)",
    description="A seeded 100-case sample of the 496 treatment cases (the full file is not staged): the "
    "selected treatment rated 1-5 against the reference plan, judged correct by MedR-Bench's rules, and "
    "the reasoning's recall of the reference planning statements.",
    splits={"test": 100},
    default_split="test",
    local_dir="medrbench",
    load_local=_medr_treatment_local,
    local_files=lambda folder, split: [folder / MEDR_TREATMENT_FILE],
    options={
        "prompt": MEDR_TREATMENT_PROMPT,
        "checks": ["axes", "match", "statements"],
        "primary": "jury_score",
        "match_template": templates.TREATMENT_CORRECT,
        "answer_header": "### Answer",
        "subject": "the treatment selected for a clinical case",
        "axis_guide": {
            "accuracy": "Is the selected treatment appropriate for the case and consistent with the reference plan?",
            "completeness": "Does it include the main components of the reference plan (therapies, doses, "
            "procedures)?",
            "clarity": "Is the treatment stated clearly and specifically?",
        },
        "max_tokens": 2048,
    },
)

# --------------------------------------------------------------------------- MedicationQA

MEDICATIONQA_FILE = "MedInfo2019-QA-Medications.xlsx"
#: Reference answers that are not answers (kept, as MedHELM keeps them; flagged in metadata).
NON_ANSWERS = frozenset({"no answers", "unanswerable", "n/a"})


def _medicationqa_local(folder: Path, split: str) -> list[Item]:
    path = folder / MEDICATIONQA_FILE
    items = []
    for line, row in read_xlsx(path):
        answer = require(row, "Answer", path, line)
        items.append(
            Item(
                id=f"medicationqa-{line}",
                input=require(row, "Question", path, line).strip(),
                target=answer,
                subset=(row.get("Question Type") or "").strip() or None,
                metadata={
                    "focus": (row.get("Focus (Drug)") or "").strip(),
                    "reference_kind": "non-answer" if answer.strip().lower() in NON_ANSWERS else "answer",
                },
            )
        )
    return items


def _medicationqa_hub(row: dict[str, Any], i: int, config: str) -> Item:
    """A row of the third-party hub copy (the same workbook as parquet); ids follow the sheet rows."""
    where = "hub:truehealth/medicationqa"
    answer = require(row, "Answer", where, i + 2)
    return Item(
        id=f"medicationqa-{i + 2}",
        input=require(row, "Question", where, i + 2).strip(),
        target=answer,
        subset=(row.get("Question Type") or "").strip() or None,
        metadata={
            "focus": (row.get("Focus (Drug)") or "").strip(),
            "reference_kind": "non-answer" if answer.strip().lower() in NON_ANSWERS else "answer",
        },
    )


MEDICATIONQA = Benchmark(
    name="medicationqa",
    title="MedicationQA (consumer medication questions, MedInfo 2019)",
    protocol="freetext",
    task_type="open answer (judge jury against the reference answer, ROUGE)",
    taxonomy=Taxonomy(category="Patient communication and education", subcategory="Medication questions"),
    license="not stated (answers quoted from NLM/CDC pages); verify before redistribution",
    source="Ben Abacha et al. 2019, MedicationQA (abachaa/Medication_QA_MedInfo2019)",
    description="690 consumer questions about medications with answers from trusted pages; each answer "
    "rated 1-5 on accuracy, completeness and clarity against the reference by a judge jury.",
    splits={"test": 690},
    default_split="test",
    local_dir="medicationqa",
    load_local=_medicationqa_local,
    local_files=lambda folder, split: [folder / MEDICATIONQA_FILE],
    hub=HubSource(path="truehealth/medicationqa", splits={"test": "train"}, map_row=_medicationqa_hub),
    options={
        "prompt": "Answer the following question from a consumer about a medication.\n\nQuestion: {input}",
        "checks": ["axes"],
        "primary": "jury_score",
        "subject": "an answer to a consumer's question about a medication",
        "axis_guide": {
            "accuracy": "Is the answer medically correct and consistent with the reference answer?",
            "completeness": "Does it cover what the reference answer says the consumer needs to know?",
            "clarity": "Is it clear and understandable for a consumer?",
        },
        "breakdown": ["reference_kind"],
    },
)

# --------------------------------------------------------------------------- MedSafetyBench

#: Category i is AMA Principle of Medical Ethics i (short labels written for the report).
MEDSAFETY_CATEGORIES = {
    1: "1 competent, compassionate care",
    2: "2 professionalism and honesty",
    3: "3 respect for the law",
    4: "4 patient rights and confidentiality",
    5: "5 scientific knowledge and education",
    6: "6 freedom to choose whom to serve",
    7: "7 community and public health",
    8: "8 responsibility to the patient",
    9: "9 access to care",
}
MEDSAFETY_SOURCES = ("gpt4", "llama2")
MEDSAFETY_POLICY = "prompts/usage_policy_med_harm.txt"
MEDSAFETY_RUBRIC = "prompts/judge_rubric.txt"


def _medsafety_files(folder: Path) -> list[Path]:
    files = [
        folder / "test" / src / f"med_safety_demonstrations_category_{c}.csv"
        for src in MEDSAFETY_SOURCES
        for c in MEDSAFETY_CATEGORIES
    ]
    return [*files, folder / MEDSAFETY_POLICY, folder / MEDSAFETY_RUBRIC]


def _read_text(path: Path) -> str:
    if not path.exists():
        raise DataError("file not found (the judge's usage policy and rubric come from the data)", path=path)
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise DataError("file is empty", path=path)
    return text


def _medsafety_local(folder: Path, split: str) -> list[Item]:
    fields = {
        "usage_policy": _read_text(folder / MEDSAFETY_POLICY),
        "rubric": _read_text(folder / MEDSAFETY_RUBRIC),
    }
    items = []
    for src in MEDSAFETY_SOURCES:
        for c, label in MEDSAFETY_CATEGORIES.items():
            path = folder / "test" / src / f"med_safety_demonstrations_category_{c}.csv"
            for n, (line, row) in enumerate(read_csv(path)):
                # safe_response is a training target, not an answer key: never loaded.
                items.append(
                    Item(
                        id=f"{src}-c{c}-{n}",
                        input=require(row, "harmful_medical_request", path, line),
                        subset=label,
                        metadata={"source": src, "judge_fields": fields},
                    )
                )
    return items


MEDSAFETYBENCH = Benchmark(
    name="medsafetybench",
    title="MedSafetyBench (harmful medical requests, MedSafety-Eval test)",
    protocol="freetext",
    task_type="harmful-request refusal (judge harmfulness 1-5, refusal rate)",
    taxonomy=Taxonomy(category="Safety", subcategory="Harmful medical requests"),
    license="MIT; research use only (upstream notice)",
    source="Han et al. 2024, MedSafetyBench (AI4LIFE-GROUP/med-safety-bench, datasets/test)",
    description="900 requests that violate the AMA Principles of Medical Ethics (9 categories; 450 written by "
    "GPT-4, 450 by Llama-2); the judge scores harmfulness 1-5 with the benchmark's usage policy and rubric.",
    splits={"test": 900},
    default_split="test",
    local_dir="medsafetybench",
    load_local=_medsafety_local,
    local_files=lambda folder, split: _medsafety_files(folder),
    options={
        "prompt": "{input}",
        "checks": ["harm"],
        "primary": "refusal",
        "breakdown": ["subset", "source"],
        "max_tokens": 512,
    },
)
