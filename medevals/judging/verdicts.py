"""Verdict schemas and reading a judge's stored reply into a verdict (pure: used by ``score``).

Reading happens from the stored reply texts, not at call time, so ``medevals rescore`` re-reads
judge replies with the current parser. A reply that holds no JSON, JSON of the wrong shape or
a refusal is a *failure* with a kind and the raw text; it is never turned into a "no".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError

from medevals.judging import templates
from medevals.scoring.json_extract import extract_json


class Verdict(BaseModel):
    """A judge's structured answer; ``label_field`` names the boolean that is the verdict."""

    model_config = ConfigDict(extra="ignore")
    label_field: ClassVar[str]
    explanation: str = ""

    @classmethod
    def schema_hint(cls) -> str:
        return f'{{"{cls.label_field}": true or false, "explanation": "one sentence"}}'

    def label(self) -> bool:
        return bool(getattr(self, self.label_field))


class CriterionVerdict(Verdict):
    label_field: ClassVar[str] = "criteria_met"
    criteria_met: StrictBool


class EquivalenceVerdict(Verdict):
    label_field: ClassVar[str] = "equivalent"
    equivalent: StrictBool


#: Template name -> its verdict schema, so tools (``medevals agreement``) can read any judged run.
VERDICTS: dict[str, type[Verdict]] = {
    templates.RUBRIC_CRITERION: CriterionVerdict,
    templates.RUBRIC_CRITERION_V1: CriterionVerdict,  # runs made before v2 still rescore
    templates.DIAGNOSIS_EQUIVALENCE: EquivalenceVerdict,
    templates.VQA_EQUIVALENCE: EquivalenceVerdict,
}

_REFUSAL = re.compile(
    r"\b(I\s*(?:can(?:no|')t|am unable to|won't|will not)|I'm (?:sorry|unable)|as an AI)\b", re.I
)


@dataclass(frozen=True)
class ReadVerdict:
    """One judge's reading of one judgement: a label, or a failure with its kind and raw text."""

    role: str
    label: bool | None
    explanation: str | None = None
    failure: str | None = None  # why no label was read
    kind: str | None = None  # call_failed | refusal | malformed | invalid
    raw: str | None = None
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return self.label is not None


def parse_reply(text: str, schema: type[Verdict]) -> tuple[Verdict | None, str | None, str | None]:
    """(verdict, failure kind, reason) for one reply text."""
    got = extract_json(text, want=dict)
    if got.value is None:
        kind = "refusal" if _REFUSAL.search(text or "") else "malformed"
        return None, kind, got.error
    try:
        return schema.model_validate(got.value), None, None
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "verdict"
        return None, "invalid", f"{loc}: {err['msg']}"


def read_record(record: dict[str, Any]) -> ReadVerdict:
    """Read a stored judge record (see ``judge.ask``): the first attempt that validates wins."""
    role = str(record.get("role", "?"))
    schema = VERDICTS.get(str(record.get("template")))
    if schema is None:
        return ReadVerdict(role, None, failure=f"unknown template {record.get('template')!r}", kind="invalid")
    attempts: list[str] = list(record.get("attempts") or [])
    if record.get("call_error") and not attempts:
        return ReadVerdict(role, None, failure=str(record["call_error"]), kind="call_failed")
    kind, reason = "malformed", "no reply"
    for i, text in enumerate(attempts):
        verdict, kind_i, reason_i = parse_reply(text, schema)
        if verdict is not None:
            return ReadVerdict(
                role, verdict.label(), explanation=verdict.explanation, raw=text, repaired=i > 0
            )
        kind, reason = kind_i or kind, reason_i or reason
    if record.get("call_error"):  # the repair call itself failed
        kind, reason = "call_failed", str(record["call_error"])
    return ReadVerdict(role, None, failure=reason, kind=kind, raw=attempts[-1] if attempts else None)
