"""FHIR sandbox conformance: every supported interaction (search params, paging, read, create, errors)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from medevals.fhir.generator import LABS, NOW
from medevals.fhir.server import SESSION_HEADER, create_app
from medevals.fhir.store import Store
from medevals.fhir.world import build_store

TestClient = pytest.importorskip(
    "fastapi.testclient", reason="the 'fhir' extra is not installed (pip install -e '.[fhir]')"
).TestClient

BASE = "/fhir"


def _obs(oid: str, mrn: str, code: str, when: str, value: float) -> dict:
    lab = LABS[code]
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [{"coding": [{"code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": lab.loinc}], "text": code},
        "subject": {"reference": f"Patient/{mrn}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": lab.unit},
    }


PATIENTS = [
    {
        "resourceType": "Patient",
        "id": "S0000001",
        "identifier": [{"system": "urn:mrn", "value": "S0000001"}],
        "name": [{"family": "Stafford", "given": ["Peter"]}],
        "gender": "male",
        "birthDate": "1932-12-29",
    },
    {
        "resourceType": "Patient",
        "id": "S0000002",
        "identifier": [{"system": "urn:mrn", "value": "S0000002"}],
        "name": [{"family": "Staff", "given": ["Anna", "Maria"]}],
        "gender": "female",
        "birthDate": "1970-05-01",
    },
]
OBS = [
    _obs("o1", "S0000001", "MG", "2023-11-12T09:00:00+00:00", 1.8),
    _obs("o2", "S0000001", "MG", "2023-11-13T08:00:00+00:00", 1.2),
    _obs("o3", "S0000001", "K", "2023-11-13T07:00:00+00:00", 3.1),
    _obs("o4", "S0000001", "MG", "2023-11-10T12:00:00+00:00", 2.0),
    _obs("o5", "S0000002", "MG", "2023-11-13T09:30:00+00:00", 2.2),
]


@pytest.fixture
def client() -> TestClient:
    store = Store()
    store.load(PATIENTS + OBS)
    return TestClient(create_app(store, default_count=100))


def _ids(bundle: dict) -> list[str]:
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("name=peter", ["S0000001"]),
        ("name=Staff", ["S0000001", "S0000002"]),  # starts-with on any name part
        ("name:exact=Staff", ["S0000002"]),
        ("family=Stafford", ["S0000001"]),
        ("given=Maria", ["S0000002"]),
        ("given=Peter&family=Staff", ["S0000001"]),
        ("birthdate=1932-12-29", ["S0000001"]),
        ("birthdate=1932", ["S0000001"]),
        ("birthdate=ge1950-01-01", ["S0000002"]),
        ("birthdate=lt1950-01-01", ["S0000001"]),
        ("identifier=S0000002", ["S0000002"]),
        ("identifier=urn:mrn|S0000001", ["S0000001"]),
        ("identifier=urn:other|S0000001", []),
        ("gender=female", ["S0000002"]),
        ("family=Nobody", []),
    ],
)
def test_patient_search(client: TestClient, query: str, expected: list[str]) -> None:
    r = client.get(f"{BASE}/Patient?{query}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    assert _ids(bundle) == expected and bundle["total"] == len(expected)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("patient=S0000001&code=MG", ["o1", "o2", "o4"]),
        ("patient=Patient/S0000001&code=MG", ["o1", "o2", "o4"]),
        ("subject=Patient/S0000001&code=http://loinc.org|2601-3", ["o1", "o2", "o4"]),
        ("patient=S0000001&code=MG,K", ["o1", "o2", "o3", "o4"]),
        ("code=MG", ["o1", "o2", "o4", "o5"]),
        ("patient=S0000001&code=MG&date=ge2023-11-12T10:15:00+00:00", ["o2"]),
        ("patient=S0000001&code=MG&date=ge2023-11-11&date=le2023-11-12", ["o1"]),
        ("patient=S0000001&code=MG&date=2023-11-13", ["o2"]),
        ("patient=S0000001&code=MG&date=gt2023-11-12", ["o2"]),
        ("patient=S0000001&code=MG&date=lt2023-11-12", ["o4"]),
        ("patient=S0000001&code=MG&_sort=-date", ["o2", "o1", "o4"]),
        ("patient=S0000001&code=MG&_sort=date", ["o4", "o1", "o2"]),
        ("patient=S0000001&category=laboratory&code=K", ["o3"]),
        ("patient=S0000003&code=MG", []),
    ],
)
def test_observation_search(client: TestClient, query: str, expected: list[str]) -> None:
    r = client.get(f"{BASE}/Observation?{query}")
    assert r.status_code == 200, r.text
    assert _ids(r.json()) == expected


def test_paging_follows_next_links_without_gaps_or_repeats(client: TestClient) -> None:
    r = client.get(f"{BASE}/Observation?code=MG&_count=2&_sort=date")
    first = r.json()
    assert first["total"] == 4 and len(first["entry"]) == 2
    seen = _ids(first)
    links = {lk["relation"]: lk["url"] for lk in first["link"]}
    assert "previous" not in links
    nxt = urlsplit(links["next"])
    second = client.get(f"{nxt.path}?{nxt.query}").json()
    seen += _ids(second)
    links2 = {lk["relation"]: lk["url"] for lk in second["link"]}
    assert "next" not in links2 and "previous" in links2
    assert seen == ["o4", "o1", "o2", "o5"]


def test_read_and_not_found(client: TestClient) -> None:
    assert client.get(f"{BASE}/Patient/S0000001").json()["name"][0]["family"] == "Stafford"
    r = client.get(f"{BASE}/Patient/S9999999")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    r = client.get(f"{BASE}/Encounter?patient=S0000001")
    assert r.status_code == 404 and r.json()["issue"][0]["code"] == "not-supported"


BP = {
    "resourceType": "Observation",
    "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs"}]}],
    "code": {"text": "BP"},
    "effectiveDateTime": "2023-11-13T10:15:00+00:00",
    "status": "final",
    "valueString": "118/77 mmHg",
    "subject": {"reference": "Patient/S0000001"},
}


def test_create_is_stored_readable_and_scoped_to_its_session(client: TestClient) -> None:
    r = client.post(f"{BASE}/Observation", json=BP, headers={SESSION_HEADER: "ep1"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] and r.headers["location"].endswith(f"/Observation/{created['id']}")
    q = f"{BASE}/Observation?patient=S0000001&category=vital-signs"
    assert _ids(client.get(q, headers={SESSION_HEADER: "ep1"}).json()) == [created["id"]]
    assert _ids(client.get(q, headers={SESSION_HEADER: "ep2"}).json()) == []
    assert _ids(client.get(q).json()) == []
    assert (
        client.get(f"{BASE}/Observation/{created['id']}", headers={SESSION_HEADER: "ep1"}).status_code == 200
    )
    assert (
        client.get(f"{BASE}/Observation/{created['id']}", headers={SESSION_HEADER: "ep2"}).status_code == 404
    )


def test_create_medication_and_service_requests(client: TestClient) -> None:
    med = {
        "resourceType": "MedicationRequest",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0338-1715-40"}]
        },
        "authoredOn": "2023-11-13T10:15:00+00:00",
        "dosageInstruction": [
            {
                "route": {"text": "IV"},
                "doseAndRate": [
                    {"doseQuantity": {"value": 2, "unit": "g"}, "rateQuantity": {"value": 2, "unit": "h"}}
                ],
            }
        ],
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/S0000001"},
    }
    assert client.post(f"{BASE}/MedicationRequest", json=med).status_code == 201
    referral = {
        "resourceType": "ServiceRequest",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "306181000000106"}]},
        "authoredOn": "2023-11-13T10:15:00+00:00",
        "status": "active",
        "intent": "order",
        "priority": "stat",
        "subject": {"reference": "Patient/S0000001"},
        "note": {"text": "SBAR"},  # a single object where FHIR wants a list: accepted leniently
    }
    r = client.post(f"{BASE}/ServiceRequest", json=referral)
    assert r.status_code == 201, r.text
    assert r.json()["note"] == [{"text": "SBAR"}] and "note" in r.headers["x-medevals-warnings"]
    found = client.get(f"{BASE}/ServiceRequest?patient=S0000001&code=306181000000106").json()
    assert found["total"] == 1


@pytest.mark.parametrize(
    "path, body, status, needle",
    [
        ("Observation", "{not json", 400, "not JSON"),
        ("Observation", "[1, 2]", 400, "JSON object"),
        ("Observation", {**BP, "resourceType": "Patient"}, 422, "resourceType"),
        ("Observation", {k: v for k, v in BP.items() if k != "code"}, 422, "Observation.code"),
        ("Observation", {**BP, "effectiveDateTime": "yesterday"}, 422, "effectiveDateTime"),
        ("Observation", {**BP, "subject": {"reference": "Patient/S7777777"}}, 422, "does not exist"),
        ("Observation", {k: v for k, v in BP.items() if k != "subject"}, 422, "subject"),
        ("Patient", {"resourceType": "Patient"}, 405, "not supported"),
    ],
)
def test_invalid_payloads_get_operation_outcome(client: TestClient, path, body, status, needle) -> None:
    if isinstance(body, str):
        r = client.post(f"{BASE}/{path}", content=body, headers={"Content-Type": "application/fhir+json"})
    else:
        r = client.post(f"{BASE}/{path}", json=body)
    assert r.status_code == status, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"
    assert needle in outcome["issue"][0]["diagnostics"]
    assert client.get(f"{BASE}/Observation?patient=S0000001&category=vital-signs").json()["total"] == 0


@pytest.mark.parametrize(
    "query, needle",
    [
        ("Observation?foo=1", "unknown search parameter 'foo'"),
        ("Observation?patient=S0000001&date=yesterday", "not a FHIR date"),
        ("Observation?code=MG&_count=ten", "integers"),
        ("Observation?code=MG&_sort=value", "_sort"),
    ],
)
def test_bad_searches_are_400(client: TestClient, query: str, needle: str) -> None:
    r = client.get(f"{BASE}/{query}")
    assert r.status_code == 400 and needle in r.json()["issue"][0]["diagnostics"]


def test_metadata_and_root_paths(client: TestClient) -> None:
    cap = client.get(f"{BASE}/metadata").json()
    assert cap["resourceType"] == "CapabilityStatement" and cap["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in cap["rest"][0]["resource"]}
    assert {"code": "create"} in types["Observation"]["interaction"]
    assert {"code": "create"} not in types["Patient"]["interaction"]
    assert client.get("/Patient?identifier=S0000001").json()["total"] == 1  # base without /fhir


def test_synthetic_world_serves_vitals_conditions_meds() -> None:
    store = build_store(20, 3)
    c = TestClient(create_app(store))
    mrn = c.get(f"{BASE}/Patient?_count=1").json()["entry"][0]["resource"]["id"]
    vitals = c.get(f"{BASE}/Observation?patient={mrn}&category=vital-signs").json()
    assert vitals["total"] > 0
    assert all(e["resource"]["category"][0]["coding"][0]["code"] == "vital-signs" for e in vitals["entry"])
    day = NOW.date().isoformat()
    recent = c.get(f"{BASE}/Observation?patient={mrn}&date=le{day}T23:59:59+00:00").json()["total"]
    assert recent == c.get(f"{BASE}/Observation?patient={mrn}").json()["total"]  # nothing in the future
    for rtype in ("Condition", "MedicationRequest", "Procedure"):
        assert c.get(f"{BASE}/{rtype}?patient={mrn}").status_code == 200
