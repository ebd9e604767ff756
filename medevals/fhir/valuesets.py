"""FHIR R4 value sets with a *required* binding on the elements the sandbox accepts in a create.

``fhir.resources`` checks a code's syntax but not its value set, so ``"status": "bogus"``
passed; the sandbox checks these bindings itself. Keys are FHIR type names (resources and
data types, matched along the model class's MRO, so ``Duration`` inherits ``Quantity``'s),
values map an element to its allowed codes. Sources: the R4 spec pages of each type.
"""

from __future__ import annotations

from typing import Any

_REQUEST_PRIORITY = frozenset({"routine", "urgent", "asap", "stat"})
_UNITS_OF_TIME = frozenset({"s", "min", "h", "d", "wk", "mo", "a"})
_EVENT_TIMING = frozenset(
    {
        "MORN",
        "MORN.early",
        "MORN.late",
        "NOON",
        "AFT",
        "AFT.early",
        "AFT.late",
        "EVE",
        "EVE.early",
        "EVE.late",
        "NIGHT",
        "PHS",
        "HS",
        "WAKE",
        "C",
        "CM",
        "CD",
        "CV",
        "AC",
        "ACM",
        "ACD",
        "ACV",
        "PC",
        "PCM",
        "PCD",
        "PCV",
    }
)

REQUIRED: dict[str, dict[str, frozenset[str]]] = {
    "Observation": {
        "status": frozenset(
            {
                "registered",
                "preliminary",
                "final",
                "amended",
                "corrected",
                "cancelled",
                "entered-in-error",
                "unknown",
            }
        )
    },
    "MedicationRequest": {
        "status": frozenset(
            {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
        ),
        "intent": frozenset(
            {
                "proposal",
                "plan",
                "order",
                "original-order",
                "reflex-order",
                "filler-order",
                "instance-order",
                "option",
            }
        ),
        "priority": _REQUEST_PRIORITY,
    },
    "ServiceRequest": {
        "status": frozenset(
            {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
        ),
        "intent": frozenset(
            {
                "proposal",
                "plan",
                "directive",
                "order",
                "original-order",
                "reflex-order",
                "filler-order",
                "instance-order",
                "option",
            }
        ),
        "priority": _REQUEST_PRIORITY,
    },
    "Quantity": {"comparator": frozenset({"<", "<=", ">=", ">"})},
    "Identifier": {"use": frozenset({"usual", "official", "temp", "secondary", "old"})},
    "HumanName": {"use": frozenset({"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"})},
    "ContactPoint": {
        "system": frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"}),
        "use": frozenset({"home", "work", "temp", "old", "mobile"}),
    },
    "Address": {
        "use": frozenset({"home", "work", "temp", "old", "billing"}),
        "type": frozenset({"postal", "physical", "both"}),
    },
    "Narrative": {"status": frozenset({"generated", "extensions", "additional", "empty"})},
    "TimingRepeat": {
        "durationUnit": _UNITS_OF_TIME,
        "periodUnit": _UNITS_OF_TIME,
        "dayOfWeek": frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"}),
        "when": _EVENT_TIMING,
    },
}


def violations(model: Any, path: str = "") -> list[str]:
    """Every coded element of a validated ``fhir.resources`` model outside its required value set."""
    from pydantic import BaseModel

    out: list[str] = []
    if isinstance(model, list):
        for i, m in enumerate(model):
            out.extend(violations(m, f"{path}[{i}]"))
        return out
    if not isinstance(model, BaseModel):
        return out
    path = path or type(model).__name__
    rules: dict[str, frozenset[str]] = {}
    for cls in reversed(type(model).__mro__):
        rules.update(REQUIRED.get(cls.__name__, {}))
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        if value is None:
            continue
        allowed = rules.get(name)
        if allowed is not None:
            for code in value if isinstance(value, list) else [value]:
                if code is not None and code not in allowed:
                    out.append(
                        f"{path}.{name}: '{code}' is not in the required value set ({', '.join(sorted(allowed))})"
                    )
        elif isinstance(value, BaseModel | list):
            out.extend(violations(value, f"{path}.{name}"))
    return out
