"""FHIR sandbox under attack: oversized and over-nested bodies, bad codes, hostile ids and queries.

Each case answers with a FHIR OperationOutcome and leaves the record as it was. The payloads
MedAgentBench's grader accepts are stored (``tests/conformance/test_medagentbench_conformance.py``
POSTs every one of them); here the leniencies that make that possible are pinned one by one.
"""

from __future__ import annotations

import json

import pytest

from medevals.fhir.server import SESSION_HEADER, create_app
from medevals.fhir.store import Store

TestClient = pytest.importorskip(
    "fastapi.testclient", reason="the 'fhir' extra is not installed (pip install -e '.[fhir]')"
).TestClient

MRN = "S0000001"
PATIENT = {"resourceType": "Patient", "id": MRN, "identifier": [{"value": MRN}], "birthDate": "1950-01-01"}
BP = {
    "resourceType": "Observation",
    "code": {"text": "BP"},
    "status": "final",
    "effectiveDateTime": "2023-11-13T10:15:00+00:00",
    "valueString": "118/77 mmHg",
    "subject": {"reference": f"Patient/{MRN}"},
}
MED = {
    "resourceType": "MedicationRequest",
    "medicationCodeableConcept": {
        "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0338-1715-40"}]
    },
    "authoredOn": "2023-11-13T10:15:00+00:00",
    "dosageInstruction": [
        {
            "route": "IV",
            "doseAndRate": [
                {"doseQuantity": {"value": 2, "unit": "g"}, "rateQuantity": {"value": 2, "unit": "h"}}
            ],
        }
    ],
    "status": "active",
    "intent": "order",
    "subject": {"reference": f"Patient/{MRN}"},
}
SR = {
    "resourceType": "ServiceRequest",
    "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
    "authoredOn": "2023-11-13T10:15:00+00:00",
    "status": "active",
    "intent": "order",
    "priority": "stat",
    "subject": {"reference": f"Patient/{MRN}"},
}


@pytest.fixture
def client() -> TestClient:
    store = Store()
    store.load([PATIENT])
    return TestClient(create_app(store))


def _stored(client: TestClient, rtype: str = "Observation") -> int:
    return client.get(f"/fhir/{rtype}?patient={MRN}").json()["total"]


def _outcome(r, status: int, needle: str) -> None:
    assert r.status_code == status, r.text[:300]
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["severity"] == "error"
    assert needle in body["issue"][0]["diagnostics"], body


def test_an_oversized_body_is_413_and_not_stored(client: TestClient) -> None:
    big = json.dumps({**BP, "valueString": "x" * (2 << 20)})  # a 2 MB Observation
    _outcome(client.post("/fhir/Observation", content=big), 413, "limit")

    def chunks():  # no Content-Length: the limit holds while streaming
        yield big[: 1 << 20].encode()
        yield big[1 << 20 :].encode()

    _outcome(client.post("/fhir/Observation", content=chunks()), 413, "limit")
    assert _stored(client) == 0


def test_a_real_server_refuses_a_large_body_and_keeps_answering() -> None:
    import httpx

    from medevals.fhir.serve import ThreadedServer

    store = Store()
    store.load([PATIENT])
    server = ThreadedServer(create_app(store)).start()
    try:
        r = httpx.post(f"{server.url}Observation", content=json.dumps({**BP, "valueString": "x" * (8 << 20)}))
        _outcome(r, 413, "limit")
        assert httpx.get(f"{server.url}Patient?identifier={MRN}").json()["total"] == 1
    finally:
        server.stop()


@pytest.mark.parametrize(
    "nested",
    [
        '{"url": "u", "extension": [' * 40 + "]}" * 40,  # past the limit
        "[" * 200_000 + "]" * 200_000,  # past Python's recursion limit (was a 500)
    ],
    ids=["40 levels", "200,000 levels"],
)
def test_deep_nesting_is_refused(client: TestClient, nested: str) -> None:
    body = json.dumps(BP)[:-1] + f', "extension": [{nested}]}}'
    _outcome(client.post("/fhir/Observation", content=body), 400, "deeper than")
    assert _stored(client) == 0


def test_too_many_values_and_non_finite_numbers_are_refused(client: TestClient) -> None:
    _outcome(
        client.post("/fhir/Observation", json={**BP, "note": [{"text": "a"}] * 6000}), 400, "JSON values"
    )
    for literal in ("NaN", "Infinity", "1e999"):
        body = json.dumps({**BP, "valueString": None})[:-1] + f', "valueQuantity": {{"value": {literal}}}}}'
        _outcome(client.post("/fhir/Observation", content=body), 400, "not JSON")
    assert _stored(client) == 0


