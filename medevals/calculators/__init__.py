"""Clinical calculator library: typed parameter specs, explicit units, published formulas.

``get(name_or_id)`` / ``compute(name_or_id, inputs)`` / ``all_calculators()``; see ``base`` for the
input conventions and ``errors`` for what a bad input raises.
"""

from medevals.calculators.base import Calculator, Param, all_calculators, compute, get
from medevals.calculators.errors import (
    CalculatorError,
    InvalidValue,
    MissingParameter,
    OutOfRange,
    UnitError,
    UnknownCalculator,
)

__all__ = [
    "Calculator",
    "CalculatorError",
    "InvalidValue",
    "MissingParameter",
    "OutOfRange",
    "Param",
    "UnitError",
    "UnknownCalculator",
    "all_calculators",
    "compute",
    "get",
]
