"""MediQ interactive benchmarks: iMedQA (MedQA-derived) and iCraft-MD, from ``$MEDEVALS_DATA/mediq``.

Each row carries the full vignette (``context``, a list of sentences), the atomic facts a
simulated patient may reveal (``facts``, numbered "1. ...") and a 4-option question. The
expert starts from the initial information only: the first context sentence, as in the
MediQ paper (Li et al. 2024). The ``explanation`` field is never mapped.

Item layout shared with the converter (``benchmarks/interactive_convert.py``) and read by
the ``interactive`` protocol:

- ``input``: the question stem; ``choices``/``target``: the options and answer letter;
- ``context``: the full vignette (the upper-bound variant shows it);
- ``metadata.initial_info``: what the expert sees at the start (the lower-bound variant too);
- ``metadata.facts``: the atomic facts, numbering stripped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from medevals.benchmarks.base import Benchmark
from medevals.benchmarks.mapping import mcq_item
from medevals.benchmarks.readers import read_jsonl, require
from medevals.schema import Item, Taxonomy

CONSULTATION = Taxonomy(category="Clinical decision support", subcategory="Interactive consultation")

_NUMBERING = re.compile(r"^\s*\d+\s*[.)]\s*")


def strip_numbering(fact: str) -> str:
    """ "3. Patient complains of fever." -> "Patient complains of fever."."""
    return _NUMBERING.sub("", fact).strip()


def interactive_item(
    *,
    id: str,
    question: str,
    choices: dict[str, str],
    answer: str,
    initial_info: str,
    full_vignette: str,
    facts: list[str],
    where: Path | str,
    line: int,
    answer_field: str = "answer_idx",
    subset: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Item:
    """Build an interactive-consultation item (MCQ checks included).

    An item may have no vignette and no facts (3 of iMedQA's 1272 rows are knowledge questions
    with an empty ``context``): it is kept, as upstream evaluates it, and the patient can only
    say it does not know.
    """
    clean_facts = [strip_numbering(str(f)) for f in facts if str(f).strip()]
    return mcq_item(
        id=id,
        question=question,
        choices=choices,
        answer=answer,
        answer_field=answer_field,
        where=where,
        line=line,
        subset=subset,
        context=full_vignette.strip() or None,
        metadata={"initial_info": initial_info.strip(), "facts": clean_facts, **(extra or {})},
    )


def _join_sentences(sentences: list[str]) -> str:
    out = []
    for s in sentences:
        s = str(s).strip()
        if s and s[-1] not in ".?!":
            s += "."  # craft_md sentences often lack the full stop
        if s:
            out.append(s)
    return " ".join(out)


def _mediq_local(filename: str) -> Any:
    def load(folder: Path, split: str) -> list[Item]:
        path = folder / filename
        items = []
        for line, row in read_jsonl(path):
            context = require(row, "context", path, line, kind=list)
            patient = row.get("patient") if isinstance(row.get("patient"), dict) else {}
            items.append(
                interactive_item(
                    id=str(require(row, "id", path, line, kind=(int, str))),
                    question=require(row, "question", path, line),
                    choices=require(row, "options", path, line, kind=dict),
                    answer=require(row, "answer_idx", path, line),
                    initial_info=_join_sentences(context[:1]),
                    full_vignette=_join_sentences(context),
                    facts=require(row, "facts", path, line, kind=list),
                    where=path,
                    line=line,
                    extra={"patient": {k: patient[k] for k in ("age", "gender") if k in patient}},
                )
            )
        return items

    return load


MEDIQ_IMEDQA = Benchmark(
    name="mediq-imedqa",
    title="MediQ iMedQA (interactive MedQA)",
    protocol="interactive",
    task_type="interactive consultation -> multiple choice (4)",
    taxonomy=CONSULTATION,
    license="CC-BY-4.0",
    source="Li et al. 2024, MediQ: Question-Asking LLMs and a Benchmark for Reliable Interactive Clinical "
    "Reasoning (stellalisy/mediQ, data/all_dev_good.jsonl)",
    description="MedQA vignettes split into atomic facts; the expert sees the first sentence and must ask "
    "a simulated patient for the rest before answering.",
    splits={"dev": 1272},
    default_split="dev",
    local_dir="mediq",
    load_local=_mediq_local("all_dev_good.jsonl"),
    local_files=lambda folder, split: [folder / "all_dev_good.jsonl"],
)

MEDIQ_ICRAFTMD = Benchmark(
    name="mediq-icraftmd",
    title="MediQ iCraft-MD (interactive Craft-MD dermatology cases)",
    protocol="interactive",
    task_type="interactive consultation -> multiple choice (4)",
    taxonomy=CONSULTATION,
    license="CC-BY-4.0",
    source="Li et al. 2024, MediQ (stellalisy/mediQ, data/all_craft_md.jsonl), from Craft-MD "
    "(Johri et al. 2024)",
    description="Craft-MD case vignettes split into atomic facts; diagnosis questions asked interactively.",
    splits={"test": 140},
    default_split="test",
    local_dir="mediq",
    load_local=_mediq_local("all_craft_md.jsonl"),
    local_files=lambda folder, split: [folder / "all_craft_md.jsonl"],
)