@pytest.mark.parametrize(
    "rtype, payload, element",
    [
        ("Observation", {**BP, "status": "bogus"}, "Observation.status"),
        ("Observation", {**BP, "status": "FINAL"}, "Observation.status"),
        ("MedicationRequest", {**MED, "status": "ordered"}, "MedicationRequest.status"),
        ("MedicationRequest", {**MED, "intent": "prescription"}, "MedicationRequest.intent"),
        ("MedicationRequest", {**MED, "priority": "whenever"}, "MedicationRequest.priority"),
        ("ServiceRequest", {**SR, "status": "ordered"}, "ServiceRequest.status"),
        ("ServiceRequest", {**SR, "intent": "request"}, "ServiceRequest.intent"),
        ("ServiceRequest", {**SR, "priority": "now"}, "ServiceRequest.priority"),
        (
            "Observation",
            {**BP, "valueString": None, "valueQuantity": {"value": 1, "comparator": "~"}},
            "valueQuantity.comparator",
        ),
        (
            "MedicationRequest",
            {
                **MED,
                "dosageInstruction": [
                    {"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "hour"}}}
                ],
            },
            "periodUnit",
        ),
    ],
)
def test_required_value_sets_are_enforced(
    client: TestClient, rtype: str, payload: dict, element: str
) -> None:
    payload = {k: v for k, v in payload.items() if v is not None}
    _outcome(client.post(f"/fhir/{rtype}", json=payload), 422, element)
    assert "value set" in client.post(f"/fhir/{rtype}", json=payload).json()["issue"][0]["diagnostics"]
    assert _stored(client, rtype) == 0


@pytest.mark.parametrize("rid", ["...", "a b", "x" * 65, "a%00b", "S1;drop"])
def test_invalid_ids_in_paths_are_400(client: TestClient, rid: str) -> None:
    _outcome(client.get(f"/fhir/Patient/{rid}"), 400, "id")


@pytest.mark.parametrize("session", ["ehr-agent/task3_1/default/r0", "../../etc", "x" * 65, "a b", ""])
def test_invalid_session_headers_are_400(client: TestClient, session: str) -> None:
    _outcome(
        client.post("/fhir/Observation", json=BP, headers={SESSION_HEADER: session}), 400, SESSION_HEADER
    )
    _outcome(
        client.get(f"/fhir/Observation?patient={MRN}", headers={SESSION_HEADER: session}), 400, SESSION_HEADER
    )
    assert _stored(client) == 0


def test_created_ids_are_fhir_ids_readable_at_their_location(client: TestClient) -> None:
    r = client.post("/fhir/Observation", json={**BP, "id": "../../x"}, headers={SESSION_HEADER: "ep-1.a"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert rid != "../../x" and "/" not in rid and len(rid) <= 64
    location = r.headers["location"]
    assert location.endswith(f"/fhir/Observation/{rid}")
    assert client.get(location, headers={SESSION_HEADER: "ep-1.a"}).json()["id"] == rid


@pytest.mark.parametrize(
    "reference", ["Patient/../Patient/S0000001", "Patient/S0000001/_history/1", "S0000001", "Patient/..."]
)
def test_subject_must_be_a_patient_reference(client: TestClient, reference: str) -> None:
    _outcome(
        client.post("/fhir/Observation", json={**BP, "subject": {"reference": reference}}), 422, "subject"
    )


def test_huge_query_strings_and_too_many_parameters(client: TestClient) -> None:
    _outcome(client.get("/fhir/Patient?name=" + "a" * 5000), 414, "query string")
    _outcome(client.get("/fhir/Patient?" + "&".join(f"name=a{i}" for i in range(100))), 400, "parameters")


@pytest.mark.parametrize("query", ["_count=-1", "_offset=-5", "_count=abc"])
def test_bad_paging_values_are_400(client: TestClient, query: str) -> None:
    assert client.get(f"/fhir/Patient?{query}").status_code == 400


def test_count_zero_gives_the_total_and_no_next_link(client: TestClient) -> None:
    bundle = client.get("/fhir/Patient?_count=0").json()
    assert bundle["total"] == 1 and not bundle.get("entry")
    assert [lk["relation"] for lk in bundle["link"]] == ["self"]  # a next link here was an endless loop


def test_created_bytes_are_capped() -> None:
    store = Store()
    store.load([PATIENT])
    client = TestClient(create_app(store, max_write_bytes=2000))
    assert client.post("/fhir/Observation", json=BP).status_code == 201
    _outcome(client.post("/fhir/Observation", json={**BP, "valueString": "x" * 2000}), 507, "bytes")


def test_grader_forms_are_stored_with_warnings(client: TestClient) -> None:
    r = client.post(
        "/fhir/MedicationRequest", json={**MED, "authoredOn": "2023-11-13T10:15", "dosageNote": 1}
    )
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["dosageInstruction"][0]["route"] == {"text": "IV"}
    assert stored["authoredOn"] == "2023-11-13T10:15:00+00:00" and "dosageNote" not in stored
    warnings = r.headers["x-medevals-warnings"]
    assert "CodeableConcept" in warnings and "authoredOn" in warnings and "unknown element" in warnings
    # a hostile element name cannot break the response headers
    r = client.post("/fhir/Observation", json={**BP, "bad\r\nX-Evil: 1": 1, "\u2603": 2})
    assert r.status_code == 201 and "x-evil" not in r.headers
