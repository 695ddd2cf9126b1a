"""The non-statistical alert kinds: goalpost breaches, lagging behind the benchmark city, stale
data sources and overdue filling, each found on planted data and deduplicated on a rescan."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.core.models import TransitionHistory
from sizhen.indicators.catalogue.models import (
    Benchmark,
    EvaluationCycle,
    Goalpost,
    Indicator,
    IndicatorValue,
)
from sizhen.indicators.filling.choices import FillingStatus
from sizhen.indicators.filling.models import FillingRound, FillingTask
from sizhen.indicators.ingestion.models import Dataset, LoadBatch, PullSource
from sizhen.monitoring.models import Alert
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.services import ScanResult

JUNE = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 7, 15, 10, 0, tzinfo=dt.UTC)


def make_indicator(code: str, name: str, direction: str = "higher_is_better") -> Indicator:
    return Indicator.objects.create(
        code=code,
        name=name,
        direction=direction,
        frequency="month",
        source_kind="records",
        level=2,
    )


def put(indicator: Indicator, region: Any, value: float, period: dt.date = JUNE) -> None:
    IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        period=period,
        frequency="month",
        source_kind="records",
        value=value,
    )


def counts(result: ScanResult) -> dict[str, int]:
    return result.as_dict()


@pytest.mark.django_db
def test_goalpost_breach_uses_the_goalposts_of_the_cycle_of_the_period(
    city: dict[str, Any],
) -> None:
    indicator = make_indicator("G01", "网上办理率")
    cycle = EvaluationCycle.objects.create(
        code="2025", name="2025 年度", starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 12, 31)
    )
    old = EvaluationCycle.objects.create(
        code="2024", name="2024 年度", starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 12, 31)
    )
    Goalpost.objects.create(indicator=indicator, cycle=cycle, best=100, worst=60, target=90)
    # The old cycle's stricter target must not apply to a 2025 value.
    Goalpost.objects.create(indicator=indicator, cycle=old, best=100, worst=96, target=99)
    put(indicator, city["district_a"], 95.0)
    put(indicator, city["district_b"], 70.0)

    result = scan_indicator_values(now=NOW)

    assert counts(result) == {
        "created": 1,
        "updated": 0,
        "reopened": 0,
        "unchanged": 0,
        "resolved": 0,
    }
    alert = Alert.objects.get()
    assert (alert.region, alert.kind, alert.period, alert.value, alert.expected) == (
        city["district_b"],
        "goalpost_breach",
        JUNE,
        70.0,
        90.0,
    )
    assert (alert.method, alert.severity, alert.lower, alert.upper) == (
        "goalpost",
        "yellow",
        90.0,
        100.0,
    )
    assert alert.explanation == (
        "2025-06 西山区 网上办理率 70，未达目标值（合格区间 90–100，最差值 60；"
        "目标值与最差值：已用去目标至最差值差距的 66.7%）"
    )

    again = scan_indicator_values(now=NOW)

    assert counts(again) == {
        "created": 0,
        "updated": 1,
        "reopened": 0,
        "unchanged": 0,
        "resolved": 0,
    }
    assert Alert.objects.get(pk=alert.pk).occurrences == 2
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_value_outside_every_cycle_is_not_judged_against_goalposts(city: dict[str, Any]) -> None:
    indicator = make_indicator("G02", "网上办理率")
    cycle = EvaluationCycle.objects.create(
        code="2024", name="2024 年度", starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 12, 31)
    )
    Goalpost.objects.create(indicator=indicator, cycle=cycle, best=100, worst=60, target=90)
    put(indicator, city["district_b"], 10.0)

    assert scan_indicator_values(now=NOW).created == 0
    assert Alert.objects.count() == 0


@pytest.mark.django_db
def test_city_lagging_behind_the_best_benchmark_city(city: dict[str, Any]) -> None:
    slow = make_indicator("B01", "开办企业时间", direction="lower_is_better")
    close = make_indicator("B02", "获得电力时间", direction="lower_is_better")
    for indicator, value in ((slow, 3.0), (close, 2.15)):
        put(indicator, city["root"], value)
        # A district value is not compared with whole cities.
        put(indicator, city["district_b"], 9.0)
        Benchmark.objects.create(indicator=indicator, city="深圳市", period=JUNE, value=2.0)
        Benchmark.objects.create(indicator=indicator, city="杭州市", period=JUNE, value=2.5)

    result = scan_indicator_values(now=NOW)

    # 2.15 is 7.5 % behind 深圳市's 2: within the 10 % tolerance.
    assert result.created == 1
    alert = Alert.objects.get()
    assert (alert.indicator, alert.region, alert.kind, alert.period) == (
        slow,
        city["root"],
        "benchmark_lag",
        JUNE,
    )
    assert (alert.value, alert.expected, alert.method, alert.severity) == (
        3.0,
        2.0,
        "benchmark",
        "red",
    )
    assert alert.score == pytest.approx(0.5)
    assert alert.explanation.startswith(
        "2025-06 示范市 开办企业时间 3，落后于标杆城市深圳市（2）50%"
    )

    assert counts(scan_indicator_values(now=NOW))["updated"] == 1
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_higher_is_better_benchmark_picks_the_highest_city(city: dict[str, Any]) -> None:
    indicator = make_indicator("B03", "网上办理率")
    put(indicator, city["root"], 80.0)
    Benchmark.objects.create(indicator=indicator, city="深圳市", period=JUNE, value=95.0)
    Benchmark.objects.create(indicator=indicator, city="杭州市", period=JUNE, value=85.0)

    scan_indicator_values(now=NOW)

    alert = Alert.objects.get()
    assert (alert.kind, alert.expected, alert.lower, alert.upper) == (
        "benchmark_lag",
        95.0,
        85.5,
        95.0,
    )
    assert "落后于标杆城市深圳市（95）15.8%" in alert.explanation


def _dataset(code: str, name: str, stale_after_days: int = 3) -> Dataset:
    # The built-in datasets already exist; the others are made here.
    dataset, _ = Dataset.objects.update_or_create(
        code=code, defaults={"name": name, "stale_after_days": stale_after_days}
    )
    return dataset


def _loaded(dataset: Dataset, finished_at: dt.datetime) -> LoadBatch:
    return LoadBatch.objects.create(
        dataset=dataset,
        schema_version=1,
        channel="file",
        status="loaded",
        content_hash="x" * 64,
        finished_at=finished_at,
    )


@pytest.mark.django_db
def test_stale_and_never_loaded_sources(city: dict[str, Any]) -> None:
    done = make_indicator("BE15.06", "办结量")
    registered = make_indicator("BE01.02", "开办时间", direction="lower_is_better")
    stale = _dataset("gov_service_cases", "政务服务办件")
    _loaded(stale, NOW - dt.timedelta(days=20))
    _loaded(stale, NOW - dt.timedelta(days=10))
    fresh = _dataset("market_entities", "市场主体登记")
    _loaded(fresh, NOW - dt.timedelta(days=2))
    pulled = _dataset("enterprise_startup", "企业开办")
    PullSource.objects.create(
        dataset=pulled,
        department=city["market"],
        name="开办系统",
        kind="http_json",
        url="http://example.invalid/api",
        watermark_field="updated_at",
    )
    # Never loaded and nothing configured to pull it: not a finding.
    _dataset("tax_records", "税务数据")
    # Stale, but no indicator is computed from it: skipped.
    _loaded(_dataset("unused_source", "未使用数据"), NOW - dt.timedelta(days=30))

    result = scan_indicator_values(now=NOW)

    alerts = {a.indicator.code: a for a in Alert.objects.filter(kind="stale_source")}
    assert result.created == 2
    assert set(alerts) == {"BE15.06", "BE01.02"}
    lagging = alerts["BE15.06"]
    assert (lagging.indicator, lagging.region, lagging.value, lagging.expected) == (
        done,
        city["root"],
        10.0,
        3.0,
    )
    assert lagging.explanation == (
        "数据源“政务服务办件”已 10 天未更新，最近入库 2025-07-05"
        "（数据时效：超过 3 天未更新即视为陈旧）"
    )
    never = alerts["BE01.02"]
    assert (never.indicator, never.region, never.severity) == (registered, city["root"], "red")
    assert never.explanation.startswith("数据源“企业开办”已配置接入但从未成功入库")

    # A fresh load clears the lagging source: the scan resolves that alert itself.
    _loaded(stale, NOW - dt.timedelta(days=1))
    again = scan_indicator_values(now=NOW)
    assert counts(again) == {
        "created": 0,
        "updated": 1,
        "reopened": 0,
        "unchanged": 0,
        "resolved": 1,
    }
    assert Alert.objects.count() == 2
    cleared = Alert.objects.get(pk=lagging.pk)
    assert (cleared.status, cleared.occurrences) == ("resolved", 1)
    step = TransitionHistory.objects.filter(object_id=str(lagging.pk)).get()
    assert (step.action, step.from_state, step.to_state, step.actor_label, step.note) == (
        "auto_resolve",
        "open",
        "resolved",
        "系统",
        "条件已消除",
    )
    assert Alert.objects.get(pk=never.pk).status == "open"

    # Stale again five days later (same period: None): a recurrence, so it re-opens.
    later = scan_indicator_values(now=NOW + dt.timedelta(days=5))
    assert (later.reopened, later.resolved, later.created) == (1, 0, 0)
    back = Alert.objects.get(pk=lagging.pk)
    assert (back.status, back.auto_resolved_at, back.occurrences) == ("open", None, 2)


def _task(
    city: dict[str, Any], indicator: Indicator, region: Any, deadline: dt.date, status: str
) -> FillingTask:
    filling_round = FillingRound.objects.create(
        title="2025年6月填报", period=JUNE, working_days=5, deadline=deadline
    )
    return FillingTask.objects.create(
        round=filling_round,
        indicator=indicator,
        region=region,
        department=city["tax"],
        period=JUNE,
        deadline=deadline,
        status=status,
    )


@pytest.mark.django_db
def test_overdue_filling_tasks(city: dict[str, Any]) -> None:
    indicator = make_indicator("F01", "纳税时间", direction="lower_is_better")
    deadline = dt.date(2025, 7, 10)
    _task(city, indicator, city["district_b"], deadline, FillingStatus.OPEN)
    _task(city, indicator, city["district_a"], deadline, FillingStatus.SUBMITTED)
    _task(city, indicator, city["root"], dt.date(2025, 8, 29), FillingStatus.OPEN)

    result = scan_indicator_values(now=NOW)

    assert result.created == 1
    alert = Alert.objects.get()
    assert (alert.indicator, alert.region, alert.kind, alert.period, alert.value) == (
        indicator,
        city["district_b"],
        "overdue_filling",
        JUNE,
        5.0,
    )
    assert alert.explanation == (
        f"2025-06 西山区 纳税时间 填报已逾期 5 天（截止日期 2025-07-10，"
        f"填报部门 {city['tax'].name}）"
    )
    assert alert.severity == "blue"

    later = scan_indicator_values(now=NOW + dt.timedelta(days=10))

    assert counts(later) == {
        "created": 0,
        "updated": 1,
        "reopened": 0,
        "unchanged": 0,
        "resolved": 0,
    }
    refreshed = Alert.objects.get(pk=alert.pk)
    assert (refreshed.value, refreshed.severity) == (15.0, "red")
