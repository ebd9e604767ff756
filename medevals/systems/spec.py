"""The declared form of an agent system (YAML), its validation, and where systems are found.

A system is roles plus stages. A **role** is a kind of agent: its system prompt (a template that
may use the instance's ``item``), whether each of its agents keeps its own conversation
(``memory``), which of the run's models answers it (``model``: ``candidate`` by default, or a
run role such as ``judge:0``), and its sampling settings. **Stages** run in order:

``ask: NAME``
    One call per agent instance of ``role``, all instances in parallel, the replies bound to
    NAME (the latest binding wins, so a loop can rebind a report). Instances: ``agents: N``
    (labelled 1..N), or ``for_each: EXPR`` (one per element, bound ``as`` ``item``; its label is
    the element, an entry's label, or ``label: TEMPLATE``); ``when: EXPR`` skips an instance;
    ``over: EXPR`` makes one call per element for each instance, in order (bound ``over_as``
    ``target``), and ``to: TEMPLATE`` addresses each such reply to another agent
    (``NAME.to_me`` in later prompts). ``parse`` reads each reply (``systems/parse.py``).
``loop: NAME`` with ``times: N`` and ``stages``
    Repeats its stages; NAME is the 1-based iteration inside.
``break: LOOP`` with ``if: EXPR``
    Ends the named enclosing loop when EXPR holds.
``branch: EXPR`` with ``cases: {value: [stages]}`` (and optional ``default: value``)
    Runs the stages of the case EXPR evaluates to.
``each: EXPR`` with ``as`` and ``stages``
    Runs its stages once per element (sequentially); a name bound inside collects the replies
    of every iteration.

``answer: {from: NAME, aggregate: single | majority}`` names the final answer: the last reply
bound to NAME (a decider), or a majority vote over all of them (read by the benchmark's own
answer extraction). Templates see the protocol's ``question``, ``stem``, ``options``,
``answer_instruction`` and ``reasoning_instruction``, the ``parameters``, every binding so far,
and inside an ask ``item``/``target``/``instance``. A binding renders as its text (one reply) or
as "label: text" paragraphs; it offers ``entries``, ``text``, ``parsed``, ``labels``,
``others`` / ``mine`` (relative to the asking agent), ``to_me``, ``all(v)``, ``any(v)``, ``count(v)``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator

from medevals.errors import ConfigError, DataError
from medevals.systems.parse import ParseSpec
from medevals.systems.templates import TemplateProblem, compile_expression, is_name, undeclared

BUNDLED = Path(__file__).parent
PREFIX = "system:"
#: Names a protocol fills in for every system (free-text protocols leave ``options`` empty).
PROTOCOL_NAMES = ("question", "stem", "options", "answer_instruction", "reasoning_instruction")
#: Names an ask stage adds for each of its instances.
INSTANCE_NAME = "instance"

# defer_build: validators are built when a system spec is first read, not at import (every MCQ
# run imports this module; only runs with --system use it: ~25 ms of start-up otherwise).
_CONFIG = ConfigDict(
    extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True, defer_build=True
)


class RoleSpec(BaseModel):
    model_config = _CONFIG
    system: str | None = None
    memory: bool = False
    model: str = "candidate"
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=1)


class AskStage(BaseModel):
    model_config = _CONFIG
    ask: str
    role: str
    prompt: str
    agents: int | str | None = None
    for_each: str | None = None
    as_: str = Field("item", alias="as")
    label: str | None = None
    when: str | None = None
    over: str | None = None
    over_as: str = "target"
    to: str | None = None
    parse_: ParseSpec | None = Field(None, alias="parse")


class LoopStage(BaseModel):
    model_config = _CONFIG
    loop: str
    times: int | str
    stages: list[Stage]


class BreakStage(BaseModel):
    model_config = _CONFIG
    break_: str = Field(alias="break")
    if_: str = Field(alias="if")


class BranchStage(BaseModel):
    model_config = _CONFIG
    branch: str
    cases: dict[str, list[Stage]]
    default: str | None = None


class EachStage(BaseModel):
    model_config = _CONFIG
    each: str
    as_: str = Field("item", alias="as")
    stages: list[Stage]


_KINDS = ("ask", "loop", "break", "branch", "each")


def _stage_kind(v: Any) -> str | None:
    if isinstance(v, dict):
        found = [k for k in _KINDS if k in v]
        return found[0] if len(found) == 1 else None
    return {
        AskStage: "ask",
        LoopStage: "loop",
        BreakStage: "break",
        BranchStage: "branch",
        EachStage: "each",
    }.get(type(v))


Stage = Annotated[
    Annotated[AskStage, Tag("ask")]
    | Annotated[LoopStage, Tag("loop")]
    | Annotated[BreakStage, Tag("break")]
    | Annotated[BranchStage, Tag("branch")]
    | Annotated[EachStage, Tag("each")],
    Discriminator(
        _stage_kind,
        custom_error_type="stage_kind",
        custom_error_message="a stage has exactly one of ask, loop, break, branch, each",
    ),
]

LoopStage.model_rebuild()
BranchStage.model_rebuild()
EachStage.model_rebuild()


class AnswerSpec(BaseModel):
    model_config = _CONFIG
    from_: str = Field(alias="from")
    aggregate: Literal["single", "majority"] = "single"


class SystemSpec(BaseModel):
    """One agent system, as declared; ``ref``/``origin`` are filled in when it is resolved for a run."""

    model_config = _CONFIG
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str = ""
    description: str = ""
    source: str = ""
    parameters: dict[str, int | float | str] = Field(default_factory=dict)
    shorthand: str | None = None
    roles: dict[str, RoleSpec]
    stages: list[Stage] = Field(min_length=1)
    answer: AnswerSpec
    max_calls: int = Field(300, ge=1, description="calls per item before the unit stops as an error")
    ref: str | None = None
    origin: str | None = None

    @field_validator("roles")
    @classmethod
    def _role_names(cls, v: dict[str, RoleSpec]) -> dict[str, RoleSpec]:
        for name in v:
            if not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
                raise ValueError(f"role name '{name}': lower-case letters, digits, '-' and '_' only")
        return v

    @property
    def variant(self) -> str:
        return PREFIX + (self.ref or self.name)


# ----------------------------------------------------------------------------- static checks


class SpecProblem(ValueError):
    def __init__(self, loc: tuple[str, ...], message: str):
        super().__init__(message)
        self.loc = loc


def check(spec: SystemSpec) -> None:
    """Names, roles, loops and shorthand of a parsed system; raises ``SpecProblem`` at the first problem."""
    params = set(spec.parameters)
    for p in params:
        if not is_name(p) or p in PROTOCOL_NAMES:
            raise SpecProblem(("parameters", p), f"'{p}' cannot be a parameter name")
    if spec.shorthand is not None:
        for p in re.findall(r"\{([^}]*)\}", spec.shorthand):
            if p not in params:
                raise SpecProblem(("shorthand",), f"'{{{p}}}' is not a parameter")
    scope = set(PROTOCOL_NAMES) | params
    bound = _check_stages(spec, spec.stages, ("stages",), scope, loops=())
    if spec.answer.from_ not in bound:
        raise SpecProblem(
            ("answer", "from"),
            f"'{spec.answer.from_}' is not bound by any ask stage (bound: {sorted(bound - scope)})",
        )


def _names(source: str, loc: tuple[str, ...], known: set[str], *, expression: bool) -> None:
    try:
        used = undeclared(source, expression=expression)
        if expression:
            compile_expression(source)
    except TemplateProblem as e:
        raise SpecProblem(loc, str(e)) from None
    unknown = sorted(used - known)
    if unknown:
        raise SpecProblem(loc, f"unknown name '{unknown[0]}' (known here: {', '.join(sorted(known))})")


def _count(value: int | str, loc: tuple[str, ...], scope: set[str]) -> None:
    if isinstance(value, int):
        if value < 0:
            raise SpecProblem(loc, "must be 0 or more")
        return
    _names(value, loc, scope, expression=True)


def _binding(name: str, loc: tuple[str, ...], scope: set[str], params: set[str]) -> None:
    if not is_name(name):
        raise SpecProblem(loc, f"'{name}' is not a name (letters, digits, '_')")
    if name in PROTOCOL_NAMES or name in params or name == INSTANCE_NAME:
        raise SpecProblem(loc, f"'{name}' is reserved")


def _bindings(stages: list[Any]) -> set[str]:
    """Every name the stages bind, at any depth (loop counters and ``each`` items excluded)."""
    out: set[str] = set()
    for st in stages:
        if isinstance(st, AskStage):
            out.add(st.ask)
        elif isinstance(st, LoopStage | EachStage):
            out |= _bindings(st.stages)
        elif isinstance(st, BranchStage):
            for body in st.cases.values():
                out |= _bindings(body)
    return out


def _parse_limits(p: ParseSpec, loc: tuple[str, ...], scope: set[str]) -> None:
    if isinstance(p.max, str):
        _names(p.max, (*loc, "max"), scope, expression=True)
    for k, sub in (p.fields or {}).items():
        _parse_limits(sub, (*loc, "fields", k), scope)


def _check_stages(
    spec: SystemSpec,
    stages: list[Any],
    loc: tuple[str, ...],
    scope: set[str],
    loops: tuple[str, ...],
    *,
    quiet: bool = False,
) -> set[str]:
    """The names bound after these stages (``scope`` plus every binding they make).

    ``quiet``: only collect the bindings (unknown names are not errors in this pass)."""
    if quiet:
        return scope | _bindings(stages)
    scope = set(scope)
    params = set(spec.parameters)
    for i, st in enumerate(stages):
        here = (*loc, str(i))
        if isinstance(st, AskStage):
            _binding(st.ask, (*here, "ask"), scope, params)
            if st.role not in spec.roles:
                raise SpecProblem(
                    (*here, "role"), f"unknown role '{st.role}' (roles: {', '.join(spec.roles)})"
                )
            if (st.agents is None) == (st.for_each is None):
                raise SpecProblem(here, "an ask stage needs exactly one of 'agents' or 'for_each'")
            if st.agents is not None:
                _count(st.agents, (*here, "agents"), scope)
            inner = scope | {INSTANCE_NAME}
            if st.for_each is not None:
                _names(st.for_each, (*here, "for_each"), scope, expression=True)
                if not is_name(st.as_):
                    raise SpecProblem((*here, "as"), f"'{st.as_}' is not a name")
                inner |= {st.as_}
            if st.when is not None:
                _names(st.when, (*here, "when"), inner, expression=True)
            if st.label is not None:
                _names(st.label, (*here, "label"), inner, expression=False)
            if st.over is not None:
                _names(st.over, (*here, "over"), inner, expression=True)
                if not is_name(st.over_as):
                    raise SpecProblem((*here, "over_as"), f"'{st.over_as}' is not a name")
                inner |= {st.over_as}
            if st.to is not None:
                if st.over is None:
                    raise SpecProblem((*here, "to"), "'to' addresses the calls of 'over'")
                _names(st.to, (*here, "to"), inner, expression=False)
            _names(st.prompt, (*here, "prompt"), inner, expression=False)
            if st.parse_ is not None:
                _parse_limits(st.parse_, (*here, "parse"), inner)
            system = spec.roles[st.role].system
            if system is not None:
                _names(system, ("roles", st.role, "system"), inner, expression=False)
            scope.add(st.ask)
        elif isinstance(st, LoopStage):
            _binding(st.loop, (*here, "loop"), scope, params)
            _count(st.times, (*here, "times"), scope)
            body = (*here, "stages")
            inner_loops = (*loops, st.loop)
            # A name bound later in the body is visible earlier in it from the second iteration on
            # (empty on the first): checked with everything the body binds.
            first = _check_stages(spec, st.stages, body, scope | {st.loop}, inner_loops, quiet=True)
            scope |= _check_stages(spec, st.stages, body, first, inner_loops)
            scope.discard(st.loop)
        elif isinstance(st, BreakStage):
            if st.break_ not in loops:
                raise SpecProblem(
                    (*here, "break"), f"'{st.break_}' is not an enclosing loop ({list(loops) or 'none'})"
                )
            _names(st.if_, (*here, "if"), scope, expression=True)
        elif isinstance(st, BranchStage):
            _names(st.branch, (*here, "branch"), scope, expression=True)
            if not st.cases:
                raise SpecProblem((*here, "cases"), "a branch needs at least one case")
            if st.default is not None and st.default not in st.cases:
                raise SpecProblem(
                    (*here, "default"), f"'{st.default}' is not one of the cases {list(st.cases)}"
                )
            after = [
                _check_stages(spec, body, (*here, "cases", case), scope, loops)
                for case, body in st.cases.items()
            ]
            scope = set.intersection(*after)
        elif isinstance(st, EachStage):
            _names(st.each, (*here, "each"), scope, expression=True)
            if not is_name(st.as_):
                raise SpecProblem((*here, "as"), f"'{st.as_}' is not a name")
            inner = _check_stages(spec, st.stages, (*here, "stages"), scope | {st.as_}, loops)
            scope |= inner - {st.as_}
    return scope


# ----------------------------------------------------------------------------- loading


def load_file(path: Path) -> SystemSpec:
    """A system from a YAML file; every problem is one ``DataError`` naming file, line and field."""
    from medevals.yamlfile import line_of, load_yaml_with_lines

    if not path.exists():
        raise DataError("agent system file not found", path=path)
    data, lines = load_yaml_with_lines(path, "agent system")
    if not isinstance(data, dict):
        raise DataError("an agent system must be a YAML mapping", path=path, line=1)
    for key in ("ref", "origin"):
        if key in data:
            raise DataError(
                "set by medevals when the system is resolved; remove it",
                path=path,
                line=lines.get((key,)),
                field=key,
            )
    try:
        spec = SystemSpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = _yaml_loc(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        raise DataError(msg, path=path, line=line_of(lines, loc), field=".".join(loc) or None) from None
    try:
        check(spec)
    except SpecProblem as e:
        raise DataError(str(e), path=path, line=line_of(lines, e.loc), field=".".join(e.loc)) from None
    spec.origin = str(path)
    return spec


_TYPE_TAGS = {"int", "str", "float", "bool", "list[str]", "dict[str,list[str]]"}
_ALIASES = {"as_": "as", "parse_": "parse", "break_": "break", "if_": "if", "from_": "from"}


def _yaml_loc(loc: tuple[Any, ...]) -> tuple[str, ...]:
    """pydantic's error location as YAML keys: union tags dropped, aliases as written."""
    out: list[str] = []
    for i, x in enumerate(loc):
        s = str(x)
        if s in _TYPE_TAGS:
            continue  # which member of ``int | str`` failed: not a key of the file
        if s in _KINDS and i > 0 and isinstance(loc[i - 1], int) and i < len(loc) - 1:
            continue  # the stage kind the discriminator chose
        out.append(_ALIASES.get(s, s))
    return tuple(out)


