"""MedAgentBench conformance: (task, the agent's replies, FHIR state) -> pass/fail as the public grader decides.

The reference is MedAgentBench's ``src/server/tasks/medagentbench/refsol.py`` with the loop in
``src/server/tasks/medagentbench/__init__.py`` (THUDM/AgentBench pull request 184 @ c51de9a, by
the benchmark's authors; the same grading logic in rushilcs/MedAgentBench@d1f3b86). Each row was
written by hand from reading those rules (never from medevals' code), with the case it pins.

Every row runs the real ``ehr-agent`` protocol (``solve`` then ``score``, as ``ehr-agent:original``
does) with a scripted agent against a real HTTP sandbox that holds the row's FHIR state: its own
patient (a fresh MRN per row) and observations. Rows marked ``defect`` were scored the other way
before the fix. A second test POSTs every payload of every passing row to the sandbox: it must
accept each one the grader accepts.
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from extras_skip import needs

from medevals.benchmarks import base, registry
from medevals.protocols.base import SolveContext
from medevals.protocols.ehr_agent import EHRAgentProtocol
from medevals.schema import CallRecord, Item

pytestmark = needs("fhir")

NOW = "2023-11-13T10:15:00+00:00"
B = "@BASE@"  # the FHIR base the agent is told (the sandbox's URL), filled in per run
M = "@MRN@"  # the row's own patient
REFERRAL = (
    "Situation: acute left knee injury, Background: radiology report indicates ACL tear. Assessment: ACL tear "
    "grade II. Recommendation: request for Orthopedic service to evaluate and provide management recommendations."
)


def _set(payload: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy with ``changes`` applied; keys are dotted paths (list indices as numbers)."""
    out = copy.deepcopy(payload)
    for path, value in changes.items():
        keys = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = out
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return out


def bp(**changes: Any) -> dict[str, Any]:
    return _set(
        {
            "resourceType": "Observation",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/observation-category",
                            "code": "vital-signs",
                            "display": "Vital Signs",
                        }
                    ]
                }
            ],
            "code": {"text": "BP"},
            "effectiveDateTime": NOW,
            "status": "final",
            "valueString": "118/77 mmHg",
            "subject": {"reference": f"Patient/{M}"},
        },
        changes,
    )


def med(
    ndc: str, route: Any, dose: float, unit: str, rate: float | None = None, **changes: Any
) -> dict[str, Any]:
    dr: dict[str, Any] = {"doseQuantity": {"value": dose, "unit": unit}}
    if rate is not None:
        dr["rateQuantity"] = {"value": rate, "unit": "h"}
    return _set(
        {
            "resourceType": "MedicationRequest",
            "medicationCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": ndc}]},
            "authoredOn": NOW,
            "dosageInstruction": [{"route": route, "doseAndRate": [dr]}],
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/{M}"},
        },
        changes,
    )


def mg(route: Any = "IV", dose: float = 2, rate: float = 2, **changes: Any) -> dict[str, Any]:
    return med("0338-1715-40", route, dose, "g", rate, **changes)


def potassium(dose: float = 40, route: Any = "oral", **changes: Any) -> dict[str, Any]:
    return med("40032-917-01", route, dose, "mEq", **changes)


def service(system: str, code: str, **changes: Any) -> dict[str, Any]:
    return _set(
        {
            "resourceType": "ServiceRequest",
            "code": {"coding": [{"system": system, "code": code}]},
            "authoredOn": NOW,
            "status": "active",
            "intent": "order",
            "priority": "stat",
            "subject": {"reference": f"Patient/{M}"},
        },
        changes,
    )


def referral(**changes: Any) -> dict[str, Any]:
    return service("http://snomed.info/sct", "306181000000106", **{"note": {"text": REFERRAL}, **changes})


def recheck(**changes: Any) -> dict[str, Any]:
    return service(
        "http://loinc.org", "2823-3", **{"occurrenceDateTime": "2023-11-14T08:00:00+00:00", **changes}
    )


def a1c_order(**changes: Any) -> dict[str, Any]:
    return service("http://loinc.org", "4548-4", **changes)


def post(rtype: str, payload: dict[str, Any]) -> str:
    return f"POST {B}{rtype}\n{json.dumps(payload)}"


