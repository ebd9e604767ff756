"""Grading an EHR-agent episode: the final answer AND the POSTs, by MedAgentBench's public grader.

The rules are those of ``src/server/tasks/medagentbench/refsol.py`` (read at
THUDM/AgentBench, pull request 184, commit c51de9a by the MedAgentBench authors; the same
grading logic is in the fork rushilcs/MedAgentBench@d1f3b86), written here from reading it:

- A task is graded only when the agent called ``FINISH(...)``; the answer is
  ``json.loads`` of the text between ``FINISH(`` and the reply's last character, compared
  with Python ``==`` to the reference list (so ``[2]`` equals ``[2.0]`` but not ``["2"]``).
- "No POST" (tasks 1, 2, 4, 6, 7, and 5/9/10 when no order is due) means no agent reply
  contains the text ``POST`` at all, accepted or not.
- The POSTs that count are the *accepted* ones (their body parsed as JSON); order tasks need
  exactly 1 (exactly 2 for potassium: the MedicationRequest first, then the ServiceRequest),
  each at the exact URL ``{api_base}{ResourceType}``, with the fields checked by equality:
  the full vital-signs category coding, ``code == {"text": "BP"}``, the exact
  ``effectiveDateTime``/``authoredOn`` strings (a substring for medication ``authoredOn`` and
  the potassium recheck's ``2023-11-14T08:``), ``route`` as the string ``"IV"`` (``"oral"``
  after lower/strip), dose and rate as exactly ``{"value": v, "unit": u}``, the referral text
  inside ``note["text"]``, ``subject == {"reference": "Patient/<MRN>"}``.
- Tasks 3 and 8 do not read the answer; task 5 with no magnesium in the last 24 hours
  passes on "no POST" alone; tasks 5, 9 and 10 also accept ``FINISH([])``.

``rules="sandbox"`` (the synthetic ``ehr-agent``) differs in the ways the README's table lists:
an accepted POST is one the sandbox stored (201), "no POST" counts POST actions rather than
the text, the answer is read by the lenient action parser, and ``route``/``note`` may also
take their FHIR forms. Every other check is shared.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from medevals.fhir.tasks import NOT_FOUND, TaskSpec, mg_dose

NDC = "http://hl7.org/fhir/sid/ndc"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
VITAL_SIGNS = {
    "system": "http://hl7.org/fhir/observation-category",
    "code": "vital-signs",
    "display": "Vital Signs",
}
ACCEPTED = "POST request accepted"
"""What the upstream loop answers to a POST whose body is JSON (the grader looks for this text)."""

Rules = Literal["upstream", "sandbox"]


class _Unreadable:
    """The answer of a FINISH whose argument is not JSON: equal to nothing."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE: Any = _Unreadable()


@dataclass
class Episode:
    """What the grader reads from an episode."""

    finished: bool
    """``FINISH(`` was called (upstream: the episode has a result)."""
    answer: Any
    """The decoded FINISH argument, or ``UNREADABLE``."""
    posts: list[tuple[str, Any]]
    """The accepted POSTs, in order: (URL as written, payload)."""
    any_post: bool
    """Whether the agent attempted any POST (upstream: any reply containing the text ``POST``)."""
    end: str = "finished"
    """How the episode ended: finished, invalid-action, round-limit."""


@dataclass
class Grade:
    success: bool
    answer_ok: bool
    writes_ok: bool
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- the upstream loop


def upstream_clean(reply: str) -> str:
    """The reply as the upstream loop reads it: stripped, code fences (```tool_code, ```) removed."""
    return reply.strip().replace("```tool_code", "").replace("```", "").strip()


def _json(text: str) -> tuple[bool, Any]:
    """(parsed, value) of ``json.loads(text)``; any failure (also too deep a nesting) is not parsed."""
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def upstream_post_body(cleaned: str) -> tuple[bool, Any]:
    """(accepted, payload): the upstream loop accepts a POST whose lines after the first are JSON."""
    return _json("\n".join(cleaned.split("\n")[1:]))


