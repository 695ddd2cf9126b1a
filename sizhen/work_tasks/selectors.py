"""Reads on work tasks, always through the access scope: lists, the leaders' summary and the
statistics (by department, district and source)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from sizhen.core.access import VIEW, Actor, role_of
from sizhen.core.numbers import fixed, rounded
from sizhen.core.permissions import has_capability
from sizhen.core.roles import STAFF_ROLES, UNIT_ROLES, Role
from sizhen.core.workqueue import KeyFigure, Queue
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Region
from sizhen.work_tasks import services
from sizhen.work_tasks.choices import TaskSource, Timeliness
from sizhen.work_tasks.models import TaskAssignment, WorkTask
from sizhen.work_tasks.workflow import (
    APPROVED,
    CANCELLED,
    ISSUED,
    OPEN_STATES,
    RECEIVED,
    RETURNED,
    SUBMITTED,
)

CITY_LEVEL_LABEL = "市直部门"


def list_assignments(actor: Actor, *, action: str = VIEW) -> QuerySet[TaskAssignment]:
    return TaskAssignment.objects.visible_to(actor, action).select_related(
        "task", "department", "region", "parent"
    )


def list_my_assignments(actor: Actor) -> QuerySet[TaskAssignment]:
    """The assignments addressed to the actor's own unit (my tasks / my department's tasks)."""
    qs = list_assignments(actor)
    department_id = getattr(actor, "department_id", None)
    region_id = getattr(actor, "region_id", None)
    if role_of(actor) == Role.DISTRICT_OFFICER and region_id:
        return qs.filter(region_id=region_id)
    if department_id:
        return qs.filter(department_id=department_id)
    return qs.none()


def task_is_complete(task: WorkTask) -> bool:
    """A task is complete when every lead unit's assignment is approved (cancelled ones aside)
    and at least one is; sub-tasks must be approved before their unit can submit."""
    states = list(task.assignments.filter(parent__isnull=True).values_list("status", flat=True))
    live = [s for s in states if s != CANCELLED]
    return bool(live) and all(s == APPROVED for s in live)


def completion_summary(
    actor: Actor, today: dt.date | None = None, *, lead_only: bool = False
) -> dict[str, int]:
    """For the leaders' cockpit: completed assignments by timeliness, open ones, and open ones
    past their deadline, among the assignments the actor may see, in one aggregate query.
    ``lead_only`` leaves transferred sub-tasks out, as the statistics do, so that a transfer
    does not count a task twice."""
    day = today or timezone.localdate()
    qs = list_assignments(actor).order_by()
    if lead_only:
        qs = qs.filter(parent__isnull=True)
    approved, still_open = Q(status=APPROVED), Q(status__in=OPEN_STATES)
    counts = qs.aggregate(
        early=Count("pk", filter=approved & Q(timeliness=Timeliness.EARLY)),
        on_time=Count("pk", filter=approved & Q(timeliness=Timeliness.ON_TIME)),
        late=Count("pk", filter=approved & Q(timeliness=Timeliness.LATE)),
        open=Count("pk", filter=still_open),
        overdue_open=Count("pk", filter=still_open & Q(deadline__lt=day)),
    )
    return {key: int(value or 0) for key, value in counts.items()}


@dataclass
class StatRow:
    key: str
    label: str
    total: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue_open: int = 0
    delay_sum: int = 0

    @property
    def completed(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def due(self) -> int:
        """Completed plus open-and-overdue: the assignments whose timeliness is decided."""
        return self.completed + self.overdue_open

    @property
    def on_time_rate(self) -> float | None:
        """(early + on time) / (completed + open overdue); None when nothing is due yet."""
        return rounded((self.early + self.on_time) / self.due * 100, 1) if self.due else None

    @property
    def average_delay(self) -> float | None:
        """Mean delay in working days of the assignments completed late."""
        return rounded(self.delay_sum / self.late, 1) if self.late else None

    def add(self, status: str, timeliness: str, delay: int | None, overdue: bool) -> None:
        self.total += 1
        if status == APPROVED:
            if timeliness == Timeliness.EARLY:
                self.early += 1
            elif timeliness == Timeliness.ON_TIME:
                self.on_time += 1
            elif timeliness == Timeliness.LATE:
                self.late += 1
                self.delay_sum += delay or 0
        elif status in OPEN_STATES:
            self.open += 1
            if overdue:
                self.overdue_open += 1


@dataclass
class Statistics:
    total: StatRow
    by_department: list[StatRow]
    by_district: list[StatRow]
    by_source: list[StatRow]


def _district_of(path: str, names: dict[str, str]) -> tuple[str, str]:
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2:
        return "city", CITY_LEVEL_LABEL
    prefix = f"/{parts[0]}/{parts[1]}/"
    return prefix, names.get(prefix, parts[1])


def statistics(
    actor: Actor,
    *,
    issued_from: dt.date | None = None,
    issued_to: dt.date | None = None,
    today: dt.date | None = None,
    lead_only: bool = True,
) -> Statistics:
    """Counts by unit, by district (the unit's district; city departments together) and by
    source, of the assignments the actor may see that were issued in [issued_from, issued_to].
    Sub-tasks are left out by default so a transfer does not count a task twice."""
    day = today or timezone.localdate()
    qs = list_assignments(actor)
    if lead_only:
        qs = qs.filter(parent__isnull=True)
    if issued_from:
        qs = qs.filter(task__issued_on__gte=issued_from)
    if issued_to:
        qs = qs.filter(task__issued_on__lte=issued_to)
    names = dict(Region.objects.filter(depth__lte=2).values_list("path", "name"))
    total = StatRow("all", "合计")
    groups: dict[str, dict[str, StatRow]] = {"d": {}, "r": {}, "s": {}}
    rows: Iterable[Any] = qs.values_list(
        "status",
        "timeliness",
        "delay_working_days",
        "deadline",
        "unit_path",
        "department__name",
        "region__name",
        "task__source",
    )
    sources = dict(TaskSource.choices)
    for status, timeliness, delay, deadline, path, dept, region, source in rows:
        overdue = status in OPEN_STATES and deadline < day
        unit = dept or region or ""
        district_key, district_label = _district_of(path, names)
        for group, key, label in (
            ("d", unit, unit),
            ("r", district_key, district_label),
            ("s", source, sources.get(source, source)),
        ):
            groups[group].setdefault(key, StatRow(key, label)).add(
                status, timeliness, delay, overdue
            )
        total.add(status, timeliness, delay, overdue)
    order: Callable[[StatRow], Any] = lambda r: (-r.total, r.label)  # noqa: E731
    return Statistics(
        total=total,
        by_department=sorted(groups["d"].values(), key=order),
        by_district=sorted(groups["r"].values(), key=order),
        by_source=sorted(groups["s"].values(), key=order),
    )


def overdue_assignments(actor: Actor, today: dt.date | None = None) -> QuerySet[TaskAssignment]:
    day = today or timezone.localdate()
    return list_assignments(actor).filter(status__in=OPEN_STATES, deadline__lt=day)


def by_status(actor: Actor, qs: QuerySet[TaskAssignment] | None = None) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for status in (qs if qs is not None else list_assignments(actor)).values_list(
        "status", flat=True
    ):
        counts[status] += 1
    return dict(counts)


# --- the indicator page -------------------------------------------------------------------------

#: Open tasks listed on an indicator's page (一指标一页面); the list page holds the rest.
INDICATOR_TASK_LIMIT = 10


@dataclass
class IndicatorTaskRow:
    """One open task of an indicator with the actor's visible open assignments of it, lead
    units first; the link goes to the first of them (the task page is per assignment)."""

    task: WorkTask
    assignments: list[TaskAssignment]
    overdue: bool

    @property
    def url(self) -> str:
        return reverse("work_tasks:detail", args=[self.assignments[0].pk])


@dataclass
class IndicatorTasks:
    rows: list[IndicatorTaskRow]
    #: Open tasks in all (the rows show the first ``INDICATOR_TASK_LIMIT``).
    open: int
    #: Lead units' assignments completed (approved), by timeliness.
    early: int
    on_time: int
    late: int

    @property
    def completed(self) -> int:
        return self.early + self.on_time + self.late


def for_indicator(
    actor: Actor,
    indicator: Indicator,
    *,
    region: Region | None = None,
    limit: int = INDICATOR_TASK_LIMIT,
    today: dt.date | None = None,
) -> IndicatorTasks:
    """The open tasks (任务) linked to the indicator that the actor may see, nearest deadline
    first, and the completed lead assignments by timeliness; with ``region``, only the units
    located in its subtree (a district: its office, its departments and its parks). A task is
    open while one of the actor's visible assignments of it is neither approved nor cancelled.
    Three queries whatever the number of tasks: whether any task links the indicator (most
    have none, and then nothing else is asked), the counts, and the open assignments of the
    first ``limit`` tasks with their task and unit."""
    if not WorkTask.indicators.through.objects.filter(indicator_id=indicator.pk).exists():
        # Most indicators have no task: one plain query instead of compiling the two below.
        return IndicatorTasks(rows=[], open=0, early=0, on_time=0, late=0)
    day = today or services.today()
    scoped = list_assignments(actor).filter(task__indicators=indicator)
    if region is not None:
        scoped = scoped.filter(unit_path__startswith=region.path)
    approved_lead = Q(status=APPROVED, parent__isnull=True)
    counts = scoped.order_by().aggregate(
        open=Count("task", distinct=True, filter=Q(status__in=OPEN_STATES)),
        early=Count("pk", filter=approved_lead & Q(timeliness=Timeliness.EARLY)),
        on_time=Count("pk", filter=approved_lead & Q(timeliness=Timeliness.ON_TIME)),
        late=Count("pk", filter=approved_lead & Q(timeliness=Timeliness.LATE)),
    )
    open_assignments = scoped.filter(status__in=OPEN_STATES)
    first_tasks = (
        WorkTask.objects.filter(pk__in=open_assignments.values("task_id"))
        .order_by("deadline", "pk")
        .values("pk")[:limit]
    )
    grouped: dict[int, list[TaskAssignment]] = defaultdict(list)
    for assignment in open_assignments.filter(task_id__in=first_tasks).order_by(
        "task__deadline", "task_id", F("parent_id").asc(nulls_first=True), "deadline", "pk"
    ):
        grouped[assignment.task_id].append(assignment)
    rows = [
        IndicatorTaskRow(
            task=assignments[0].task,
            assignments=assignments,
            overdue=any(a.deadline < day for a in assignments),
        )
        for assignments in grouped.values()
    ]
    return IndicatorTasks(rows=rows, **{key: int(value or 0) for key, value in counts.items()})


# --- the home page's work queue and key figures (sizhen/core/workqueue.py) -------------------

MODULE = "工作任务"


def _mine_in(status: str) -> Callable[[Any], QuerySet[TaskAssignment]]:
    return lambda actor: list_my_assignments(actor).filter(status=status)


def list_to_review(actor: Actor) -> QuerySet[TaskAssignment]:
    """Submitted assignments the actor reviews (workflow ``is_reviewer``): a lead unit's for the
    office, a transferred sub-task for the unit that handed it on."""
    mine = Q(parent__in=list_my_assignments(actor).values("pk"))
    if has_capability(actor, "task.review"):
        mine |= Q(parent__isnull=True)
    return list_assignments(actor).filter(mine, status=SUBMITTED)


def list_listed_for(actor: Actor) -> QuerySet[TaskAssignment]:
    """Open assignments under listed supervision (挂牌督办) with the actor as the leader."""
    return list_assignments(actor).filter(
        status__in=OPEN_STATES, listed=True, listed_leader_id=getattr(actor, "pk", None)
    )


WORK_QUEUES = (
    Queue("receive", "待签收的任务", MODULE, UNIT_ROLES, _mine_in(ISSUED), "work_tasks:mine"),
    Queue(
        "submit",
        "办理中待提交审核的任务",
        MODULE,
        UNIT_ROLES,
        _mine_in(RECEIVED),
        "work_tasks:mine",
    ),
    Queue(
        "resubmit",
        "被退回待重新提交的任务",
        MODULE,
        UNIT_ROLES,
        _mine_in(RETURNED),
        "work_tasks:mine",
    ),
    # A submitted assignment's deadline no longer runs against anyone (WORKING_STATES).
    Queue(
        "review",
        "待审核的任务",
        MODULE,
        UNIT_ROLES | {Role.COORDINATOR},
        list_to_review,
        "work_tasks:list",
        deadline="",
    ),
    Queue(
        "listed",
        "本人督办的挂牌任务",
        MODULE,
        frozenset({Role.LEADER}),
        list_listed_for,
        "work_tasks:list",
    ),
)


def on_time_rate(counts: dict[str, int]) -> float | None:
    """按期完成率: (early + on time) / (completed + open past the deadline), in percent."""
    due = counts["early"] + counts["on_time"] + counts["late"] + counts["overdue_open"]
    return rounded((counts["early"] + counts["on_time"]) / due * 100, 1) if due else None


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    """Open assignments past their deadline and the on-time rate (transferred sub-tasks left
    out, as the statistics count it), over the assignments the actor may see."""
    if role_of(actor) not in STAFF_ROLES - {Role.SYSADMIN}:
        return []
    counts = completion_summary(actor, today, lead_only=True)
    rate = on_time_rate(counts)
    # Counted as the list behind the link shows them (transferred sub-tasks included).
    overdue = overdue_assignments(actor, today).count()
    return [
        KeyFigure(
            "tasks.overdue",
            "逾期未完成任务",
            str(overdue),
            "项",
            url=f"{reverse('work_tasks:list')}?overdue=1",
            tone="bad" if overdue else "",
        ),
        KeyFigure(
            "tasks.on_time_rate",
            "任务按期完成率",
            "—" if rate is None else fixed(rate, 1),
            "" if rate is None else "%",
            note=f"已完成 {counts['early'] + counts['on_time'] + counts['late']} 项",
            url=reverse("work_tasks:statistics"),
        ),
    ]
