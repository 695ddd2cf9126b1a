"""Working-day calendar: official arrangements, counting rules, provisional years, overrides.

Every expected date below was checked against the chinese-calendar package itself (the
official State Council arrangements it ships), not worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import chinese_calendar
import pytest
from django.test import override_settings

from sizhen.core import services
from sizhen.core.models import AuditEvent, CalendarDay, CalendarDayKind, CalendarYear
from sizhen.core.workcalendar import (
    PACKAGE_FIRST_YEAR,
    PACKAGE_LAST_YEAR,
    WorkCalendar,
    add_working_days,
    get_calendar,
    is_workday,
    working_days_between,
)

D = dt.date


def dates(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.fixture
def plain() -> WorkCalendar:
    """The official calendar with no override and no confirmed year."""
    return WorkCalendar({}, set())


def test_package_range_is_what_the_calendar_assumes() -> None:
    assert PACKAGE_FIRST_YEAR == 2004
    assert PACKAGE_LAST_YEAR == 2026


def test_every_known_day_agrees_with_the_package(plain: WorkCalendar) -> None:
    mismatches = [
        day
        for day in dates(D(PACKAGE_FIRST_YEAR, 1, 1), D(PACKAGE_LAST_YEAR, 12, 31))
        if plain.is_workday(day) != chinese_calendar.is_workday(day)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    ("holidays", "makeup_days", "name"),
    [
        # Spring Festival 2024: eight days off, two make-up Sundays.
        ((D(2024, 2, 10), D(2024, 2, 17)), (D(2024, 2, 4), D(2024, 2, 18)), "春节"),
        # Spring Festival 2025: 01-28..02-04 off; Sunday 01-26 and Saturday 02-08 worked.
        ((D(2025, 1, 28), D(2025, 2, 4)), (D(2025, 1, 26), D(2025, 2, 8)), "春节"),
        # Spring Festival 2026 as the package has it: nine days, two make-up Saturdays.
        ((D(2026, 2, 15), D(2026, 2, 23)), (D(2026, 2, 14), D(2026, 2, 28)), "春节"),
        # National Day 2024: 10-01..07 off; Sunday 09-29 and Saturday 10-12 worked.
        ((D(2024, 10, 1), D(2024, 10, 7)), (D(2024, 9, 29), D(2024, 10, 12)), "国庆节"),
        # Labour Day 2024: 05-01..05 off; Sunday 04-28 and Saturday 05-11 worked.
        ((D(2024, 5, 1), D(2024, 5, 5)), (D(2024, 4, 28), D(2024, 5, 11)), "劳动节"),
        # Labour Day 2025: 05-01..05 off; Sunday 04-27 worked.
        ((D(2025, 5, 1), D(2025, 5, 5)), (D(2025, 4, 27),), "劳动节"),
    ],
)
def test_official_holidays_and_makeup_days(
    plain: WorkCalendar, holidays: tuple[dt.date, dt.date], makeup_days: tuple, name: str
) -> None:
    off = dates(*holidays)
    assert [plain.is_workday(day) for day in off] == [False] * len(off)
    assert all(plain.info(day).source == "official" for day in off)
    assert plain.info(holidays[0]).name == name
    for day in makeup_days:
        info = plain.info(day)
        assert day.weekday() >= 5
        assert info.is_workday is True
        assert info.name == f"{name}调休上班"
        assert info.provisional is False


def test_national_day_2025_with_mid_autumn(plain: WorkCalendar) -> None:
    off = dates(D(2025, 10, 1), D(2025, 10, 8))
    assert [plain.is_workday(day) for day in off] == [False] * 8
    assert plain.info(D(2025, 10, 1)).name == "国庆节"
    assert plain.info(D(2025, 10, 6)).name == "中秋节"
    assert plain.info(D(2025, 9, 28)).describe() == "2025-09-28（星期日，工作日，国庆节调休上班）"
    assert plain.info(D(2025, 10, 11)).describe() == "2025-10-11（星期六，工作日，国庆节调休上班）"
    assert plain.info(D(2025, 10, 9)).describe() == "2025-10-09（星期四，工作日）"
    assert plain.info(D(2025, 10, 12)).describe() == "2025-10-12（星期日，休息日）"
    assert plain.info(D(2025, 10, 3)).describe() == "2025-10-03（星期五，休息日，国庆节）"


def test_year_totals_match_the_package(plain: WorkCalendar) -> None:
    assert plain.working_days_between(D(2023, 12, 31), D(2024, 12, 31)).days == 251
    assert plain.working_days_between(D(2024, 12, 31), D(2025, 12, 31)).days == 248


class TestAddWorkingDays:
    def test_zero_days_is_the_same_day_even_on_a_holiday(self, plain: WorkCalendar) -> None:
        result = plain.add_working_days(D(2025, 10, 1), 0)
        assert (result.date, result.provisional, result.provisional_years) == (
            D(2025, 10, 1),
            False,
            (),
        )

    @pytest.mark.parametrize(
        ("start", "n", "expected"),
        [
            (D(2025, 9, 28), 5, D(2025, 10, 11)),  # across National Day, ends on a make-up day
            (D(2024, 9, 30), 1, D(2024, 10, 8)),
            (D(2024, 2, 8), 2, D(2024, 2, 18)),  # across Spring Festival to a make-up Sunday
            (D(2025, 1, 24), 3, D(2025, 2, 5)),  # make-up Sunday 01-26 counts
            (D(2026, 2, 13), 1, D(2026, 2, 14)),  # make-up Saturday before the 2026 break
            (D(2026, 9, 30), 3, D(2026, 10, 10)),
            (D(2024, 4, 30), 1, D(2024, 5, 6)),
            (D(2025, 3, 3), 5, D(2025, 3, 10)),  # an ordinary week: Monday + 5 = next Monday
        ],
    )
    def test_next_day_rule(
        self, plain: WorkCalendar, start: dt.date, n: int, expected: dt.date
    ) -> None:
        result = plain.add_working_days(start, n, clock_start="next_day")
        assert result.date == expected
        assert result.provisional is False
        # Cross-check with the package's own search for the n-th working day after ``start``.
        assert chinese_calendar.find_workday(n, start) == expected

    def test_same_day_rule_counts_a_working_start_day(self, plain: WorkCalendar) -> None:
        assert plain.add_working_days(D(2025, 9, 30), 1, clock_start="same_day").date == D(
            2025, 9, 30
        )
        assert plain.add_working_days(D(2025, 9, 30), 2, clock_start="same_day").date == D(
            2025, 10, 9
        )
        # A holiday start day does not count under either rule.
        assert plain.add_working_days(D(2025, 10, 1), 1, clock_start="same_day").date == D(
            2025, 10, 9
        )
        assert plain.add_working_days(D(2025, 10, 1), 1, clock_start="next_day").date == D(
            2025, 10, 9
        )

    def test_default_rule_comes_from_settings(self, plain: WorkCalendar) -> None:
        with override_settings(SIZHEN_CLOCK_START="same_day"):
            assert plain.add_working_days(D(2025, 9, 30), 1).date == D(2025, 9, 30)
        with override_settings(SIZHEN_CLOCK_START="next_day"):
            assert plain.add_working_days(D(2025, 9, 30), 1).date == D(2025, 10, 9)
        with override_settings(SIZHEN_CLOCK_START="sometime"), pytest.raises(ValueError):
            plain.add_working_days(D(2025, 9, 30), 1)

    def test_negative_and_out_of_range_are_refused(self, plain: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="工作日数不能为负数"):
            plain.add_working_days(D(2025, 9, 30), -1)
        with pytest.raises(ValueError, match="超出可计算范围"):
            plain.add_working_days(D(9999, 12, 30), 1)
        with pytest.raises(ValueError, match="期限超出十年"):
            plain.add_working_days(D(2025, 1, 1), 3000)


class TestWorkingDaysBetween:
    def test_counts_the_half_open_interval(self, plain: WorkCalendar) -> None:
        assert plain.working_days_between(D(2025, 9, 28), D(2025, 10, 10)).days == 4
        assert plain.working_days_between(D(2024, 2, 9), D(2024, 2, 18)).days == 1
        # The start day never counts; the end day does.
        assert plain.working_days_between(D(2025, 9, 29), D(2025, 9, 30)).days == 1
        assert plain.working_days_between(D(2025, 9, 30), D(2025, 9, 30)).days == 0

    def test_reverse_direction_is_negative(self, plain: WorkCalendar) -> None:
        result = plain.working_days_between(D(2025, 10, 10), D(2025, 9, 28))
        assert (result.days, result.provisional) == (-4, False)

    def test_inverse_of_add(self, plain: WorkCalendar) -> None:
        for start in dates(D(2025, 9, 20), D(2025, 10, 15)):
            for n in (1, 3, 7):
                end = plain.add_working_days(start, n, clock_start="next_day").date
                assert plain.working_days_between(start, end).days == n

    def test_span_limit(self, plain: WorkCalendar) -> None:
        with pytest.raises(ValueError, match="区间超出十年"):
            plain.working_days_between(D(2000, 1, 1), D(2020, 1, 1))
        with pytest.raises(ValueError, match="超出可计算范围"):
            plain.working_days_between(D(1, 1, 1), D(1, 1, 5))


class TestProvisionalYears:
    def test_a_result_through_2027_is_provisional(self, plain: WorkCalendar) -> None:
        result = plain.add_working_days(D(2026, 12, 25), 10)
        # Monday–Friday only, so 2027-01-01 (a Friday) is counted: flagged, not guessed.
        assert result.date == D(2027, 1, 8)
        assert (result.provisional, result.provisional_years) == (True, (2027,))
        info = plain.info(D(2027, 1, 8))
        assert (info.source, info.provisional) == ("weekday-rule", True)
        assert info.describe() == "2027-01-08（星期五，工作日，暂定）"

    def test_years_are_listed_in_order(self, plain: WorkCalendar) -> None:
        result = plain.add_working_days(D(2027, 12, 30), 3)
        assert result.date == D(2028, 1, 4)
        assert result.provisional_years == (2027, 2028)
        between = plain.working_days_between(D(2026, 12, 31), D(2027, 1, 8))
        assert (between.days, between.provisional, between.provisional_years) == (
            6,
            True,
            (2027,),
        )

    def test_a_result_within_known_years_is_not(self, plain: WorkCalendar) -> None:
        result = plain.add_working_days(D(2026, 12, 1), 10)
        assert (result.date, result.provisional, result.provisional_years) == (
            D(2026, 12, 15),
            False,
            (),
        )

    def test_zero_days_in_an_unknown_year(self, plain: WorkCalendar) -> None:
        result = plain.add_working_days(D(2027, 3, 1), 0)
        assert (result.date, result.provisional, result.provisional_years) == (
            D(2027, 3, 1),
            True,
            (2027,),
        )


@pytest.mark.django_db
class TestOverrides:
    def test_holiday_on_a_weekday_and_workday_on_a_weekend(self, personas: dict[str, Any]) -> None:
        admin = personas["sysadmin"]
        assert add_working_days(D(2025, 9, 28), 5).date == D(2025, 10, 11)
        assert add_working_days(D(2025, 10, 10), 2).date == D(2025, 10, 13)

        services.set_calendar_day(
            actor=admin, date=D(2025, 9, 29), kind=CalendarDayKind.HOLIDAY, name="本地假日"
        )
        # 09-29 no longer counts: 09-30, 10-09, 10-10, 10-11 (make-up), then Monday 10-13.
        assert is_workday(D(2025, 9, 29)) is False
        assert add_working_days(D(2025, 9, 28), 5).date == D(2025, 10, 13)
        assert working_days_between(D(2025, 9, 28), D(2025, 10, 10)).days == 3

        services.set_calendar_day(
            actor=admin, date=D(2025, 10, 12), kind=CalendarDayKind.WORKDAY, name="本地调休"
        )
        assert is_workday(D(2025, 10, 12)) is True
        assert add_working_days(D(2025, 10, 10), 2).date == D(2025, 10, 12)
        assert get_calendar().info(D(2025, 10, 12)).describe() == (
            "2025-10-12（星期日，工作日，本地调休）"
        )
        assert list(
            AuditEvent.objects.filter(action="calendar.set_day").values_list(
                "object_repr", flat=True
            )
        ) == ["2025-10-12 工作日", "2025-09-29 休息日"]

    def test_cache_reloads_when_an_override_changes_or_goes(self, personas: dict[str, Any]) -> None:
        admin = personas["sysadmin"]
        first = get_calendar()
        assert get_calendar() is first  # unchanged tables: the same snapshot
        day = services.set_calendar_day(
            actor=admin, date=D(2025, 10, 9), kind=CalendarDayKind.HOLIDAY
        )
        assert get_calendar() is not first
        assert is_workday(D(2025, 10, 9)) is False
        # Same row, kind flipped: the content changed, so the snapshot must too.
        services.set_calendar_day(actor=admin, date=D(2025, 10, 9), kind=CalendarDayKind.WORKDAY)
        assert is_workday(D(2025, 10, 9)) is True
        services.set_calendar_day(actor=admin, date=D(2025, 10, 9), kind=CalendarDayKind.HOLIDAY)
        assert is_workday(D(2025, 10, 9)) is False
        services.delete_calendar_day(CalendarDay.objects.get(pk=day.pk), actor=admin)
        assert is_workday(D(2025, 10, 9)) is True
        assert CalendarDay.objects.count() == 0

    def test_an_override_in_an_unknown_year_is_not_provisional(
        self, personas: dict[str, Any]
    ) -> None:
        services.set_calendar_day(
            actor=personas["sysadmin"],
            date=D(2027, 1, 1),
            kind=CalendarDayKind.HOLIDAY,
            name="元旦",
        )
        info = get_calendar().info(D(2027, 1, 1))
        assert (info.is_workday, info.provisional, info.source) == (False, False, "override")
        # Other 2027 days are still provisional.
        result = add_working_days(D(2026, 12, 25), 10)
        assert (result.date, result.provisional_years) == (D(2027, 1, 11), (2027,))

    def test_confirming_a_year_removes_the_provisional_flag(self, personas: dict[str, Any]) -> None:
        admin = personas["sysadmin"]
        services.set_calendar_day(actor=admin, date=D(2027, 1, 1), kind=CalendarDayKind.HOLIDAY)
        assert add_working_days(D(2026, 12, 25), 10).provisional is True
        services.confirm_calendar_year(actor=admin, year=2027, source="国办发明电〔2026〕7号")
        result = add_working_days(D(2026, 12, 25), 10)
        assert (result.date, result.provisional, result.provisional_years) == (
            D(2027, 1, 11),
            False,
            (),
        )
        assert get_calendar().info(D(2027, 1, 8)).describe() == "2027-01-08（星期五，工作日）"
        # 2028 is still unknown.
        assert add_working_days(D(2027, 12, 30), 3).provisional_years == (2028,)
        assert CalendarYear.objects.get().source == "国办发明电〔2026〕7号"
        assert AuditEvent.objects.filter(action="calendar.confirm_year").count() == 1

    def test_confirm_without_source_is_refused(self, personas: dict[str, Any]) -> None:
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            services.confirm_calendar_year(actor=personas["sysadmin"], year=2027, source="  ")
        assert CalendarYear.objects.count() == 0
        assert AuditEvent.objects.filter(action="calendar.confirm_year").count() == 0
        assert add_working_days(D(2026, 12, 25), 10).provisional is True


def test_working_days_back_is_the_inverse_of_adding_across_national_day_2026(
    plain: WorkCalendar,
) -> None:
    # 2026: 25 September (中秋节) and 1–7 October off, 10 October a make-up working Saturday.
    assert plain.working_days_back(D(2026, 10, 9), 3) == D(2026, 9, 29)
    assert plain.working_days_back(D(2026, 10, 14), 7) == D(2026, 9, 29)
    assert plain.working_days_back(D(2026, 10, 8), 3) == D(2026, 9, 28)
    assert plain.working_days_back(D(2026, 10, 9), 0) == D(2026, 10, 9)
    # A holiday as the end counts nothing of itself.
    assert plain.working_days_back(D(2026, 10, 5), 1) == D(2026, 9, 29)
    for end in dates(D(2026, 9, 20), D(2026, 10, 31)):
        for n in (1, 3, 7, 15):
            start = plain.working_days_back(end, n)
            # Everything on ``start`` or before has waited n working days; the day after not.
            assert plain.working_days_between(start, end).days == n
            assert plain.working_days_between(start + dt.timedelta(days=1), end).days == n - 1
    with pytest.raises(ValueError, match="不能为负数"):
        plain.working_days_back(D(2026, 10, 9), -1)