def get(query: str) -> str:
    return f"GET {B}{query}"


def lab(code: str, when: str, value: float) -> tuple[str, str, float]:
    return (code, when, value)


@dataclass
class Row:
    case: str
    task: int
    replies: list[str]
    passes: bool
    labs: list[tuple[str, str, float]] = field(default_factory=list)
    birth: str = "1950-01-01"
    why: str = ""  # for a failing row: a phrase the grader's explanation must contain
    defect: bool = False  # scored the other way before the fix (issue 14)


MG_LOW = [lab("MG", "2023-11-13T07:00:00+00:00", 1.2)]
K_LOW = [lab("K", "2023-11-13T06:00:00+00:00", 3.1)]
A1C_RECENT = [lab("A1C", "2023-05-02T08:00:00+00:00", 6.1)]
A1C_STALE = [lab("A1C", "2021-03-02T08:00:00+00:00", 5.9)]

ROWS = [
    # ---- task 1: MRN lookup (answers from the task file: task1_1 is S6534835)
    Row("lookup: the MRN as a JSON list", 1, [get("Patient?name=Peter"), 'FINISH(["S6534835"])'], True),
    Row("lookup: a bare MRN is not JSON", 1, ["FINISH(S6534835)"], False, why="answer"),
    Row(
        "lookup: any reply with POST fails a read-only task, even one refused as not JSON",
        1,
        [f"POST {B}Observation\n{{oops", 'FINISH(["S6534835"])'],
        False,
        why="POST was made",
        defect=True,
    ),
    # ---- task 2: age, whole years on 2023-11-13
    Row("age: whole years, birthday tomorrow", 2, ["FINISH([76])"], True, birth="1946-11-14"),
    Row("age: one year too many", 2, ["FINISH([77])"], False, birth="1946-11-14", why="answer"),
    Row("age: 76.0 == 76 as Python compares JSON numbers", 2, ["FINISH([76.0])"], True, birth="1946-11-14"),
    Row(
        "age: an integer age, not a string",
        2,
        ['FINISH(["76"])'],
        False,
        birth="1946-11-14",
        why="answer",
        defect=True,
    ),
    # ---- task 3: record a blood pressure (the answer is not read)
    Row("BP: the payload the grader expects", 3, [post("Observation", bp()), "FINISH([])"], True),
    Row(
        "BP: full category coding (system, code AND display)",
        3,
        [
            post(
                "Observation",
                bp(
                    **{
                        "category.0.coding.0": {
                            "system": "http://hl7.org/fhir/observation-category",
                            "code": "vital-signs",
                        }
                    }
                ),
            ),
            "FINISH([])",
        ],
        False,
        why="category coding",
        defect=True,
    ),
    Row(
        "BP: exact effectiveDateTime string (Z is not +00:00)",
        3,
        [post("Observation", bp(effectiveDateTime="2023-11-13T10:15:00Z")), "FINISH([])"],
        False,
        why="effectiveDateTime",
        defect=True,
    ),
    Row(
        "BP: code must be exactly {text: BP}",
        3,
        [
            post(
                "Observation",
                bp(code={"text": "BP", "coding": [{"system": "http://loinc.org", "code": "85354-9"}]}),
            ),
            "FINISH([])",
        ],
        False,
        why="code",
        defect=True,
    ),
    Row(
        "BP: subject must be exactly {reference: Patient/MRN}",
        3,
        [post("Observation", bp(subject={"reference": f"Patient/{M}", "display": "x"})), "FINISH([])"],
        False,
        why="subject",
        defect=True,
    ),
    Row(
        "BP: the answer is not read, even when it is not JSON",
        3,
        [post("Observation", bp()), "FINISH(done)"],
        True,
        defect=True,
    ),
    Row(
        "BP: two accepted POSTs",
        3,
        [post("Observation", bp()), post("Observation", bp()), "FINISH([])"],
        False,
        why="2 accepted",
    ),
    Row(
        "BP: the POST URL must be exactly {api_base}Observation",
        3,
        [f"POST {B}Observation?_format=json\n{json.dumps(bp())}", "FINISH([])"],
        False,
        why="POST URL",
        defect=True,
    ),
    Row(
        "BP: a POST in a code fence is accepted by the loop but not re-read by the grader",
        3,
        [f"```\n{post('Observation', bp())}\n```", "FINISH([])"],
        False,
        why="0 accepted",
        defect=True,
    ),
    Row(
        "BP: no FINISH, no result",
        3,
        [post("Observation", bp())] + [get(f"Patient?identifier={M}")] * 7,
        False,
        why="no result",
    ),
    # ---- task 4: latest magnesium within 24 h
    *[
        Row(case, 4, replies, ok, labs=labs, why=why, defect=defect)
        for case, replies, ok, labs, why, defect in [
            (
                "Mg: the latest within 24 h",
                [get(f"Observation?patient={M}&code=MG"), "FINISH([1.8])"],
                True,
                [
                    lab("MG", "2023-11-12T09:00:00+00:00", 2.5),
                    lab("MG", "2023-11-13T08:00:00+00:00", 1.8),
                    lab("MG", "2023-11-13T06:00:00+00:00", 1.5),
                ],
                "",
                False,
            ),
            (
                "Mg: a number, not a string",
                ['FINISH(["1.8"])'],
                False,
                [lab("MG", "2023-11-13T08:00:00+00:00", 1.8)],
                "answer",
                True,
            ),
            (
                "Mg: -1 when nothing is within 24 h",
                ["FINISH([-1])"],
                True,
                [lab("MG", "2023-11-12T10:14:00+00:00", 1.8)],
                "",
                False,
            ),
            (
                "Mg: the 24-hour window has no upper bound (a later-dated result counts)",
                ["FINISH([2.4])"],
                True,
                [lab("MG", "2023-11-13T08:00:00+00:00", 1.8), lab("MG", "2023-11-13T12:00:00+00:00", 2.4)],
                "",
                True,
            ),
            (
                "Mg: on equal instants the first result in the server's order wins",
                ["FINISH([1.8])"],
                True,
                [lab("MG", "2023-11-13T08:00:00+00:00", 1.8), lab("MG", "2023-11-13T08:00:00+00:00", 2.0)],
                "",
                True,
            ),
            (
                "Mg: a reply that does not start with an action ends the episode",
                [f"Let me check.\n{get(f'Observation?patient={M}&code=MG')}", "FINISH([1.8])"],
                False,
                [lab("MG", "2023-11-13T08:00:00+00:00", 1.8)],
                "invalid-action",
                True,
            ),
            (
                "Mg: text after FINISH(...) is part of the argument",
                ["FINISH([1.8]) done"],
                False,
                [lab("MG", "2023-11-13T08:00:00+00:00", 1.8)],
                "answer",
                True,
            ),
            (
                "Mg: code fences around FINISH are removed",
                ["```\nFINISH([1.8])\n```"],
                True,
                [lab("MG", "2023-11-13T08:00:00+00:00", 1.8)],
                "",
                False,
            ),
            (
                "Mg: a POST fails a read-only task",
                [post("MedicationRequest", mg()), "FINISH([1.8])"],
                False,
                [lab("MG", "2023-11-13T08:00:00+00:00", 1.8)],
                "POST was made",
                True,
            ),
        ]
    ],
    # ---- task 5: magnesium replacement
    Row(
        "Mg order: no Mg in 24 h: the answer is ignored",
        5,
        ['FINISH(["not measured"])'],
        True,
        labs=[lab("MG", "2023-11-10T08:00:00+00:00", 1.2)],
        defect=True,
    ),
    Row(
        "Mg order: no Mg in 24 h: any POST fails",
        5,
        [post("MedicationRequest", mg()), "FINISH([])"],
        False,
        labs=[lab("MG", "2023-11-10T08:00:00+00:00", 1.2)],
        why="POST was made",
        defect=True,
    ),
    Row(
        "Mg order: route as the string IV, 2 g over 2 h",
        5,
        [post("MedicationRequest", mg()), "FINISH([1.2])"],
        True,
        labs=MG_LOW,
        defect=True,
    ),
    Row(
        "Mg order: FINISH([]) after the order",
        5,
        [post("MedicationRequest", mg()), "FINISH([])"],
        True,
        labs=MG_LOW,
        defect=True,
    ),
    Row(
        "Mg order: severe (< 1): 4 g over 4 h",
        5,
        [post("MedicationRequest", mg(dose=4, rate=4)), "FINISH([0.8])"],
        True,
        labs=[lab("MG", "2023-11-13T07:00:00+00:00", 0.8)],
        defect=True,
    ),
    Row(
        "Mg order: route as a CodeableConcept {text: IV} is not the string IV",
        5,
        [post("MedicationRequest", mg(route={"text": "IV"})), "FINISH([1.2])"],
        False,
        labs=MG_LOW,
        why="route",
        defect=True,
    ),
    Row(
        "Mg order: doseQuantity is exactly {value, unit} (a system fails)",
        5,
        [
            post(
                "MedicationRequest",
                mg(**{"dosageInstruction.0.doseAndRate.0.doseQuantity.system": "http://unitsofmeasure.org"}),
            ),
            "FINISH([1.2])",
        ],
        False,
        labs=MG_LOW,
        why="doseQuantity",
    ),
    Row(
        "Mg order: authoredOn only has to contain 2023-11-13T10:15",
        5,
        [post("MedicationRequest", mg(authoredOn="2023-11-13T10:15")), "FINISH([1.2])"],
        True,
        labs=MG_LOW,
        defect=True,
    ),
    Row(
        "Mg order: the wrong dose tier",
        5,
        [post("MedicationRequest", mg(dose=1, rate=1)), "FINISH([1.2])"],
        False,
        labs=MG_LOW,
        why="doseQuantity",
    ),
    Row(
        "Mg order: the answer is the value or []",
        5,
        [post("MedicationRequest", mg()), "FINISH([1.5])"],
        False,
        labs=MG_LOW,
        why="answer",
    ),
    Row(
        "Mg order: no order needed without a POST",
        5,
        ["FINISH([2.1])"],
        True,
        labs=[lab("MG", "2023-11-13T07:00:00+00:00", 2.1)],
    ),
    Row(
        "Mg order: not low: any POST fails",
        5,
        [post("MedicationRequest", mg(dose=1, rate=1)), "FINISH([2.1])"],
        False,
        labs=[lab("MG", "2023-11-13T07:00:00+00:00", 2.1)],
        why="POST was made",
        defect=True,
    ),
    # ---- task 6: 24 h glucose mean
    *[
        Row(
            case,
            6,
            [reply],
            ok,
            labs=[
                lab("GLU", "2023-11-13T01:00:00+00:00", 100),
                lab("GLU", "2023-11-12T12:00:00+00:00", 151),
                lab("GLU", "2023-11-11T12:00:00+00:00", 300),
            ],
            why=why,
            defect=defect,
        )
        for case, reply, ok, why, defect in [
            ("glucose mean: within 0.1", "FINISH([125.55])", True, "", False),
            ("glucose mean: 0.11 off", "FINISH([125.61])", False, "answer", False),
            (
                "glucose mean: a number, not a string with a unit",
                'FINISH(["125.5 mg/dL"])',
                False,
                "answer",
                True,
            ),
        ]
    ],
    # ---- task 7: latest glucose, no time window
    Row(
        "glucose: the latest ever",
        7,
        ["FINISH([90])"],
        True,
        labs=[lab("GLU", "2021-01-01T00:00:00+00:00", 90), lab("GLU", "2019-01-01T00:00:00+00:00", 80)],
    ),
    Row("glucose: -1 when there is none", 7, ["FINISH([-1])"], True),
    # ---- task 8: orthopedic referral
    Row(
        "referral: note as an object holding the text",
        8,
        [post("ServiceRequest", referral()), "FINISH([])"],
        True,
    ),
    Row(
        "referral: note as a FHIR list (the grader reads note['text'])",
        8,
        [post("ServiceRequest", referral(note=[{"text": REFERRAL}])), "FINISH([])"],
        False,
        why="note text",
        defect=True,
    ),
    Row(
        "referral: authoredOn is the exact string",
        8,
        [post("ServiceRequest", referral(authoredOn="2023-11-13T10:15:00Z")), "FINISH([])"],
        False,
        why="authoredOn",
        defect=True,
    ),
    Row(
        "referral: priority stat",
        8,
        [post("ServiceRequest", referral(priority="routine")), "FINISH([])"],
        False,
        why="priority",
    ),
    # ---- task 9: potassium replacement + next-morning recheck
    Row(
        "K: the medication order, then the recheck lab order",
        9,
        [post("MedicationRequest", potassium()), post("ServiceRequest", recheck()), "FINISH([3.1])"],
        True,
        labs=K_LOW,
        defect=True,
    ),
    Row(
        "K: the lab order before the medication order",
        9,
        [
            post("ServiceRequest", recheck()),
            post("MedicationRequest", potassium(route={"text": "oral"})),
            "FINISH([3.1])",
        ],
        False,
        labs=K_LOW,
        why="POST URL",
        defect=True,
    ),
    Row(
        "K: route ' Oral ' after lower/strip, dose within 0.1 mEq, FINISH([])",
        9,
        [
            post("MedicationRequest", potassium(dose=40.05, route=" Oral ")),
            post("ServiceRequest", recheck()),
            "FINISH([])",
        ],
        True,
        labs=K_LOW,
        defect=True,
    ),
    Row(
        "K: the recheck at 09:00",
        9,
        [
            post("MedicationRequest", potassium()),
            post("ServiceRequest", recheck(occurrenceDateTime="2023-11-14T09:00:00+00:00")),
            "FINISH([3.1])",
        ],
        False,
        labs=K_LOW,
        why="occurrenceDateTime",
    ),
    Row("K: not low: no POST", 9, ["FINISH([3.9])"], True, labs=[lab("K", "2023-11-13T06:00:00+00:00", 3.9)]),
    Row("K: none recorded: -1", 9, ["FINISH([-1])"], True),
    # ---- task 10: HbA1c
    Row("HbA1c: task 10 accepts []", 10, ["FINISH([])"], True, labs=A1C_RECENT, defect=True),
    Row(
        "HbA1c: the value and the instant as recorded",
        10,
        ['FINISH([6.1, "2023-05-02T08:00:00+00:00"])'],
        True,
        labs=A1C_RECENT,
    ),
    Row(
        "HbA1c: a date is not the recorded instant",
        10,
        ['FINISH([6.1, "2023-05-02"])'],
        False,
        labs=A1C_RECENT,
        why="answer",
        defect=True,
    ),
    Row(
        "HbA1c: recent: any POST fails",
        10,
        [post("ServiceRequest", a1c_order()), "FINISH([])"],
        False,
        labs=A1C_RECENT,
        why="POST was made",
    ),
    Row(
        "HbA1c: more than a year old: order it",
        10,
        [post("ServiceRequest", a1c_order()), 'FINISH([5.9, "2021-03-02T08:00:00+00:00"])'],
        True,
        labs=A1C_STALE,
    ),
    Row(
        "HbA1c: more than a year old: no order",
        10,
        ['FINISH([5.9, "2021-03-02T08:00:00+00:00"])'],
        False,
        labs=A1C_STALE,
        why="0 accepted",
    ),
    Row(
        "HbA1c: none: order it and answer [-1]",
        10,
        [post("ServiceRequest", a1c_order()), "FINISH([-1])"],
        True,
    ),
]


