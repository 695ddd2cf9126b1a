"""Working-day calendar (工作日历) with Chinese statutory holidays and 调休 make-up days.

Sources, in order: the admin-editable override table (``CalendarDay``), then the
``chinese-calendar`` package (official State Council arrangements it knows), then, for a year
neither knows, plain Monday–Friday, and every result computed through such a day is flagged
*provisional* (暂定) — never a silent guess.

Counting rule: ``working_days_between(a, b)`` counts working days in (a, b]. With the default
clock start "next_day" a deadline of n working days from acceptance on day a is the date d with
n working days in (a, d]; "same_day" counts the acceptance day itself when it is a working day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field

import chinese_calendar
from django.conf import settings

from sizhen.core.models import CalendarDay, CalendarDayKind, CalendarYear

ONE_DAY = dt.timedelta(days=1)
#: Deadlines further than this many calendar days away are refused (a typo, not a deadline).
MAX_SPAN_DAYS = 3660
#: Dates outside this range are refused: far beyond any time limit, and date arithmetic near
#: date.min/date.max would overflow instead of answering.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
WEEKDAY_NAMES = "一二三四五六日"


def _package_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR = _package_years()


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    is_workday: bool
    name: str
    provisional: bool
    source: str  # override / official / weekday-rule

    def describe(self) -> str:
        week = f"星期{WEEKDAY_NAMES[self.date.weekday()]}"
        kind = "工作日" if self.is_workday else "休息日"
        extra = f"，{self.name}" if self.name else ""
        flag = "，暂定" if self.provisional else ""
        return f"{self.date.isoformat()}（{week}，{kind}{extra}{flag}）"


@dataclass(frozen=True)
class WorkdayResult:
    """A date or a count, with whether it rests on a year with no official arrangement."""

    value: dt.date | int
    provisional: bool
    provisional_years: tuple[int, ...] = field(default=())

    @property
    def date(self) -> dt.date:
        assert isinstance(self.value, dt.date)
        return self.value

    @property
    def days(self) -> int:
        assert isinstance(self.value, int)
        return self.value


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class WorkCalendar:
    """A snapshot of the override table merged with the official calendar."""

    def __init__(
        self,
        overrides: dict[dt.date, CalendarDay],
        confirmed_years: set[int],
        fingerprint: str = "",
    ):
        self.overrides = overrides
        self.confirmed_years = confirmed_years
        #: Changes whenever the calendar's content may have changed (cache key for copies of it).
        self.fingerprint = fingerprint

    def year_is_known(self, year: int) -> bool:
        return PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR or year in self.confirmed_years

    def info(self, day: dt.date) -> DayInfo:
        override = self.overrides.get(day)
        if override is not None:
            return DayInfo(
                day, override.kind == CalendarDayKind.WORKDAY, override.name, False, "override"
            )
        if PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            label = _HOLIDAY_NAMES.get(name or "", name or "")
            if not on_holiday and day.weekday() >= 5:
                label = f"{label}调休上班" if label else "调休上班"
            return DayInfo(day, not on_holiday, label, False, "official")
        workday = day.weekday() < 5
        provisional = day.year not in self.confirmed_years
        return DayInfo(day, workday, "", provisional, "weekday-rule")

    def is_workday(self, day: dt.date) -> bool:
        return self.info(day).is_workday

    def _clock_origin(self, start: dt.date, clock_start: str | None) -> dt.date:
        rule = clock_start or settings.SIZHEN_CLOCK_START
        if rule == "same_day":
            return start - ONE_DAY
        if rule != "next_day":
            raise ValueError(f"unknown clock start rule {rule!r}")
        return start

    def add_working_days(
        self, start: dt.date, n: int, *, clock_start: str | None = None
    ) -> WorkdayResult:
        """The date on which a limit of ``n`` working days counted from ``start`` ends.

        n = 0 means the same day (当日办结)."""
        if n < 0:
            raise ValueError("工作日数不能为负数")
        _check_range(start)
        if n == 0:
            info = self.info(start)
            return WorkdayResult(start, info.provisional, _years(info))
        day = self._clock_origin(start, clock_start)
        counted = 0
        provisional_years: set[int] = set()
        limit = start + dt.timedelta(days=MAX_SPAN_DAYS)
        while counted < n:
            day += ONE_DAY
            if day > limit:
                raise ValueError("期限超出十年，请检查输入")
            info = self.info(day)
            if info.provisional:
                provisional_years.add(day.year)
            if info.is_workday:
                counted += 1
        return WorkdayResult(day, bool(provisional_years), tuple(sorted(provisional_years)))

    def working_days_between(self, a: dt.date, b: dt.date) -> WorkdayResult:
        """Working days in (a, b]; negative when b is before a."""
        if b < a:
            inner = self.working_days_between(b, a)
            return WorkdayResult(-inner.days, inner.provisional, inner.provisional_years)
        _check_range(a)
        _check_range(b)
        if (b - a).days > MAX_SPAN_DAYS:
            raise ValueError("区间超出十年，请检查输入")
        count = 0
        provisional_years: set[int] = set()
        day = a
        while day < b:
            day += ONE_DAY
            info = self.info(day)
            if info.provisional:
                provisional_years.add(day.year)
            if info.is_workday:
                count += 1
        return WorkdayResult(count, bool(provisional_years), tuple(sorted(provisional_years)))

    def working_days_back(self, end: dt.date, n: int) -> dt.date:
        """The latest date d with ``n`` working days in (d, end]: whatever happened on d or
        before has been waiting at least ``n`` working days by ``end`` (n = 0 gives ``end``).
        The inverse of ``add_working_days`` with the "next_day" clock start, so that a check
        "idle for n working days" is one date comparison instead of a count per row."""
        if n < 0:
            raise ValueError("工作日数不能为负数")
        _check_range(end)
        day = end
        counted = 0
        limit = end - dt.timedelta(days=MAX_SPAN_DAYS)
        while counted < n:
            if day < limit:
                raise ValueError("期限超出十年，请检查输入")
            if self.info(day).is_workday:
                counted += 1
            day -= ONE_DAY
        return day

    def days(self, first: dt.date, last: dt.date) -> list[DayInfo]:
        """Every day in [first, last]; the engine builds its calendar table from this."""
        out = []
        day = first
        while day <= last:
            out.append(self.info(day))
            day += ONE_DAY
        return out


def _check_range(day: dt.date) -> None:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(
            f"日期 {day.isoformat()} 超出可计算范围（{FIRST_DATE.year}–{LAST_DATE.year} 年）"
        )


def _years(info: DayInfo) -> tuple[int, ...]:
    return (info.date.year,) if info.provisional else ()


_cache_lock = threading.Lock()
_cached: tuple[tuple[object, ...], WorkCalendar] | None = None


def get_calendar() -> WorkCalendar:
    """The calendar as the database says now.

    The cache key is the content of the override tables, not their timestamps: with several
    processes a clock that lags would otherwise leave an edited override unseen."""
    global _cached
    days = list(CalendarDay.objects.order_by("date"))
    years = tuple(CalendarYear.objects.order_by("year").values_list("year", flat=True))
    stamp = (tuple((d.date, d.kind, d.name) for d in days), years)
    with _cache_lock:
        if _cached is not None and _cached[0] == stamp:
            return _cached[1]
        fingerprint = hashlib.sha256(
            f"{PACKAGE_FIRST_YEAR}-{PACKAGE_LAST_YEAR}|{stamp!r}".encode()
        ).hexdigest()
        calendar = WorkCalendar({row.date: row for row in days}, set(years), fingerprint)
        _cached = (stamp, calendar)
        return calendar


def add_working_days(start: dt.date, n: int, *, clock_start: str | None = None) -> WorkdayResult:
    return get_calendar().add_working_days(start, n, clock_start=clock_start)


def working_days_between(a: dt.date, b: dt.date) -> WorkdayResult:
    return get_calendar().working_days_between(a, b)


def working_days_back(end: dt.date, n: int) -> dt.date:
    return get_calendar().working_days_back(end, n)


def is_workday(day: dt.date) -> bool:
    return get_calendar().is_workday(day)
