"""Heart-rate corrected QT interval (Bazett, Fridericia, Framingham, Hodges, Rautaharju), in msec."""

from __future__ import annotations

from typing import Any

from medevals.calculators.base import calculator, num

_P = [
    num("heart_rate", "heart rate", "rate", 20, 300),
    num("qt_interval", "QT interval", "interval", 150, 800),
]


def _rr(hr: float) -> float:
    return 60.0 / hr


@calculator(11, "qtc-bazett", "QTc Bazett Calculator", "physical", "decimal", _P, "msec")
def _bazett(v: dict[str, Any]) -> float:
    """QTc = QT / sqrt(RR in s) (Bazett, Heart 1920;7:353)."""
    return v["qt_interval"] / _rr(v["heart_rate"]) ** 0.5


@calculator(56, "qtc-fridericia", "QTc Fridericia Calculator", "physical", "decimal", _P, "msec")
def _fridericia(v: dict[str, Any]) -> float:
    """QTc = QT / RR^(1/3) (Fridericia, Acta Med Scand 1920;53:469)."""
    return v["qt_interval"] / _rr(v["heart_rate"]) ** (1.0 / 3.0)


@calculator(57, "qtc-framingham", "QTc Framingham Calculator", "physical", "decimal", _P, "msec")
def _framingham(v: dict[str, Any]) -> float:
    """QTc = QT + 154 x (1 - RR) (Sagie et al., Am J Cardiol 1992;70:797)."""
    return v["qt_interval"] + 154.0 * (1.0 - _rr(v["heart_rate"]))


@calculator(58, "qtc-hodges", "QTc Hodges Calculator", "physical", "decimal", _P, "msec")
def _hodges(v: dict[str, Any]) -> float:
    """QTc = QT + 1.75 x (HR - 60) (Hodges et al., J Am Coll Cardiol 1983;1:694)."""
    return v["qt_interval"] + 1.75 * (v["heart_rate"] - 60.0)


@calculator(59, "qtc-rautaharju", "QTc Rautaharju Calculator", "physical", "decimal", _P, "msec")
def _rautaharju(v: dict[str, Any]) -> float:
    """QTc = QT x (120 + HR) / 180 (Rautaharju et al., Can J Cardiol 1993;9:S3)."""
    return v["qt_interval"] * (120.0 + v["heart_rate"]) / 180.0