def _mrn(i: int) -> str:
    return f"S97{i:05d}"


def _state() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, row in enumerate(ROWS):
        mrn = _mrn(i)
        out.append(
            {
                "resourceType": "Patient",
                "id": mrn,
                "identifier": [{"system": "urn:mrn", "value": mrn}],
                "name": [{"family": f"Row{i}", "given": ["Conformance"]}],
                "birthDate": row.birth,
            }
        )
        for j, (code, when, value) in enumerate(row.labs):
            out.append(
                {
                    "resourceType": "Observation",
                    "id": f"{mrn}-{j}",
                    "status": "final",
                    "code": {"text": code},
                    "subject": {"reference": f"Patient/{mrn}"},
                    "effectiveDateTime": when,
                    "valueQuantity": {"value": value, "unit": "x"},
                }
            )
    return out


@pytest.fixture(scope="module")
def fhir():
    from medevals.fhir.serve import ThreadedServer
    from medevals.fhir.server import create_app
    from medevals.fhir.store import Store

    store = Store()
    store.load(_state())
    server = ThreadedServer(create_app(store)).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def templates() -> dict[int, Item]:
    """The first original task of each type (``ehr-agent:original`` items, as the loader makes them)."""
    from conftest import data_dir

    data_dir()  # skips without the MedAgentBench task file
    out: dict[int, Item] = {}
    for it in base.load(registry.get("ehr-agent"), split="original").items:
        out.setdefault(int(it.metadata["spec"]["task_type"]), it)
    return out


