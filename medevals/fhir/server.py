"""The FHIR R4 REST API over a ``Store``: search Bundles with paging, read, create, OperationOutcome errors.

Payloads are validated with ``fhir.resources`` (its R4B models: R4B changed no element the
sandbox serves) plus the required value sets it does not check (``valuesets``). Like HAPI's
lenient parser (MedAgentBench runs on HAPI), the forms MedAgentBench's grader accepts are
stored with a warning (``X-Medevals-Warnings``): a single object where FHIR wants a list, a
string where a CodeableConcept is wanted, a dateTime without seconds or zone, unknown
elements (dropped), a client id (replaced). Anything else invalid is a 4xx OperationOutcome.

Limits, each answered with an OperationOutcome: body 1 MiB (413), JSON nesting 32 levels and
5,000 values, finite numbers only (400), query string 4,096 characters (414) and 64
parameters, ids and the session header match FHIR's id type, 256 MiB of created resources per
server (507).

A request header ``X-Medevals-Session`` scopes writes to one agent episode (see ``store``).
"""

# no ``from __future__ import annotations``: FastAPI must see the real ``Request`` class in the
# handlers' annotations, and fastapi is imported inside ``create_app`` to keep start-up light
import json
import math
import re
import typing
from typing import Any
from urllib.parse import urlencode

from medevals.fhir.store import CREATABLE, SEARCH_PARAMS, SearchError, Store

SESSION_HEADER = "X-Medevals-Session"
FHIR_JSON = "application/fhir+json"
MAX_COUNT = 1000


