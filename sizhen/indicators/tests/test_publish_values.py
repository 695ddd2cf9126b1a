"""publish_values: figures another module publishes (the surveys' index) as values of their
own source kind, checked as aggregate rows are, all or nothing; ``replace`` deletes what the
publisher published before and no longer holds; scored and recorded for the cached pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.core.models import AuditEvent
from sizhen.indicators.catalogue.changes import values_version
from sizhen.indicators.catalogue.imports import load_default_catalogue
from sizhen.indicators.catalogue.models import IndicatorValue
from sizhen.indicators.filling.imports import PublishedValue, publish_values
from sizhen.indicators.filling.services import FillingError

pytestmark = pytest.mark.django_db

YEAR = dt.date(2026, 1, 1)


@pytest.fixture
def catalogue(city: dict[str, Any]) -> None:
    load_default_catalogue("2024-2026", actor=None)


def _values() -> dict[tuple[str, str], tuple[float | None, int, float | None]]:
    return {
        (v.indicator.code, v.region.code): (v.value, v.observations, v.score)
        for v in IndicatorValue.objects.filter(source_kind="survey").select_related(
            "indicator", "region"
        )
    }


def test_values_are_written_scored_and_replaced(catalogue: None, personas: dict[str, Any]) -> None:
    coordinator = personas["coordinator"]
    before = values_version()
    report = publish_values(
        [
            PublishedValue("BE18.07", "449900", YEAR, 71.5, 40),
            PublishedValue("BE18.07", "449901", YEAR, 66.25, 31),
        ],
        source_kind="survey",
        actor=coordinator,
    )
    assert report.as_dict() == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    assert _values() == {
        ("BE18.07", "449900"): (71.5, 40, 71.5),
        ("BE18.07", "449901"): (66.25, 31, 66.25),
    }
    assert values_version() > before
    # Again, with the district gone and the city's sample changed: the district's value (named
    # in replace) is deleted, the city's updated; a value not named stays.
    publish_values(
        [PublishedValue("BE16.02", "449902", YEAR, 50.0, 30)],
        source_kind="survey",
        actor=coordinator,
    )
    report = publish_values(
        [PublishedValue("BE18.07", "449900", YEAR, 71.5, 41)],
        source_kind="survey",
        replace=[("BE18.07", "449900", YEAR), ("BE18.07", "449901", YEAR)],
        actor=coordinator,
    )
    assert report.as_dict() == {"created": 0, "updated": 1, "unchanged": 0, "deleted": 1}
    assert _values() == {
        ("BE18.07", "449900"): (71.5, 41, 71.5),
        ("BE16.02", "449902"): (50.0, 30, 50.0),
    }
    event = AuditEvent.objects.filter(action="indicator_value.publish").order_by("pk").last()
    assert event is not None and event.after == {
        "source_kind": "survey",
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "deleted": 1,
    }


def test_a_wrong_figure_writes_nothing(catalogue: None, personas: dict[str, Any]) -> None:
    coordinator = personas["coordinator"]
    wrong = [
        [PublishedValue("BE18.07", "449900", YEAR, -1.0, 40)],  # a score is never negative
        [PublishedValue("BE18", "449900", YEAR, 70.0, 40)],  # not a leaf
        [PublishedValue("BE18.07", "449900", dt.date(2026, 3, 1), 70.0, 40)],  # not the year
        [PublishedValue("BE18.07", "999999", YEAR, 70.0, 40)],  # no such region
    ]
    for values in wrong:
        with pytest.raises(FillingError):
            publish_values(values, source_kind="survey", actor=coordinator)
    with pytest.raises(FillingError):  # records have their own writer, the engine
        publish_values(
            [PublishedValue("BE15.03", "449900", dt.date(2026, 1, 1), 99.0, 1)],
            source_kind="records",
            actor=coordinator,
        )
    with pytest.raises(FillingError):  # a district officer may not publish
        publish_values(
            [PublishedValue("BE18.07", "449901", YEAR, 70.0, 40)],
            source_kind="survey",
            actor=personas["district_a"],
        )
    with pytest.raises(FillingError):  # the system names no person
        publish_values([], source_kind="survey", actor=coordinator, system=True)
    assert not IndicatorValue.objects.exists()
    assert not AuditEvent.objects.filter(action="indicator_value.publish").exists()
