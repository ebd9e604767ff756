"""Verdict schemas and reading a judge's stored reply into a verdict (pure: used by ``score``).

Reading happens from the stored reply texts, not at call time, so ``medevals rescore`` re-reads
judge replies with the current parser. A reply that holds no JSON, JSON of the wrong shape or
a refusal is a *failure* with a kind and the raw text; it is never turned into a "no".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, ValidationError

from medevals.judging import templates
from medevals.scoring.json_extract import extract_json


class Verdict(BaseModel):
    """A judge's structured answer; ``label_field`` names the boolean that is the verdict.

    Boolean verdicts (``boolean``) give ``label()``. Valued verdicts (ratings, marked lists)
    give ``values(expect)``: named numbers, one per thing judged (``{"accuracy": 4, ...}``,
    ``{"ref:1": 1, "ans:2": 0, ...}``), read against what the judge was shown (``expect``:
    the axes asked for, how many statements were numbered). ``literals`` are the values a base
    (completion) judge is constrained to at ``label_field`` (``None``: the base judge writes the
    whole object itself, see ``judging.judge``).
    """

    model_config = ConfigDict(extra="ignore")
    label_field: ClassVar[str]
    boolean: ClassVar[bool] = True
    literals: ClassVar[tuple[str, ...] | None] = ("true", "false")
    explanation: str = ""

    @classmethod
    def schema_hint(cls, expect: dict[str, Any] | None = None) -> str:
        return f'{{"{cls.label_field}": true or false, "explanation": "one sentence"}}'

    def label(self) -> bool:
        return bool(getattr(self, self.label_field))

    def check(self, expect: dict[str, Any] | None) -> str | None:
        """Why this verdict does not fit what the judge was shown (``None``: it fits)."""
        return None

    def values(self, expect: dict[str, Any] | None) -> dict[str, float] | None:
        return None


class CriterionVerdict(Verdict):
    label_field: ClassVar[str] = "criteria_met"
    criteria_met: StrictBool


class EquivalenceVerdict(Verdict):
    label_field: ClassVar[str] = "equivalent"
    equivalent: StrictBool


def _numbers(ids: list[int], n: int, field: str) -> str | None:
    bad = [i for i in ids if not 1 <= i <= n]
    if bad:
        return f"{field}: {bad[0]} is not one of the numbered items 1..{n}"
    return None


class AxesVerdict(Verdict):
    """Ratings on named axes: ``{"accuracy": {"score": 4, "explanation": ...}, ...}`` (MedHELM's
    layout) or ``{"accuracy": 4, ...}``. Every axis asked for must carry an integer on the scale;
    a missing axis, a string, a fraction or an out-of-scale number makes the verdict invalid."""

    model_config = ConfigDict(extra="allow")
    label_field: ClassVar[str] = ""
    boolean: ClassVar[bool] = False
    literals: ClassVar[tuple[str, ...] | None] = None

    @classmethod
    def schema_hint(cls, expect: dict[str, Any] | None = None) -> str:
        axes = (expect or {}).get("axes") or ["axis"]
        lo, hi = (expect or {}).get("scale") or (1, 5)
        inner = ", ".join(f'"{a}": {{"score": {lo}-{hi}, "explanation": "..."}}' for a in axes)
        return "{" + inner + "}"

    def _raw(self, axis: str) -> Any:
        extra = self.model_extra or {}
        if axis in extra:
            v = extra[axis]
        else:
            low = {k.lower(): k for k in extra}
            if axis.lower() not in low:
                return None
            v = extra[low[axis.lower()]]
        return v.get("score") if isinstance(v, dict) else v

    def check(self, expect: dict[str, Any] | None) -> str | None:
        lo, hi = (expect or {}).get("scale") or (1, 5)
        for axis in (expect or {}).get("axes") or []:
            v = self._raw(axis)
            if v is None:
                return f"{axis}: missing"
            if isinstance(v, bool) or not isinstance(v, int):
                return f"{axis}: expected an integer score, got {type(v).__name__}"
            if not lo <= v <= hi:
                return f"{axis}: {v} is outside {lo}-{hi}"
        return None

    def values(self, expect: dict[str, Any] | None) -> dict[str, float] | None:
        return {a: float(self._raw(a)) for a in (expect or {}).get("axes") or []}


class StatementsVerdict(Verdict):
    """Statement recall and contradictions: the numbers of the reference statements the answer
    covers and of the answer statements that contradict the reference."""

    label_field: ClassVar[str] = ""
    boolean: ClassVar[bool] = False
    literals: ClassVar[tuple[str, ...] | None] = None
    covered: list[StrictInt]
    contradicted: list[StrictInt]

    @classmethod
    def schema_hint(cls, expect: dict[str, Any] | None = None) -> str:
        return '{"covered": [numbers], "contradicted": [numbers], "explanation": "one or two sentences"}'

    def check(self, expect: dict[str, Any] | None) -> str | None:
        e = expect or {}
        return _numbers(self.covered, int(e.get("reference", 0)), "covered") or _numbers(
            self.contradicted, int(e.get("answer", 0)), "contradicted"
        )

    def values(self, expect: dict[str, Any] | None) -> dict[str, float] | None:
        e = expect or {}
        cov, con = set(self.covered), set(self.contradicted)
        out = {f"ref:{i}": float(i in cov) for i in range(1, int(e.get("reference", 0)) + 1)}
        out.update({f"ans:{i}": float(i in con) for i in range(1, int(e.get("answer", 0)) + 1)})
        return out


class SetMatchVerdict(Verdict):
    """Set matching: which proposed items match a reference item, which reference items are covered."""

    label_field: ClassVar[str] = ""
    boolean: ClassVar[bool] = False
    literals: ClassVar[tuple[str, ...] | None] = None
    matched: list[StrictInt]
    covered: list[StrictInt]

    @classmethod
    def schema_hint(cls, expect: dict[str, Any] | None = None) -> str:
        return '{"matched": [numbers], "covered": [numbers], "explanation": "one or two sentences"}'

    def check(self, expect: dict[str, Any] | None) -> str | None:
        e = expect or {}
        return _numbers(self.matched, int(e.get("predicted", 0)), "matched") or _numbers(
            self.covered, int(e.get("reference", 0)), "covered"
        )

    def values(self, expect: dict[str, Any] | None) -> dict[str, float] | None:
        e = expect or {}
        m, c = set(self.matched), set(self.covered)
        out = {f"pred:{i}": float(i in m) for i in range(1, int(e.get("predicted", 0)) + 1)}
        out.update({f"ref:{i}": float(i in c) for i in range(1, int(e.get("reference", 0)) + 1)})
        return out


class CalcResultsVerdict(Verdict):
    """MedMCP-Calc: the numbers of the gold calculators the model used (``selected``) and of those
    whose result is consistent (``correct``, a subset of ``selected``)."""

    label_field: ClassVar[str] = ""
    boolean: ClassVar[bool] = False
    literals: ClassVar[tuple[str, ...] | None] = None
    selected: list[StrictInt]
    correct: list[StrictInt]

    @classmethod
    def schema_hint(cls, expect: dict[str, Any] | None = None) -> str:
        return '{"selected": [numbers], "correct": [numbers], "explanation": "one or two sentences"}'

    def check(self, expect: dict[str, Any] | None) -> str | None:
        n = int((expect or {}).get("gold", 0))
        problem = _numbers(self.selected, n, "selected") or _numbers(self.correct, n, "correct")
        if problem:
            return problem
        stray = sorted(set(self.correct) - set(self.selected))
        return f"correct: {stray[0]} is not among the selected" if stray else None

    def values(self, expect: dict[str, Any] | None) -> dict[str, float] | None:
        n = int((expect or {}).get("gold", 0))
        sel, cor = set(self.selected), set(self.correct)
        out = {f"sel:{i}": float(i in sel) for i in range(1, n + 1)}
        out.update({f"val:{i}": float(i in cor) for i in range(1, n + 1)})
        return out


class ScoreVerdict(Verdict):
    """One integer score on a scale (MedSafetyBench harmfulness, 1-5); base judges are constrained
    to the scale's digits."""

    label_field: ClassVar[str] = "score"
    boolean: ClassVar[bool] = False
    literals: ClassVar[tuple[str, ...] | None] = ("1", "2", "3", "4", "5")
    score: StrictInt

    @classmethod
    def schema_hint(cls, expect: dict[str, Any] | None = None) -> str:
        return '{"explanation": "your analysis", "score": 1-5}'

    def check(self, expect: dict[str, Any] | None) -> str | None:
        lo, hi = (expect or {}).get("scale") or (1, 5)
        return None if lo <= self.score <= hi else f"score: {self.score} is outside {lo}-{hi}"

    def values(self, expect: dict[str, Any] | None) -> dict[str, float] | None:
        return {"score": float(self.score)}


