"""SQLite storage and search for the FHIR sandbox.

One table holds every resource as JSON plus the columns searches narrow on (type, patient,
instant). Finer matching (codes, names, identifiers, date prefixes) runs in Python over the
narrowed rows: a sandbox holds a few hundred patients, so clarity beats SQL cleverness.

Writes can be tagged with a *session*: a session sees the shared data plus its own writes
and nobody else's, so concurrent agent episodes never read each other's orders.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from medevals.fhir import dates

SEARCH_PARAMS: dict[str, frozenset[str]] = {
    "Patient": frozenset(
        {
            "_id",
            "name",
            "family",
            "given",
            "birthdate",
            "identifier",
            "gender",
            "legal-sex",
            "telecom",
            "address",
            "address-city",
            "address-state",
            "address-postalcode",
        }
    ),
    "Observation": frozenset({"_id", "patient", "subject", "code", "category", "date", "status"}),
    "MedicationRequest": frozenset(
        {"_id", "patient", "subject", "code", "category", "date", "status", "intent"}
    ),
    "ServiceRequest": frozenset({"_id", "patient", "subject", "code", "category", "authored", "status"}),
    "Condition": frozenset({"_id", "patient", "subject", "code", "category", "clinical-status"}),
    "Procedure": frozenset({"_id", "patient", "subject", "code", "date", "status"}),
}
"""Search parameters each resource type supports (besides _count, _sort, _offset, _format)."""

CREATABLE = frozenset({"Observation", "MedicationRequest", "ServiceRequest"})
"""Resource types agents may create (what MedAgentBench's tasks write)."""

_DATE_PATHS = {
    "Observation": ("effectiveDateTime", "issued"),
    "MedicationRequest": ("authoredOn",),
    "ServiceRequest": ("authoredOn",),
    "Condition": ("onsetDateTime", "recordedDate"),
    "Procedure": ("performedDateTime",),
}


class SearchError(ValueError):
    """A search the server rejects (unknown parameter, bad value): becomes a 400 OperationOutcome."""


@dataclass
class Page:
    total: int
    resources: list[dict[str, Any]]


def patient_of(resource: dict[str, Any]) -> str | None:
    """The patient id a resource belongs to (``subject``/``patient`` reference), or its own id for Patient."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id")
    for key in ("subject", "patient"):
        ref = resource.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"].rsplit("/", 1)[-1]
    return None


def instant_of(resource: dict[str, Any]) -> str | None:
    """The resource's clinically relevant instant in UTC ISO form (sortable as text)."""
    for key in _DATE_PATHS.get(resource.get("resourceType", ""), ()):
        value = resource.get(key)
        if isinstance(value, str):
            try:
                return dates.parse_instant(value).isoformat()
            except dates.DateParamError:
                return None
    return None


class Store:
    """Resources in SQLite (in memory unless a path is given); thread-safe behind one lock."""

    def __init__(self, path: str = ":memory:"):
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS resources (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,"
            " patient TEXT, instant TEXT, session TEXT, body TEXT NOT NULL)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS by_patient ON resources(type, patient)")
        self._db.execute("CREATE UNIQUE INDEX IF NOT EXISTS by_id ON resources(type, id, session)")
        self._counter = self._db.execute("SELECT COUNT(*) FROM resources").fetchone()[0]

    def load(self, resources: Iterable[dict[str, Any]]) -> int:
        """Bulk-insert shared (session-less) resources; returns how many."""
        rows = [
            (
                r["resourceType"],
                r["id"],
                patient_of(r),
                instant_of(r),
                None,
                json.dumps(r, separators=(",", ":")),
            )
            for r in resources
        ]
        with self._lock:
            self._db.executemany(
                "INSERT INTO resources(type, id, patient, instant, session, body) VALUES (?,?,?,?,?,?)", rows
            )
            self._db.commit()
            self._counter += len(rows)
        return len(rows)

    def create(self, resource: dict[str, Any], session: str | None = None) -> dict[str, Any]:
        """Store a new resource under a fresh id (any client-sent id is replaced, as FHIR create does)."""
        with self._lock:
            # a valid FHIR id (never the session, which is a header value), unused by any row of the type
            while True:
                self._counter += 1
                rid = f"{resource['resourceType'][:3].lower()}-new-{self._counter}"
                taken = self._db.execute(
                    "SELECT 1 FROM resources WHERE type=? AND id=?", (resource["resourceType"], rid)
                ).fetchone()
                if not taken:
                    break
            resource = {**resource, "id": rid}
            self._db.execute(
                "INSERT INTO resources(type, id, patient, instant, session, body) VALUES (?,?,?,?,?,?)",
                (
                    resource["resourceType"],
                    rid,
                    patient_of(resource),
                    instant_of(resource),
                    session,
                    json.dumps(resource, separators=(",", ":")),
                ),
            )
            self._db.commit()
        return resource

    def read(self, rtype: str, rid: str, session: str | None = None) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM resources WHERE type=? AND id=? AND (session IS NULL OR session=?)",
                (rtype, rid, session),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def writes(self, session: str) -> list[dict[str, Any]]:
        """Everything a session created, in order (what an episode wrote)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM resources WHERE session=? ORDER BY seq", (session,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def count(self, rtype: str | None = None) -> int:
        with self._lock:
            if rtype is None:
                return self._db.execute("SELECT COUNT(*) FROM resources WHERE session IS NULL").fetchone()[0]
            return self._db.execute(
                "SELECT COUNT(*) FROM resources WHERE type=? AND session IS NULL", (rtype,)
            ).fetchone()[0]

    def search(
        self,
        rtype: str,
        params: list[tuple[str, str]],
        *,
        session: str | None = None,
        count: int = 100,
        offset: int = 0,
    ) -> Page:
        """FHIR search: every parameter must match (repeats AND together, commas within one OR)."""
        allowed = SEARCH_PARAMS.get(rtype)
        if allowed is None:
            raise SearchError(f"resource type '{rtype}' is not supported by this server")
        sort: str | None = None
        filters: list[Callable[[dict[str, Any]], bool]] = []
        patient: str | None = None
        for name, value in params:
            if name in ("_format", "_pretty", "_count", "_offset", "_summary", "_total"):
                continue
            if name == "_sort":
                if value.lstrip("-") not in ("date", "_lastUpdated", "authored"):
                    raise SearchError(f"unsupported _sort '{value}' (date, -date)")
                sort = value
                continue
            base = name.split(":", 1)[0]
            if base not in allowed:
                raise SearchError(
                    f"unknown search parameter '{name}' for {rtype} (supported: {', '.join(sorted(allowed))})"
                )
            if base in ("patient", "subject") and rtype != "Patient":
                patient = value.rsplit("/", 1)[-1]
                continue
            filters.append(_filter(rtype, name, value))
        sql = "SELECT body FROM resources WHERE type=? AND (session IS NULL OR session=?)"
        args: list[Any] = [rtype, session]
        if patient is not None:
            sql += " AND patient=?"
            args.append(patient)
        sql += " ORDER BY seq"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        found = [r for r in (json.loads(row[0]) for row in rows) if all(f(r) for f in filters)]
        if sort:
            found.sort(key=lambda r: instant_of(r) or "", reverse=sort.startswith("-"))
        return Page(total=len(found), resources=found[offset : offset + count])


# --------------------------------------------------------------------------- matching


def _codes(concept: Any) -> list[tuple[str | None, str]]:
    """(system, code) pairs of a CodeableConcept, plus its text as a code without system."""
    out: list[tuple[str | None, str]] = []
    if not isinstance(concept, dict):
        return out
    for c in concept.get("coding") or []:
        if isinstance(c, dict) and c.get("code") is not None:
            out.append((c.get("system"), str(c["code"])))
    if isinstance(concept.get("text"), str):
        out.append((None, concept["text"]))
    return out


def _token_match(pairs: list[tuple[str | None, str]], value: str) -> bool:
    """FHIR token search: ``code``, ``system|code`` or ``|code``; any comma-separated alternative."""
    for alt in value.split(","):
        if "|" in alt:
            system, code = alt.split("|", 1)
            if any(((system == "" and s is None) or s == system) and c == code for s, c in pairs):
                return True
        elif any(c.lower() == alt.lower() for _, c in pairs):
            return True
    return False


def _string_match(candidates: Iterable[str], value: str, exact: bool) -> bool:
    """FHIR string search: case-insensitive starts-with on any part (``:exact`` for equality)."""
    for alt in value.split(","):
        a = alt.strip().lower()
        for c in candidates:
            c = c.lower()
            if (c == a) if exact else (c.startswith(a) or any(w.startswith(a) for w in c.split())):
                return True
    return False


def _names(r: dict[str, Any], part: str) -> list[str]:
    out: list[str] = []
    for n in r.get("name") or []:
        if part in ("family", "name") and n.get("family"):
            out.append(n["family"])
        if part in ("given", "name"):
            out.extend(n.get("given") or [])
        if part == "name" and n.get("text"):
            out.append(n["text"])
    return out


def _filter(rtype: str, name: str, value: str) -> Callable[[dict[str, Any]], bool]:
    exact = False
    if ":" in name:
        name, modifier = name.split(":", 1)
        exact = modifier == "exact"
    if name == "_id":
        return lambda r: r.get("id") in value.split(",")
    if name in ("name", "family", "given"):
        return lambda r: _string_match(_names(r, name), value, exact)
    if name == "birthdate":
        ms = _date_matcher(value)
        return lambda r: bool(r.get("birthDate")) and ms(dates.parse_instant(r["birthDate"]))
    if name in ("gender", "legal-sex"):
        return lambda r: str(r.get("gender", "")).lower() in value.lower().split(",")
    if name == "identifier":
        return lambda r: _token_match(
            [(i.get("system"), str(i.get("value"))) for i in r.get("identifier") or [] if i.get("value")],
            value,
        )
    if name == "telecom":
        return lambda r: any(t.get("value") in value.split(",") for t in r.get("telecom") or [])
    if name.startswith("address"):
        field = {
            "address": None,
            "address-city": "city",
            "address-state": "state",
            "address-postalcode": "postalCode",
        }[name]

        def addr(r: dict[str, Any]) -> bool:
            parts: list[str] = []
            for a in r.get("address") or []:
                if field is None:
                    parts.extend(a.get("line") or [])
                    parts.extend(str(a[k]) for k in ("city", "state", "postalCode") if a.get(k))
                elif a.get(field):
                    parts.append(str(a[field]))
            return _string_match(parts, value, exact)

        return addr
    if name == "code":
        key = "medicationCodeableConcept" if rtype == "MedicationRequest" else "code"
        return lambda r: _token_match(_codes(r.get(key)), value)
    if name == "category":
        return lambda r: _token_match(
            [p for c in (r.get("category") or []) for p in _codes(c)]
            if isinstance(r.get("category"), list)
            else _codes(r.get("category")),
            value,
        )
    if name in ("status", "intent", "clinical-status"):
        key = {"clinical-status": "clinicalStatus"}.get(name, name)
        return lambda r: (
            _token_match(_codes(r.get(key)), value)
            if isinstance(r.get(key), dict)
            else str(r.get(key, "")).lower() in value.lower().split(",")
        )
    if name in ("date", "authored"):
        ms = _date_matcher(value)

        def when(r: dict[str, Any]) -> bool:
            inst = instant_of(r)
            return inst is not None and ms(datetime.fromisoformat(inst))

        return when
    raise SearchError(f"unsupported search parameter '{name}'")  # pragma: no cover - guarded by SEARCH_PARAMS


def _date_matcher(value: str) -> Callable[[datetime], bool]:
    try:
        return dates.matcher(value)
    except dates.DateParamError as e:
        raise SearchError(str(e)) from None
