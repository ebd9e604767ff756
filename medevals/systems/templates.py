"""Prompt templates and expressions of agent systems: Jinja2 in its sandbox.

A system's prompts are Jinja templates (``{{ question }}``, ``{% for a in answers.others %}``) and
its counts and conditions are Jinja expressions (``rounds - 1``, ``votes.all('yes')``). The
sandbox refuses attribute access to anything private or unsafe, so a user's YAML can only read
the values the runner hands it. Model output is only ever a *value* in a template, never a
template: a reply containing ``{{ ... }}`` is inserted verbatim.

Names are checked when a system is loaded (``undeclared``), so a typo is one line naming the
file, line and field, not a silent empty string in the middle of a run.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

#: Filters (and the test ``contains``) offered to templates besides Jinja's own.
EXTRA_FILTERS = ("after", "before", "numbered")


def _after(text: Any, marker: str) -> str:
    """The text after the first ``marker`` (all of it when absent): "Total Analysis: ..." -> "...".

    Case-insensitive, so a reply that writes "total analysis:" is read the same way.
    """
    s = str(text)
    i = s.lower().find(marker.lower())
    return s[i + len(marker) :].strip() if i >= 0 else s.strip()


def _before(text: Any, marker: str) -> str:
    s = str(text)
    i = s.lower().find(marker.lower())
    return s[:i].strip() if i >= 0 else s.strip()


def _numbered(values: Any, fmt: str = "{i}. {v}") -> str:
    """A list as numbered lines ("1. cardiologist"); dict values show their ``label``/``name``."""
    out = []
    for i, v in enumerate(values or [], start=1):
        if isinstance(v, dict):
            shown = " - ".join(str(x) for x in v.values() if isinstance(x, str | int | float))
        else:
            shown = str(v)
        out.append(fmt.format(i=i, v=shown))
    return "\n".join(out)


def _contains(value: Any, part: str) -> bool:
    """Jinja test: ``selectattr('role', 'contains', 'lead')`` (case-insensitive substring)."""
    return str(part).lower() in str(value).lower()


@cache
def environment() -> Any:
    """The one sandboxed environment (templates compile once per system, not per call)."""
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        undefined=ChainableUndefined,  # a missing index in model-derived data renders empty
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters.update(after=_after, before=_before, numbered=_numbered)
    env.tests["contains"] = _contains
    return env


class TemplateProblem(ValueError):
    """A template or expression that does not compile or names something unknown."""


@lru_cache(maxsize=1024)
def compile_template(source: str) -> Any:
    from jinja2 import TemplateSyntaxError

    try:
        return environment().from_string(source)
    except TemplateSyntaxError as e:
        raise TemplateProblem(f"template error (line {e.lineno} of the text): {e.message}") from None


@lru_cache(maxsize=1024)
def compile_expression(source: str) -> Any:
    from jinja2 import TemplateSyntaxError

    try:
        return environment().compile_expression(source, undefined_to_none=False)
    except TemplateSyntaxError as e:
        raise TemplateProblem(f"expression error: {e.message}") from None


@lru_cache(maxsize=2048)
def undeclared(source: str, *, expression: bool = False) -> frozenset[str]:
    """Names a template (or expression) reads from its context."""
    from jinja2 import TemplateSyntaxError, meta

    text = "{{ (" + source + ") }}" if expression else source
    try:
        ast = environment().parse(text)
    except TemplateSyntaxError as e:
        kind = "expression" if expression else "template"
        raise TemplateProblem(f"{kind} error: {e.message}") from None
    return frozenset(meta.find_undeclared_variables(ast))


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_name(s: str) -> bool:
    """A binding name usable in templates (``answers``, ``question_domains``)."""
    return bool(_NAME.match(s))
