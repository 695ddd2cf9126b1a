"""Reads of periodic filling (``list_*``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from sizhen.core.access import CHANGE, Actor, role_of
from sizhen.core.permissions import capability_roles
from sizhen.core.roles import Role
from sizhen.core.workqueue import KeyFigure, Queue
from sizhen.indicators.catalogue import completeness
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.filling.choices import OPEN_STATES, FillingStatus
from sizhen.indicators.filling.models import FillingTask
from sizhen.organisations.models import Region


def list_overdue(actor: Actor, *, today: dt.date | None = None) -> QuerySet[FillingTask]:
    """Tasks past their deadline and not submitted (逾期未报), as far as the actor may see."""
    today = today or timezone.localdate()
    return FillingTask.objects.visible_to(actor).filter(status__in=OPEN_STATES, deadline__lt=today)


def list_open_tasks_past_deadline(today: dt.date) -> QuerySet[FillingTask]:
    """Every task past its deadline and not submitted, with its indicator, region and
    department (for the alert scan, which sees all regions)."""
    return FillingTask.objects.filter(status__in=OPEN_STATES, deadline__lt=today).select_related(
        "indicator", "region", "department"
    )


def complete_filled_periods(
    asks: list[completeness.Ask], region: Region, today: dt.date
) -> set[tuple[int, dt.date]]:
    """The filling rule of ``catalogue.completeness``: every task of the indicator for the
    period is approved (审核通过), whichever region asked. A period no round asked for counts
    once it has a value (imported or entered some other way)."""
    if not asks:
        return set()
    counts = {
        (row["indicator_id"], row["period"]): (row["total"], row["approved"])
        for row in FillingTask.objects.filter(
            indicator_id__in={leaf.pk for leaf, _ in asks}, period__in={day for _, day in asks}
        )
        .values("indicator_id", "period")
        .annotate(total=Count("pk"), approved=Count("pk", filter=Q(status=FillingStatus.APPROVED)))
        .order_by()
    }
    complete = completeness.present_values(
        [(leaf, day) for leaf, day in asks if (leaf.pk, day) not in counts], region
    )
    asked = {(leaf.pk, day) for leaf, day in asks}
    complete.update(key for key, (total, approved) in counts.items() if total == approved)
    return complete & asked


completeness.register_leaf_check(SourceKind.FILLING, complete_filled_periods)


# --- the home page's work queue and key figures (sizhen/core/workqueue.py) -------------------

MODULE = "定期填报"


def list_to_fill(actor: Actor) -> QuerySet[FillingTask]:
    """Tasks the actor's unit fills (workflow ``can_fill``), whatever their state: a
    department's own tasks, or a district officer's district tasks (not its departments')."""
    role = role_of(actor)
    qs = FillingTask.objects.visible_to(actor, CHANGE)
    if role in (Role.LEAD_DEPARTMENT, Role.RESPONSIBLE_DEPARTMENT):
        if actor.department_id is None:
            return qs.none()
        return qs.filter(department_id=actor.department_id)
    if role == Role.DISTRICT_OFFICER:
        return qs.filter(department__isnull=True)
    return qs.none()


def list_to_review(actor: Actor) -> QuerySet[FillingTask]:
    """Submitted tasks the actor may approve or return (workflow ``can_review``): the office
    all, a lead department those of the indicators it leads; never one they submitted."""
    role = role_of(actor)
    qs = (
        FillingTask.objects.visible_to(actor, CHANGE)
        .filter(status=FillingStatus.SUBMITTED)
        .exclude(submitted_by_id=getattr(actor, "pk", None))
    )
    if role == Role.COORDINATOR:
        return qs
    if role == Role.LEAD_DEPARTMENT:
        return qs.filter(indicator__lead_department_id=getattr(actor, "department_id", None))
    return qs.none()


WORK_QUEUES = (
    Queue(
        "fill",
        "待填报的数据",
        MODULE,
        capability_roles("filling.fill"),
        lambda actor: list_to_fill(actor).filter(status=FillingStatus.OPEN),
        "indicator_filling:task_list",
    ),
    Queue(
        "refill",
        "被退回待重新填报的数据",
        MODULE,
        capability_roles("filling.fill"),
        lambda actor: list_to_fill(actor).filter(status=FillingStatus.RETURNED),
        "indicator_filling:task_list",
    ),
    Queue(
        "review",
        "待审核的填报数据",
        MODULE,
        capability_roles("filling.review"),
        list_to_review,
        "indicator_filling:task_list",
        deadline="",
    ),
)


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    """Tasks past their deadline and not submitted (逾期未报), as far as the actor may see."""
    if role_of(actor) not in capability_roles("filling.fill") | {Role.COORDINATOR, Role.LEADER}:
        return []
    overdue = list_overdue(actor, today=today).count()
    return [
        KeyFigure(
            "filling.overdue",
            "逾期未报的填报任务",
            str(overdue),
            "项",
            url=reverse("indicator_filling:overdue"),
            tone="bad" if overdue else "",
        )
    ]