MAX_BODY_BYTES = 1 << 20
"""Largest request body accepted (1 MiB; a MedAgentBench order is under 2 KB). A 100 MB
Observation once took the server to 17.6 GB: every later search parsed it again."""
MAX_DEPTH = 32
"""Deepest JSON nesting accepted in a body (FHIR resources of these types nest about 8 deep)."""
MAX_NODES = 5000
"""Most JSON values in one body (an order is about 50): 30,000 notes took 5 s of validation."""
MAX_WRITE_BYTES = 256 << 20
"""Total size of the resources created over a server's life (an in-memory store lives in RAM)."""
MAX_QUERY_CHARS = 4096
MAX_QUERY_PARAMS = 64
ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""A FHIR logical id (R4 ``id`` datatype); ids made only of dots are refused too (path segments)."""
_PATIENT_REF = re.compile(r"(?:https?://[^\s/?#]+(?:/[A-Za-z0-9_\-]+)*/)?Patient/([A-Za-z0-9\-.]{1,64})")
_LENIENT_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


def valid_id(text: str | None) -> bool:
    return text is not None and ID.fullmatch(text) is not None and text.strip(".") != ""


def operation_outcome(severity: str, code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


class BodyError(ValueError):
    """A request body the server refuses before validating it: (HTTP status, issue code, text)."""

    def __init__(self, status: int, code: str, text: str):
        super().__init__(text)
        self.status, self.code = status, code


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON number")


def parse_body(raw: bytes, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """JSON of a request body: finite numbers only, at most ``max_depth`` levels and ``max_nodes`` values."""
    try:
        value = json.loads(raw, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise BodyError(400, "structure", f"body nests deeper than {max_depth} levels") from None
    except ValueError as e:
        raise BodyError(400, "structure", f"body is not JSON: {e}") from None
    stack, nodes = [(value, 1)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise BodyError(400, "too-costly", f"body holds more than {max_nodes} JSON values")
        if isinstance(node, dict | list):
            if depth > max_depth:
                raise BodyError(400, "structure", f"body nests deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return value


def validate_resource(rtype: str, payload: Any) -> tuple[dict[str, Any] | None, str | None, list[str]]:
    """(resource, error, warnings): the payload checked against the FHIR model of ``rtype``.

    Lenient where HAPI FHIR (MedAgentBench's server) is, so every payload the public grader
    accepts is stored, each leniency named in ``warnings``: a single object where FHIR wants
    a list is wrapped (``"note": {"text": ...}``, the upstream function spec's form); a string
    where a CodeableConcept is wanted becomes its ``text`` (``"route": "IV"``, the form the
    grader checks); a dateTime without seconds or time zone gets ``:00`` and UTC; unknown
    elements are dropped. Required value sets (``valuesets``) are enforced.
    """
    import importlib

    from pydantic import ValidationError

    from medevals.fhir.valuesets import violations

    if not isinstance(payload, dict):
        return None, f"body must be a JSON object with resourceType '{rtype}'", []
    if payload.get("resourceType") != rtype:
        return None, f"resourceType is '{str(payload.get('resourceType'))[:100]}' but the URL is /{rtype}", []
    model = getattr(importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}"), rtype)
    data = json.loads(json.dumps(payload))
    warnings: list[str] = []
    if "id" in data:  # a create assigns the id; HAPI ignores a client's
        del data["id"]
        warnings.append("id: ignored (the server assigns it)")
    for _ in range(10):  # each round repairs every repairable error it sees
        try:
            resource = model.model_validate(data)
        except ValidationError as e:
            errors = e.errors()
            fixed = [w for err in errors if (w := _repair(model, data, err)) is not None]
            if fixed:
                warnings.extend(fixed)
                continue
            err = errors[0]
            where = ".".join(str(x) for x in err["loc"]) or rtype
            return None, f"{rtype}.{where}: {err['msg']}", warnings
        problems = violations(resource, rtype)
        if problems:
            return None, problems[0], warnings
        return data, None, warnings
    return None, f"{rtype}: too many structural errors", warnings


def _parent(data: Any, loc: list[Any]) -> Any:
    node = data
    for key in loc[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _element_type(model: Any, loc: list[Any]) -> Any:
    """The annotation of the element at ``loc`` in a fhir.resources model (None when unknown)."""
    cls, ann = model, None
    for key in loc:
        if isinstance(key, int):
            continue
        field = getattr(cls, "model_fields", {}).get(key) if cls is not None else None
        if field is None:
            return None
        ann = field.annotation
        cls = _model_class(ann)
    return ann


def _model_class(ann: Any) -> Any:
    if hasattr(ann, "get_model_klass"):
        return ann.get_model_klass()
    for arg in typing.get_args(ann):
        found = _model_class(arg)
        if found is not None:
            return found
    return None


def _is_datetime(ann: Any) -> bool:
    if any(type(m).__name__ in ("DateTime", "Instant") for m in getattr(ann, "__metadata__", ())):
        return True
    return any(_is_datetime(a) for a in typing.get_args(ann))


def _repair(model: Any, data: Any, err: dict[str, Any]) -> str | None:
    """Apply one HAPI-style leniency for a validation error; the warning, or None when not repairable."""
    loc = list(err["loc"])
    node = _parent(data, loc)
    if not loc or not isinstance(node, dict | list):
        return None
    last = loc[-1]
    where = ".".join(map(str, loc))
    try:
        current = node[last]
    except (KeyError, IndexError, TypeError):
        return None
    if err["type"] == "extra_forbidden" and isinstance(node, dict):
        del node[last]
        return f"{where}: unknown element dropped"
    if err["type"] == "list_type" and isinstance(current, dict):
        node[last] = [current]
        return f"{where}: single object read as a list"
    ann = _element_type(model, loc)
    if isinstance(current, str) and getattr(_model_class(ann), "__name__", "") == "CodeableConcept":
        node[last] = {"text": current}
        return f"{where}: string read as a CodeableConcept text"
    if isinstance(current, str) and _is_datetime(ann):
        m = _LENIENT_DATETIME.fullmatch(current.strip())
        if m:
            node[last] = m.group(1) + (m.group(2) or ":00") + (m.group(3) or "+00:00")
            return f"{where}: '{current}' read as {node[last]}"
    return None


def patient_reference(resource: dict[str, Any]) -> str | None:
    """The patient id a created resource points to, when ``subject.reference`` is a Patient reference."""
    subject = resource.get("subject")
    ref = subject.get("reference") if isinstance(subject, dict) else None
    m = _PATIENT_REF.fullmatch(ref) if isinstance(ref, str) else None
    return m.group(1) if m and valid_id(m.group(1)) else None


def _header_safe(text: str, limit: int = 1000) -> str:
    """Printable ASCII for a response header (warnings may quote element names from the payload)."""
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)[:limit]


def create_app(
    store: Store,
    *,
    default_count: int = 100,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_write_bytes: int = MAX_WRITE_BYTES,
):
    """A FastAPI app serving ``store`` under ``/fhir`` (and ``/`` for clients that omit it)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI(title="medevals FHIR sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    written = [0]  # bytes of resources created so far

    def reply(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(body, status_code=status, media_type=FHIR_JSON, headers=headers)

    def error(status: int, code: str, text: str) -> JSONResponse:
        return reply(operation_outcome("error", code, text), status)

    def base_of(request: Request) -> str:
        root = str(request.base_url).rstrip("/")
        return root + ("/fhir" if request.url.path.startswith("/fhir") else "")

    def session_of(request: Request) -> tuple[str | None, JSONResponse | None]:
        session = request.headers.get(SESSION_HEADER)
        if session is not None and not valid_id(session):
            return None, error(400, "invalid", f"{SESSION_HEADER} must be 1-64 characters of [A-Za-z0-9-.]")
        return session, None

    def query_problem(request: Request) -> JSONResponse | None:
        if len(request.url.query) > MAX_QUERY_CHARS:
            return error(414, "too-long", f"query string longer than {MAX_QUERY_CHARS} characters")
        if len(request.query_params.multi_items()) > MAX_QUERY_PARAMS:
            return error(400, "too-costly", f"more than {MAX_QUERY_PARAMS} query parameters")
        return None

    async def read_body(request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body_bytes):
            if not length.isdigit():
                raise BodyError(400, "structure", "Content-Length is not a number")
            raise BodyError(
                413, "too-long", f"body of {length} bytes is over the {max_body_bytes}-byte limit"
            )
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise BodyError(413, "too-long", f"body is over the {max_body_bytes}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)

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
        if (bad := query_problem(request)) is not None:
            return bad
        if rtype == "metadata":
            return await metadata(request)
        if rtype not in SEARCH_PARAMS:
            return error(
                404, "not-supported", f"resource type '{rtype[:100]}' is not supported by this server"
            )
        session, bad = session_of(request)
        if bad is not None:
            return bad
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
            page = store.search(rtype, params, session=session, count=count, offset=offset)
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
        if count > 0 and offset + count < page.total:  # _count=0 asks for the total only: no next page
            links.append(link("next", offset + count))
        if count > 0 and offset > 0:
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
        if (bad := query_problem(request)) is not None:
            return bad
        if rtype not in SEARCH_PARAMS:
            return error(
                404, "not-supported", f"resource type '{rtype[:100]}' is not supported by this server"
            )
        if not valid_id(rid):
            return error(400, "invalid", "a resource id is 1-64 characters of [A-Za-z0-9-.]")
        session, bad = session_of(request)
        if bad is not None:
            return bad
        found = store.read(rtype, rid, session)
        if found is None:
            return error(404, "not-found", f"{rtype}/{rid} is not known")
        return reply(found)

    async def create(rtype: str, request: Request) -> JSONResponse:
        if rtype not in CREATABLE:
            return error(
                405,
                "not-supported",
                f"create is not supported for '{rtype[:100]}' (only {', '.join(sorted(CREATABLE))})",
            )
        session, bad = session_of(request)
        if bad is not None:
            return bad
        try:
            payload = parse_body(await read_body(request))
        except BodyError as e:
            return error(e.status, e.code, str(e))
        resource, problem, warnings = validate_resource(rtype, payload)
        if problem is not None or resource is None:
            return error(
                422 if isinstance(payload, dict) else 400,
                "invariant" if isinstance(payload, dict) else "structure",
                problem or "invalid",
            )
        pid = patient_reference(resource)
        if pid is None:
            return error(422, "required", f"{rtype}.subject: a reference 'Patient/<id>' is required")
        if store.read("Patient", pid, session) is None:
            return error(422, "not-found", f"{rtype}.subject: Patient/{pid} does not exist")
        size = len(json.dumps(resource))
        if written[0] + size > max_write_bytes:
            return error(507, "too-costly", f"the server holds {max_write_bytes} bytes of created resources")
        written[0] += size
        stored = store.create(resource, session)
        headers = {"Location": f"{base_of(request)}/{rtype}/{stored['id']}"}
        if warnings:
            headers["X-Medevals-Warnings"] = _header_safe("; ".join(warnings))
        return reply(stored, 201, headers)

    for prefix in ("/fhir", ""):
        app.add_api_route(prefix + "/{rtype}", search, methods=["GET"])
        app.add_api_route(prefix + "/{rtype}/{rid}", read, methods=["GET"])
        app.add_api_route(prefix + "/{rtype}", create, methods=["POST"])
    return app
