"""Alert digests: a scan's new or re-opened alerts reach each responsible person as one inbox
message (and one email), never one message per alert, and nothing is sent when nothing is new."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from sizhen.accounts.models import User
from sizhen.core.jobs import run_pending
from sizhen.core.models import Notification
from sizhen.indicators.catalogue.models import EvaluationCycle, Goalpost, Indicator, IndicatorValue
from sizhen.monitoring.models import Alert
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.services import transition_alert

JUNE = dt.date(2025, 6, 1)
JULY = dt.date(2025, 7, 1)
NOW = dt.datetime(2025, 7, 15, 10, 0, tzinfo=dt.UTC)


def breached(code: str, name: str, department: Any) -> Indicator:
    """An indicator with a 90 target whose values are planted below it."""
    indicator = Indicator.objects.create(
        code=code,
        name=name,
        direction="higher_is_better",
        frequency="month",
        source_kind="records",
        level=2,
        lead_department=department,
    )
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


def put(indicator: Indicator, region: Any, value: float, period: dt.date = JUNE) -> None:
    IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        period=period,
        frequency="month",
        source_kind="records",
        value=value,
    )


@pytest.fixture
def three_alerts(city: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    for name, user in personas.items():
        User.objects.filter(pk=user.pk).update(email=f"{name}@example.cn")
    online = breached("D01", "网上办理率", city["market"])
    tax = breached("D02", "纳税满意度", city["tax"])
    put(online, city["district_a"], 80.0)
    put(online, city["district_b"], 70.0)
    put(tax, city["district_b"], 78.0)
    return {"online": online, "tax": tax}


def inbox(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("id"))


@pytest.mark.django_db
def test_one_digest_per_recipient_for_three_new_alerts(
    city: dict[str, Any], personas: dict[str, Any], three_alerts: dict[str, Any]
) -> None:
    result = scan_indicator_values(now=NOW)

    assert result.created == 3
    assert Notification.objects.count() == 2
    [coordinator_message] = inbox(personas["coordinator"])
    assert coordinator_message.subject == "预警摘要：3 条新预警"
    assert coordinator_message.category == "alert_digest"
    assert coordinator_message.link == "/monitoring/alerts/"
    lines = coordinator_message.body.split("\n")
    assert len(lines) == 3
    # Highest impact first: 70 used more of the gap than 78, which used more than 80.
    assert lines[0].startswith(
        "【黄色·未达目标】网上办理率（西山区）：2025-06 西山区 网上办理率 70"
    )
    assert lines[1].startswith("【蓝色·未达目标】纳税满意度（西山区）：")
    assert lines[2].startswith("【蓝色·未达目标】网上办理率（东湖区）：")
    # The market department leads only 网上办理率: its two alerts, in one message.
    [department_message] = inbox(personas["lead_department"])
    assert department_message.subject == "预警摘要：2 条新预警"
    assert [line.split("：")[0] for line in department_message.body.split("\n")] == [
        "【黄色·未达目标】网上办理率（西山区）",
        "【蓝色·未达目标】网上办理率（东湖区）",
    ]
    for name in ("leader", "responsible_department", "district_a", "enterprise", "sysadmin"):
        assert inbox(personas[name]) == []

    assert run_pending() >= 1

    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("coordinator@example.cn", "【四诊】预警摘要：3 条新预警"),
        ("lead_department@example.cn", "【四诊】预警摘要：2 条新预警"),
    ]
    assert "网上办理率（东湖区）" in mail.outbox[0].body


@pytest.mark.django_db
def test_nothing_new_sends_nothing(personas: dict[str, Any], three_alerts: dict[str, Any]) -> None:
    scan_indicator_values(now=NOW)
    run_pending()
    mail.outbox.clear()

    again = scan_indicator_values(now=NOW)
    run_pending()

    assert again.as_dict() == {
        "created": 0,
        "updated": 3,
        "reopened": 0,
        "unchanged": 0,
        "resolved": 0,
    }
    assert Notification.objects.count() == 2
    assert mail.outbox == []


@pytest.mark.django_db
def test_reopened_alert_is_in_the_next_digest(
    city: dict[str, Any], personas: dict[str, Any], three_alerts: dict[str, Any]
) -> None:
    scan_indicator_values(now=NOW)
    coordinator = personas["coordinator"]
    alert = Alert.objects.get(indicator=three_alerts["tax"])
    transition_alert(alert, "acknowledge", actor=coordinator)
    transition_alert(alert, "resolve", actor=coordinator, note="已整改")
    put(three_alerts["tax"], city["district_b"], 72.0, period=JULY)

    result = scan_indicator_values(periods=[JULY], now=NOW)

    assert (result.created, result.reopened) == (0, 1)
    latest = inbox(coordinator)[-1]
    assert len(inbox(coordinator)) == 2
    assert latest.subject == "预警摘要：1 条新预警"
    assert latest.body.startswith(
        "【黄色·未达目标】纳税满意度（西山区）：2025-07 西山区 纳税满意度 72"
    )
    # The market department leads no re-opened indicator, so its inbox is unchanged.
    assert len(inbox(personas["lead_department"])) == 1


@pytest.mark.django_db
def test_no_recipients_means_no_message(city: dict[str, Any]) -> None:
    indicator = breached("D03", "网上办理率", None)
    put(indicator, city["district_b"], 70.0)

    assert scan_indicator_values(now=NOW).created == 1
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_a_long_digest_names_five_alerts_with_links_and_counts_the_rest(
    city: dict[str, Any], personas: dict[str, Any]
) -> None:
    # Seven indicators of the market department, each below target in 西山区: seven alerts.
    for number in range(1, 8):
        indicator = breached(f"D1{number}", f"指标{number}", city["market"])
        put(indicator, city["district_b"], 60.0 + number)

    assert scan_indicator_values(now=NOW).created == 7

    alerts = list(Alert.objects.order_by("-impact", "pk"))
    [coordinator_message] = inbox(personas["coordinator"])
    assert coordinator_message.subject == "预警摘要：7 条新预警"
    lines = coordinator_message.body.split("\n")
    assert len(lines) == 6
    assert lines[0].startswith("【橙色·未达目标】指标1（西山区）：2025-06 西山区 指标1 61，")
    assert lines[5] == "另有 2 条新预警，请在预警列表中查看"
    assert [entry["link"] for entry in coordinator_message.items] == [
        *[f"/monitoring/alerts/{a.pk}/" for a in alerts[:5]],
        "/monitoring/alerts/?status=open",
    ]
    assert [entry["text"] for entry in coordinator_message.items] == lines
    # The lead department's "more" link lists the alerts of the indicators it leads.
    [department_message] = inbox(personas["lead_department"])
    assert department_message.items[-1] == {
        "text": "另有 2 条新预警，请在预警列表中查看",
        "link": f"/monitoring/alerts/?status=open&lead_department={city['market'].pk}",
    }


@pytest.mark.django_db
def test_the_lead_department_filter_of_the_alert_list(
    city: dict[str, Any], personas: dict[str, Any], client_for: Any, three_alerts: dict[str, Any]
) -> None:
    scan_indicator_values(now=NOW)
    client = client_for("coordinator")
    response = client.get(f"/monitoring/alerts/?status=open&lead_department={city['tax'].pk}")
    assert response.status_code == 200
    assert [a.indicator.code for a in response.context["page"].object_list] == ["D02"]
    response = client.get(f"/monitoring/alerts/?status=open&lead_department={city['market'].pk}")
    assert sorted(a.region.code for a in response.context["page"].object_list) == [
        "449901",
        "449902",
    ]
