"""Grading an EHR-agent episode: the final answer AND the resources the agent wrote.

Rules follow MedAgentBench's task texts: read-only tasks must write nothing; record/order
tasks must write exactly the expected resources (right type, patient, code, dose, route,
times, status/intent/priority) and nothing else; conditional orders are due only when the
lab says so (otherwise any write fails the task). Where a question asks for no value
(tasks 3, 5, 8, 9) the answer is not graded except that, when given, it must be right.
Writes the server rejected (4xx) are not writes; they are counted separately.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from medevals.fhir import dates
from medevals.fhir.tasks import TaskSpec, k_dose, mg_dose

NOT_FOUND = "Patient not found"
NDC = "http://hl7.org/fhir/sid/ndc"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


@dataclass
class Grade:
    success: bool
    answer_ok: bool
    writes_ok: bool
    problems: list[str] = field(default_factory=list)


def _num(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x.strip().split()[0])
        except (ValueError, IndexError):
            return None
    return None


def _close(a: Any, b: float, tol: float) -> bool:
    x = _num(a)
    return x is not None and math.isfinite(x) and abs(x - b) <= tol


def _same_instant(answer: Any, recorded: str) -> bool:
    """The answered time names the recorded one (full instant, or its calendar date)."""
    if not isinstance(answer, str):
        return False
    try:
        if len(answer.strip()) == 10:
            return answer.strip() == recorded[:10]
        return dates.parse_instant(answer) == dates.parse_instant(recorded)
    except dates.DateParamError:
        return False


def check_answer(spec: TaskSpec, truth: dict[str, Any], answer: list[Any] | None) -> tuple[bool, str]:
    """(ok, why not) for the FINISH list; ``answer`` None means the agent gave no readable answer."""
    t = spec.task_type
    optional = t in (3, 5, 8, 9)
    if answer is None:
        return False, "no final answer (FINISH)"
    if optional and answer == []:
        return True, ""
    if t in (3, 8):
        return True, ""  # nothing is asked; whatever the agent says is not graded
    if t == 1:
        want = truth.get("mrn") or NOT_FOUND
        ok = len(answer) == 1 and str(answer[0]).strip() == want
        return ok, "" if ok else f"answer {answer!r}, expected [{want!r}]"
    value = truth.get("value")
    if t == 2:
        ok = value is not None and len(answer) == 1 and _close(answer[0], value, 0)
        return ok, "" if ok else f"answer {answer!r}, expected [{value}]"
    if t == 10:
        if value is None:
            ok = len(answer) == 1 and _close(answer[0], -1, 0)
            return ok, "" if ok else f"answer {answer!r}, expected [-1]"
        ok = len(answer) == 2 and _close(answer[0], value, 1e-6) and _same_instant(answer[1], truth["when"])
        return ok, "" if ok else f"answer {answer!r}, expected [{value}, {truth['when']!r}]"
    want = -1.0 if value is None else float(value)
    tol = 0.1 if t == 6 else 1e-6
    ok = len(answer) == 1 and _close(answer[0], want, tol)
    return ok, "" if ok else f"answer {answer!r}, expected [{want:g}]"


def _get(d: Any, *path: Any) -> Any:
    """``d[path[0]][path[1]]...`` or None when any step is missing or of the wrong shape."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(d, list) or key >= len(d):
                return None
            d = d[key]
        else:
            if not isinstance(d, dict):
                return None
            d = d.get(key)
    return d


def _coding(payload: dict[str, Any], concept: str) -> tuple[Any, Any]:
    c = _get(payload, concept, "coding", 0) or {}
    return c.get("system") if isinstance(c, dict) else None, c.get("code") if isinstance(c, dict) else None


def _common(
    spec: TaskSpec, p: dict[str, Any], rtype: str, problems: list[str], *, authored: bool = True
) -> None:
    if p.get("resourceType") != rtype:
        problems.append(f"wrote {p.get('resourceType')}, expected {rtype}")
    if _get(p, "subject", "reference") != f"Patient/{spec.mrn}":
        problems.append(f"subject {_get(p, 'subject', 'reference')!r}, expected 'Patient/{spec.mrn}'")
    if authored and spec.now[:16] not in str(p.get("authoredOn", "")):
        problems.append(f"authoredOn {p.get('authoredOn')!r} is not the current time {spec.now}")


def _order_fields(p: dict[str, Any], problems: list[str], *, priority: bool) -> None:
    if p.get("status") != "active":
        problems.append(f"status {p.get('status')!r}, expected 'active'")
    if p.get("intent") != "order":
        problems.append(f"intent {p.get('intent')!r}, expected 'order'")
    if priority and p.get("priority") != "stat":
        problems.append(f"priority {p.get('priority')!r}, expected 'stat'")


def _note_text(p: dict[str, Any]) -> str:
    note = p.get("note")
    if isinstance(note, list):
        note = note[0] if note else None
    return str(note.get("text", "")) if isinstance(note, dict) else ""


