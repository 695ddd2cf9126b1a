"""Periods: first day and frequency; bounds, shifts, labels, parsing, ordering."""

from __future__ import annotations

import datetime as dt

import pytest

from sizhen.core.periods import Period

D = dt.date


@pytest.mark.parametrize(
    ("day", "frequency", "start", "end"),
    [
        (D(2026, 10, 17), "month", D(2026, 10, 1), D(2026, 10, 31)),
        (D(2024, 2, 29), "month", D(2024, 2, 1), D(2024, 2, 29)),
        (D(2026, 2, 1), "month", D(2026, 2, 1), D(2026, 2, 28)),
        (D(2026, 9, 30), "quarter", D(2026, 7, 1), D(2026, 9, 30)),
        (D(2026, 1, 1), "quarter", D(2026, 1, 1), D(2026, 3, 31)),
        (D(2026, 12, 31), "quarter", D(2026, 10, 1), D(2026, 12, 31)),
        (D(2026, 6, 15), "year", D(2026, 1, 1), D(2026, 12, 31)),
    ],
)
def test_containing_start_and_end(day, frequency, start, end):
    period = Period.containing(day, frequency)
    assert (period.start, period.end, period.frequency) == (start, end, frequency)
    assert period.contains(day) and period.contains(start) and period.contains(end)
    assert not period.contains(end + dt.timedelta(days=1))
    assert not period.contains(start - dt.timedelta(days=1))


def test_containing_takes_a_datetime_and_defaults_to_month():
    assert Period.containing(dt.datetime(2026, 3, 5, 23, 59)) == Period(D(2026, 3, 1))


@pytest.mark.parametrize(
    ("start", "frequency", "steps", "expected"),
    [
        (D(2026, 1, 1), "month", -1, D(2025, 12, 1)),
        (D(2026, 12, 1), "month", 1, D(2027, 1, 1)),
        (D(2026, 3, 1), "month", -14, D(2025, 1, 1)),
        (D(2026, 1, 1), "quarter", -1, D(2025, 10, 1)),
        (D(2026, 4, 1), "quarter", -4, D(2025, 4, 1)),
        (D(2026, 10, 1), "quarter", 1, D(2027, 1, 1)),
        (D(2026, 1, 1), "year", -1, D(2025, 1, 1)),
        (D(2026, 1, 1), "year", 0, D(2026, 1, 1)),
    ],
)
def test_shift(start, frequency, steps, expected):
    assert Period(start, frequency).shift(steps) == Period(expected, frequency)


@pytest.mark.parametrize(
    ("start", "frequency", "label", "label_zh"),
    [
        (D(2026, 10, 1), "month", "2026-10", "2026年10月"),
        (D(2026, 3, 1), "month", "2026-03", "2026年3月"),
        (D(2026, 7, 1), "quarter", "2026Q3", "2026年第3季度"),
        (D(2026, 1, 1), "quarter", "2026Q1", "2026年第1季度"),
        (D(2026, 1, 1), "year", "2026", "2026年"),
    ],
)
def test_labels_and_their_strict_parse(start, frequency, label, label_zh):
    period = Period(start, frequency)
    assert (period.label, period.label_zh, str(period)) == (label, label_zh, label)
    assert Period.parse(label) == period
    assert Period.parse(label_zh, loose=True) == period


@pytest.mark.parametrize(
    "text",
    ["2025-6", "2025-13", "2025-00", "2025/06", "2026Q5", "26-03", "June", "", None, "2026Q0"],
)
def test_strict_parse_takes_labels_only(text):
    with pytest.raises(ValueError, match="格式不正确"):
        Period.parse(text)


def test_strict_parse_refuses_a_date_cell():
    with pytest.raises(ValueError):
        Period.parse(D(2026, 3, 1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-6", Period(D(2025, 6, 1))),
        (" 2025 / 06 ", Period(D(2025, 6, 1))),
        ("2025.6", Period(D(2025, 6, 1))),
        ("2025年3月", Period(D(2025, 3, 1))),
        ("2026-03-15", Period(D(2026, 3, 1))),
        ("2026q3", Period(D(2026, 7, 1), "quarter")),
        ("2026年第3季度", Period(D(2026, 7, 1), "quarter")),
        ("2026年", Period(D(2026, 1, 1), "year")),
        (D(2026, 3, 9), Period(D(2026, 3, 1))),
        (dt.datetime(2026, 3, 9, 8, 0), Period(D(2026, 3, 1))),
    ],
)
def test_loose_parse(value, expected):
    assert Period.parse(value, loose=True) == expected


@pytest.mark.parametrize("text", ["2025-6x", "六月", "2025-13", "2025年13月", "1999-12", "2101"])
def test_loose_parse_refuses_garbage_and_out_of_range(text):
    with pytest.raises(ValueError, match="格式不正确"):
        Period.parse(text, loose=True)


def test_parse_with_a_frequency():
    assert Period.parse("2026Q3", "quarter") == Period(D(2026, 7, 1), "quarter")
    # A quarter or a year written as its first month, as forms and spreadsheets do.
    assert Period.parse("2026-07", "quarter") == Period(D(2026, 7, 1), "quarter")
    assert Period.parse("2026-01", "year") == Period(D(2026, 1, 1), "year")
    assert Period.parse("2026-10", "month") == Period(D(2026, 10, 1))
    with pytest.raises(ValueError) as quarter:
        Period.parse("2026-08", "quarter")
    assert str(quarter.value) == "期间“2026-08”格式不正确，应为季度，如 2025Q3"
    with pytest.raises(ValueError) as month:
        Period.parse("2026Q3", "month")
    assert str(month.value) == "期间“2026Q3”格式不正确，应为年月，如 2025-06"
    with pytest.raises(ValueError) as year:
        Period.parse("2026Q1", "year")
    assert str(year.value) == "期间“2026Q1”格式不正确，应为年份，如 2025"
    with pytest.raises(ValueError) as any_frequency:
        Period.parse("六月", loose=True)
    assert str(any_frequency.value) == (
        "期间“六月”格式不正确，应为年月、季度或年份，如 2025-06、2025Q3、2025"
    )
    with pytest.raises(ValueError, match="unknown frequency"):
        Period.parse("2026-01", "week")


def test_a_period_must_start_its_frequency():
    with pytest.raises(ValueError):
        Period(D(2026, 3, 2))
    with pytest.raises(ValueError):
        Period(D(2026, 2, 1), "quarter")
    with pytest.raises(ValueError):
        Period(D(2026, 7, 1), "year")
    with pytest.raises(ValueError):
        Period(D(2026, 1, 1), "week")


def test_ordering_equality_and_hash():
    months = [Period(D(2026, m, 1)) for m in (3, 1, 2)]
    assert sorted(months) == [Period(D(2026, 1, 1)), Period(D(2026, 2, 1)), Period(D(2026, 3, 1))]
    assert Period(D(2025, 12, 1)) < Period(D(2026, 1, 1))
    assert Period(D(2026, 1, 1)) != Period(D(2026, 1, 1), "year")
    assert len({Period(D(2026, 1, 1)), Period(D(2026, 1, 1)), Period(D(2026, 1, 1), "year")}) == 2
    assert Period(D(2026, 7, 1), "quarter").months == 3