@cache
def bundled() -> dict[str, SystemSpec]:
    """Bundled systems by name (``medevals/systems/*.yaml``), loaded and checked once."""
    out: dict[str, SystemSpec] = {}
    for path in sorted(BUNDLED.glob("*.yaml")):
        spec = load_file(path)
        spec.origin = f"bundled:{path.name}"
        out[spec.name] = spec
    return out


def _shorthand_regex(spec: SystemSpec) -> re.Pattern[str] | None:
    if not spec.shorthand:
        return None
    parts = re.split(r"(\{[^}]*\})", spec.shorthand)
    rx = "".join(f"(?P<{p[1:-1]}>\\d+(?:\\.\\d+)?)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{rx}$")


def _with_parameters(spec: SystemSpec, ref: str, values: dict[str, str]) -> SystemSpec:
    params = dict(spec.parameters)
    for k, raw in values.items():
        old = params[k]
        if isinstance(old, int) and not isinstance(old, bool):
            if not raw.isdigit():
                raise ConfigError(f"system '{ref}': {k} must be a whole number")
            params[k] = int(raw)
        elif isinstance(old, float):
            params[k] = float(raw)
        else:
            params[k] = raw
    return spec.model_copy(update={"parameters": params, "ref": ref}, deep=True)


def resolve(ref: str) -> SystemSpec:
    """``medagents``, ``vote5``, ``debate:3x2`` (a bundled system, by name or shorthand) or a
    ``.yaml`` path -> the system with its ``ref`` (the variant name after ``system:``) set."""
    ref = ref.strip()
    if not ref:
        raise ConfigError("empty agent system name")
    if ref.endswith((".yaml", ".yml")) or "/" in ref:
        spec = load_file(Path(ref))
        return spec.model_copy(update={"ref": spec.name}, deep=True)
    systems = bundled()
    if ref in systems:
        return systems[ref].model_copy(update={"ref": ref}, deep=True)
    for spec in systems.values():
        rx = _shorthand_regex(spec)
        m = rx.match(ref) if rx else None
        if m:
            return _with_parameters(spec, ref, m.groupdict())
    known = ", ".join(f"{s.name}" + (f" ({s.shorthand})" if s.shorthand else "") for s in systems.values())
    raise ConfigError(f"unknown agent system '{ref}' (bundled: {known}; or a path to a .yaml file)")


def is_system_variant(variant: str) -> bool:
    return variant.startswith(PREFIX)