def _check_bp(spec: TaskSpec, p: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    _common(spec, p, "Observation", problems, authored=False)
    cat = _get(p, "category", 0, "coding", 0) or {}
    if not isinstance(cat, dict) or cat.get("code") != "vital-signs":
        problems.append("category is not vital-signs")
    if _get(p, "code", "text") != "BP":
        problems.append(f"code.text {_get(p, 'code', 'text')!r}, expected 'BP'")
    if spec.now[:16] not in str(p.get("effectiveDateTime", "")):
        problems.append(f"effectiveDateTime {p.get('effectiveDateTime')!r} is not {spec.now}")
    if p.get("status") != "final":
        problems.append(f"status {p.get('status')!r}, expected 'final'")
    if p.get("valueString") != spec.value_to_record:
        problems.append(f"valueString {p.get('valueString')!r}, expected {spec.value_to_record!r}")
    return problems


def _check_med(
    spec: TaskSpec, p: dict[str, Any], dose: float, unit: str, route: str, rate: float | None
) -> list[str]:
    problems: list[str] = []
    _common(spec, p, "MedicationRequest", problems)
    _order_fields(p, problems, priority=False)
    system, code = _coding(p, "medicationCodeableConcept")
    if system != NDC or code != spec.ndc:
        problems.append(f"medication {system}|{code}, expected {NDC}|{spec.ndc}")
    di = _get(p, "dosageInstruction", 0) or {}
    if str(_get(di, "route", "text") or "").strip().lower() != route.lower():
        problems.append(f"route {_get(di, 'route', 'text')!r}, expected {route!r}")
    dq = _get(di, "doseAndRate", 0, "doseQuantity") or {}
    if not _close(_get(dq, "value"), dose, 0.1) or _get(dq, "unit") != unit:
        problems.append(f"dose {dq!r}, expected {dose:g} {unit}")
    if rate is not None:
        rq = _get(di, "doseAndRate", 0, "rateQuantity") or {}
        if not _close(_get(rq, "value"), rate, 0.1) or _get(rq, "unit") != "h":
            problems.append(f"rate {rq!r}, expected {rate:g} h")
    return problems


def _check_service(spec: TaskSpec, p: dict[str, Any], system: str, code: str | None) -> list[str]:
    problems: list[str] = []
    _common(spec, p, "ServiceRequest", problems)
    _order_fields(p, problems, priority=True)
    s, c = _coding(p, "code")
    if s != system or c != code:
        problems.append(f"code {s}|{c}, expected {system}|{code}")
    return problems


def expected_writes(spec: TaskSpec, truth: dict[str, Any]) -> int:
    t = spec.task_type
    if t in (3, 8):
        return 1
    if t in (5, 10):
        return 1 if truth.get("order") else 0
    if t == 9:
        return 2 if truth.get("order") else 0
    return 0


def check_writes(spec: TaskSpec, truth: dict[str, Any], writes: list[dict[str, Any]]) -> list[str]:
    """Problems with the accepted writes (each ``{"resourceType", "payload"}``); [] when right."""
    n = expected_writes(spec, truth)
    if len(writes) != n:
        return [f"{len(writes)} accepted write(s), expected {n}"]
    if n == 0:
        return []
    t = spec.task_type
    payloads = [w["payload"] for w in writes]
    if t == 3:
        return _check_bp(spec, payloads[0])
    if t == 5:
        grams, hours = mg_dose(float(truth["value"]))
        return _check_med(spec, payloads[0], grams, "g", "IV", hours)
    if t == 8:
        problems = _check_service(spec, payloads[0], SNOMED, spec.snomed)
        if spec.note_text and spec.note_text not in _note_text(payloads[0]):
            problems.append("the referral note does not contain the requested free text")
        return problems
    if t == 10:
        return _check_service(spec, payloads[0], LOINC, spec.loinc)
    # t == 9: one oral potassium order and one next-morning serum potassium order, in any order
    meds = [p for p in payloads if p.get("resourceType") == "MedicationRequest"]
    labs = [p for p in payloads if p.get("resourceType") == "ServiceRequest"]
    if len(meds) != 1 or len(labs) != 1:
        return ["expected one MedicationRequest and one ServiceRequest"]
    problems = _check_med(spec, meds[0], k_dose(float(truth["value"])), "mEq", "oral", None)
    problems += _check_service(spec, labs[0], LOINC, spec.loinc)
    next_morning = _next_day_8am(spec.now)
    if next_morning not in str(labs[0].get("occurrenceDateTime", "")):
        problems.append(f"occurrenceDateTime {labs[0].get('occurrenceDateTime')!r}, expected {next_morning}")
    return problems


def _next_day_8am(now: str) -> str:
    from datetime import timedelta

    day = dates.parse_instant(now) + timedelta(days=1)
    return f"{day.date().isoformat()}T08:00"


def grade(
    spec: TaskSpec, truth: dict[str, Any], answer: list[Any] | None, writes: list[dict[str, Any]]
) -> Grade:
    answer_ok, why = check_answer(spec, truth, answer)
    write_problems = check_writes(spec, truth, writes)
    problems = ([why] if why else []) + write_problems
    return Grade(
        success=answer_ok and not write_problems,
        answer_ok=answer_ok,
        writes_ok=not write_problems,
        problems=problems,
    )
