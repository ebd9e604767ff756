"""The calculators as tools: OpenAI function-calling specs and the executor shared by the MCP server.

One tool per calculator, named by its slug, whose JSON schema is the calculator's typed parameter
list (numbers in canonical units plus an optional ``<name>_unit`` for explicit conversion). A tool
call returns a JSON object: ``{"result", "unit"}`` or ``{"error", "error_type", "parameter"}``
so a model can repair a missing or out-of-range input instead of getting a silent default.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from medevals.calculators.base import Calculator, all_calculators, get
from medevals.calculators.errors import CalculatorError


def tool_name(calc: Calculator) -> str:
    return calc.slug.replace("-", "_")


def description(calc: Calculator) -> str:
    first = calc.citation.split("\n")[0]
    unit = f" Result unit: {calc.unit}." if calc.unit else ""
    return f"{calc.title}. {first}{unit}"


def openai_tools(calcs: list[Calculator] | None = None) -> list[dict[str, Any]]:
    """The ``tools`` array of a chat request (type=function). Each spec is built once per process
    and shared by every request that offers it (request bodies are serialised, never mutated)."""
    return [_spec(c.id) for c in (calcs or all_calculators())]


@functools.cache
def _spec(calc_id: int) -> dict[str, Any]:
    c = get(calc_id)
    return {
        "type": "function",
        "function": {"name": tool_name(c), "description": description(c), "parameters": c.json_schema()},
    }


def by_tool_name(name: str) -> Calculator:
    return get(name.replace("_", "-"))


def format_result(calc: Calculator, value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.strftime("%m/%d/%Y")
    if isinstance(value, tuple):
        return f"{value[0]} weeks, {value[1]} days"
    if isinstance(value, float):
        return round(value, 4)
    return value


def run_tool(name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    """Execute one tool call; errors come back as data (never raised) so the model can react."""
    try:
        args = json.loads(arguments) if isinstance(arguments, str) else dict(arguments or {})
    except ValueError as e:
        return {"error": f"arguments are not valid JSON: {e}", "error_type": "InvalidArguments"}
    if not isinstance(args, dict):
        return {"error": "arguments must be a JSON object", "error_type": "InvalidArguments"}
    try:
        calc = by_tool_name(name)
        value = calc.compute(args)
    except CalculatorError as e:
        return {"error": str(e), "error_type": type(e).__name__, "parameter": e.param}
    return {"calculator": calc.title, "result": format_result(calc, value), "unit": calc.unit}
