"""Filling periods (填报期间): parsing a period, checking it against an indicator's frequency,
the period before, its label, and the period that is due for filling now."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sizhen.indicators.catalogue.choices import Frequency
from sizhen.indicators.catalogue.models import Indicator

_PERIOD_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")


def parse_period(value: Any) -> dt.date:
    """A period written as YYYY-MM (or an Excel date cell) -> its first day."""
    if isinstance(value, dt.datetime):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, 1)
    match = _PERIOD_TEXT.match(str(value or ""))
    if not match:
        raise ValueError("期间应写为 YYYY-MM，如 2025-10")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValueError("期间应写为 YYYY-MM，如 2025-10（年份 2000–2100，月份 1–12）")
    return dt.date(year, month, 1)


def period_problem(indicator: Indicator, period: dt.date) -> str | None:
    """Why the period does not fit the indicator's frequency, or None."""
    if period.day != 1:
        return "期间应为某月的第一天"
    if indicator.frequency == Frequency.QUARTER and period.month not in (1, 4, 7, 10):
        return f"指标 {indicator.code} 按季填报，期间应为季度首月（1、4、7、10 月）"
    if indicator.frequency == Frequency.YEAR and period.month != 1:
        return f"指标 {indicator.code} 按年填报，期间应写为当年 1 月（YYYY-01）"
    return None


def previous_period(period: dt.date, frequency: str) -> dt.date:
    months = {"quarter": 3, "year": 12}.get(str(frequency), 1)
    index = period.year * 12 + period.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_label(period: dt.date, frequency: str) -> str:
    if frequency == Frequency.QUARTER:
        return f"{period.year}年第{(period.month - 1) // 3 + 1}季度"
    if frequency == Frequency.YEAR:
        return f"{period.year}年"
    return f"{period.year}年{period.month}月"


def due_period(today: dt.date, frequency: str) -> dt.date | None:
    """The period that has just ended and is filled now, or None when none ended this month."""
    if frequency == Frequency.MONTH:
        return previous_period(dt.date(today.year, today.month, 1), Frequency.MONTH)
    if frequency == Frequency.QUARTER:
        if today.month not in (1, 4, 7, 10):
            return None
        return previous_period(dt.date(today.year, today.month, 1), Frequency.QUARTER)
    if today.month != 1:
        return None
    return dt.date(today.year - 1, 1, 1)
