"""Calculator and parameter specifications, input normalisation and the registry.

A calculator is a pure function of canonical-unit inputs plus a typed parameter list. ``compute``
normalises raw inputs (numbers, ``[value, unit]`` pairs, ``{"value", "unit"}`` dicts, booleans,
category names, dates), converts units explicitly, checks ranges, and raises a typed
``CalculatorError`` for anything missing or implausible. Boolean criteria of a point score default
to *absent* because that is how the published scores are defined (an unmentioned criterion scores
0); that default is part of the spec (``Param.default``), not a silent fallback.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from medevals.calculators.errors import (
    InvalidValue,
    MissingParameter,
    OutOfRange,
    UnitError,
    UnknownCalculator,
)
from medevals.calculators.units import CANONICAL_CONC, DIMENSIONS, convert_concentration

Kind = Literal["number", "bool", "choice", "date"]
OutputType = Literal["decimal", "integer", "date", "weeks_days"]

_MISSING = object()


@dataclass(frozen=True)
class Param:
    """One input: name (snake_case), kind, dimension/analyte for units, plausible range, choices."""

    name: str
    kind: Kind
    description: str
    dimension: str | None = None  # key of units.DIMENSIONS, or "conc:<analyte>"
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    default: Any = _MISSING
    aliases: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    @property
    def unit(self) -> str:
        """Canonical unit of a numeric parameter ('' when dimensionless)."""
        if self.dimension is None:
            return ""
        if self.dimension.startswith("conc:"):
            return CANONICAL_CONC[self.dimension[5:]]
        return DIMENSIONS[self.dimension].canonical

    def json_schema(self) -> dict[str, Any]:
        if self.kind == "number":
            rng = f" Range {self.lo}..{self.hi}." if self.lo is not None or self.hi is not None else ""
            unit = f" Unit: {self.unit}." if self.unit else ""
            return {"type": "number", "description": f"{self.description}.{unit}{rng}"}
        if self.kind == "bool":
            return {"type": "boolean", "description": self.description}
        if self.kind == "choice":
            return {"type": "string", "enum": list(self.choices), "description": self.description}
        return {"type": "string", "description": f"{self.description} (MM/DD/YYYY)"}


def num(
    name: str, desc: str, dim: str | None, lo: float | None = None, hi: float | None = None, **kw: Any
) -> Param:
    return Param(name, "number", desc, dimension=dim, lo=lo, hi=hi, **kw)


def flag(name: str, desc: str, *aliases: str) -> Param:
    return Param(name, "bool", desc, default=False, aliases=aliases)


def choice(name: str, desc: str, options: tuple[str, ...], default: Any = _MISSING) -> Param:
    return Param(name, "choice", desc, choices=options, default=default)


def date(name: str, desc: str) -> Param:
    return Param(name, "date", desc)


@dataclass(frozen=True)
class Calculator:
    """A clinical calculator: id (MedCalc-Bench calculator id), slug, title, output type, formula."""

    id: int
    slug: str
    title: str
    category: str
    output: OutputType
    params: tuple[Param, ...]
    fn: Callable[[dict[str, Any]], Any]
    citation: str
    unit: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def normalize(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Canonical-unit values for every parameter (defaults filled only where the spec declares one)."""
        values: dict[str, Any] = {}
        for p in self.params:
            v = raw.get(p.name, _MISSING)
            if v is None:
                v = _MISSING
            unit = raw.get(f"{p.name}_unit")
            if v is _MISSING:
                if p.required:
                    raise MissingParameter(self.slug, p.name, f"required ({p.description})")
                values[p.name] = p.default
                continue
            values[p.name] = _coerce(self.slug, p, v, unit)
        unknown = set(raw) - {p.name for p in self.params} - {f"{p.name}_unit" for p in self.params}
        if unknown:
            raise InvalidValue(self.slug, sorted(unknown)[0], "unknown parameter for this calculator")
        return values

    def compute(self, raw: dict[str, Any]) -> Any:
        """The answer (float, int, ISO date string or (weeks, days)) from raw inputs; raises CalculatorError."""
        out = self.fn(self.normalize(raw))
        if isinstance(out, float) and not math.isfinite(out):
            raise OutOfRange(self.slug, None, "inputs give a non-finite result")
        return out

    def json_schema(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        required: list[str] = []
        for p in self.params:
            props[p.name] = p.json_schema()
            if p.kind == "number" and p.dimension:
                props[f"{p.name}_unit"] = {
                    "type": "string",
                    "description": f"unit of {p.name} if not {p.unit} (converted explicitly)",
                }
            if p.required:
                required.append(p.name)
        return {"type": "object", "properties": props, "required": required}


def _coerce(calc: str, p: Param, v: Any, unit: Any) -> Any:
    if p.kind == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.strip().lower() in ("true", "yes", "present", "1"):
            return True
        if isinstance(v, str) and v.strip().lower() in ("false", "no", "absent", "0"):
            return False
        if isinstance(v, int | float) and v in (0, 1):
            return bool(v)
        raise InvalidValue(calc, p.name, f"expected true/false, got {v!r}")
    if p.kind == "choice":
        if not isinstance(v, str):
            raise InvalidValue(calc, p.name, f"expected one of {list(p.choices)}, got {v!r}")
        key = _SEX_ALIASES.get(v.strip().lower(), v.strip().lower()) if p.name == "sex" else v.strip().lower()
        for c in p.choices:
            if c.lower() == key:
                return c
        raise InvalidValue(calc, p.name, f"unknown value {v!r} (one of {list(p.choices)})")
    if p.kind == "date":
        return parse_date(calc, p.name, v)
    # number, possibly with a unit
    if isinstance(v, list | tuple) and len(v) == 2 and isinstance(v[1], str):
        v, unit = v
    elif isinstance(v, dict) and "value" in v:
        v, unit = v["value"], v.get("unit")
    if isinstance(v, bool) or not isinstance(v, int | float):
        try:
            v = float(str(v).strip())
        except ValueError:
            raise InvalidValue(calc, p.name, f"expected a number, got {v!r}") from None
    x = float(v)
    if unit is not None and str(unit).strip() and p.dimension is None:
        raise UnitError(calc, p.name, f"is dimensionless; got unit {unit!r}")
    if unit is not None and p.dimension is not None:
        try:
            if p.dimension.startswith("conc:"):
                x = convert_concentration(x, str(unit), p.dimension[5:])
            else:
                x = DIMENSIONS[p.dimension].convert(x, str(unit))
        except ValueError as e:
            raise UnitError(calc, p.name, str(e)) from None
    if not math.isfinite(x):
        raise InvalidValue(calc, p.name, "not a finite number")
    if (p.lo is not None and x < p.lo) or (p.hi is not None and x > p.hi):
        raise OutOfRange(calc, p.name, f"{x:g} {p.unit} outside the accepted range {p.lo}..{p.hi}")
    return x


_SEX_ALIASES = {"m": "male", "man": "male", "f": "female", "woman": "female"}


def parse_date(calc: str, name: str, v: Any) -> dt.date:
    if isinstance(v, dt.date):
        return v
    s = str(v).strip()
    for fmt in ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise InvalidValue(calc, name, f"expected a date MM/DD/YYYY or YYYY-MM-DD, got {v!r}")


_REGISTRY: dict[str, Calculator] = {}


def register(calc: Calculator) -> Calculator:
    if calc.slug in _REGISTRY or any(c.id == calc.id for c in _REGISTRY.values()):
        raise ValueError(f"calculator {calc.slug} ({calc.id}) registered twice")
    _REGISTRY[calc.slug] = calc
    return calc


def calculator(
    id: int, slug: str, title: str, category: str, output: OutputType, params: list[Param], unit: str = ""
) -> Callable[[Callable[[dict[str, Any]], Any]], Callable[[dict[str, Any]], Any]]:
    """Decorator: the function's docstring is the citation of the published formula."""

    def deco(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        register(
            Calculator(id, slug, title, category, output, tuple(params), fn, (fn.__doc__ or "").strip(), unit)
        )
        return fn

    return deco


def _load_all() -> None:
    from medevals.calculators import (  # noqa: F401
        body,
        dosing,
        electrolytes,
        obstetric,
        qtc,
        renal,
        scores_cardio,
        scores_severity,
    )


def all_calculators() -> list[Calculator]:
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda c: c.id)


def get(key: str | int) -> Calculator:
    """By slug, MedCalc-Bench id (int or digit string) or exact title."""
    _load_all()
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        for c in _REGISTRY.values():
            if c.id == int(key):
                return c
    elif key in _REGISTRY:
        return _REGISTRY[key]
    else:
        for c in _REGISTRY.values():
            if c.title.lower() == str(key).lower():
                return c
    raise UnknownCalculator(str(key), None, "no such calculator (medevals calculators list shows them)")


def compute(key: str | int, raw: dict[str, Any]) -> Any:
    return get(key).compute(raw)
