"""Typed calculator errors: a missing, out-of-range or wrongly-unitised input is never defaulted silently."""

from __future__ import annotations


class CalculatorError(ValueError):
    """Base class: the calculator could not produce an answer from these inputs."""

    def __init__(self, calculator: str, param: str | None, message: str):
        self.calculator = calculator
        self.param = param
        where = f"{calculator}: {param}: " if param else f"{calculator}: "
        super().__init__(where + message)


class UnknownCalculator(CalculatorError):
    """No calculator by that name or id."""


class MissingParameter(CalculatorError):
    """A required input was not given (the answer would be 'cannot compute')."""


class OutOfRange(CalculatorError):
    """An input lies outside the physiological range the calculator accepts."""


class UnitError(CalculatorError):
    """The unit is unknown for this quantity, or cannot be converted (e.g. mg/dL for a count)."""


class InvalidValue(CalculatorError):
    """An input of the wrong type (text for a number, an unknown category, a bad date)."""
