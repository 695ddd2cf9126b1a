"""Alert scans and the alert lifecycle: planted indicator values produce explainable alerts,
deduplicated per indicator, region and kind, moved only through the workflow engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.workflow import TransitionConflict, TransitionNotAllowed
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.monitoring.models import Alert
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.services import transition_alert
from sizhen.organisations import services as org
from sizhen.organisations.choices import RegionLevel

JUNE = dt.date(2025, 6, 1)
JULY = dt.date(2025, 7, 1)


def add_districts(city: dict[str, Any]) -> list[Any]:
    """Three more districts so the city has five: enough for a cross-section verdict."""
    return [
        org.create_region(
            actor=None,
            code=f"44990{n}",
            name=name,
            level=RegionLevel.DISTRICT,
            parent=city["root"],
        )
        for n, name in ((3, "南湖区"), (4, "北山区"), (5, "中心区"))
    ]


def make_indicator(code: str, name: str, weight: float = 1.0) -> Indicator:
    return Indicator.objects.create(
        code=code,
        name=name,
        direction="higher_is_better",
        frequency="month",
        source_kind="records",
        weight=weight,
        level=2,
    )


def put(indicator: Indicator, region: Any, period: dt.date, value: float, kind: str = "") -> None:
    IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        period=period,
        frequency="month",
        source_kind=kind or indicator.source_kind,
        value=value,
    )


def plant_cross_section(city: dict[str, Any], period: dt.date, outlier: float) -> Indicator:
    indicator = Indicator.objects.filter(code="T01").first() or make_indicator("T01", "新设企业数")
    regions = [city["district_a"], city["district_b"], *_extra(city)]
    for region, value in zip(regions, (100.0, outlier, 101.0, 99.0, 100.5), strict=True):
        put(indicator, region, period, value)
    return indicator


def _extra(city: dict[str, Any]) -> list[Any]:
    from sizhen.organisations.models import Region

    return list(Region.objects.filter(code__in=["449903", "449904", "449905"]).order_by("code"))


def plant_series(region: Any, spike: float) -> Indicator:
    """24 months of a steady series for one district whose last month jumps."""
    indicator = make_indicator("T02", "办件量")
    for i in range(24):
        period = dt.date(2024 + i // 12, i % 12 + 1, 1)
        value = spike if i == 23 else 100.0 + (i % 3)
        put(indicator, region, period, value)
    return indicator


@pytest.fixture
def planted(city: dict[str, Any]) -> dict[str, Any]:
    add_districts(city)
    cross = plant_cross_section(city, JUNE, 300.0)
    series = plant_series(city["district_a"], 180.0)
    return {"cross": cross, "series": series}


@pytest.mark.django_db
def test_scan_creates_explained_alerts_of_the_right_kind_and_region(
    city: dict[str, Any], planted: dict[str, Any]
) -> None:
    result = scan_indicator_values()

    assert result.as_dict() == {
        "created": 2,
        "updated": 0,
        "reopened": 0,
        "unchanged": 0,
        "resolved": 0,
    }
    cross = Alert.objects.get(indicator=planted["cross"])
    assert (cross.region, cross.kind, cross.period) == (
        city["district_b"],
        "cross_sectional_extreme",
        JUNE,
    )
    assert (cross.status, cross.value, cross.method, cross.severity) == (
        "open",
        300.0,
        "modified_z",
        "red",
    )
    assert cross.expected == 100.5
    assert cross.upper is not None and cross.upper < 300.0
    assert "西山区" in cross.explanation and "新设企业数" in cross.explanation
    assert len(cross.points) == 5
    assert cross.impact == round(abs(cross.score) / 3.5, 4)
    change = Alert.objects.get(indicator=planted["series"])
    assert (change.region, change.kind, change.period, change.value) == (
        city["district_a"],
        "abnormal_change",
        dt.date(2025, 12, 1),
        180.0,
    )
    assert "东湖区" in change.explanation
    scans = AuditEvent.objects.filter(action="alert.scan")
    assert [e.after for e in scans] == [result.as_dict()]


@pytest.mark.django_db
def test_cross_section_of_four_districts_gives_no_verdict(city: dict[str, Any]) -> None:
    indicator = make_indicator("T03", "纳税时间")
    for region, value in zip(
        [city["district_a"], city["district_b"], *add_districts(city)[:2]],
        (100.0, 500.0, 101.0, 99.0),
        strict=True,
    ):
        put(indicator, region, JUNE, value)

    assert scan_indicator_values().created == 0
    assert Alert.objects.count() == 0


@pytest.mark.django_db
def test_values_of_another_source_kind_are_not_scanned(city: dict[str, Any]) -> None:
    add_districts(city)
    indicator = make_indicator("T04", "开办时间")
    for region, value in zip(
        [city["district_a"], city["district_b"], *_extra(city)],
        (100.0, 300.0, 101.0, 99.0, 100.5),
        strict=True,
    ):
        put(indicator, region, JUNE, value, kind="filling")

    assert scan_indicator_values().created == 0
    assert Alert.objects.count() == 0


@pytest.mark.django_db
def test_second_scan_updates_instead_of_duplicating(planted: dict[str, Any]) -> None:
    scan_indicator_values()
    first = Alert.objects.get(indicator=planted["cross"])

    result = scan_indicator_values()

    assert result.as_dict() == {
        "created": 0,
        "updated": 2,
        "reopened": 0,
        "unchanged": 0,
        "resolved": 0,
    }
    assert Alert.objects.count() == 2
    again = Alert.objects.get(pk=first.pk)
    assert (again.occurrences, again.version) == (2, 2)
    assert again.first_seen_at == first.first_seen_at
    assert again.last_seen_at > first.last_seen_at
    assert AuditEvent.objects.filter(action="alert.scan").count() == 2


@pytest.mark.django_db
def test_lifecycle_through_the_engine(personas: dict[str, Any], planted: dict[str, Any]) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])
    coordinator = personas["coordinator"]

    transition_alert(alert, "acknowledge", actor=coordinator)
    with pytest.raises(TransitionNotAllowed, match="请选择承办部门"):
        transition_alert(alert, "assign", actor=coordinator, note="请核实")
    department = personas["responsible_department"].department
    transition_alert(alert, "assign", actor=coordinator, note="请核实数据", department=department)
    transition_alert(alert, "resolve", actor=coordinator, note="已核实整改")

    alert.refresh_from_db()
    assert (alert.status, alert.note, alert.assigned_department) == (
        "resolved",
        "已核实整改",
        department,
    )
    steps = TransitionHistory.objects.filter(object_id=str(alert.pk), workflow="alert")
    assert [(h.action, h.from_state, h.to_state) for h in steps.order_by("id")] == [
        ("acknowledge", "open", "acknowledged"),
        ("assign", "acknowledged", "assigned"),
        ("resolve", "assigned", "resolved"),
    ]


@pytest.mark.django_db
def test_dismiss_without_reason_is_refused(
    personas: dict[str, Any], planted: dict[str, Any]
) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])

    with pytest.raises(TransitionNotAllowed, match="需要填写理由"):
        transition_alert(alert, "dismiss", actor=personas["coordinator"], note="  ")

    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason, alert.version) == ("open", "", 1)
    transition_alert(alert, "dismiss", actor=personas["coordinator"], note="统计口径调整")
    alert.refresh_from_db()
    assert (alert.status, alert.dismiss_reason) == ("dismissed", "统计口径调整")
    with pytest.raises(TransitionNotAllowed, match="终结状态"):
        transition_alert(alert, "acknowledge", actor=personas["coordinator"])


@pytest.mark.django_db
def test_roles_outside_the_workflow_are_refused(
    personas: dict[str, Any], planted: dict[str, Any]
) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])

    with pytest.raises(TransitionNotAllowed, match="营商办或被指派的部门"):
        transition_alert(alert, "acknowledge", actor=personas["district_b"])
    with pytest.raises(TransitionNotAllowed, match="无权"):
        transition_alert(alert, "dismiss", actor=personas["leader"], note="不需要")
    with pytest.raises(TransitionNotAllowed, match="不能执行该操作（reopen）"):
        transition_alert(alert, "reopen", actor=personas["coordinator"])

    alert.refresh_from_db()
    assert (alert.status, alert.version) == ("open", 1)
    assert not TransitionHistory.objects.filter(workflow="alert").exists()


@pytest.mark.django_db
def test_assigned_department_may_acknowledge(
    personas: dict[str, Any], planted: dict[str, Any]
) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])
    officer = personas["responsible_department"]
    Alert.objects.filter(pk=alert.pk).update(assigned_department=officer.department)
    alert.refresh_from_db()

    transition_alert(alert, "acknowledge", actor=officer)

    assert Alert.objects.get(pk=alert.pk).status == "acknowledged"


@pytest.mark.django_db
def test_stale_page_is_a_conflict(personas: dict[str, Any], planted: dict[str, Any]) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])
    transition_alert(alert, "acknowledge", actor=personas["coordinator"])

    with pytest.raises(TransitionConflict):
        transition_alert(
            alert, "dismiss", actor=personas["coordinator"], note="重复", seen_status="open"
        )

    assert Alert.objects.get(pk=alert.pk).status == "acknowledged"


def _resolve(alert: Alert, actor: Any) -> None:
    transition_alert(alert, "acknowledge", actor=actor)
    transition_alert(alert, "resolve", actor=actor)


@pytest.mark.django_db
def test_resolved_alert_reopens_when_the_finding_recurs(
    city: dict[str, Any], personas: dict[str, Any], planted: dict[str, Any]
) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])
    _resolve(alert, personas["coordinator"])
    with pytest.raises(TransitionNotAllowed, match="由系统重新打开"):
        transition_alert(alert, "reopen", actor=personas["coordinator"])

    # The same month seen again by the next scheduled scan is not a recurrence.
    assert scan_indicator_values().unchanged == 1
    assert Alert.objects.get(pk=alert.pk).status == "resolved"

    plant_cross_section(city, JULY, 320.0)
    result = scan_indicator_values(periods=[JULY])

    assert (result.reopened, result.created) == (1, 0)
    again = Alert.objects.get(pk=alert.pk)
    assert (again.status, again.period, again.value, again.occurrences) == (
        "open",
        JULY,
        320.0,
        2,
    )
    last = TransitionHistory.objects.filter(object_id=str(alert.pk)).order_by("id").last()
    assert last is not None
    assert (last.action, last.from_state, last.to_state, last.actor_label) == (
        "reopen",
        "resolved",
        "open",
        "系统",
    )


@pytest.mark.django_db
def test_dismissed_alert_stays_dismissed_when_the_finding_recurs(
    city: dict[str, Any], personas: dict[str, Any], planted: dict[str, Any]
) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])
    transition_alert(alert, "dismiss", actor=personas["coordinator"], note="口径差异")
    plant_cross_section(city, JULY, 320.0)

    result = scan_indicator_values(periods=[JULY])

    assert (result.reopened, result.unchanged) == (0, 1)
    kept = Alert.objects.get(pk=alert.pk)
    assert (kept.status, kept.period, kept.occurrences) == ("dismissed", JUNE, 1)


@pytest.mark.django_db
def test_scan_job_is_registered_and_scheduled(planted: dict[str, Any]) -> None:
    from sizhen.core.jobs import REGISTRY, SCHEDULES, enqueue, run_pending

    assert SCHEDULES["monitoring.scan"].every == dt.timedelta(hours=6)
    job = enqueue("monitoring.scan", periods=["2025-06-01"])
    assert REGISTRY["monitoring.scan"].label == "预警扫描"

    assert run_pending(limit=1) == 1

    job.refresh_from_db()
    assert (job.status, job.result) == (
        "succeeded",
        {"created": 1, "updated": 0, "reopened": 0, "unchanged": 0, "resolved": 0},
    )
    assert Alert.objects.get().indicator == planted["cross"]


@pytest.mark.django_db
def test_convert_records_the_target_and_keeps_the_alert_active(
    personas: dict[str, Any], planted: dict[str, Any]
) -> None:
    from sizhen.monitoring.services import convert_alert

    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])
    with pytest.raises(TransitionNotAllowed):
        convert_alert(
            alert, target_kind="work_task", target_id=7, actor=personas["lead_department"]
        )
    with pytest.raises(TransitionNotAllowed, match="请指明"):
        convert_alert(alert, target_kind="", target_id=7, actor=personas["coordinator"])

    convert_alert(alert, target_kind="work_task", target_id=7, actor=personas["coordinator"])

    alert.refresh_from_db()
    assert (alert.status, alert.converted_kind, alert.converted_id) == ("converted", "work_task", 7)
    history = TransitionHistory.objects.filter(action="convert").get()
    assert (history.from_state, history.to_state) == ("open", "converted")
    transition_alert(alert, "resolve", actor=personas["coordinator"], note="任务已完成")
    alert.refresh_from_db()
    assert alert.status == "resolved"