def _item(templates: dict[int, Item], row: Row, mrn: str) -> Item:
    tpl = templates[row.task]
    if row.task == 1:
        return tpl
    spec = dict(tpl.metadata["spec"])
    old = spec["mrn"]
    spec["mrn"] = mrn
    return tpl.model_copy(
        update={
            "id": f"conformance-{mrn}",
            "input": tpl.input.replace(old, mrn),
            "metadata": {**tpl.metadata, "spec": spec},
        }
    )


class ScriptedContext(SolveContext):
    """A chat model that replies the row's script, one reply per call (then empty replies)."""

    def __init__(self, replies: list[str], unit_id: str, item: Item):
        super().__init__(unit_id=unit_id, item=item, repeat=0, variant="default", seed=0, clients={})
        self.replies = list(replies)

    def is_base_model(self, role: str = "candidate") -> bool:
        return False

    async def generate(
        self, request, *, role: str = "candidate", sample_index: int | None = None
    ) -> CallRecord:
        text = self.replies.pop(0) if self.replies else ""
        raw = {
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ]
        }
        rec = CallRecord(model="scripted", kind="chat", request=request.body, raw=raw)
        self.calls.append(rec)
        return rec


def _fill(text: str, base_url: str, mrn: str) -> str:
    return text.replace(B, base_url).replace(M, mrn)


