"""The EHR agent's action language: MedAgentBench's text protocol and the native tool equivalents.

Text protocol (MedAgentBench's action format, in our own prompt wording): one action per reply, ``GET url?params``, ``POST url`` then a
JSON payload, or ``FINISH([answer, ...])``. Native function calling offers the same three
actions as tools (``fhir_get``, ``fhir_post``, ``finish``). Either way a reply becomes an
``Action``; a reply that is none of them becomes an ``Action`` of kind ``malformed`` with the
reason, which the loop records and answers with an error message instead of failing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from medevals.scoring.json_extract import extract_json

PROMPT = """You help clinicians by calling the FHIR API of their electronic health record. Answer the question below by calling the functions listed, one call per reply.

Reply in exactly one of these three forms and nothing else:
GET url?param_name1=param_value1&param_name2=param_value2...
POST url
{{"resourceType": ..., the JSON payload}}
FINISH([answer1, answer2, ...])

Use FINISH only when every question is answered and every requested task is done; its argument must be a JSON list.

The functions (JSON; the api_base is {api_base}):
{functions}

Context: {context}
Question: {question}"""

TOOLS_PROMPT = """You are an expert in using FHIR functions to assist medical professionals. Use the tools fhir_get and fhir_post to read and write the patient record at {api_base}, one call at a time, and call finish with the list of answers when you have answered every question and done every requested task.

The FHIR API (use {api_base} as the api_base):
{functions}

