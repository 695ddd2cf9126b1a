"""Filling periods (填报期间): checking a period against an indicator's frequency and the
period that is due for filling now (parsing, shifting and labels are ``core.periods.Period``)."""

from __future__ import annotations

import datetime as dt

from sizhen.core.periods import Period
from sizhen.indicators.catalogue.choices import Frequency
from sizhen.indicators.catalogue.models import Indicator

#: What a filler is told when a period cannot be read (Period.parse takes 2000–2100).
PERIOD_FORMAT = "期间应写为 YYYY-MM，如 2025-10（年份 2000–2100，月份 1–12）"


def period_problem(indicator: Indicator, period: dt.date) -> str | None:
    """Why the period does not fit the indicator's frequency, or None."""
    if period.day != 1:
        return "期间应为某月的第一天"
    if indicator.frequency == Frequency.QUARTER and period.month not in (1, 4, 7, 10):
        return f"指标 {indicator.code} 按季填报，期间应为季度首月（1、4、7、10 月）"
    if indicator.frequency == Frequency.YEAR and period.month != 1:
        return f"指标 {indicator.code} 按年填报，期间应写为当年 1 月（YYYY-01）"
    return None


def due_period(today: dt.date, frequency: str) -> dt.date | None:
    """The period that has just ended and is filled now, or None when none ended this month."""
    current = Period.containing(today, frequency)
    if current.start.month != today.month:
        return None
    return current.shift(-1).start
