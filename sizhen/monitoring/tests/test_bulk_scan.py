"""Bulk mode of the alert scan: above ``SIZHEN_ALERT_EXACT_SERIES`` series every leaf value is
read in one query and the series are checked at once with ``scan_many``. Planted anomalies are
found with the right kind and region, the non-series kinds are unchanged, and a clean seasonal
series with a Spring Festival dip raises nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from sizhen.indicators.catalogue.models import EvaluationCycle, Goalpost, Indicator
from sizhen.monitoring import bulk
from sizhen.monitoring.models import Alert
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.tests.test_alerts import JUNE, add_districts, make_indicator, put
from sizhen.monitoring.tests.test_alerts import planted as planted
from sizhen.monitoring.tests.test_scan_parity import store_values

pytestmark = pytest.mark.django_db

FESTIVAL = {2023: 1, 2024: 2, 2025: 1, 2026: 2}  # month of the Spring Festival


def _months(n: int, start: tuple[int, int] = (2023, 1)) -> list[dt.date]:
    year, month = start
    out = []
    for i in range(n):
        m = year * 12 + month - 1 + i
        out.append(dt.date(m // 12, m % 12 + 1, 1))
    return out


def _seasonal(months: list[dt.date], seed: int) -> list[float]:
    """Level 100 with quarter-end surges and the festival month at 60 %, small noise."""
    rng = np.random.default_rng(seed)
    out = []
    for period in months:
        value = 100.0 + (8.0 if period.month in (3, 6, 9) else 0.0)
        value += 15.0 if period.month == 12 else 0.0
        if FESTIVAL.get(period.year) == period.month:
            value *= 0.6
        out.append(value + float(rng.normal(0, 1.0)))
    return out


def _series(code: str, name: str, region: Any, values: list[float], months: list[dt.date]) -> Any:
    indicator = Indicator.objects.filter(code=code).first() or make_indicator(code, name)
    store_values(indicator, region, months, values)
    return indicator


def _found() -> set[tuple[str, str, str, dt.date]]:
    return {
        (a.indicator.code, a.region.name, a.kind, a.period)
        for a in Alert.objects.select_related("indicator", "region")
    }


def test_bulk_mode_switches_on_above_the_configured_number_of_series(
    settings: Any, city: dict[str, Any]
) -> None:
    indicators = [make_indicator("T10", "甲"), make_indicator("T11", "乙")]
    regions = {r.pk: r for r in (city["root"], city["district_a"], city["district_b"])}
    settings.SIZHEN_ALERT_EXACT_SERIES = 6
    assert not bulk.use_bulk(indicators, regions)
    settings.SIZHEN_ALERT_EXACT_SERIES = 5
    assert bulk.use_bulk(indicators, regions)


def test_bulk_and_exact_scans_agree_on_the_planted_alerts(
    settings: Any, city: dict[str, Any], planted: dict[str, Any]
) -> None:
    scan_indicator_values()
    exact = _found()
    assert len(exact) == 2
    exact_explanation = Alert.objects.get(indicator=planted["series"]).explanation
    Alert.objects.all().delete()

    settings.SIZHEN_ALERT_EXACT_SERIES = 0
    scan_indicator_values()

    assert _found() == exact
    change = Alert.objects.get(indicator=planted["series"])
    assert change.method == "yoy_same_month"
    assert change.value == 180.0
    assert change.lower is not None and change.upper is not None and change.upper < 180.0
    # One rule: the same sentence whichever mode judged it (test_scan_parity.py compares all).
    assert "东湖区" in change.explanation and change.explanation == exact_explanation
    assert len(change.points) == 24


def test_bulk_scan_finds_each_planted_anomaly_and_leaves_the_festival_dip_alone(
    settings: Any, city: dict[str, Any]
) -> None:
    settings.SIZHEN_ALERT_EXACT_SERIES = 0
    a, b = city["district_a"], city["district_b"]
    months = _months(40)  # 2023-01 .. 2026-04, a festival in January and February years
    spike = _seasonal(months, 1)
    spike[-1] *= 1.5
    drop = _seasonal(months, 2)
    drop[-1] *= 0.5
    shifted = _seasonal(months, 3)
    for i in range(3):
        shifted[-1 - i] += 40.0
    _series("S1", "企业开办时间", a, spike, months)
    _series("S2", "办件量", b, drop, months)
    _series("S3", "电力接入时间", a, shifted, months)
    _series("S4", "纳税次数", b, _seasonal(months, 4), months)  # clean, festival dips included
    _series("S5", "登记财产时间", a, _seasonal(months, 5), months)  # clean

    scan_indicator_values()

    found = {(code, region, kind) for code, region, kind, _ in _found()}
    assert found == {
        ("S1", "东湖区", "abnormal_change"),
        ("S2", "西山区", "abnormal_change"),
        ("S3", "东湖区", "level_shift"),
    }
    spike_alert = Alert.objects.get(indicator__code="S1")
    assert spike_alert.period == months[-1]
    assert spike_alert.value > spike_alert.upper  # type: ignore[operator]
    drop_alert = Alert.objects.get(indicator__code="S2")
    assert drop_alert.value < drop_alert.lower  # type: ignore[operator]
    shift_alert = Alert.objects.get(indicator__code="S3")
    assert shift_alert.period == months[-3]


def test_bulk_scan_keeps_cross_section_and_goalposts(settings: Any, city: dict[str, Any]) -> None:
    settings.SIZHEN_ALERT_EXACT_SERIES = 0
    extra = add_districts(city)
    regions = [city["district_a"], city["district_b"], *extra]
    extreme = make_indicator("X1", "获得电力时间")
    for region, value in zip(regions, (100.0, 320.0, 101.0, 99.0, 100.5), strict=True):
        put(extreme, region, JUNE, value)
    judged = make_indicator("G1", "网上办理率")
    cycle = EvaluationCycle.objects.create(
        code="2025", name="2025年度", starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 12, 31)
    )
    Goalpost.objects.create(indicator=judged, cycle=cycle, best=100, worst=0, target=90)
    for region, value in zip(regions, (95.0, 88.0, 96.0, 97.0, 92.0), strict=True):
        put(judged, region, JUNE, value)

    scan_indicator_values()

    assert _found() == {
        ("X1", "西山区", "cross_sectional_extreme", JUNE),
        ("G1", "西山区", "goalpost_breach", JUNE),
    }


def test_history_start_reads_four_years_before_the_checked_month() -> None:
    assert bulk.history_start([dt.date(2026, 4, 1), dt.date(2026, 6, 1)], dt.date(2026, 12, 6)) == (
        dt.date(2022, 4, 1)
    )
    # the latest month of each indicator: a year of lag allowed on top
    assert bulk.history_start(None, dt.date(2026, 12, 6)) == dt.date(2021, 12, 1)


def test_bulk_scan_ignores_months_before_the_history_window(
    settings: Any, city: dict[str, Any]
) -> None:
    settings.SIZHEN_ALERT_EXACT_SERIES = 0
    months = _months(40)
    _series("S6", "办件量", city["district_a"], _seasonal(months, 6), months)
    frame = bulk.load_values(Indicator.objects.filter(code="S6"), since=dt.date(2025, 1, 1))
    assert frame["period"].min().date() == dt.date(2025, 1, 1)
    assert len(frame) == 16  # 2025-01 .. 2026-04
    assert frame.sort_values("period")["value"].tolist() == [
        v for p, v in zip(months, _seasonal(months, 6), strict=True) if p >= dt.date(2025, 1, 1)
    ]
