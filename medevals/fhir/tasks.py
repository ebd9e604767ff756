"""MedAgentBench task types: reading a task's parameters from its text, and its ground truth from FHIR data.

The ten types (MRN lookup, age, record BP, latest Mg in 24 h, Mg replacement, 24 h glucose
average, latest glucose, referral, potassium replacement, HbA1c check) are recognised by the
id prefix (``task3_...``); everything the grader needs (MRN, codes, NDCs, the clock, the
value to record, the referral text) is read from the instruction and context with the
patterns below, so the same code instantiates synthetic tasks and grades the original 300
against a user's server. The truth is computed from the search results ``queries`` asks for,
so it is the same whether the data come from the sandbox store or over HTTP.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from medevals.fhir import dates

TASK_TYPES: dict[int, str] = {
    1: "mrn-lookup",
    2: "age",
    3: "record-bp",
    4: "latest-mg-24h",
    5: "mg-replacement",
    6: "avg-glucose-24h",
    7: "latest-glucose",
    8: "referral-order",
    9: "k-replacement",
    10: "a1c-check",
}
LAB_TASKS = {4: "MG", 5: "MG", 6: "GLU", 7: "GLU", 9: "K", 10: "A1C"}

_TYPE = re.compile(r"^task(\d+)_")
_NOW = re.compile(r"It's (\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?) now")
_NAME_DOB = re.compile(r"name (.+?) and DOB of (\d{4}-\d{2}-\d{2})")
_QUOTED = re.compile(r"[\"“](.+?)[\"”]", re.S)
_CODE = re.compile(r"code for [^\"]*? is \"([^\"]+)\"")
_NDC = re.compile(r"NDC for [^.]*? is (\d{4,5}-\d{3,4}-\d{1,2})")
_SNOMED = re.compile(r"SNOMED code for [^.]*? is (\d+)")
_LOINC = re.compile(r"LOINC code for [^.]*? is:? (\d+-\d)")
_MRN = re.compile(r"\bS\d{7}\b")


class TaskTextError(ValueError):
    """A task text that lacks what its type needs (names the missing piece)."""


@dataclass(frozen=True)
class TaskSpec:
    """What a task asks for, read from its text."""

    task_type: int
    mrn: str | None
    now: str
    lab_code: str | None = None
    name: str | None = None
    dob: str | None = None
    value_to_record: str | None = None
    ndc: str | None = None
    snomed: str | None = None
    loinc: str | None = None
    note_text: str | None = None

    @property
    def type_name(self) -> str:
        return TASK_TYPES[self.task_type]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskSpec:
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__})


def task_type_of(task_id: str) -> int:
    m = _TYPE.match(task_id)
    if not m or int(m.group(1)) not in TASK_TYPES:
        raise TaskTextError(f"task id '{task_id}' is not one of task1_..task10_")
    return int(m.group(1))


def parse_task(task_id: str, instruction: str, context: str, mrn: str | None) -> TaskSpec:
    """The parameters of a MedAgentBench task from its id, texts and eval MRN."""
    t = task_type_of(task_id)
    m = _NOW.search(context)
    now = m.group(1) if m else "2023-11-13T10:15:00+00:00"  # task1 states no clock; it needs none
    spec: dict[str, Any] = {"task_type": t, "mrn": mrn, "now": now}

    def need(pattern: re.Pattern[str], text: str, what: str) -> str:
        found = pattern.search(text)
        if not found:
            raise TaskTextError(f"{task_id}: no {what} in the task text")
        return found.group(1)

    if t != 1 and mrn is None:
        found = _MRN.search(instruction)
        if not found:
            raise TaskTextError(f"{task_id}: no patient MRN")
        spec["mrn"] = found.group(0)
    if t != 1 and not m:
        raise TaskTextError(f"{task_id}: the context states no current time (It's ... now)")
    if t == 1:
        found = _NAME_DOB.search(instruction)
        if not found:
            raise TaskTextError(f"{task_id}: no patient name and DOB")
        spec["name"], spec["dob"] = found.groups()
    if t == 3:
        spec["value_to_record"] = need(_QUOTED, instruction, "quoted measurement")
    if t in LAB_TASKS:
        spec["lab_code"] = need(_CODE, context, "lab code")
    if t in (5, 9):
        spec["ndc"] = need(_NDC, context, "NDC")
    if t == 8:
        spec["snomed"] = need(_SNOMED, context, "SNOMED code")
        spec["note_text"] = need(_QUOTED, instruction, "quoted referral text")
    if t in (9, 10):
        spec["loinc"] = need(_LOINC, context, "LOINC code")
    return TaskSpec(**spec)


def queries(spec: TaskSpec) -> list[tuple[str, list[tuple[str, str]]]]:
    """The FHIR searches whose results determine the task's ground truth."""
    if spec.task_type == 1:
        assert spec.name and spec.dob
        *_given, family = spec.name.split()
        return [("Patient", [("family", family), ("birthdate", spec.dob)])]
    if spec.task_type == 2:
        return [("Patient", [("identifier", spec.mrn or "")])]
    if spec.task_type in LAB_TASKS:
        return [("Observation", [("patient", spec.mrn or ""), ("code", spec.lab_code or "")])]
    return []


