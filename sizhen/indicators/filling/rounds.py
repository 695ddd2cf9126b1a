"""Opening filling rounds (下发填报任务): one task per indicator and region, addressed to the
responsible department or the district (县市区/园区) that holds it, with a deadline in working
days; by an opener, or by the platform when a period is due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor, role_of
from sizhen.core.audit import record_event
from sizhen.core.notifications import notify
from sizhen.core.periods import Period
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.workcalendar import add_working_days
from sizhen.indicators.catalogue.changes import values_changed
from sizhen.indicators.catalogue.choices import Frequency, SourceKind
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.filling.choices import FillingTarget
from sizhen.indicators.filling.models import FillingRound, FillingTask
from sizhen.indicators.filling.periods import due_period, period_problem
from sizhen.indicators.filling.services import FillingError, page_link
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Department, Region

#: Working days a filler has, counted from the day the round opens, unless the opener says.
DEFAULT_WORKING_DAYS = 10
MAX_WORKING_DAYS = 60
#: Regions that fill district tasks: districts, counties and parks (县市区、园区).
FILLING_REGION_LEVELS = (RegionLevel.DISTRICT, RegionLevel.COUNTY, RegionLevel.PARK)


@dataclass
class _Planned:
    indicator: Indicator
    region: Region
    department: Department | None


def _targets(indicator: Indicator, target: str, regions: list[Region]) -> list[_Planned]:
    departments = list(
        indicator.responsible_departments.filter(is_active=True).select_related("region")
    )
    if target == FillingTarget.DEPARTMENTS and not departments:
        raise FillingError(
            f"指标 {indicator.code} {indicator.name} 未设置责任部门，不能下发至责任部门"
        )
    if target == FillingTarget.DISTRICTS or not departments:
        return [_Planned(indicator, region, None) for region in regions]
    planned: dict[int, _Planned] = {}
    for department in departments:
        other = planned.get(department.region_id)
        if other is not None:
            # One figure per region: two departments of one region would fill the same value.
            raise FillingError(
                f"指标 {indicator.code} 的责任部门“{other.department}”和“{department}”同属"
                f"{department.region.name}，同一区划只能由一个部门填报"
            )
        planned[department.region_id] = _Planned(indicator, department.region, department)
    return list(planned.values())


def _filling_regions() -> list[Region]:
    return list(
        Region.objects.filter(is_active=True, level__in=FILLING_REGION_LEVELS).order_by("path")
    )


def _check_indicators(indicators: Iterable[Indicator], period: dt.date) -> list[Indicator]:
    chosen = list(indicators)
    if not chosen:
        raise FillingError("请至少选择一个指标")
    problems = []
    for indicator in chosen:
        if not indicator.is_active:
            problems.append(f"指标 {indicator.code} 已停用")
        elif indicator.children.exists():
            problems.append(f"指标 {indicator.code} 不是末级指标，其数值由下级指标合成，不能填报")
        else:
            problem = period_problem(indicator, period)
            if problem:
                problems.append(problem)
    if problems:
        raise FillingError("；".join(problems))
    return chosen


def _create_round(
    *,
    actor: Actor | None,
    indicators: list[Indicator],
    period: dt.date,
    working_days: int,
    target: str,
    title: str,
    instructions: str,
    opened_on: dt.date,
    event: str,
) -> FillingRound:
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        raise FillingError(f"填报时限应为 1–{MAX_WORKING_DAYS} 个工作日")
    if target not in FillingTarget.values:
        raise FillingError("请选择填报对象")
    try:
        deadline = add_working_days(opened_on, working_days)
    except ValueError as exc:
        raise FillingError(str(exc)) from exc
    regions = _filling_regions()
    planned = [p for indicator in indicators for p in _targets(indicator, target, regions)]
    if not planned:
        raise FillingError("没有可下发的填报对象（请先维护县市区、园区或责任部门）")
    taken = FillingTask.objects.filter(
        period=period,
        indicator__in=[p.indicator for p in planned],
        region__in=[p.region for p in planned],
    ).select_related("indicator", "region", "round")
    taken_keys = {(t.indicator_id, t.region_id): t for t in taken}
    clashes = [
        taken_keys[(p.indicator.pk, p.region.pk)]
        for p in planned
        if (p.indicator.pk, p.region.pk) in taken_keys
    ]
    if clashes:
        listed = "、".join(f"{t.indicator.code}（{t.region.name}）" for t in clashes[:10])
        more = f"等 {len(clashes)} 项" if len(clashes) > 10 else ""
        raise FillingError(
            f"{Period.containing(period, indicators[0].frequency).label_zh}已有填报任务：{listed}{more}，不能重复下发"
        )
    frequency = indicators[0].frequency
    filling_round = FillingRound.objects.create(
        title=(title or f"{Period.containing(period, frequency).label_zh}定期填报")[:100],
        period=period,
        target=target,
        opened_on=opened_on,
        working_days=working_days,
        deadline=deadline.date,
        deadline_provisional=deadline.provisional,
        instructions=instructions,
        created_by=acting_user(actor),
    )
    filling_round.indicators.set(indicators)
    try:
        with transaction.atomic():
            tasks = FillingTask.objects.bulk_create(
                [
                    FillingTask(
                        round=filling_round,
                        indicator=p.indicator,
                        region=p.region,
                        department=p.department,
                        period=period,
                        deadline=deadline.date,
                    )
                    for p in planned
                ]
            )
            values_changed()  # the period's filled-in leaves are incomplete until approved
    except IntegrityError as exc:
        # Another round for the same period was opened between our check and insert.
        raise FillingError("本期填报任务刚被他人下发，请刷新后查看") from exc
    record_event(
        event,
        actor=actor,
        obj=filling_round,
        after={
            "period": period,
            "indicators": [i.code for i in indicators],
            "deadline": deadline.date,
            "tasks": len(tasks),
        },
    )
    _notify_fillers(tasks, filling_round)
    return filling_round


def _fillers(task: FillingTask) -> QuerySet[Any]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True)
    if task.department_id is not None:
        return users.filter(
            department_id=task.department_id,
            role__in=(Role.RESPONSIBLE_DEPARTMENT, Role.LEAD_DEPARTMENT),
        )
    # The officers of the region itself and of the districts above it (a park's district).
    paths = [p for p in _prefixes(task.region.path)]
    return users.filter(role=Role.DISTRICT_OFFICER, region__path__in=paths)


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def _notify_fillers(tasks: list[FillingTask], filling_round: FillingRound) -> None:
    recipients: dict[int, Any] = {}
    # The fillers depend only on the department, or the region; a round asks each many times.
    asked = {(t.department_id, t.region_id if t.department_id is None else None): t for t in tasks}
    for task in asked.values():
        for user in _fillers(task):
            recipients[user.pk] = user
    if recipients:
        notify(
            recipients.values(),
            subject=f"填报任务：{filling_round.title}",
            body=f"请于 {filling_round.deadline:%Y-%m-%d} 前完成填报并提交审核。",
            link=page_link("indicator_filling:task_list", "/monitoring/filling/"),
            category="filling",
        )


@transaction.atomic
def open_filling_round(
    *,
    actor: Actor,
    indicators: Iterable[Indicator],
    period: dt.date,
    working_days: int = DEFAULT_WORKING_DAYS,
    target: str = FillingTarget.AUTO,
    title: str = "",
    instructions: str = "",
    opened_on: dt.date | None = None,
) -> FillingRound:
    """Open a round: one task per indicator and responsible department or district, all due
    ``working_days`` working days after ``opened_on`` (today by default)."""
    role = role_of(actor)
    if not has_capability(actor, "filling.open_round"):
        raise FillingError("只有营商办或指标牵头部门可以下发填报任务")
    chosen = _check_indicators(indicators, period)
    if role == Role.LEAD_DEPARTMENT:
        foreign = [i.code for i in chosen if i.lead_department_id != actor.department_id]
        if foreign:
            raise FillingError("您不是以下指标的牵头部门：" + "、".join(foreign))
    if len({i.frequency for i in chosen}) > 1:
        raise FillingError("一次下发的指标应为同一填报频度（月、季或年）")
    return _create_round(
        actor=actor,
        indicators=chosen,
        period=period,
        working_days=working_days,
        target=target,
        title=title,
        instructions=instructions,
        opened_on=opened_on or timezone.localdate(),
        event="filling_round.open",
    )


def open_due_filling_rounds(*, today: dt.date | None = None) -> list[FillingRound]:
    """The platform's own periodic opening: for every active leaf indicator filled by
    departments (source kind "filling") whose just-ended period has no task yet, one round per
    frequency. Safe to re-run: indicators already asked for are left out."""
    today = today or timezone.localdate()
    working_days = int(getattr(settings, "SIZHEN_FILLING_WORKING_DAYS", DEFAULT_WORKING_DAYS))
    opened = []
    for frequency in Frequency.values:
        period = due_period(today, frequency)
        if period is None:
            continue
        asked = FillingTask.objects.filter(period=period).values("indicator_id")
        candidates = [
            indicator
            for indicator in Indicator.objects.filter(
                is_active=True, source_kind=SourceKind.FILLING, frequency=frequency
            )
            .exclude(pk__in=asked)
            .exclude(children__isnull=False)
            .distinct()
            .order_by("code")
        ]
        regions = _filling_regions()
        fillable = []
        for indicator in candidates:
            try:
                _targets(indicator, FillingTarget.AUTO, regions)
            except FillingError:
                # Misconfigured (e.g. two responsible departments in one region): left for the
                # coordinator, who sees the reason when opening the round by hand.
                continue
            fillable.append(indicator)
        if not fillable:
            continue
        with transaction.atomic():
            opened.append(
                _create_round(
                    actor=None,
                    indicators=fillable,
                    period=period,
                    working_days=working_days,
                    target=FillingTarget.AUTO,
                    title="",
                    instructions="",
                    opened_on=today,
                    event="filling_round.open_scheduled",
                )
            )
    return opened
