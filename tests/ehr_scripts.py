"""Scripted EHR agents for tests: an oracle that knows each task's truth, a do-nothing agent, a clumsy one.

Each is a fake_server responder: it finds the task by the question in the first user message
and replies with the next action of its script (one per assistant turn so far).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from medevals.fhir.generator import vital_signs_category
from medevals.fhir.tasks import TaskSpec, k_dose, mg_dose
from medevals.schema import Item

BASE = "http://localhost:8080/fhir"


def _subject(spec: TaskSpec) -> dict[str, str]:
    return {"reference": f"Patient/{spec.mrn}"}


def oracle_posts(spec: TaskSpec, truth: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The writes a correct agent makes (as (resource type, payload))."""
    t = spec.task_type
    if t == 3:
        return [
            (
                "Observation",
                {
                    "resourceType": "Observation",
                    "category": vital_signs_category(),
                    "code": {"text": "BP"},
                    "effectiveDateTime": spec.now,
                    "status": "final",
                    "valueString": spec.value_to_record,
                    "subject": _subject(spec),
                },
            )
        ]
    if t == 5 and truth["order"]:
        grams, hours = mg_dose(truth["value"])
        return [("MedicationRequest", _med(spec, "IV", grams, "g", hours))]
    if t == 8:
        return [
            (
                "ServiceRequest",
                _service(spec, "http://snomed.info/sct", spec.snomed, note={"text": spec.note_text}),
            )
        ]
    if t == 9 and truth["order"]:
        return [
            ("MedicationRequest", _med(spec, "oral", k_dose(truth["value"]), "mEq", None)),
            (
                "ServiceRequest",
                _service(
                    spec, "http://loinc.org", spec.loinc, occurrenceDateTime="2023-11-14T08:00:00+00:00"
                ),
            ),
        ]
    if t == 10 and truth["order"]:
        return [("ServiceRequest", _service(spec, "http://loinc.org", spec.loinc))]
    return []


def _med(spec: TaskSpec, route: str, dose: float, unit: str, hours: float | None) -> dict[str, Any]:
    rate = {"rateQuantity": {"value": hours, "unit": "h"}} if hours is not None else {}
    return {
        "resourceType": "MedicationRequest",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": spec.ndc}]
        },
        "authoredOn": spec.now,
        "dosageInstruction": [
            {
                "route": route,  # a string, as MedAgentBench's grader reads it
                "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit}, **rate}],
            }
        ],
        "status": "active",
        "intent": "order",
        "subject": _subject(spec),
    }


def _service(spec: TaskSpec, system: str, code: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "code": {"coding": [{"system": system, "code": code}]},
        "authoredOn": spec.now,
        "status": "active",
        "intent": "order",
        "priority": "stat",
        "subject": _subject(spec),
        **extra,
    }


def oracle_answer(spec: TaskSpec, truth: dict[str, Any]) -> list[Any]:
    t = spec.task_type
    if t == 1:
        return truth.get("sol") or [truth["mrn"] or "Patient not found"]
    if t in (3, 5, 8):
        return []
    value = truth.get("value")
    if t == 10:
        return [-1] if value is None else [value, truth["when"]]
    return [-1 if value is None else value]


def oracle_script(item: Item, base: str = BASE) -> list[str]:
    b = base.rstrip("/")
    spec = TaskSpec.from_dict(item.metadata["spec"])
    truth = item.target
    if spec.task_type == 1:
        *_, family = (spec.name or "").split()
        first = f"GET {b}/Patient?{urlencode({'family': family, 'birthdate': spec.dob})}"
    elif spec.lab_code:
        first = f"GET {b}/Observation?patient={spec.mrn}&code={spec.lab_code}&_sort=-date"
    else:
        first = f"GET {b}/Patient?identifier={spec.mrn}"
    posts = [f"POST {b}/{rtype}\n{json.dumps(p)}" for rtype, p in oracle_posts(spec, truth)]
    return [first, *posts, f"FINISH({json.dumps(oracle_answer(spec, truth))})"]


def _first_user(body: dict[str, Any]) -> str:
    if "prompt" in body:
        return str(body["prompt"])
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def _turn(body: dict[str, Any]) -> int:
    if "prompt" in body:
        return str(body["prompt"]).count("\nAGENT:") - 0
    return sum(1 for m in body["messages"] if m["role"] == "assistant")


def scripted(items: list[Item], script) -> Any:
    """A responder replaying ``script(item)`` (a list of replies) turn by turn."""
    by_question = {f"Question: {it.input}": script(it) for it in items}

    def respond(path: str, body: dict[str, Any]) -> str | dict[str, Any]:
        first = _first_user(body)
        for q, replies in by_question.items():
            if q in first:
                turn = _turn(body)
                return replies[min(turn, len(replies) - 1)]
        return "FINISH([])"

    return respond


def do_nothing(item: Item) -> list[str]:
    return ["FINISH([])"]


def as_tool_calls(replies: list[str]) -> list[dict[str, Any]]:
    """The same script as native tool-call responses (full chat.completion bodies)."""
    out = []
    for i, r in enumerate(replies):
        verb, _, rest = r.partition(" ")
        if verb == "GET":
            name, args = "fhir_get", {"url": rest}
        elif verb == "POST":
            url, _, payload = rest.partition("\n")
            name, args = "fhir_post", {"url": url, "payload": json.loads(payload)}
        else:
            name, args = "finish", {"answers": json.loads(r[len("FINISH(") : -1])}
        call = {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)},
        }
        out.append(
            {
                "id": f"chatcmpl-{i}",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                        "finish_reason": "tool_calls",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5},
            }
        )
    return out
