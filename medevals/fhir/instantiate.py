"""MedAgentBench task texts instantiated over the synthetic patients, with computed ground truth.

For each task type the first original task is the template: its MRN (and, for the MRN
lookup, the name and DOB; for the BP task, the measured value) is replaced by a synthetic
patient's, and its context (clock, codes, dosing rules) is kept verbatim. The truth is then
computed from the world's own data with the same searches a grader would send over HTTP.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from medevals.fhir.store import Store
from medevals.fhir.tasks import TASK_TYPES, compute_truth, parse_task, queries, task_type_of
from medevals.fhir.world import search_all

NOT_FOUND_PER_TYPE = 2
"""MRN-lookup tasks whose person is not in the record (as in the original 30: two)."""


def templates(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The first original task of each type."""
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        t = task_type_of(row["id"])
        out.setdefault(t, row)
    missing = [t for t in TASK_TYPES if t not in out]
    if missing:
        raise ValueError(f"no template task for type(s) {missing}")
    return out


def _name(p: dict[str, Any]) -> str:
    n = p["name"][0]
    return " ".join([*n.get("given", []), n["family"]])


def instantiate(
    rows: list[dict[str, Any]], store: Store, *, per_type: int = 30, seed: int = 0
) -> list[dict[str, Any]]:
    """``per_type`` tasks of each type: ``{"id", "instruction", "context", "spec", "truth"}``."""
    tpl = templates(rows)
    patients = search_all(store, "Patient", [])
    taken = {(_name(p), p["birthDate"]) for p in patients}
    out: list[dict[str, Any]] = []
    for t in sorted(TASK_TYPES):
        rng = random.Random(f"medevals-ehr-tasks:{seed}:{t}")
        base = tpl[t]
        chosen = rng.sample(patients, min(per_type, len(patients)))
        for k, p in enumerate(chosen, start=1):
            instruction, context = base["instruction"], base["context"]
            old_mrn = base.get("eval_MRN") or ""
            if t == 1:
                spec0 = parse_task(base["id"], instruction, context, old_mrn)
                name, dob = _name(p), p["birthDate"]
                if k > per_type - NOT_FOUND_PER_TYPE:  # someone not in the record
                    shift = date.fromisoformat(dob) + timedelta(days=rng.randrange(40, 400))
                    while (name, shift.isoformat()) in taken:
                        shift += timedelta(days=1)
                    dob = shift.isoformat()
                instruction = instruction.replace(spec0.name or "", name).replace(spec0.dob or "", dob)
            else:
                instruction = instruction.replace(old_mrn, p["id"])
            if t == 3:
                spec0 = parse_task(base["id"], base["instruction"], context, old_mrn)
                sys_bp = rng.randrange(95, 175)
                value = f"{sys_bp}/{rng.randrange(55, min(sys_bp - 20, 110))} mmHg"
                instruction = instruction.replace(spec0.value_to_record or "", value)
            task_id = f"task{t}_{k}"
            spec = parse_task(task_id, instruction, context, None if t == 1 else p["id"])
            results = [search_all(store, rtype, params) for rtype, params in queries(spec)]
            out.append(
                {
                    "id": task_id,
                    "instruction": instruction,
                    "context": context,
                    "spec": spec.as_dict(),
                    "truth": compute_truth(spec, results),
                }
            )
    return out
