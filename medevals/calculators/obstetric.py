"""Pregnancy dating from the last menstrual period (Naegele's rule with cycle-length adjustment)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from medevals.calculators.base import calculator, date, num

LMP = date("menstrual_date", "first day of the last menstrual period")
CYCLE = num("cycle_length", "menstrual cycle length in days", "plain", 15, 60)
CYCLE_28 = num(
    "cycle_length", "menstrual cycle length in days (28 if regular/unknown)", "plain", 15, 60, default=28.0
)


def naegele(lmp: dt.date) -> dt.date:
    """Calendar Naegele's rule: LMP + 1 year - 3 months + 7 days (day clipped to the month's length)."""
    y, m = lmp.year + 1, lmp.month - 3
    if m <= 0:
        m, y = m + 12, y - 1
    day = min(lmp.day, calendar.monthrange(y, m)[1])
    return dt.date(y, m, day) + dt.timedelta(days=7)


@calculator(13, "due-date", "Estimated Due Date", "date", "date", [LMP, CYCLE])
def _due(v: dict[str, Any]) -> dt.date:
    """Naegele's rule as a calendar rule (LMP + 1 year - 3 months + 7 days, i.e. 280-283 days), shifted by
    (cycle length - 28) days (Naegele, Lehrbuch der Geburtshülfe 1830; ACOG Committee Opinion 700, 2017).
    The calendar form reproduces all 18 physician-corrected MedCalc-Bench labels; a fixed 280 days does not."""
    return naegele(v["menstrual_date"]) + dt.timedelta(days=round(v["cycle_length"]) - 28)


@calculator(68, "conception-date", "Estimated of Conception", "date", "date", [LMP, CYCLE_28])
def _conception(v: dict[str, Any]) -> dt.date:
    """Estimated conception = ovulation = LMP + (cycle length - 14) days (luteal phase ~14 days;
    ACOG Committee Opinion 700, 2017). MedCalc-Bench v1 labels use a fixed +14 days; the physician-
    corrected labels use the cycle length, as here."""
    return v["menstrual_date"] + dt.timedelta(days=round(v["cycle_length"]) - 14)


@calculator(
    69,
    "gestational-age",
    "Estimated Gestational Age",
    "date",
    "weeks_days",
    [date("current_date", "date of the assessment"), LMP],
)
def _ga(v: dict[str, Any]) -> tuple[int, int]:
    """Gestational age = days since LMP, as (weeks, days) (ACOG Committee Opinion 700, 2017)."""
    days = (v["current_date"] - v["menstrual_date"]).days
    if days < 0:
        from medevals.calculators.errors import OutOfRange

        raise OutOfRange("gestational-age", "current_date", "is before the last menstrual period")
    return (days // 7, days % 7)
