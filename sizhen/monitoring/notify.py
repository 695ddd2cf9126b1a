"""Alert digests (预警摘要): after a scan, each responsible person gets one message listing the
alerts that scan created or re-opened, never one message per alert. The message names the most
impactful few, each with its link, and says how many more there are with a link to the alerts
awaiting handling (a scan may find dozens: a message of dozens of lines is read by no one)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from sizhen.core.notifications import coordinators, notify
from sizhen.core.roles import Role
from sizhen.monitoring.models import Alert, AlertKind, Severity
from sizhen.monitoring.workflow import OPEN

CATEGORY = "alert_digest"
#: How many alerts a digest names; the rest are counted and linked.
DIGEST_SHOWN = 5


def _line(alert: Alert) -> str:
    severity = Severity(alert.severity).label
    kind = AlertKind(alert.kind).label
    return f"【{severity}·{kind}】{alert.indicator.name}（{alert.region.name}）：{alert.headline}"


def digest_recipients(alerts: Iterable[Alert]) -> dict[int, tuple[Any, list[Alert]]]:
    """Recipient id → (user, their alerts): the coordinators (营商办) see every alert, the users
    of an indicator's lead department (牵头部门) the alerts of their indicators."""
    User = get_user_model()
    alerts = list(alerts)
    office = coordinators()
    lead_ids = {a.indicator.lead_department_id for a in alerts if a.indicator.lead_department_id}
    by_department: dict[int, list[Any]] = defaultdict(list)
    for user in User.objects.filter(department_id__in=lead_ids, is_active=True).order_by("pk"):
        if user.department_id is not None:
            by_department[user.department_id].append(user)
    out: dict[int, tuple[Any, list[Alert]]] = {}
    for alert in alerts:
        lead_id = alert.indicator.lead_department_id
        leads = by_department[lead_id] if lead_id is not None else []
        for user in [*office, *leads]:
            _, items = out.setdefault(user.pk, (user, []))
            if alert not in items:
                items.append(alert)
    return out


def send_alert_digest(alert_ids: Iterable[int]) -> int:
    """Notify each responsible person once about the given alerts; returns how many people."""
    ids = list(alert_ids)
    if not ids:
        return 0
    alerts = list(
        Alert.objects.filter(pk__in=ids)
        .select_related("indicator", "region")
        .order_by("-impact", "pk")
    )
    link = reverse("monitoring:alert_list")
    recipients = digest_recipients(alerts)
    with transaction.atomic():
        for user, items in recipients.values():
            entries = digest_entries(items, more_link=_more_link(user))
            notify(
                [user],
                subject=f"预警摘要：{len(items)} 条新预警",
                body="\n".join(entry["text"] for entry in entries),
                link=link,
                category=CATEGORY,
                items=entries,
            )
    return len(recipients)


def _more_link(user: Any) -> str:
    """The alerts awaiting handling; a lead department's, those of the indicators it leads."""
    query = f"?status={OPEN}"
    if user.role != Role.COORDINATOR and user.department_id is not None:
        query += f"&lead_department={user.department_id}"
    return reverse("monitoring:alert_list") + query


def digest_entries(alerts: list[Alert], *, more_link: str) -> list[dict[str, str]]:
    """The first ``DIGEST_SHOWN`` alerts (most impactful first), each with its page, then
    "另有 M 条" linking to ``more_link``."""
    entries = [
        {"text": _line(a), "link": reverse("monitoring:alert_detail", args=[a.pk])}
        for a in alerts[:DIGEST_SHOWN]
    ]
    more = len(alerts) - DIGEST_SHOWN
    if more > 0:
        entries.append(
            {
                "text": f"另有 {more} 条新预警，请在预警列表中查看",
                "link": more_link,
            }
        )
    return entries
