"""Reporting periods (统计期间): a month, a quarter or a year, the one way periods are handled.

A ``Period`` is its first day and its frequency. Values, alerts, filling tasks and reports store
the first day (a ``DateField``); code that shifts, bounds, labels or parses a period makes a
``Period`` from it. Two labels exist: ``label`` ("2026-10", "2026Q3", "2026") for URLs, APIs,
exports and alerts, and ``label_zh`` ("2026年10月", "2026年第3季度", "2026年") for Chinese prose
(reminder letters, filling rounds).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal

Frequency = Literal["month", "quarter", "year"]
FREQUENCIES: tuple[Frequency, ...] = ("month", "quarter", "year")
MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
#: Years a person may write a period with (``loose``): the platform's data starts this century,
#: and a typo such as 0202 or 1025 is refused rather than filed a thousand years off.
MIN_YEAR, MAX_YEAR = 2000, 2100

_LABEL_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_LABEL_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_LABEL_YEAR = re.compile(r"^(\d{4})$")
# As people and spreadsheets write them: 2026-3, 2026/03, 2026.3, 2026年3月, 2026-03-15 (the
# month of that day), 2026q3, 2026年第3季度, 2026年.
_LOOSE_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月|[-/.]\s*\d{1,2})?$")
_LOOSE_QUARTER = re.compile(r"^(\d{4})\s*(?:[Qq]\s*|年\s*第\s*)([1-4])\s*(?:季度)?$")
_LOOSE_YEAR = re.compile(r"^(\d{4})\s*年?$")


@dataclass(frozen=True, order=True)
class Period:
    """A month, quarter or year, by its first day. Ordered by start (then frequency)."""

    start: dt.date
    #: "month", "quarter" or "year" (``Frequency``); a plain string, as model fields hold it.
    frequency: str = "month"

    def __post_init__(self) -> None:
        if self.frequency not in MONTHS:
            raise ValueError(f"unknown frequency {self.frequency!r}")
        if self.start.day != 1 or (self.start.month - 1) % MONTHS[self.frequency]:
            raise ValueError(f"{self.start} does not start a {self.frequency}")

    @classmethod
    def containing(cls, day: dt.date, frequency: str = "month") -> Period:
        """The period of that frequency the day falls in."""
        months = MONTHS[frequency]
        start = dt.date(day.year, (day.month - 1) // months * months + 1, 1)
        return cls(start, frequency)

    @property
    def months(self) -> int:
        return MONTHS[self.frequency]

    @property
    def end(self) -> dt.date:
        """The last day of the period."""
        return self.shift(1).start - dt.timedelta(days=1)

    def shift(self, steps: int) -> Period:
        """The period ``steps`` periods away (negative: earlier)."""
        index = self.start.year * 12 + self.start.month - 1 + steps * self.months
        return Period(dt.date(index // 12, index % 12 + 1, 1), self.frequency)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def quarter(self) -> int:
        return (self.start.month - 1) // 3 + 1

    @property
    def label(self) -> str:
        """ "2026-10", "2026Q3" or "2026"."""
        if self.frequency == "year":
            return f"{self.start.year}"
        if self.frequency == "quarter":
            return f"{self.start.year}Q{self.quarter}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label_zh(self) -> str:
        """ "2026年10月", "2026年第3季度" or "2026年"."""
        if self.frequency == "year":
            return f"{self.start.year}年"
        if self.frequency == "quarter":
            return f"{self.start.year}年第{self.quarter}季度"
        return f"{self.start.year}年{self.start.month}月"

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, value: Any, frequency: str | None = None, *, loose: bool = False) -> Period:
        """The period a text names. Strict by default: exactly a ``label`` ("2026-10",
        "2026Q3", "2026"), as URLs and APIs take it. ``loose=True`` also takes what people and
        spreadsheets write (see the patterns above) and a date or datetime cell.

        With ``frequency``, the result has that frequency: the text names a period of it, or —
        as forms and spreadsheets write a quarter or a year — the month it starts with
        ("2026-07" for 2026Q3, "2026-01" for 2026). Otherwise ``ValueError`` with a message for
        the user: 期间“…”格式不正确，应为年月，如 2025-06."""
        if frequency is not None and frequency not in MONTHS:
            raise ValueError(f"unknown frequency {frequency!r}")
        period = cls._read(value, loose=loose)
        if period is not None and (not loose or MIN_YEAR <= period.start.year <= MAX_YEAR):
            if frequency is None or period.frequency == frequency:
                return period
            if period.frequency == "month" and (period.start.month - 1) % MONTHS[frequency] == 0:
                return cls(period.start, frequency)
        expected = _EXPECTED[frequency or ""]
        raise ValueError(
            f"期间“{str(value if value is not None else '')[:20]}”格式不正确，应为{expected}"
        )

    @classmethod
    def _read(cls, value: Any, *, loose: bool) -> Period | None:
        if isinstance(value, dt.date):
            return cls.containing(value) if loose else None
        text = str(value or "").strip()
        patterns = (
            ((_LOOSE_MONTH, "month"), (_LOOSE_QUARTER, "quarter"), (_LOOSE_YEAR, "year"))
            if loose
            else ((_LABEL_MONTH, "month"), (_LABEL_QUARTER, "quarter"), (_LABEL_YEAR, "year"))
        )
        for pattern, frequency in patterns:
            match = pattern.match(text)
            if not match:
                continue
            year = int(match.group(1))
            if frequency == "year":
                return cls(dt.date(year, 1, 1), "year")
            number = int(match.group(2))
            if frequency == "quarter":
                return cls(dt.date(year, 3 * number - 2, 1), "quarter")
            return cls(dt.date(year, number, 1), "month") if 1 <= number <= 12 else None
        return None


_EXPECTED = {
    "month": "年月，如 2025-06",
    "quarter": "季度，如 2025Q3",
    "year": "年份，如 2025",
    "": "年月、季度或年份，如 2025-06、2025Q3、2025",
}

__all__ = ["FREQUENCIES", "MONTHS", "Frequency", "Period"]
