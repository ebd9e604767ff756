"""AgentClinic (Schmidgall et al. 2024): OSCE cases where a doctor agent interviews a patient agent,
orders tests from a measurement agent and names a diagnosis. From ``$MEDEVALS_DATA/agentclinic``.

Splits: ``test`` = ``agentclinic_medqa.jsonl`` (107 MedQA cases) + ``agentclinic_nejm.jsonl`` (15
NEJM cases), ``extended`` = the two ``*_extended.jsonl`` files (214 + 120). NEJM cases are NEJM
Image Challenges whose figure is not staged (NEJM copyright, network only): each is a
``Skipped`` row, counted by reason in the manifest and the report, never silently dropped.

Who sees what (the ``agentclinic`` protocol, ``protocols/agentclinic.py``):

- the doctor (model under test): ``Objective_for_Doctor`` only (``input`` and
  ``metadata.initial_info``), as upstream's ``examiner_information``;
- the patient agent: ``Patient_Actor`` flattened into one fact per line (``metadata.facts``);
- the measurement agent: ``Physical_Examination_Findings`` and ``Test_Results`` flattened into
  one result per leaf, each with its path (``metadata.results``), as upstream's
  ``exam_information`` (physical exam + tests);
- ``Correct_Diagnosis`` is the ``target`` (the judge's reference) and reaches neither agent;
  the extended file's ``Management_and_Follow_Up`` is never mapped.

In some cases the test results state the diagnosis verbatim (a biopsy "consistent with
pyoderma gangrenosum"): the measurement agent reveals it when asked, by design upstream.
``metadata.results_spell_diagnosis`` flags them (the diagnosis, lower-cased with whitespace
collapsed, is a substring of a result line): 15 of the 107 base cases, 28 of the 214 extended.
The report gives accuracy with and without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark, Skipped
from medevals.benchmarks.readers import read_jsonl, require
from medevals.errors import DataError
from medevals.schema import Item, Taxonomy

CONSULTATION = Taxonomy(category="Clinical decision support", subcategory="Interactive consultation")

FILES = {
    "test": ("agentclinic_medqa.jsonl", "agentclinic_nejm.jsonl"),
    "extended": ("agentclinic_medqa_extended.jsonl", "agentclinic_nejm_extended.jsonl"),
}
NEJM_SKIP = "NEJM Image Challenge case: needs its figure, which is not staged (NEJM copyright)"

#: Section names as the measurement agent shows them (the JSON keys, made readable).
PHYSICAL = "Physical examination"
TESTS = "Test results"


def readable(key: str) -> str:
    """``"Acetylcholine_Receptor_Antibodies"`` -> ``"Acetylcholine Receptor Antibodies"``."""
    return re.sub(r"\s+", " ", str(key).replace("_", " ")).strip()


def leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(key path, text) for every leaf of a nested JSON tree; list items share their parent's path."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, (*path, readable(k)))
    elif isinstance(node, list):
        for v in node:
            yield from leaves(v, path)
    elif node is not None and str(node).strip():
        yield path, str(node).strip()


def fact_lines(node: Any, prefix: tuple[str, ...] = ()) -> list[str]:
    """One line per leaf: ``"A > B: text"`` (an unnamed top-level leaf is the text alone)."""
    out = []
    for path, text in leaves(node, prefix):
        out.append(f"{' > '.join(path)}: {text}" if path else text)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def spells_diagnosis(diagnosis: str, lines: list[str]) -> bool:
    """Whether a result line contains the diagnosis verbatim (case and whitespace ignored)."""
    d = _norm(diagnosis)
    return bool(d) and any(d in _norm(line) for line in lines)


def case_text(objective: str, facts: list[str], results: list[str]) -> str:
    """The whole case as the non-interactive upper bound shows it (never the diagnosis)."""
    return (
        f"Objective: {objective}\n\nPatient:\n"
        + "\n".join(f"- {f}" for f in facts)
        + "\n\nExaminations and tests:\n"
        + "\n".join(f"- {r}" for r in results)
    )


def medqa_item(row: dict[str, Any], where: Path, line: int, split: str) -> Item:
    osce = require(row, "OSCE_Examination", where, line, kind=dict)

    def need(field: str, kind: type | tuple[type, ...] = str) -> Any:
        val = osce.get(field)
        if val is None:
            raise DataError("missing", path=where, line=line, field=f"OSCE_Examination.{field}")
        if not isinstance(val, kind) or (isinstance(val, str) and not val.strip()):
            raise DataError(
                "empty or of the wrong type", path=where, line=line, field=f"OSCE_Examination.{field}"
            )
        return val

    objective = need("Objective_for_Doctor").strip()
    diagnosis = need("Correct_Diagnosis").strip()
    patient = need("Patient_Actor", dict)
    facts = fact_lines(patient)
    results = fact_lines(need("Physical_Examination_Findings", dict), (PHYSICAL,)) + fact_lines(
        need("Test_Results", dict), (TESTS,)
    )
    if not facts:
        raise DataError("no patient facts", path=where, line=line, field="OSCE_Examination.Patient_Actor")
    return Item(
        id=f"{split}-medqa-{line}",
        input=objective,
        target=diagnosis,
        context=case_text(objective, facts, results),
        subset="medqa",
        metadata={
            "initial_info": objective,
            "facts": facts,
            "results": results,
            "results_spell_diagnosis": spells_diagnosis(diagnosis, results),
        },
    )


def _load(folder: Path, split: str) -> Iterator[Item | Skipped]:
    medqa, nejm = FILES[split]
    path = folder / medqa
    for line, row in read_jsonl(path):
        yield medqa_item(row, path, line, split)
    path = folder / nejm
    for line, row in read_jsonl(path):
        require(row, "answers", path, line, kind=list)
        yield Skipped(f"{split}-nejm-{line}", NEJM_SKIP)


AGENTCLINIC = Benchmark(
    name="agentclinic",
    title="AgentClinic-MedQA (OSCE: doctor, patient and measurement agents)",
    protocol="agentclinic",
    task_type="interactive consultation -> free-text diagnosis (judged)",
    taxonomy=CONSULTATION,
    license="MIT (cases derive from MedQA; NEJM images not included)",
    source="Schmidgall et al. 2024, AgentClinic: a multimodal agent benchmark to evaluate AI in simulated "
    "clinical environments (SamuelSchmidgall/AgentClinic@b6570ed)",
    description="107 MedQA-derived OSCE cases (214 in the extended split): the doctor interviews a patient "
    "agent, requests tests from a measurement agent that reads only the case's results, then names a "
    "diagnosis judged against the reference. The NEJM cases need their image: skipped and counted.",
    splits={"test": 122, "extended": 334},
    default_split="test",
    local_dir="agentclinic",
    load_local=_load,
    local_files=lambda folder, split: [folder / f for f in FILES[split]],
)
