"""Reading agent replies: MedAgentBench text actions and native tool calls, malformed ones included."""

from __future__ import annotations

import json

import pytest

from medevals.agents.ehr_actions import parse_text, parse_tool_call, render_functions


@pytest.mark.parametrize(
    "reply, kind, url",
    [
        ("GET http://h/fhir/Patient?name=Ann", "get", "http://h/fhir/Patient?name=Ann"),
        ("```\nGET http://h/fhir/Patient?name=Ann\n```", "get", "http://h/fhir/Patient?name=Ann"),
        (
            "<think>which one?</think>GET http://h/fhir/Observation?code=MG",
            "get",
            "http://h/fhir/Observation?code=MG",
        ),
        (
            "I should search.\nGET http://h/fhir/Patient?x=1 trailing words",
            "get",
            "http://h/fhir/Patient?x=1",
        ),
    ],
)
def test_get(reply: str, kind: str, url: str) -> None:
    a = parse_text(reply)
    assert (a.kind, a.url) == (kind, url)


def test_post_reads_the_json_payload_after_the_url() -> None:
    a = parse_text('POST http://h/fhir/Observation\n{"resourceType": "Observation", "note": "a {brace}"}')
    assert a.kind == "post" and a.url == "http://h/fhir/Observation"
    assert a.payload == {"resourceType": "Observation", "note": "a {brace}"}
    a = parse_text('```json\nPOST http://h/fhir/ServiceRequest\n{"resourceType": "ServiceRequest"}\n```')
    assert a.kind == "post" and a.payload == {"resourceType": "ServiceRequest"}


@pytest.mark.parametrize(
    "reply, answer",
    [
        ('FINISH(["S6534835"])', ["S6534835"]),
        ("FINISH([])", []),
        ('FINISH([6.1, "2021-03-02T08:00:00+00:00"])', [6.1, "2021-03-02T08:00:00+00:00"]),
        ("FINISH([-1])", [-1]),
        ('Done.\nFINISH(["Patient not found"])', ["Patient not found"]),
    ],
)
def test_finish(reply: str, answer: list) -> None:
    a = parse_text(reply)
    assert a.kind == "finish" and a.answer == answer and a.error is None


@pytest.mark.parametrize(
    "reply, kind, needle",
    [
        ("", "malformed", "empty"),
        ("The patient's magnesium is 1.2", "malformed", "no GET"),
        ("GET", "malformed", "without a URL"),
        ('The answer: FINISH(["S1"])', "malformed", "no GET"),  # an action starts its line
        ("POST http://h/fhir/Observation\nresourceType=Observation", "malformed", "JSON object"),
        ("POST http://h/fhir/Observation\n[1, 2]", "malformed", "JSON object"),
        ("FINISH(72)", "finish", "not a list"),
        ("FINISH(the patient is 72)", "finish", "not a JSON list"),
    ],
)
def test_malformed_replies_say_why(reply: str, kind: str, needle: str) -> None:
    a = parse_text(reply)
    assert a.kind == kind and needle in (a.error or "")
    if kind == "finish":
        assert a.answer is None


def _call(name: str, arguments) -> dict:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": "c1", "type": "function", "function": {"name": name, "arguments": args}}


def test_tool_calls() -> None:
    assert parse_tool_call(_call("fhir_get", {"url": "http://h/fhir/Patient"})).url == "http://h/fhir/Patient"
    a = parse_tool_call(_call("fhir_post", {"url": "u", "payload": '{"resourceType": "Observation"}'}))
    assert a.kind == "post" and a.payload == {"resourceType": "Observation"} and a.call_id == "c1"
    assert parse_tool_call(_call("finish", {"answers": [1]})).answer == [1]
    assert parse_tool_call(_call("finish", {"answers": 1})).error == "finish answers is not a list"
    assert "not JSON" in parse_tool_call(_call("fhir_get", "{url: x")).error
    assert parse_tool_call(_call("delete_patient", {})).kind == "malformed"
    assert parse_tool_call(_call("fhir_post", {"url": "u", "payload": "nope"})).kind == "malformed"


def test_function_list_fills_api_base() -> None:
    funcs = [
        {
            "name": "GET {api_base}/Patient",
            "description": "Patient.Search. More.",
            "parameters": {"properties": {"name": {}, "birthdate": {}}},
        }
    ]
    full = render_functions(funcs, "http://h/fhir/", compact=False)
    assert "http://h/fhir/Patient" in full and "{api_base}" not in full
    assert render_functions(funcs, "http://h/fhir/", compact=True) == (
        "GET http://h/fhir/Patient (name, birthdate): Patient"
    )
