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
from datetime import datetime, timedelta
from typing import Any

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


NOT_FOUND = "Patient not found"
"""Task 1's answer when nobody in the record has that name and birth date."""


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
    """The FHIR searches whose results determine the task's ground truth.

    Lab and age tasks send the public grader's own searches (``reference_urls``); the lookup
    (task 1, whose original answers come from the task file) searches by family name and DOB.
    """
    if spec.task_type == 1:
        assert spec.name and spec.dob
        *_given, family = spec.name.split()
        return [("Patient", [("family", family), ("birthdate", spec.dob)])]
    if spec.task_type == 2:
        return [("Patient", [("identifier", spec.mrn or "")])]
    if spec.task_type in LAB_TASKS:
        return [("Observation", [("patient", spec.mrn or ""), ("code", spec.lab_code or "")])]
    return []


def reference_urls(spec: TaskSpec, api_base: str) -> list[str]:
    """The GETs MedAgentBench's grader (``refsol.py``) sends for a task's truth, exactly as it writes them.

    Only the first page is read, as the grader does: ``_count=5000`` on the lab searches.
    """
    base = api_base.rstrip("/") + "/"
    if spec.task_type == 2:
        return [f"{base}Patient?identifier={spec.mrn}&_format=json"]
    if spec.task_type in LAB_TASKS:
        return [f"{base}Observation?patient={spec.mrn}&code={spec.lab_code}&_count=5000&_format=json"]
    return []


class TruthError(ValueError):
    """The record cannot be read the way the grader reads it (the grader would raise: task failed)."""


def _lab_points(observations: list[dict[str, Any]]) -> list[tuple[datetime, Any, str]]:
    """(instant, value, instant as written) of every observation, in the server's order.

    As the public grader: every entry must carry ``effectiveDateTime`` and
    ``valueQuantity.value`` (it reads both before any filtering), and instants are compared
    as ``datetime.fromisoformat`` reads them.
    """
    out = []
    for i, o in enumerate(observations):
        try:
            when = o["effectiveDateTime"]
            out.append((datetime.fromisoformat(when), o["valueQuantity"]["value"], when))
        except (KeyError, TypeError, ValueError) as e:
            raise TruthError(f"Observation {i} ({o.get('id')}): {type(e).__name__}: {e}") from None
    return out


def _latest(points: list[tuple[datetime, Any, str]]) -> tuple[datetime, Any, str] | None:
    """The most recent point; on equal instants the first one in the server's order wins."""
    best = None
    for p in points:
        if best is None or p[0] > best[0]:
            best = p
    return best


def age_on(birth: str, now: datetime) -> int:
    """Whole years on the day of ``now`` (the grader's ``calculate_age``: birthday not yet reached -> one less)."""
    b = datetime.strptime(birth, "%Y-%m-%d").date()
    d = now.date()
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def compute_truth(spec: TaskSpec, results: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Ground truth from the results of ``queries(spec)`` (each in the server's order), as JSON.

    Rules are the public grader's (MedAgentBench ``refsol.py``): the 24-hour window is
    ``effective >= now - 24 h`` with no upper bound; the latest value is the first entry with
    the greatest instant; the 24-hour glucose mean is not rounded; age counts whole years
    from ``entry[0]`` of the identifier search. Keys: ``value`` (None when there is none),
    ``when`` (its instant as recorded), ``sol`` (task 1's answer list) and ``order`` (whether
    the conditional order is due). A record the grader could not read gives ``{"error": ...}``:
    the task then fails whatever the agent does, as it does upstream.
    """
    try:
        return _truth(spec, results)
    except TruthError as e:
        return {"error": str(e)}


def _truth(spec: TaskSpec, results: list[list[dict[str, Any]]]) -> dict[str, Any]:
    now = datetime.fromisoformat(spec.now)
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
        mrn = hits[0] if len(hits) == 1 else None
        return {"mrn": mrn, "sol": [mrn or NOT_FOUND], "matches": hits}
    if t == 2:
        try:
            birth = results[0][0]["birthDate"]
            return {"value": age_on(birth, now)}
        except (IndexError, KeyError, TypeError, ValueError) as e:
            raise TruthError(f"Patient search: {type(e).__name__}: {e}") from None
    if t in (3, 8):
        return {"order": True}
    points = _lab_points(results[0])
    try:  # e.g. an instant without a time zone compared with one that has it: the grader raises
        return _lab_truth(t, now, points)
    except TypeError as e:
        raise TruthError(f"TypeError: {e}") from None


def _lab_truth(t: int, now: datetime, points: list[tuple[datetime, Any, str]]) -> dict[str, Any]:
    if t in (4, 5, 6):
        points = [p for p in points if p[0] >= now - timedelta(hours=24)]
    if t == 6:
        values = [p[1] for p in points]
        return {"value": sum(values) / len(values) if values else None, "n": len(values)}
    last = _latest(points)
    value, when = (last[1], last[2]) if last else (None, None)
    truth: dict[str, Any] = {"value": value, "when": when, "order": False}
    if t == 5:
        truth["order"] = value is not None and not value > 1.9
    elif t == 9:
        truth["order"] = value is not None and value < 3.5
    elif t == 10:
        truth["order"] = last is None or last[0] < now.replace(year=now.year - 1)
    return truth


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