def upstream_kind(reply: str) -> str:
    """get, post, finish or invalid, as the upstream loop classifies a reply."""
    r = upstream_clean(reply)
    if r.startswith("GET"):
        return "get"
    if r.startswith("POST"):
        return "post"
    if r.startswith("FINISH("):
        return "finish"
    return "invalid"


def upstream_episode(replies: list[str], max_rounds: int = 8) -> Episode:
    """Replay the upstream loop over the agent's replies and read them as its grader does.

    The loop ends at the first FINISH (result = the text between ``FINISH(`` and the last
    character), at the first reply that is not GET/POST/FINISH (no result: failed), or after
    ``max_rounds`` replies (no result). The grader then looks at every agent reply: any
    containing ``POST`` is a POST; a POST whose loop answer was "accepted" is re-read from
    the raw reply (URL = first line minus its first 4 characters; payload = JSON of the rest;
    a reply that does not re-read, e.g. inside a code fence, is skipped).
    """
    history: list[tuple[str, bool]] = []  # (raw reply, loop said "accepted")
    result: str | None = None
    end = "round-limit"
    for reply in replies[:max_rounds]:
        kind = upstream_kind(reply)
        r = upstream_clean(reply)
        history.append((reply, kind == "post" and upstream_post_body(r)[0]))
        if kind == "finish":
            result, end = r[len("FINISH(") : -1], "finished"
            break
        if kind == "invalid":
            end = "invalid-action"
            break
    posts: list[tuple[str, Any]] = []
    for raw, accepted in history:
        if "POST" in raw and accepted:
            ok, payload = _json("\n".join(raw.split("\n")[1:]))
            if ok:
                posts.append((raw.split("\n")[0][4:].strip(), payload))
    answer: Any = UNREADABLE
    if result is not None:
        ok, value = _json(result)
        answer = value if ok else UNREADABLE
    return Episode(
        finished=result is not None,
        answer=answer,
        posts=posts,
        any_post=any("POST" in raw for raw in replies[: len(history)]),
        end=end,
    )


# --------------------------------------------------------------------------- checks


def _first_failure(checks: list[tuple[str, Callable[[], bool]]]) -> str | None:
    """The name of the first check that is false or raises (the grader's asserts, in order)."""
    for name, check in checks:
        try:
            if not check():
                return name
        except Exception:  # a missing key or a wrong shape fails the assert it is in
            return name
    return None


def _route_is(p: dict[str, Any], want: str, lenient: bool) -> bool:
    route = p["dosageInstruction"][0]["route"]
    if lenient and isinstance(route, dict):
        route = route["text"]
    return route == want if want == "IV" else route.lower().strip() == want


def _note_has(p: dict[str, Any], text: str, lenient: bool) -> bool:
    note = p["note"]
    if lenient and isinstance(note, list):
        return any(text in n["text"] for n in note)
    return text in note["text"]


def _common(spec: TaskSpec, p: Any, rtype: str) -> list[tuple[str, Callable[[], bool]]]:
    return [("resourceType", lambda: p["resourceType"] == rtype)]


def _subject(spec: TaskSpec, p: Any) -> tuple[str, Callable[[], bool]]:
    return ("subject", lambda: p["subject"] == {"reference": f"Patient/{spec.mrn}"})


def _order(p: Any, priority: bool) -> list[tuple[str, Callable[[], bool]]]:
    out: list[tuple[str, Callable[[], bool]]] = [
        ("status", lambda: p["status"] == "active"),
        ("intent", lambda: p["intent"] == "order"),
    ]
    if priority:
        out.append(("priority", lambda: p["priority"] == "stat"))
    return out


def _bp_checks(spec: TaskSpec, p: Any) -> list[tuple[str, Callable[[], bool]]]:
    return [
        *_common(spec, p, "Observation"),
        ("category", lambda: len(p["category"]) == 1),
        ("category.coding", lambda: len(p["category"][0]["coding"]) == 1),
        ("category coding", lambda: p["category"][0]["coding"][0] == VITAL_SIGNS),
        ("code", lambda: p["code"] == {"text": "BP"}),
        ("effectiveDateTime", lambda: p["effectiveDateTime"] == spec.now),
        ("status", lambda: p["status"] == "final"),
        ("valueString", lambda: p["valueString"] == spec.value_to_record),
        _subject(spec, p),
    ]


