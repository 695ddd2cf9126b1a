"""Complete periods (完整期间, ``catalogue.completeness``): the rule per source kind, composites,
the dataset watermarks the worker stores, the headline period and the API's ``latest`` answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.completeness import (
    gating_children,
    is_complete,
    latest_complete_period,
    reported_through,
)
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.filling.choices import FillingStatus
from sizhen.indicators.filling.models import FillingRound, FillingTask
from sizhen.indicators.ingestion.compute import refresh_watermarks
from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS_BY_INDICATOR
from sizhen.indicators.ingestion.models import Dataset

pytestmark = pytest.mark.django_db

NOV, DEC = dt.date(2025, 11, 1), dt.date(2025, 12, 1)


def _leaf(code: str, parent: Indicator | None = None, **fields: Any) -> Indicator:
    fields.setdefault("direction", "higher_is_better")
    return Indicator.objects.create(code=code, name=code, parent=parent, **fields)


def _value(indicator, region, period, value, kind=SourceKind.RECORDS, observations=0):
    return IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        period=period,
        frequency=indicator.frequency,
        source_kind=kind,
        value=value,
        score=value,
        observations=observations,
    )


def _watermark(day: str) -> None:
    Dataset.objects.filter(code="gov_service_cases").update(watermarks={"completed_at": day})


# -- the rule per source kind ---------------------------------------------------------------


def test_records_rule_needs_the_last_day_and_the_grace(settings):
    settings.SIZHEN_PERIOD_GRACE_DAYS = 5
    end = dt.date(2025, 11, 30)
    # Records up to 3 November: the month is not reported, however late it is.
    assert not reported_through(dt.date(2025, 11, 3), NOV, "month", dt.date(2026, 3, 1))
    # Through the last day, but the grace after the month's end (1 December) has not passed.
    assert not reported_through(end, NOV, "month", dt.date(2025, 12, 5))
    assert reported_through(end, NOV, "month", dt.date(2025, 12, 6))
    assert reported_through(dt.date(2025, 12, 2), NOV, "month", dt.date(2025, 12, 6))
    assert not reported_through(None, NOV, "month", dt.date(2026, 3, 1))
    # A quarter needs its last month's last day.
    assert not reported_through(dt.date(2025, 11, 30), dt.date(2025, 10, 1), "quarter", DEC)
    settings.SIZHEN_PERIOD_GRACE_DAYS = 0
    assert reported_through(end, NOV, "month", dt.date(2025, 12, 1))


def test_records_leaf_follows_its_datasets_watermark(city, settings):
    settings.SIZHEN_PERIOD_GRACE_DAYS = 5
    leaf = _leaf("BE15.03", source_kind=SourceKind.RECORDS, unit="%")
    assert DEFINITIONS_BY_INDICATOR["BE15.03"]["period_field"] == "completed_at"
    root = city["root"]
    _value(leaf, root, NOV, 96.0)
    later = dt.date(2026, 1, 10)
    _watermark("2025-11-29")
    assert not is_complete(leaf, NOV, root, today=later)
    _watermark("2025-11-30")
    assert is_complete(leaf, NOV, root, today=later)
    assert not is_complete(leaf, NOV, root, today=dt.date(2025, 12, 5))
    # Another dataset's watermark says nothing about this one.
    Dataset.objects.filter(code="gov_service_cases").update(
        watermarks={"accepted_at": "2026-01-01"}
    )
    assert not is_complete(leaf, NOV, root, today=later)


def test_filling_leaf_is_complete_when_every_task_is_approved(city):
    leaf = _leaf("F01", source_kind=SourceKind.FILLING)
    root = city["root"]
    later = dt.date(2026, 1, 10)
    # No round asked for November: the value counts once there is one.
    assert not is_complete(leaf, NOV, root, today=later)
    _value(leaf, root, NOV, 3.0, kind=SourceKind.FILLING)
    assert is_complete(leaf, NOV, root, today=later)

    filling_round = FillingRound.objects.create(
        title="2025年12月定期填报", period=DEC, working_days=5, deadline=dt.date(2026, 1, 9)
    )
    tasks = [
        FillingTask.objects.create(
            round=filling_round,
            indicator=leaf,
            region=region,
            period=DEC,
            deadline=dt.date(2026, 1, 9),
            status=status,
            value=1.0,
        )
        for region, status in (
            (city["district_a"], FillingStatus.APPROVED),
            (city["district_b"], FillingStatus.SUBMITTED),
        )
    ]
    _value(leaf, city["district_a"], DEC, 1.0, kind=SourceKind.FILLING)
    assert not is_complete(leaf, DEC, city["district_a"], today=later)
    FillingTask.objects.filter(pk=tasks[1].pk).update(status=FillingStatus.APPROVED)
    assert is_complete(leaf, DEC, city["district_a"], today=later)
    assert is_complete(leaf, DEC, root, today=later)  # the round, whichever region asks


def test_aggregate_and_survey_leaves_are_complete_when_a_value_exists(city):
    aggregate = _leaf("A01", source_kind=SourceKind.AGGREGATE, unit="%")
    survey = _leaf("S01", source_kind=SourceKind.SURVEY, frequency="year")
    root, east = city["root"], city["district_a"]
    _value(aggregate, east, NOV, 88.0, kind=SourceKind.AGGREGATE)
    _value(survey, root, dt.date(2025, 1, 1), 80.0, kind=SourceKind.SURVEY)
    assert is_complete(aggregate, NOV, east)
    assert not is_complete(aggregate, NOV, root)
    assert not is_complete(aggregate, DEC, east)
    assert is_complete(survey, dt.date(2025, 1, 1), root)


def test_composite_is_complete_when_its_gating_children_are(city, settings):
    """Children with a weight above 0 that report as often as the composite gate it; a
    weight-0 child and a yearly child do not; a finer child gates with each of its months."""
    settings.SIZHEN_PERIOD_GRACE_DAYS = 5
    root = city["root"]
    later = dt.date(2026, 3, 1)
    top = _leaf("BE15")
    rate = _leaf("BE15.03", top, source_kind=SourceKind.RECORDS, unit="%")
    requests = _leaf("BE15.08", top, source_kind=SourceKind.AGGREGATE, unit="%")
    _leaf("BE15.06", top, source_kind=SourceKind.RECORDS, weight=0)
    survey = _leaf("BE15.99", top, source_kind=SourceKind.SURVEY, frequency="year")
    # Never reported at the city (its source is not connected): it holds nothing back.
    _leaf("BE15.05", top, source_kind=SourceKind.AGGREGATE)
    _watermark("2025-12-31")
    _value(rate, root, NOV, 96.0)
    _value(top, root, NOV, 80.0, kind=SourceKind.COMPOSITE, observations=1)
    _value(requests, root, dt.date(2025, 10, 1), 90.0, kind=SourceKind.AGGREGATE)
    assert not is_complete(top, NOV, root, today=later)  # November's request rates are missing
    _value(requests, root, NOV, 91.0, kind=SourceKind.AGGREGATE)
    assert is_complete(top, NOV, root, today=later)
    assert gating_children(top, root) == ["BE15.03", "BE15.08"]
    _value(survey, root, dt.date(2024, 1, 1), 80.0, kind=SourceKind.SURVEY)
    assert gating_children(top, root) == ["BE15.03", "BE15.08"]  # yearly: not as often
    assert is_complete(top, NOV, root, today=later)

    quarterly = _leaf("Q", frequency="quarter")
    monthly = _leaf("Q.01", quarterly, source_kind=SourceKind.AGGREGATE)
    q4 = dt.date(2025, 10, 1)
    _value(monthly, root, q4, 1.0, kind=SourceKind.AGGREGATE)
    _value(monthly, root, NOV, 1.0, kind=SourceKind.AGGREGATE)
    assert not is_complete(quarterly, q4, root, today=later)
    _value(monthly, root, DEC, 1.0, kind=SourceKind.AGGREGATE)
    assert is_complete(quarterly, q4, root, today=later)

    # Only coarser children (a monthly composite over a quarterly figure): the quarter gates.
    slow = _leaf("SLOW")
    part = _leaf("SLOW.01", slow, source_kind=SourceKind.AGGREGATE, frequency="quarter")
    assert not is_complete(slow, NOV, root, today=later)
    _value(part, root, q4, 5.0, kind=SourceKind.AGGREGATE)
    assert is_complete(slow, NOV, root, today=later)


# -- the headline period --------------------------------------------------------------------


def _three_row_upload(city: dict[str, Any]) -> dict[str, Indicator]:
    """The issue's scenario: November is fully reported; three rows dated early December give
    December a BE15 over one sub-indicator and an index over one first-level indicator."""
    root = city["root"]
    be = _leaf("BE")
    be01 = _leaf("BE01", be)
    be01_01 = _leaf("BE01.01", be01, source_kind=SourceKind.AGGREGATE)
    be15 = _leaf("BE15", be)
    rate = _leaf("BE15.03", be15, source_kind=SourceKind.RECORDS, unit="%")
    count = _leaf("BE15.06", be15, source_kind=SourceKind.RECORDS, unit="件", weight=0)
    requests = _leaf("BE15.08", be15, source_kind=SourceKind.AGGREGATE, unit="%")
    _value(be01_01, root, NOV, 70.0, kind=SourceKind.AGGREGATE)
    for leaf, value in ((rate, 96.0), (count, 1200.0)):
        _value(leaf, root, NOV, value)
    _value(requests, root, NOV, 90.0, kind=SourceKind.AGGREGATE)
    _value(be15, root, NOV, 82.5, kind=SourceKind.COMPOSITE, observations=3)
    _value(be01, root, NOV, 70.0, kind=SourceKind.COMPOSITE, observations=1)
    _value(be, root, NOV, 76.25, kind=SourceKind.COMPOSITE, observations=2)
    # Three records completed 1–3 December.
    _value(rate, root, DEC, 33.3)
    _value(count, root, DEC, 3.0)
    _value(be15, root, DEC, 48.8, kind=SourceKind.COMPOSITE, observations=2)
    _value(be, root, DEC, 48.8, kind=SourceKind.COMPOSITE, observations=1)
    _watermark("2025-12-03")
    return {"be": be, "be15": be15, "rate": rate}


def test_a_three_row_upload_does_not_become_the_headline(city, settings):
    settings.SIZHEN_PERIOD_GRACE_DAYS = 5
    tree = _three_row_upload(city)
    today = dt.date(2025, 12, 10)
    for code, coverage in (("be", "覆盖 1/2"), ("be15", "覆盖 2/3")):
        headline = latest_complete_period(tree[code], city["root"], today=today)
        assert headline.period == NOV
        assert [(s.period, s.complete, s.coverage_text) for s in headline.provisional] == [
            (DEC, False, coverage)
        ]
        assert headline.is_provisional(DEC) and not headline.is_provisional(NOV)
    leaf = latest_complete_period(tree["rate"], city["root"], today=today)
    assert (leaf.period, [(s.period, s.coverage) for s in leaf.provisional]) == (
        NOV,
        [(DEC, None)],
    )
    # December reported through its last day, grace passed, request rates published: it leads.
    _watermark("2026-01-02")
    IndicatorValue.objects.create(
        indicator=Indicator.objects.get(code="BE15.08"), region=city["root"], period=DEC,
        frequency="month", source_kind=SourceKind.AGGREGATE, value=91.0,
    )  # fmt: skip
    IndicatorValue.objects.create(
        indicator=Indicator.objects.get(code="BE01.01"), region=city["root"], period=DEC,
        frequency="month", source_kind=SourceKind.AGGREGATE, value=71.0,
    )  # fmt: skip
    headline = latest_complete_period(tree["be"], city["root"], today=dt.date(2026, 1, 6))
    assert (headline.period, headline.provisional) == (DEC, [])


def test_api_latest_answers_the_newest_complete_period(city, client_for, settings):
    settings.SIZHEN_PERIOD_GRACE_DAYS = 5
    _three_row_upload(city)
    response = client_for("coordinator").get("/api/v1/indicators/BE15/latest")
    assert response.status_code == 200
    assert response.json() == {
        "indicator": "BE15",
        "region_code": "449900",
        "region_name": city["root"].name,
        "latest": {
            "period": "2025-11",
            "value": 82.5,
            "score": 82.5,
            "rank": None,
            "rank_total": None,
            "source_kind": "composite",
            "coverage": "覆盖 3/3",
        },
        "provisional": [
            {
                "period": "2025-12",
                "value": 48.8,
                "score": 48.8,
                "rank": None,
                "rank_total": None,
                "source_kind": "composite",
                "coverage": "覆盖 2/3",
            }
        ],
    }
    district = client_for("district_a").get("/api/v1/indicators/BE15.03/latest?region=449902")
    assert district.status_code == 404
    assert client_for("enterprise").get("/api/v1/indicators/BE15/latest").status_code == 404


# -- the watermarks the worker stores -------------------------------------------------------


def test_recompute_stores_each_datasets_watermark(db):
    con = duckdb.connect()
    con.execute("CREATE TABLE records_gov_service_cases (completed_at TIMESTAMP, x INTEGER)")
    con.execute(
        "INSERT INTO records_gov_service_cases VALUES "
        "('2025-11-30 17:45:00', 1), ('2025-12-03 09:00:00', 2), (NULL, 3)"
    )
    definitions = [DEFINITIONS_BY_INDICATOR["BE15.03"], DEFINITIONS_BY_INDICATOR["BE01.01"]]
    refresh_watermarks(con, definitions)
    marks = dict(Dataset.objects.values_list("code", "watermarks"))
    assert marks["gov_service_cases"] == {"completed_at": "2025-12-03"}
    assert marks["enterprise_startup"] == {}  # no records table yet