Context: {context}
Question: {question}"""

GET_REPLY = (
    "Here is the response from the GET request:\n{data}. Please call FINISH if you have got answers for all "
    "the questions and finished all the requested tasks"
)
POST_OK = (
    "POST request accepted and executed successfully. Please call FINISH if you have got answers for all "
    "the questions and finished all the requested tasks"
)
UPSTREAM_INVALID_POST = "Invalid POST request"
"""MedAgentBench's answer to a POST whose body is not JSON (``rules=upstream``)."""
MALFORMED_REPLY = (
    "Invalid action ({error}). Reply with exactly one of: GET url?params, POST url followed by a JSON "
    "payload, or FINISH([answer1, ...])."
)

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "fhir_get",
            "description": "Send a FHIR GET request (a search or a read) and return the server's JSON.",
            "parameters": {
                "type": "object",
                "properties": {"url": {"type": "string", "description": "Full URL with query parameters."}},
                "required": ["url"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "fhir_post",
            "description": "Create a FHIR resource with a POST request.",
            "parameters": {
                "type": "object",
                "properties": {
                    "url": {"type": "string", "description": "{api_base}/ResourceType"},
                    "payload": {"type": "object", "description": "The FHIR resource as JSON."},
                },
                "required": ["url", "payload"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "finish",
            "description": "End the task, giving the answers to every question (an empty list if none is asked).",
            "parameters": {
                "type": "object",
                "properties": {"answers": {"type": "array", "items": {}}},
                "required": ["answers"],
            },
        },
    },
]

_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_VERB = re.compile(r"^\s*(GET|POST|FINISH)\b", re.M)


@dataclass
class Action:
    kind: str  # "get" | "post" | "finish" | "calculator" | "malformed"
    url: str = ""
    payload: Any = None
    answer: list[Any] | None = None
    error: str | None = None
    call_id: str | None = None  # the tool call this answers, in native mode
    verb: str | None = None  # for a malformed action: the verb it started with (a POST attempt counts)


def render_functions(functions: list[dict[str, Any]], api_base: str, compact: bool) -> str:
    """The function list with ``{api_base}`` filled in; compact keeps names and parameter names only."""
    base = api_base.rstrip("/")
    if not compact:
        return json.dumps(functions).replace("{api_base}", base)
    lines = []
    for f in functions:
        params = (f.get("parameters") or {}).get("properties") or {}
        desc = str(f.get("description", "")).split(".")[0]
        lines.append(f"{f['name'].replace('{api_base}', base)} ({', '.join(params)}): {desc}")
    return "\n".join(lines)


def _clean(text: str) -> str:
    text = _THINK.sub(" ", text or "")
    return text.replace("```tool_code", "").replace("```json", "").replace("```", "").strip()


def _finish(rest: str) -> Action:
    body = rest.strip()
    if body.startswith("(") and body.rstrip().endswith(")"):
        body = body.strip()[1:-1]
    try:
        value = json.loads(body)
    except ValueError:
        found = extract_json(body, want=list)
        if found.value is None:
            return Action("finish", answer=None, error=f"FINISH argument is not a JSON list ({found.error})")
        value = found.value
    if not isinstance(value, list):
        return Action("finish", answer=None, error=f"FINISH argument is {type(value).__name__}, not a list")
    return Action("finish", answer=value)


def parse_text(text: str) -> Action:
    """One action from a text-protocol reply (the first line that starts with GET, POST or FINISH)."""
    body = _clean(text)
    if not body:
        return Action("malformed", error="empty reply")
    m = _VERB.search(body)
    if m is None:
        return Action("malformed", error="no GET, POST or FINISH")
    rest = body[m.end() :]
    verb = m.group(1)
    if verb == "FINISH":
        return _finish(rest)
    first, _, tail = rest.partition("\n")
    url = first.strip()
    if not url:
        return Action("malformed", error=f"{verb} without a URL", verb=verb)
    if verb == "GET":
        return Action("get", url=url.split()[0])
    found = extract_json(tail, want=dict)
    if found.value is None:
        return Action(
            "malformed", url=url, error=f"POST without a JSON object payload ({found.error})", verb="POST"
        )
    return Action("post", url=url.split()[0], payload=found.value)


def parse_tool_call(call: dict[str, Any], calculators: frozenset[str] = frozenset()) -> Action:
    """One action from a native tool call; bad names or argument JSON become ``malformed``.

    ``calculators``: tool names of the clinical calculators offered beside the FHIR tools
    (``--tools calculators``); a call to one is a ``calculator`` action (name in ``url``)."""
    fn = call.get("function") or {}
    name = fn.get("name")
    cid = call.get("id")
    raw = fn.get("arguments")
    try:
        args = json.loads(raw) if isinstance(raw, str) else (raw or {})
    except ValueError as e:
        return Action("malformed", error=f"tool arguments are not JSON ({e})", call_id=cid)
    if not isinstance(args, dict):
        return Action("malformed", error="tool arguments are not an object", call_id=cid)
    if name == "fhir_get" and isinstance(args.get("url"), str):
        return Action("get", url=args["url"].strip(), call_id=cid)
    if name == "fhir_post" and isinstance(args.get("url"), str):
        payload = args.get("payload")
        if isinstance(payload, str):
            payload = extract_json(payload, want=dict).value
        if not isinstance(payload, dict):
            return Action(
                "malformed", url=args["url"], error="fhir_post payload is not a JSON object", call_id=cid
            )
        return Action("post", url=args["url"].strip(), payload=payload, call_id=cid)
    if name == "finish":
        answers = args.get("answers")
        if not isinstance(answers, list):
            return Action("finish", answer=None, error="finish answers is not a list", call_id=cid)
        return Action("finish", answer=answers, call_id=cid)
    if calculators and name in calculators:
        return Action("calculator", url=name, payload=args, call_id=cid)
    return Action("malformed", error=f"unknown tool or missing arguments: {name!r}", call_id=cid)


def parse_upstream(text: str) -> Action:
    """One action as MedAgentBench's own loop reads a reply (``rules=upstream``).

    The reply, stripped and without code fences, must START with ``GET``, ``POST`` or
    ``FINISH(``; anything else is ``malformed`` (the upstream loop then ends the episode).
    A POST whose following lines are not JSON keeps ``payload=None`` ("Invalid POST request").
    The FINISH argument is the text between ``FINISH(`` and the last character.
    """
    from medevals.fhir.grading import upstream_clean, upstream_kind, upstream_post_body

    r = upstream_clean(text)
    kind = upstream_kind(text)
    if kind == "get":
        return Action("get", url=r[3:].strip())
    if kind == "post":
        ok, payload = upstream_post_body(r)
        url = r.split("\n")[0][4:].strip()
        return Action("post", url=url, payload=payload, error=None if ok else "Invalid POST request")
    if kind == "finish":
        body = r[len("FINISH(") : -1]
        try:
            value = json.loads(body)
        except (ValueError, RecursionError) as e:
            return Action("finish", answer=None, error=f"FINISH argument is not JSON ({e})")
        return Action("finish", answer=value)
    return Action("malformed", error="the reply does not start with GET, POST or FINISH(")


def as_upstream_text(act: Action) -> str:
    """A native tool call written as the text action the upstream grader reads."""
    if act.kind == "get":
        return f"GET {act.url}"
    if act.kind == "post":
        return f"POST {act.url}\n{json.dumps(act.payload)}"
    if act.kind == "finish" and act.answer is not None:
        return f"FINISH({json.dumps(act.answer)})"
    return f"<{act.kind}: {act.error or act.url}>"


def agent_replies(raws: list[dict[str, Any] | None], calculators: frozenset[str] = frozenset()) -> list[str]:
    """The agent's replies as text, one per action: the text of a reply, or each tool call as its text action.

    Calculator tool calls are not FHIR actions and are left out. This is what the upstream
    grader reads (``fhir.grading.upstream_episode``), recomputed from the raw responses.
    """
    from medevals.models import openai_format

    out: list[str] = []
    for raw in raws:
        calls = openai_format.tool_calls(raw)
        if not calls:
            out.append(openai_format.text(raw))
            continue
        for call in calls:
            act = parse_tool_call(call, calculators)
            if act.kind != "calculator":
                out.append(as_upstream_text(act))
    return out