def _med_checks(
    spec: TaskSpec, p: Any, lenient: bool, *, route: str, dose: float, unit: str, rate: float | None
) -> list[tuple[str, Callable[[], bool]]]:
    def dose_ok() -> bool:
        dq = p["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
        if rate is None:  # potassium: within 0.1 mEq, unit exact
            return abs(dq["value"] - dose) <= 0.1 and dq["unit"] == unit
        return dq == {"value": dose, "unit": unit}

    checks: list[tuple[str, Callable[[], bool]]] = [
        *_common(spec, p, "MedicationRequest"),
        ("medication system", lambda: p["medicationCodeableConcept"]["coding"][0]["system"] == NDC),
        ("medication code", lambda: p["medicationCodeableConcept"]["coding"][0]["code"] == spec.ndc),
        ("authoredOn", lambda: spec.now[:16] in p["authoredOn"]),
        ("route", lambda: _route_is(p, route, lenient)),
        ("doseQuantity", dose_ok),
    ]
    if rate is not None:
        checks.append(
            (
                "rateQuantity",
                lambda: (
                    p["dosageInstruction"][0]["doseAndRate"][0]["rateQuantity"]
                    == {"value": rate, "unit": "h"}
                ),
            )
        )
    return [*checks, *_order(p, priority=False), _subject(spec, p)]


def _service_checks(
    spec: TaskSpec, p: Any, system: str, code: str | None
) -> list[tuple[str, Callable[[], bool]]]:
    return [
        *_common(spec, p, "ServiceRequest"),
        ("code system", lambda: p["code"]["coding"][0]["system"] == system),
        ("code", lambda: p["code"]["coding"][0]["code"] == code),
        ("authoredOn", lambda: p["authoredOn"] == spec.now),
        *_order(p, priority=True),
    ]


def next_morning(now: str) -> str:
    """``YYYY-MM-DDT08:`` of the day after ``now`` (the potassium recheck's time prefix)."""
    from datetime import datetime

    return f"{(datetime.fromisoformat(now) + timedelta(days=1)).date().isoformat()}T08:"


# --------------------------------------------------------------------------- the decision


class _Verdict:
    """Accumulates the grader's decision: the first failing step decides, as in the reference."""

    def __init__(self) -> None:
        self.writes_ok = True
        self.answer_ok = True
        self.problems: list[str] = []

    def write_problem(self, text: str) -> None:
        self.writes_ok = False
        self.problems.append(text)

    def answer_problem(self, text: str) -> None:
        self.answer_ok = False
        self.problems.append(text)


def _no_post(ep: Episode, v: _Verdict, why: str) -> None:
    if ep.any_post:
        v.write_problem(f"a POST was made ({why})")


def _posts(ep: Episode, v: _Verdict, spec: TaskSpec, api_base: str, expected: list[tuple[str, Any]]) -> None:
    """``expected``: (resource type, checks factory) per POST, in the order they must come."""
    if len(ep.posts) != len(expected):
        v.write_problem(f"{len(ep.posts)} accepted POST(s), expected {len(expected)}")
        return
    for (url, payload), (rtype, make_checks) in zip(ep.posts, expected, strict=True):
        if url != f"{api_base}{rtype}":
            v.write_problem(f"POST URL {url!r}, expected {api_base}{rtype}")
            return
        failed = _first_failure(make_checks(payload))
        if failed is not None:
            v.write_problem(f"{rtype}: {failed} is wrong or missing")
            return


def _answer(ep: Episode, v: _Verdict, refs: list[Any]) -> None:
    if not any(_equal(r, ep.answer) for r in refs):
        v.answer_problem(f"answer {ep.answer!r}, expected {' or '.join(repr(r) for r in refs)}")


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _within(answer: Any, ref: float, tol: float) -> bool:
    try:
        return bool(len(answer) == 1 and abs(answer[0] - ref) < tol)
    except Exception:
        return False


def grade(
    spec: TaskSpec, truth: dict[str, Any], ep: Episode, *, api_base: str, rules: Rules = "upstream"
) -> Grade:
    """The verdict on one episode; ``api_base`` ends with ``/`` (POST URLs must be exactly under it)."""
    v = _Verdict()
    lenient = rules == "sandbox"
    t = spec.task_type
    if "error" in truth:
        v.answer_problem(f"the grader cannot read the record: {truth['error']}")
        return Grade(False, False, False, v.problems)
    value = truth.get("value")
    if t == 1:
        _no_post(ep, v, "read-only task")
        _answer(ep, v, [truth.get("sol") or [truth.get("mrn") or NOT_FOUND]])
    elif t in (2, 4, 7):
        _no_post(ep, v, "read-only task")
        _answer(ep, v, [[value if value is not None else -1]])
    elif t == 6:
        _no_post(ep, v, "read-only task")
        ref = value if value is not None else -1
        if not _within(ep.answer, ref, 0.1):
            v.answer_problem(f"answer {ep.answer!r}, expected [{ref}] within 0.1")
    elif t == 3:
        _posts(ep, v, spec, api_base, [("Observation", lambda p: _bp_checks(spec, p))])
    elif t == 8:

        def referral(p: Any) -> list[tuple[str, Callable[[], bool]]]:
            return [
                *_service_checks(spec, p, SNOMED, spec.snomed),
                ("note text", lambda: _note_has(p, spec.note_text or "", lenient)),
                _subject(spec, p),
            ]

        _posts(ep, v, spec, api_base, [("ServiceRequest", referral)])
    elif t == 5:
        if value is None:  # nothing measured in 24 h: nothing may be ordered; the answer is not read
            _no_post(ep, v, "no magnesium in the last 24 hours")
        else:
            if not truth.get("order"):
                _no_post(ep, v, f"magnesium {value} is not low")
            else:
                grams, hours = mg_dose(float(value))
                _posts(
                    ep,
                    v,
                    spec,
                    api_base,
                    [
                        (
                            "MedicationRequest",
                            lambda p: _med_checks(
                                spec, p, lenient, route="IV", dose=grams, unit="g", rate=hours
                            ),
                        )
                    ],
                )
            if v.writes_ok:
                _answer(ep, v, [[value], []])
    elif t == 9:
        if not truth.get("order"):
            _no_post(ep, v, "potassium missing or not low")
        else:
            dose = (3.5 - value) / 0.1 * 10  # unrounded, as the reference computes it

            def recheck(p: Any) -> list[tuple[str, Callable[[], bool]]]:
                return [
                    *_service_checks(spec, p, LOINC, spec.loinc),
                    _subject(spec, p),
                    ("occurrenceDateTime", lambda: next_morning(spec.now) in p["occurrenceDateTime"]),
                ]

            _posts(
                ep,
                v,
                spec,
                api_base,
                [
                    (
                        "MedicationRequest",
                        lambda p: _med_checks(
                            spec, p, lenient, route="oral", dose=dose, unit="mEq", rate=None
                        ),
                    ),
                    ("ServiceRequest", recheck),
                ],
            )
        if v.writes_ok:
            _answer(ep, v, [[value if value is not None else -1], []])
    elif t == 10:
        ref = [-1] if value is None else [value, truth.get("when")]
        if truth.get("order"):
            _posts(
                ep,
                v,
                spec,
                api_base,
                [
                    (
                        "ServiceRequest",
                        lambda p: [*_service_checks(spec, p, LOINC, spec.loinc), _subject(spec, p)],
                    )
                ],
            )
        else:
            _no_post(ep, v, "the last HbA1c is less than a year old")
        if v.writes_ok:
            _answer(ep, v, [ref, []])
    if not ep.finished:
        v.problems.insert(0, f"no result: the episode ended with {ep.end}")
    return Grade(
        success=ep.finished and v.writes_ok and v.answer_ok,
        answer_ok=ep.finished and v.answer_ok,
        writes_ok=v.writes_ok,
        problems=v.problems,
    )