def _run(row: Row, i: int, fhir: str, templates: dict[int, Item]):
    mrn = _mrn(i)
    item = _item(templates, row, mrn)
    protocol = EHRAgentProtocol(EHRAgentProtocol.parse_options({"fhir_base_url": fhir}, "conformance"))
    ctx = ScriptedContext(
        [_fill(r, fhir, mrn) for r in row.replies], f"ehr-agent:original/{item.id}/default/r0", item
    )

    async def go():
        out = await protocol.solve(item, ctx)
        for env in protocol._envs.values():
            await env.client.aclose()
        return out

    output = asyncio.run(go())
    return protocol.score(item, output, ctx.calls)


@pytest.mark.parametrize("i", range(len(ROWS)), ids=[r.case for r in ROWS])
def test_verdict_equals_the_public_graders(i: int, fhir: str, templates: dict[int, Item]) -> None:
    row = ROWS[i]
    score = _run(row, i, fhir, templates)
    assert score.value == float(row.passes), f"{row.case}: {score.explanation}"
    if not row.passes and row.why:
        assert row.why in (score.explanation or ""), score.explanation


def test_every_listed_case_is_pinned() -> None:
    """The cases issue 14 names, each with at least one row."""
    cases = " | ".join(r.case for r in ROWS)
    for phrase in (
        "route as the string IV",
        "task 10 accepts []",
        "no Mg in 24 h: the answer is ignored",
        "any reply with POST fails a read-only task",
        "the medication order, then the recheck lab order",
        "full category coding",
        "exact effectiveDateTime",
        "an integer age",
    ):
        assert phrase in cases, phrase
    assert sum(r.passes for r in ROWS) >= 15 and sum(not r.passes for r in ROWS) >= 15


@pytest.mark.parametrize(
    "i",
    [i for i, r in enumerate(ROWS) if r.passes and any(x.startswith("POST") for x in r.replies)],
    ids=lambda i: ROWS[i].case,
)
def test_the_sandbox_accepts_every_payload_the_grader_accepts(i: int, fhir: str) -> None:
    import httpx

    row = ROWS[i]
    for reply in row.replies:
        if not reply.startswith("POST"):
            continue
        url, _, body = _fill(reply, fhir, _mrn(i)).partition("\n")
        r = httpx.post(
            url[len("POST ") :],
            content=body,
            headers={"Content-Type": "application/fhir+json", "X-Medevals-Session": f"conformance{i}"},
        )
        assert r.status_code == 201, f"{row.case}: {r.status_code} {r.text[:300]}"
