"""Alert rules (预警规则) change what the scan finds, and alerts whose condition clears are
resolved by the scan itself (and re-open when the condition returns)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.core.models import Notification, TransitionHistory
from sizhen.core.workflow import TransitionNotAllowed
from sizhen.indicators.catalogue.models import EvaluationCycle, Goalpost, Indicator, IndicatorValue
from sizhen.monitoring.models import Alert, AlertRule
from sizhen.monitoring.rules import BUILTIN, RuleBook, merge
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.services import create_alert_rule, transition_alert, update_alert_rule
from sizhen.organisations import services as org
from sizhen.organisations.choices import RegionLevel

JUNE = dt.date(2025, 6, 1)
JULY = dt.date(2025, 7, 1)
AUGUST = dt.date(2025, 8, 1)
NOW = dt.datetime(2025, 9, 15, 10, 0, tzinfo=dt.UTC)


def make_indicator(code: str, name: str, **extra: Any) -> Indicator:
    return Indicator.objects.create(
        code=code,
        name=name,
        direction="higher_is_better",
        frequency="month",
        source_kind="records",
        level=2,
        **extra,
    )


def put(indicator: Indicator, region: Any, value: float, period: dt.date = JUNE) -> None:
    IndicatorValue.objects.update_or_create(
        indicator=indicator,
        region=region,
        period=period,
        source_kind="records",
        defaults={"frequency": "month", "value": value},
    )


def five_districts(city: dict[str, Any]) -> list[Any]:
    extra = [
        org.create_region(
            actor=None,
            code=f"44990{n}",
            name=name,
            level=RegionLevel.DISTRICT,
            parent=city["root"],
        )
        for n, name in ((3, "南湖区"), (4, "北山区"), (5, "中心区"))
    ]
    return [city["district_a"], city["district_b"], *extra]


def with_goalpost(indicator: Indicator) -> Indicator:
    cycle, _ = EvaluationCycle.objects.get_or_create(
        code="2025",
        defaults={
            "name": "2025 年度",
            "starts_on": dt.date(2025, 1, 1),
            "ends_on": dt.date(2025, 12, 31),
        },
    )
    Goalpost.objects.create(indicator=indicator, cycle=cycle, best=100, worst=60, target=90)
    return indicator


@pytest.mark.django_db
def test_indicator_rule_overrides_default_which_overrides_builtin(city: dict[str, Any]) -> None:
    indicator = make_indicator("R00", "网上办理率")
    default = create_alert_rule(actor=None, modified_z_threshold=4.0, yoy_threshold=4.5)
    own = create_alert_rule(
        actor=None, indicator=indicator, modified_z_threshold=6.0, enable_level_shift=False
    )

    rule = merge(own, default)

    assert (rule.modified_z_threshold, rule.yoy_threshold, rule.iqr_multiplier) == (6.0, 4.5, 1.5)
    assert (rule.sources["modified_z_threshold"], rule.sources["yoy_threshold"]) == (
        "indicator",
        "default",
    )
    assert rule.sources["iqr_multiplier"] == "builtin"
    assert (rule.enabled("level_shift"), rule.enabled("abnormal_change")) == (False, True)
    assert rule.label == "指标专属规则（第 1 版） > 默认规则（第 1 版） > 内置默认值"
    other = RuleBook().for_indicator(None)
    assert (other.modified_z_threshold, other.label) == (4.0, "默认规则（第 1 版） > 内置默认值")
    assert merge(None, None).values == BUILTIN


@pytest.mark.django_db
def test_raising_the_threshold_silences_a_planted_extreme(city: dict[str, Any]) -> None:
    indicator = make_indicator("R01", "新设企业数")
    # Median 100.5, robust SD 0.74: 104 is a modified z of 4.72, beyond 3.5 but not 5.
    for region, value in zip(five_districts(city), (100.0, 104.0, 101.0, 99.0, 100.5), strict=True):
        put(indicator, region, value)
    own = create_alert_rule(actor=None, indicator=indicator, modified_z_threshold=5.0)

    silenced = scan_indicator_values(now=NOW)

    assert (silenced.created, Alert.objects.count()) == (0, 0)

    create_alert_rule(actor=None, modified_z_threshold=4.0)
    update_alert_rule(own, actor=None, modified_z_threshold=None)
    found = scan_indicator_values(now=NOW)

    assert found.created == 1
    alert = Alert.objects.get()
    assert (alert.region, alert.kind, alert.method, alert.severity) == (
        city["district_b"],
        "cross_sectional_extreme",
        "modified_z",
        "yellow",
    )
    assert "阈值 4）" in alert.explanation
    assert alert.rule["text"] == (
        "适用规则：指标专属规则（第 2 版） > 默认规则（第 1 版） > 内置默认值；修正Z分数阈值 4"
    )
    assert alert.rule["thresholds"] == [["修正Z分数阈值", "4"]]


@pytest.mark.django_db
def test_log_scale_rule_switches_the_cross_sectional_method(city: dict[str, Any]) -> None:
    indicator = make_indicator("R02", "办件量", unit="件")
    for region, value in zip(five_districts(city), (100.0, 900.0, 120.0, 90.0, 110.0), strict=True):
        put(indicator, region, value)

    scan_indicator_values(now=NOW)
    automatic = Alert.objects.get()
    assert (automatic.region, automatic.method) == (city["district_b"], "iqr_log")
    assert automatic.rule["thresholds"] == [
        ["对数四分位距倍数", "1.5"],
        ["横向比较用对数", "自动（计数、金额类指标用对数）"],
    ]

    create_alert_rule(actor=None, indicator=indicator, log_scale="no")
    scan_indicator_values(now=NOW)
    assert Alert.objects.get(pk=automatic.pk).method == "modified_z"


@pytest.mark.django_db
def test_disabling_a_kind_closes_nothing_but_stops_new_ones(city: dict[str, Any]) -> None:
    indicator = with_goalpost(make_indicator("R03", "网上办理率"))
    put(indicator, city["district_b"], 70.0)
    scan_indicator_values(now=NOW)
    existing = Alert.objects.get()
    default = create_alert_rule(actor=None, enable_goalpost=False)
    put(indicator, city["district_a"], 75.0)

    result = scan_indicator_values(now=NOW)

    assert result.as_dict() == {
        "created": 0,
        "updated": 0,
        "reopened": 0,
        "unchanged": 0,
        "resolved": 0,
    }
    kept = Alert.objects.get()
    assert (kept.pk, kept.status, kept.occurrences) == (existing.pk, "open", 1)

    update_alert_rule(default, actor=None, enable_goalpost=None)
    again = scan_indicator_values(now=NOW)
    assert (again.created, again.updated) == (1, 1)
    assert Alert.objects.filter(region=city["district_a"], kind="goalpost_breach").count() == 1


@pytest.mark.django_db
def test_goalpost_breach_resolves_when_the_value_recovers_and_reopens_on_recurrence(
    city: dict[str, Any],
) -> None:
    indicator = with_goalpost(make_indicator("R04", "网上办理率"))
    put(indicator, city["district_b"], 70.0, JUNE)
    put(indicator, city["district_a"], 95.0, JUNE)
    scan_indicator_values(now=NOW)
    alert = Alert.objects.get()

    put(indicator, city["district_b"], 92.0, JULY)
    cleared = scan_indicator_values(now=NOW)

    assert (cleared.resolved, cleared.created) == (1, 0)
    resolved = Alert.objects.get(pk=alert.pk)
    assert (resolved.status, resolved.period) == ("resolved", JUNE)
    assert resolved.auto_resolved_at is not None
    step = TransitionHistory.objects.get(object_id=str(alert.pk))
    assert (step.action, step.actor_label, step.note) == ("auto_resolve", "系统", "条件已消除")

    # A rescan of an older period never resolves or touches the newer state.
    assert scan_indicator_values(periods=[JUNE], now=NOW).reopened == 1
    assert Alert.objects.get(pk=alert.pk).status == "open"
    assert scan_indicator_values(now=NOW).resolved == 1

    put(indicator, city["district_b"], 65.0, AUGUST)
    back = scan_indicator_values(now=NOW)

    assert (back.reopened, back.created, back.resolved) == (1, 0, 0)
    reopened = Alert.objects.get(pk=alert.pk)
    assert (reopened.status, reopened.period, reopened.value, reopened.auto_resolved_at) == (
        "open",
        AUGUST,
        65.0,
        None,
    )


@pytest.mark.django_db
def test_region_without_a_value_in_the_latest_period_is_not_resolved(
    city: dict[str, Any],
) -> None:
    indicator = with_goalpost(make_indicator("R05", "网上办理率"))
    put(indicator, city["district_b"], 70.0, JUNE)
    scan_indicator_values(now=NOW)
    put(indicator, city["district_a"], 95.0, JULY)

    result = scan_indicator_values(now=NOW)

    assert result.resolved == 0
    assert Alert.objects.get().status == "open"


@pytest.mark.django_db
def test_statistical_alerts_are_not_auto_resolved(city: dict[str, Any]) -> None:
    indicator = make_indicator("R06", "新设企业数")
    regions = five_districts(city)
    for region, value in zip(regions, (100.0, 300.0, 101.0, 99.0, 100.5), strict=True):
        put(indicator, region, value, JUNE)
    scan_indicator_values(now=NOW)
    alert = Alert.objects.get()
    for region, value in zip(regions, (100.0, 100.0, 101.0, 99.0, 100.5), strict=True):
        put(indicator, region, value, JULY)

    result = scan_indicator_values(now=NOW)

    assert result.resolved == 0
    assert Alert.objects.get(pk=alert.pk).status == "open"


@pytest.mark.django_db
def test_only_the_scan_may_auto_resolve(city: dict[str, Any], personas: dict[str, Any]) -> None:
    indicator = with_goalpost(make_indicator("R07", "网上办理率"))
    put(indicator, city["district_b"], 70.0)
    scan_indicator_values(now=NOW)
    alert = Alert.objects.get()

    with pytest.raises(TransitionNotAllowed, match="只有系统在预警条件消除后才能自动解决预警"):
        transition_alert(alert, "auto_resolve", actor=personas["coordinator"])

    unchanged = Alert.objects.get(pk=alert.pk)
    assert (unchanged.status, unchanged.version) == ("open", 1)
    assert not TransitionHistory.objects.filter(object_id=str(alert.pk)).exists()


@pytest.mark.django_db
def test_muted_indicator_raises_and_resolves_nothing(city: dict[str, Any]) -> None:
    indicator = with_goalpost(make_indicator("R08", "网上办理率"))
    put(indicator, city["district_b"], 70.0, JUNE)
    scan_indicator_values(now=NOW)
    alert = Alert.objects.get()
    create_alert_rule(actor=None, indicator=indicator, mute_until=dt.date(2025, 9, 15))
    put(indicator, city["district_a"], 60.0, JULY)
    put(indicator, city["district_b"], 95.0, JULY)

    muted = scan_indicator_values(now=NOW)

    assert (muted.created, muted.resolved, muted.updated) == (0, 0, 0)
    assert Alert.objects.get().status == "open"

    after = scan_indicator_values(now=NOW + dt.timedelta(days=1))
    assert (after.created, after.resolved) == (1, 1)
    assert Alert.objects.get(pk=alert.pk).status == "resolved"


@pytest.mark.django_db
def test_minimum_severity_to_notify(city: dict[str, Any], personas: dict[str, Any]) -> None:
    indicator = with_goalpost(make_indicator("R09", "网上办理率"))
    put(indicator, city["district_b"], 70.0)  # yellow
    put(indicator, city["district_a"], 80.0)  # blue
    create_alert_rule(actor=None, min_notify_severity="yellow")

    result = scan_indicator_values(now=NOW)

    assert result.created == 2
    [message] = Notification.objects.filter(recipient=personas["coordinator"])
    assert message.subject == "预警摘要：1 条新预警"
    assert message.body.startswith("【黄色·未达目标】网上办理率（西山区）：")


@pytest.mark.django_db
def test_rule_changes_are_versioned_and_audited(
    city: dict[str, Any], personas: dict[str, Any]
) -> None:
    from sizhen.core.models import AuditEvent

    rule = create_alert_rule(actor=personas["coordinator"], yoy_threshold=3.0)
    update_alert_rule(rule, actor=personas["coordinator"], yoy_threshold=4.0, note="春节波动大")
    update_alert_rule(rule, actor=personas["coordinator"], yoy_threshold=4.0, note="春节波动大")

    saved = AlertRule.objects.get(pk=rule.pk)
    assert (saved.version, saved.yoy_threshold, saved.updated_by) == (
        2,
        4.0,
        "coordinator（coordinator）",
    )
    events = list(AuditEvent.objects.filter(object_type="monitoring.alertrule").order_by("id"))
    assert [e.action for e in events] == ["alert_rule.create", "alert_rule.update"]
    assert events[1].before == {"yoy_threshold": 3.0, "note": "", "version": 1}
    assert events[1].after == {"yoy_threshold": 4.0, "note": "春节波动大", "version": 2}