class PreferenceVerdict(Verdict):
    """Which of two things shown is preferred: 1 (the first shown), 2 (the second) or 0 (a tie).
    Base judges are constrained to the three digits."""

    label_field: ClassVar[str] = "preferred"
    boolean: ClassVar[bool] = False
    literals: ClassVar[tuple[str, ...] | None] = ("1", "2", "0")
    preferred: StrictInt

    @classmethod
    def schema_hint(cls, expect: dict[str, Any] | None = None) -> str:
        return '{"explanation": "one sentence", "preferred": 1, 2 or 0 (tie)}'

    def check(self, expect: dict[str, Any] | None) -> str | None:
        return None if self.preferred in (0, 1, 2) else f"preferred: {self.preferred} is not 1, 2 or 0"

    def values(self, expect: dict[str, Any] | None) -> dict[str, float] | None:
        return {"preferred": float(self.preferred)}


#: Template name -> its verdict schema, so tools (``medevals agreement``) can read any judged run.
VERDICTS: dict[str, type[Verdict]] = {
    templates.RUBRIC_CRITERION: CriterionVerdict,
    templates.RUBRIC_CRITERION_V1: CriterionVerdict,  # runs made before v2 still rescore
    templates.RUBRIC_CRITERION_META: CriterionVerdict,
    templates.DIAGNOSIS_EQUIVALENCE: EquivalenceVerdict,
    templates.VQA_EQUIVALENCE: EquivalenceVerdict,
    templates.DIAGNOSIS_CORRECT: EquivalenceVerdict,
    templates.TREATMENT_CORRECT: EquivalenceVerdict,
    templates.REFERENCE_AXES: AxesVerdict,
    templates.STATEMENT_RECALL: StatementsVerdict,
    templates.SET_MATCH: SetMatchVerdict,
    templates.HARMFULNESS: ScoreVerdict,
    templates.CALC_RESULTS: CalcResultsVerdict,
    templates.PAIRWISE_ANSWERS: PreferenceVerdict,
    templates.PAIRWISE_ITEMS: PreferenceVerdict,
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
    #: A valued verdict's named numbers (``Verdict.values``); ``None`` for boolean verdicts.
    values: dict[str, float] | None = None
    failure: str | None = None  # why no label was read
    kind: str | None = None  # call_failed | refusal | malformed | invalid
    raw: str | None = None
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return self.label is not None or self.values is not None


def parse_reply(
    text: str, schema: type[Verdict], expect: dict[str, Any] | None = None
) -> tuple[Verdict | None, str | None, str | None]:
    """(verdict, failure kind, reason) for one reply text, checked against ``expect``."""
    got = extract_json(text, want=dict)
    if got.value is None:
        kind = "refusal" if _REFUSAL.search(text or "") else "malformed"
        return None, kind, got.error
    try:
        verdict = schema.model_validate(got.value)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "verdict"
        return None, "invalid", f"{loc}: {err['msg']}"
    problem = verdict.check(expect)
    if problem:
        return None, "invalid", problem
    return verdict, None, None


def read_record(record: dict[str, Any]) -> ReadVerdict:
    """Read a stored judge record (see ``judge.ask``): the first attempt that validates wins."""
    role = str(record.get("role", "?"))
    schema = VERDICTS.get(str(record.get("template")))
    if schema is None:
        return ReadVerdict(role, None, failure=f"unknown template {record.get('template')!r}", kind="invalid")
    attempts: list[str] = list(record.get("attempts") or [])
    expect = record.get("expect")
    if record.get("call_error") and not attempts:
        return ReadVerdict(role, None, failure=str(record["call_error"]), kind="call_failed")
    kind, reason = "malformed", "no reply"
    for i, text in enumerate(attempts):
        verdict, kind_i, reason_i = parse_reply(text, schema, expect)
        if verdict is not None:
            return ReadVerdict(
                role,
                verdict.label() if schema.boolean else None,
                explanation=verdict.explanation,
                values=None if schema.boolean else verdict.values(expect),
                raw=text,
                repaired=i > 0,
            )
        kind, reason = kind_i or kind, reason_i or reason
    if record.get("call_error"):  # the repair call itself failed
        kind, reason = "call_failed", str(record["call_error"])
    return ReadVerdict(role, None, failure=reason, kind=kind, raw=attempts[-1] if attempts else None)
