"""The arithmetic written in a reasoning step, read and recomputed (no ``eval``: an AST walk).

MedCalc-Bench's step-by-step explanations write their computations inline:
``The patient's bmi is therefore 10.2 kg / (0.838 m * 0.838 m) = 14.525 kg/m^2``. ``equations``
finds each ``expression = result`` with the units taken out (``kg``, ``mg/dL``, ``(in inches)``),
``evaluate`` computes the expression from its numbers and operators only, and ``holds`` says
whether the stated result is what the expression gives, within the rounding the explanation
itself uses (half a unit of the result's last decimal, plus 1% for inputs that were rounded
earlier in the chain). ``medcalc-steps`` uses this to prove that a corrupted step is wrong and
that a clean chain is right.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass

NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_UNIT_GROUP = re.compile(r"\([^()\d]*\)")  # "(in inches)", "(kg)"
_UNIT = re.compile(r"(?<![\d.])[A-Za-zµμ°%²³₂'’_]+(?:\s*/\s*[A-Za-zµμ°%²³₂_]+)*(?:\^\d+)?")
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def evaluate(expr: str) -> float | None:
    """The value of an arithmetic expression of numbers, + - * / ** and parentheses; else None."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
                raise ValueError("exponent too large")
            return _OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        raise ValueError("not arithmetic")

    try:
        value = walk(tree)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Equation:
    expression: str  # arithmetic only, units removed
    result: float
    result_text: str  # the number as written after '='
    start: int  # where the result's number starts in the step text


def _arith(segment: str) -> str | None:
    """The longest arithmetic tail of ``segment`` once units and words are removed."""
    s = _UNIT_GROUP.sub(" ", segment)
    s = s.replace("×", "*").replace("÷", "/").replace("^", "**").replace("−", "-")
    s = re.sub(r"(?<=[\d)\s])x(?=[\s(\d])", "*", s)  # "142 x (...)"
    s = _UNIT.sub(" ", s)
    tokens = re.findall(NUMBER + r"|\*\*|[-+*/()]", s)
    for i in range(len(tokens)):
        cand = " ".join(tokens[i:])
        if not any(t in ("+", "-", "*", "/", "**") for t in tokens[i + 1 :]):
            return None
        if evaluate(cand) is not None:
            return cand
    return None


def equations(step: str) -> list[Equation]:
    """Each ``expression = number`` in a step whose left side is arithmetic once units are removed."""
    out: list[Equation] = []
    parts = step.split("=")
    pos = 0
    for i in range(len(parts) - 1):
        left, right = parts[i], parts[i + 1]
        pos += len(left) + 1
        m = re.match(r"\s*(" + NUMBER + r")", right)
        if not m:
            continue
        # the left side starts after the previous '=' result or a colon
        segment = re.split(r"[:;]|, which is|, giving us|gives us|is therefore|(?<=\d)\. ", left)[-1]
        expr = _arith(segment)
        if expr is None or re.fullmatch(r"\s*" + NUMBER + r"\s*", expr):
            continue
        out.append(Equation(expr, float(m.group(1)), m.group(1), pos + m.start(1)))
    return out


def decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text and "e" not in text.lower() else 0


def tolerance(result_text: str, value: float) -> float:
    return 0.5 * 10 ** -decimals(result_text) + 0.01 * abs(value) + 1e-9


def holds(eq: Equation) -> bool | None:
    """Whether the stated result is what the expression computes (None: cannot compute)."""
    got = evaluate(eq.expression)
    if got is None:
        return None
    return abs(got - eq.result) <= tolerance(eq.result_text, eq.result)
