"""Reads on alerts, always through the access scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from sizhen.core.access import VIEW, Actor, role_of
from sizhen.core.roles import DEPARTMENT_ROLES, DEPARTMENT_STAFF_ROLES, STAFF_ROLES, Role
from sizhen.core.workqueue import KeyFigure, Queue
from sizhen.monitoring.models import Alert, Severity
from sizhen.monitoring.workflow import ACKNOWLEDGED, ACTIVE_STATES, ASSIGNED, OPEN


def list_alerts(
    actor: Actor,
    *,
    indicator: str = "",
    region: str = "",
    period: dt.date | None = None,
    status: str = "",
    action: str = VIEW,
) -> QuerySet[Alert]:
    """Alerts the actor may see, most impactful first; filters by indicator and region code."""
    qs = Alert.objects.visible_to(actor, action).select_related(
        "indicator", "region", "assigned_department", "department"
    )
    if indicator:
        qs = qs.filter(indicator__code=indicator)
    if region:
        qs = qs.filter(region__code=region)
    if period is not None:
        qs = qs.filter(period=period)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-impact", "pk")


# --- the home page's work queue and key figures (sizhen/core/workqueue.py) -------------------

MODULE = "预警"
#: Alerts nobody has disposed of yet (未处置), as the cockpit counts them.
UNDISPOSED = (OPEN, ACKNOWLEDGED, ASSIGNED)


def list_assigned_to_unit(actor: Actor) -> QuerySet[Alert]:
    """Alerts assigned (交办) to the actor's department, still to be dealt with."""
    department_id = getattr(actor, "department_id", None)
    if department_id is None:
        return Alert.objects.none()
    return Alert.objects.visible_to(actor).filter(
        status=ASSIGNED, assigned_department_id=department_id
    )


WORK_QUEUES = (
    Queue(
        "open",
        "待处理的新预警",
        MODULE,
        frozenset({Role.COORDINATOR}),
        lambda actor: Alert.objects.visible_to(actor).filter(status=OPEN),
        "monitoring:alert_list",
        deadline="",
    ),
    Queue(
        "assigned",
        "交办本部门的预警",
        MODULE,
        DEPARTMENT_STAFF_ROLES,
        list_assigned_to_unit,
        "monitoring:alert_list",
        deadline="",
    ),
)


def list_undisposed_of_department(actor: Actor) -> QuerySet[Alert]:
    """Undisposed alerts of the indicators the actor's department leads or assigned to it."""
    department_id = getattr(actor, "department_id", None)
    if department_id is None:
        return Alert.objects.none()
    return Alert.objects.visible_to(actor).filter(
        Q(indicator__lead_department_id=department_id) | Q(assigned_department_id=department_id),
        status__in=UNDISPOSED,
    )


#: Not on anyone's home page as waiting work: the list filter behind a department's key figure.
DEPARTMENT_ALERTS = Queue(
    "department",
    "本部门相关的未处置预警",
    MODULE,
    frozenset(),
    list_undisposed_of_department,
    "monitoring:alert_list",
    deadline="",
)
FILTER_QUEUES = (*WORK_QUEUES, DEPARTMENT_ALERTS)


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    """Undisposed alerts, the red ones named: those the actor may see, or for a department
    those of the indicators it leads and those assigned to it."""
    role = role_of(actor)
    if role not in STAFF_ROLES - {Role.SYSADMIN}:
        return []
    if role in DEPARTMENT_ROLES:
        alerts = list_undisposed_of_department(actor)
        label, url = DEPARTMENT_ALERTS.label, DEPARTMENT_ALERTS.url()
    else:
        alerts = Alert.objects.visible_to(actor).filter(status__in=UNDISPOSED)
        label, url = "未处置预警", reverse("monitoring:alert_list")
    counts = alerts.aggregate(total=Count("pk"), red=Count("pk", filter=Q(severity=Severity.RED)))
    return [
        KeyFigure(
            "alerts.undisposed",
            label,
            str(counts["total"]),
            "条",
            note=f"其中红色 {counts['red']} 条",
            url=url,
            tone="bad" if counts["red"] else "",
        )
    ]


def list_active_alerts(ids: list[int], *, severity: str) -> QuerySet[Alert]:
    """The still-active alerts among ``ids`` of one severity, for jobs that act for the system
    on what a scan raised (no actor, so no scope)."""
    return (
        Alert.objects.filter(pk__in=ids, severity=severity, status__in=ACTIVE_STATES)
        .select_related("indicator", "region")
        .order_by("pk")
    )
