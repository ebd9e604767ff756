"""The FHIR R4 REST API over a ``Store``: search Bundles with paging, read, create, OperationOutcome errors.

Payloads are validated with ``fhir.resources`` (its R4B models: R4B changed no element the
sandbox serves). Like HAPI's lenient parser, a single object where FHIR wants a list (e.g.
MedAgentBench's ``"note": {"text": ...}``) is accepted as a one-element list, with a warning
in the response's OperationOutcome header; anything else invalid is a 4xx OperationOutcome.

A request header ``X-Medevals-Session`` scopes writes to one agent episode (see ``store``).
"""

# no ``from __future__ import annotations``: FastAPI must see the real ``Request`` class in the
# handlers' annotations, and fastapi is imported inside ``create_app`` to keep start-up light
import json
from typing import Any
from urllib.parse import urlencode

from medevals.fhir.store import CREATABLE, SEARCH_PARAMS, SearchError, Store, patient_of

SESSION_HEADER = "X-Medevals-Session"
FHIR_JSON = "application/fhir+json"
MAX_COUNT = 1000


def operation_outcome(severity: str, code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


def validate_resource(rtype: str, payload: Any) -> tuple[dict[str, Any] | None, str | None, list[str]]:
    """(resource, error, warnings): the payload checked against the FHIR model of ``rtype``."""
    import importlib

    from pydantic import ValidationError

    if not isinstance(payload, dict):
        return None, f"body must be a JSON object with resourceType '{rtype}'", []
    if payload.get("resourceType") != rtype:
        return None, f"resourceType is '{payload.get('resourceType')}' but the URL is /{rtype}", []
    model = getattr(importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}"), rtype)
    data = json.loads(json.dumps(payload))
    warnings: list[str] = []
    for _ in range(10):  # each round wraps one more single object into a list
        try:
            model.model_validate(data)
            return data, None, warnings
        except ValidationError as e:
            err = e.errors()[0]
            loc = [x for x in err["loc"]]
            if err["type"] == "list_type" and isinstance(err.get("input"), dict) and _wrap(data, loc):
                warnings.append(f"{'.'.join(map(str, loc))}: single object read as a list")
                continue
            where = ".".join(str(x) for x in loc) or rtype
            return None, f"{rtype}.{where}: {err['msg']}", warnings
    return None, f"{rtype}: too many structural errors", warnings


def _wrap(data: Any, loc: list[Any]) -> bool:
    node = data
    for key in loc[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return False
    last = loc[-1]
    if isinstance(node, dict) and isinstance(node.get(last), dict):
        node[last] = [node[last]]
        return True
    return False


def create_app(store: Store, *, default_count: int = 100):
    """A FastAPI app serving ``store`` under ``/fhir`` (and ``/`` for clients that omit it)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI(title="medevals FHIR sandbox", docs_url=None, redoc_url=None, openapi_url=None)

    def reply(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(body, status_code=status, media_type=FHIR_JSON, headers=headers)

    def error(status: int, code: str, text: str) -> JSONResponse:
        return reply(operation_outcome("error", code, text), status)

    def base_of(request: Request) -> str:
        root = str(request.base_url).rstrip("/")
        return root + ("/fhir" if request.url.path.startswith("/fhir") else "")

    async def metadata(request: Request) -> JSONResponse:
        return reply(
            {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "kind": "instance",
                "fhirVersion": "4.0.1",
                "format": ["json"],
                "rest": [
                    {
                        "mode": "server",
                        "resource": [
                            {
                                "type": t,
                                "interaction": [{"code": "read"}, {"code": "search-type"}]
                                + ([{"code": "create"}] if t in CREATABLE else []),
                                "searchParam": [{"name": p} for p in sorted(ps)],
                            }
                            for t, ps in SEARCH_PARAMS.items()
                        ],
                    }
                ],
            }
        )

    async def search(rtype: str, request: Request) -> JSONResponse:
        if rtype == "metadata":
            return await metadata(request)
        if rtype not in SEARCH_PARAMS:
            return error(404, "not-supported", f"resource type '{rtype}' is not supported by this server")
        params = list(request.query_params.multi_items())
        try:
            count = int(request.query_params.get("_count", default_count))
            offset = int(request.query_params.get("_offset", 0))
        except ValueError:
            return error(400, "invalid", "_count and _offset must be integers")
        if count < 0 or offset < 0:
            return error(400, "invalid", "_count and _offset must not be negative")
        count = min(count, MAX_COUNT)
        try:
            page = store.search(
                rtype, params, session=request.headers.get(SESSION_HEADER), count=count, offset=offset
            )
        except SearchError as e:
            return error(400, "invalid", str(e))
        base = base_of(request)
        kept = [(k, v) for k, v in params if k != "_offset"]

        def link(relation: str, off: int) -> dict[str, str]:
            return {
                "relation": relation,
                "url": f"{base}/{rtype}?{urlencode([*kept, ('_offset', str(off))])}",
            }

        links = [{"relation": "self", "url": str(request.url)}]
        if offset + count < page.total:
            links.append(link("next", offset + count))
        if offset > 0:
            links.append(link("previous", max(0, offset - count)))
        return reply(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": page.total,
                "link": links,
                "entry": [
                    {"fullUrl": f"{base}/{rtype}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                    for r in page.resources
                ],
            }
        )

    async def read(rtype: str, rid: str, request: Request) -> JSONResponse:
        if rtype not in SEARCH_PARAMS:
            return error(404, "not-supported", f"resource type '{rtype}' is not supported by this server")
        found = store.read(rtype, rid, request.headers.get(SESSION_HEADER))
        if found is None:
            return error(404, "not-found", f"{rtype}/{rid} is not known")
        return reply(found)

    async def create(rtype: str, request: Request) -> JSONResponse:
        if rtype not in CREATABLE:
            return error(
                405,
                "not-supported",
                f"create is not supported for '{rtype}' (only {', '.join(sorted(CREATABLE))})",
            )
        raw = await request.body()
        try:
            payload = json.loads(raw)
        except ValueError as e:
            return error(400, "structure", f"body is not JSON: {e}")
        resource, problem, warnings = validate_resource(rtype, payload)
        if problem is not None or resource is None:
            return error(
                422 if isinstance(payload, dict) else 400,
                "invariant" if isinstance(payload, dict) else "structure",
                problem or "invalid",
            )
        session = request.headers.get(SESSION_HEADER)
        pid = patient_of(resource)
        if pid is None:
            return error(422, "required", f"{rtype}.subject: a reference to the Patient is required")
        if store.read("Patient", pid, session) is None:
            return error(422, "not-found", f"{rtype}.subject: Patient/{pid} does not exist")
        stored = store.create(resource, session)
        headers = {"Location": f"{base_of(request)}/{rtype}/{stored['id']}"}
        if warnings:
            headers["X-Medevals-Warnings"] = "; ".join(warnings)
        return reply(stored, 201, headers)

    for prefix in ("/fhir", ""):
        app.add_api_route(prefix + "/{rtype}", search, methods=["GET"])
        app.add_api_route(prefix + "/{rtype}/{rid}", read, methods=["GET"])
        app.add_api_route(prefix + "/{rtype}", create, methods=["POST"])
    return app
