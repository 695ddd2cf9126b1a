"""Departments as a dimension (issue 18): the golden government-service cases computed per
department, rolled up to the city department leading each line, ranked within each tier, and
seen only by those whose figures they are."""

from __future__ import annotations

import pytest

from sizhen.indicators.catalogue.models import DepartmentIndicatorValue
from sizhen.indicators.ingestion.compute import compute, department_ranks
from sizhen.indicators.tests.test_engine_golden import ROWS, _load
from sizhen.organisations.models import Department


def _lines(city):
    Department.objects.filter(code__in=["DH-SCJG", "XS-SCJG"]).update(superior=city["market"])


def _figures(code, actor=None):
    rows = DepartmentIndicatorValue.objects.filter(indicator__code=code)
    if actor is not None:
        rows = DepartmentIndicatorValue.objects.visible_to(actor).filter(indicator__code=code)
    return {
        (r.department.code, r.period.isoformat()): (
            r.value,
            r.numerator,
            r.denominator,
            r.observations,
            r.rank,
            r.rank_total,
        )
        for r in rows.select_related("department")
    }


@pytest.mark.django_db
def test_every_department_and_its_line(city, store_dir, tmp_path, government_service_indicators):
    _lines(city)
    _load(tmp_path, ROWS)
    report = compute()
    assert report.department_values > 0

    # Completed cases: 东湖区 handled G1, G2, G3 and the park's G6; 西山区 G4; the city's
    # market-supervision line all five (its own records and its two district branches').
    completed = _figures("BE15.06")
    assert {k: v[0] for k, v in completed.items()} == {
        ("DH-SCJG", "2025-10-01"): 4.0,
        ("XS-SCJG", "2025-10-01"): 1.0,
        ("SZ-SCJG", "2025-10-01"): 5.0,
    }
    # On time: 东湖区 G1, G3 of four = 50 %; 西山区 0 %; the line a ratio of sums, 2/5.
    on_time = _figures("BE15.03")
    assert on_time[("DH-SCJG", "2025-10-01")] == (50.0, 2.0, 4.0, 4, 1, 2)
    assert on_time[("XS-SCJG", "2025-10-01")] == (0.0, 0.0, 1.0, 1, 2, 2)
    assert on_time[("SZ-SCJG", "2025-10-01")] == (40.0, 2.0, 5.0, 5, 1, 1)
    # Handling working days, lower is better: 西山区 2 ranks ahead of 东湖区 11/4.
    days = _figures("BE15.07")
    assert days[("XS-SCJG", "2025-10-01")][0] == pytest.approx(2.0)
    assert days[("XS-SCJG", "2025-10-01")][4:] == (1, 2)
    assert days[("DH-SCJG", "2025-10-01")][0] == pytest.approx(11 / 4)
    assert days[("DH-SCJG", "2025-10-01")][4:] == (2, 2)
    assert days[("SZ-SCJG", "2025-10-01")][0] == pytest.approx(13 / 5)

    # Recomputing rewrites nothing and changes nothing.
    before = sorted(
        DepartmentIndicatorValue.objects.values_list("indicator_id", "department_id", "value")
    )
    assert compute().department_values == 0
    after = sorted(
        DepartmentIndicatorValue.objects.values_list("indicator_id", "department_id", "value")
    )
    assert after == before


@pytest.mark.django_db
def test_a_department_sees_its_own_figures_only(
    city, personas, store_dir, tmp_path, government_service_indicators
):
    _lines(city)
    _load(tmp_path, ROWS)
    compute()
    every = set(_figures("BE15.03"))
    assert every == {
        ("DH-SCJG", "2025-10-01"),
        ("XS-SCJG", "2025-10-01"),
        ("SZ-SCJG", "2025-10-01"),
    }
    assert set(_figures("BE15.03", personas["coordinator"])) == every
    assert set(_figures("BE15.03", personas["leader"])) == every
    # The city department sees its line, the district department itself.
    assert set(_figures("BE15.03", personas["lead_department"])) == every
    assert set(_figures("BE15.03", personas["responsible_department"])) == {
        ("DH-SCJG", "2025-10-01")
    }
    # A district sees the departments of its own region, not the city's nor another's.
    assert set(_figures("BE15.03", personas["district_b"])) == {("XS-SCJG", "2025-10-01")}
    assert set(_figures("BE15.03", personas["enterprise"])) == set()


def test_ranks_follow_the_direction_and_share_ties():
    values = {"a": 90.0, "b": 95.0, "c": 90.0, "d": None}
    assert department_ranks(values, lower_is_better=False) == {
        "b": (1, 3),
        "a": (2, 3),
        "c": (2, 3),
    }
    assert department_ranks(values, lower_is_better=True) == {
        "a": (1, 3),
        "c": (1, 3),
        "b": (3, 3),
    }
