"""An item closed on an alert is reopened when the alert scan sees the finding come back."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from sizhen.core.jobs import run_pending
from sizhen.core.workflow import history_of
from sizhen.monitoring.models import Alert
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.services import transition_alert
from sizhen.monitoring.tests.test_alerts import JULY, plant_cross_section
from sizhen.monitoring.tests.test_alerts import planted as planted
from sizhen.rectification import services
from sizhen.rectification.choices import Judgement, Source
from sizhen.rectification.models import RectificationItem
from sizhen.rectification.tests.conftest import BY_EVIDENCE, pdf

pytestmark = pytest.mark.django_db


def _close_on_alert(alert: Alert, personas: dict[str, Any], city: dict[str, Any]) -> Any:
    coordinator, lead = personas["coordinator"], personas["lead_department"]
    item = services.create_item_from_alert(
        alert,
        actor=coordinator,
        title="西山区新设企业数异常",
        description="预警转整改",
        lead_department=city["market"],
        measures="核查数据并整改",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )
    services.transition_item(item, "accept", actor=lead)
    services.add_evidence(item, actor=lead, upload=pdf())
    services.transition_item(item, "submit", actor=lead, note="已整改")
    services.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )
    services.transition_item(item, "close", actor=coordinator)
    alert.refresh_from_db()
    transition_alert(alert, "resolve", actor=coordinator, note="整改已销号")
    return item


def test_recurring_alert_reopens_the_closed_item(
    city: dict[str, Any],
    personas: dict[str, Any],
    planted: dict[str, Any],
) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])
    item = _close_on_alert(alert, personas, city)
    run_pending()  # nothing recurred yet: the item stays closed
    assert RectificationItem.objects.get(pk=item.pk).status == "closed"

    plant_cross_section(city, JULY, 320.0)
    assert scan_indicator_values(periods=[JULY]).reopened == 1
    run_pending()

    item.refresh_from_db()
    assert (item.status, item.round) == ("reopened", 2)
    last = list(history_of(item))[-1]
    assert (last.action, last.actor_id) == ("reopen", None)
    assert f"编号 {alert.pk}" in last.note


def test_an_item_not_on_the_alert_is_left_alone(
    city: dict[str, Any],
    personas: dict[str, Any],
    planted: dict[str, Any],
) -> None:
    scan_indicator_values()
    alert = Alert.objects.get(indicator=planted["cross"])
    on_alert = _close_on_alert(alert, personas, city)
    other = services.create_item(
        actor=personas["coordinator"],
        title="东湖区企业开办环节多",
        description="评估反馈",
        source=Source.EVALUATION,
        region=city["district_a"],
        lead_department=city["market"],
        measures="推行一网通办",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )
    plant_cross_section(city, JULY, 320.0)
    scan_indicator_values(periods=[JULY])
    run_pending()

    assert RectificationItem.objects.get(pk=on_alert.pk).status == "reopened"
    assert RectificationItem.objects.get(pk=other.pk).status == "open"