def _lab_points(observations: list[dict[str, Any]]) -> list[tuple[datetime, float, str]]:
    """(instant, value, the instant as written) of each observation with a numeric value, oldest first."""
    out = []
    for o in observations:
        when = o.get("effectiveDateTime")
        value = (o.get("valueQuantity") or {}).get("value")
        if isinstance(when, str) and isinstance(value, int | float):
            out.append((dates.parse_instant(when), float(value), when))
    out.sort(key=lambda p: p[0])
    return out


def age_on(birth: str, now: datetime) -> int:
    b = datetime.fromisoformat(birth[:10]).date()
    d = now.date()
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def compute_truth(spec: TaskSpec, results: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Ground truth from the results of ``queries(spec)``; plain JSON for the sample record.

    Keys: ``value`` (the lab value or age the answer is about, None when there is none),
    ``when`` (its instant as recorded), ``mrn`` (task 1's answer) and ``order`` (whether
    the task's conditional order is due).
    """
    now = dates.parse_instant(spec.now)
    t = spec.task_type
    if t == 1:
        assert spec.name and spec.dob
        want = spec.name.lower().split()
        hits = [
            p["id"]
            for p in results[0]
            if p.get("birthDate") == spec.dob
            and any(
                [*(g.lower() for g in n.get("given") or []), str(n.get("family", "")).lower()] == want
                for n in p.get("name") or []
            )
        ]
        return {"mrn": hits[0] if len(hits) == 1 else None, "matches": hits}
    if t == 2:
        pts = [
            p
            for p in results[0]
            if p.get("id") == spec.mrn or any(i.get("value") == spec.mrn for i in p.get("identifier") or [])
        ]
        if not pts or not pts[0].get("birthDate"):
            return {"value": None}
        return {"value": age_on(pts[0]["birthDate"], now)}
    if t in (3, 8):
        return {"order": True}
    points = _lab_points(results[0])
    recent = [p for p in points if now.timestamp() - 86400 <= p[0].timestamp() <= now.timestamp()]
    if t in (4, 5):
        last = recent[-1] if recent else None
        value = last[1] if last else None
        return {
            "value": value,
            "when": last[2] if last else None,
            "order": value is not None and value <= 1.9,
        }
    if t == 6:
        return {
            "value": round(sum(p[1] for p in recent) / len(recent), 4) if recent else None,
            "n": len(recent),
        }
    last = points[-1] if points else None
    value = last[1] if last else None
    if t == 7:
        return {"value": value, "when": last[2] if last else None}
    if t == 9:
        return {"value": value, "when": last[2] if last else None, "order": value is not None and value < 3.5}
    # t == 10: order when the last result is missing or more than one year old
    year_ago = now.replace(year=now.year - 1)
    return {"value": value, "when": last[2] if last else None, "order": last is None or last[0] < year_ago}


def mg_dose(value: float) -> tuple[float, float]:
    """(grams, hours) from the MedAgentBench magnesium dosing text."""
    if value < 1.0:
        return 4.0, 4.0
    if value < 1.5:
        return 2.0, 2.0
    return 1.0, 1.0


def k_dose(value: float) -> float:
    """mEq of oral potassium: 10 mEq per 0.1 below 3.5."""
    return round((3.5 - value) / 0.1 * 10, 6)
