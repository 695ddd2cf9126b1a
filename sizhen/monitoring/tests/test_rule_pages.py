"""The alert-rule pages (预警规则): only the coordinating office and system administrators may
list, add, edit or delete rules; bad input is refused with Chinese messages and changes nothing;
every alert's page names the rule and thresholds that produced it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from sizhen.core.models import AuditEvent
from sizhen.indicators.catalogue.models import EvaluationCycle, Goalpost, Indicator, IndicatorValue
from sizhen.monitoring.models import Alert, AlertRule
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.services import create_alert_rule

pytestmark = pytest.mark.django_db

LIST = "/monitoring/alerts/rules/"
NEW = "/monitoring/alerts/rules/new/"
DENIED = ["leader", "lead_department", "responsible_department", "district_a", "enterprise"]


@pytest.fixture
def indicator(city: dict[str, Any]) -> Indicator:
    return Indicator.objects.create(
        code="P01",
        name="网上办理率",
        direction="higher_is_better",
        frequency="month",
        source_kind="records",
        level=2,
    )


def _snapshot() -> list[tuple[Any, ...]]:
    return list(AlertRule.objects.order_by("pk").values_list("pk", "version", "yoy_threshold"))


@pytest.mark.parametrize("name", ["coordinator", "sysadmin"])
def test_managers_see_the_rule_list(client_for: Any, personas: dict[str, Any], name: str) -> None:
    create_alert_rule(actor=None, yoy_threshold=4.0, enable_level_shift=False)

    response = client_for(name).get(LIST)

    assert response.status_code == 200
    text = response.content.decode()
    assert "全部指标（默认规则）" in text
    assert "水平突变" in text
    assert "新增规则" in text


@pytest.mark.parametrize("name", DENIED)
def test_other_roles_get_404_and_change_nothing(
    client_for: Any, personas: dict[str, Any], name: str
) -> None:
    rule = create_alert_rule(actor=None, yoy_threshold=4.0)
    before = _snapshot()
    client = client_for(name)

    assert client.get(LIST).status_code == 404
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, {"yoy_threshold": "5"}).status_code == 404
    assert client.get(f"{LIST}{rule.pk}/").status_code == 404
    assert client.post(f"{LIST}{rule.pk}/", {"yoy_threshold": "9"}).status_code == 404
    assert client.post(f"{LIST}{rule.pk}/delete/").status_code == 404

    assert _snapshot() == before
    assert AuditEvent.objects.filter(action="access.denied").count() == 6


def test_anonymous_is_sent_to_login(client_for: Any) -> None:
    response = client_for(None).post(NEW, {"yoy_threshold": "5"})

    assert response.status_code == 302
    assert "/login" in response["Location"] or "/accounts/" in response["Location"]
    assert AlertRule.objects.count() == 0


def test_coordinator_adds_the_default_rule_and_an_indicator_rule(
    client_for: Any, personas: dict[str, Any], indicator: Indicator
) -> None:
    client = client_for("coordinator")
    assert client.get(NEW).status_code == 200

    response = client.post(
        NEW,
        {
            "modified_z_threshold": "4",
            "enable_level_shift": "false",
            "min_notify_severity": "orange",
            "note": "区县数少，放宽阈值",
        },
    )

    assert response.status_code == 302
    default = AlertRule.objects.get()
    assert (default.indicator, default.modified_z_threshold, default.enable_level_shift) == (
        None,
        4.0,
        False,
    )
    assert (default.enable_goalpost, default.yoy_threshold, default.min_notify_severity) == (
        None,
        None,
        "orange",
    )
    assert (default.version, default.updated_by) == (1, "coordinator（coordinator）")

    second = client.post(NEW, {"indicator": str(indicator.pk), "log_scale": "yes"})
    assert second.status_code == 302
    own = AlertRule.objects.get(indicator=indicator)
    assert own.log_scale == "yes"
    assert [e.action for e in AuditEvent.objects.filter(object_type="monitoring.alertrule")] == [
        "alert_rule.create",
        "alert_rule.create",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"modified_z_threshold": "-1"}, "“修正Z分数阈值”须为正数"),
        ({"iqr_multiplier": "0.2"}, "“对数四分位距倍数”须在 0.5 到 10 之间，收到 0.2"),
        ({"hampel_window": "200"}, "“Hampel 窗口（期）”须在 6 到 120 之间，收到 200"),
        ({"level_shift_points": "2"}, "“水平突变连续期数”须在 3 到 12 之间，收到 2"),
        ({"yoy_threshold": "abc"}, "“同比变化阈值”须为数字"),
        ({"mute_until": "2000-01-01"}, "静默截止日期不能早于今天"),
        ({"mute_until": "明天"}, "请输入有效日期，如 2026-12-31"),
        ({"enable_goalpost": "maybe"}, "选择一个有效的选项"),
    ],
)
def test_invalid_rule_is_refused_with_a_chinese_message(
    client_for: Any, personas: dict[str, Any], data: dict[str, str], message: str
) -> None:
    response = client_for("coordinator").post(NEW, data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert AlertRule.objects.count() == 0
    assert not AuditEvent.objects.filter(object_type="monitoring.alertrule").exists()


def test_second_rule_for_the_same_scope_is_refused(
    client_for: Any, personas: dict[str, Any], indicator: Indicator
) -> None:
    create_alert_rule(actor=None)
    create_alert_rule(actor=None, indicator=indicator)
    before = _snapshot()
    client = client_for("coordinator")

    default = client.post(NEW, {"yoy_threshold": "5"})
    own = client.post(NEW, {"indicator": str(indicator.pk), "yoy_threshold": "5"})

    assert default.status_code == 400
    assert "默认规则已存在，请编辑原规则" in default.content.decode()
    assert own.status_code == 400
    assert "指标“网上办理率”已有预警规则，请编辑原规则" in own.content.decode()
    assert _snapshot() == before


def test_edit_bumps_the_version_and_audits_before_and_after(
    client_for: Any, personas: dict[str, Any], indicator: Indicator
) -> None:
    rule = create_alert_rule(actor=None, indicator=indicator, yoy_threshold=3.0)
    client = client_for("sysadmin")
    page = client.get(f"{LIST}{rule.pk}/")
    assert page.status_code == 200
    assert "编辑预警规则：网上办理率（第 1 版）" in page.content.decode()

    response = client.post(
        f"{LIST}{rule.pk}/",
        {"indicator": str(indicator.pk), "yoy_threshold": "4.5", "note": "春节月份波动大"},
    )

    assert response.status_code == 302
    saved = AlertRule.objects.get(pk=rule.pk)
    assert (saved.version, saved.yoy_threshold, saved.note) == (2, 4.5, "春节月份波动大")
    event = AuditEvent.objects.get(action="alert_rule.update")
    assert event.before == {"yoy_threshold": 3.0, "note": "", "version": 1}
    assert event.after == {"yoy_threshold": 4.5, "note": "春节月份波动大", "version": 2}


def test_invalid_edit_changes_nothing(
    client_for: Any, personas: dict[str, Any], indicator: Indicator
) -> None:
    rule = create_alert_rule(actor=None, indicator=indicator, yoy_threshold=3.0)
    before = _snapshot()

    response = client_for("coordinator").post(
        f"{LIST}{rule.pk}/", {"indicator": str(indicator.pk), "yoy_threshold": "0"}
    )

    assert response.status_code == 400
    assert "“同比变化阈值”须为正数" in response.content.decode()
    assert _snapshot() == before


def test_delete_falls_back_to_the_default(
    client_for: Any, personas: dict[str, Any], indicator: Indicator
) -> None:
    rule = create_alert_rule(actor=None, indicator=indicator, yoy_threshold=3.0)

    response = client_for("coordinator").post(f"{LIST}{rule.pk}/delete/")

    assert response.status_code == 302
    assert AlertRule.objects.count() == 0
    event = AuditEvent.objects.get(action="alert_rule.delete")
    assert (event.object_id, event.before["yoy_threshold"]) == (str(rule.pk), 3.0)


def test_alert_page_names_the_rule_and_thresholds_and_offers_no_system_steps(
    client_for: Any, city: dict[str, Any], personas: dict[str, Any], indicator: Indicator
) -> None:
    cycle = EvaluationCycle.objects.create(
        code="2025", name="2025 年度", starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 12, 31)
    )
    Goalpost.objects.create(indicator=indicator, cycle=cycle, best=100, worst=60, target=90)
    IndicatorValue.objects.create(
        indicator=indicator,
        region=city["district_b"],
        period=dt.date(2025, 6, 1),
        frequency="month",
        source_kind="records",
        value=70.0,
    )
    create_alert_rule(actor=None, indicator=indicator, yoy_threshold=4.0)
    scan_indicator_values(now=timezone.now())
    alert = Alert.objects.get()
    client = client_for("coordinator")

    page = client.get(f"/monitoring/alerts/{alert.pk}/").content.decode()

    assert "适用规则：指标专属规则（第 1 版） &gt; 内置默认值；目标值检查 启用" in page
    assert 'data-testid="do-auto_resolve"' not in page
    assert 'data-testid="do-reopen"' not in page

    refused = client.post(f"/monitoring/alerts/{alert.pk}/auto_resolve/", {"status": "open"})
    assert refused.status_code == 302
    assert Alert.objects.get(pk=alert.pk).status == "open"


def test_navigation_offers_rules_to_managers_only(
    client_for: Any, personas: dict[str, Any]
) -> None:
    assert LIST in client_for("coordinator").get("/m/monitoring/").content.decode()
    leader = client_for("leader").get("/m/monitoring/").content.decode()
    assert "/monitoring/alerts/" in leader
    assert LIST not in leader
