"""Demo step: about 40 supervised work tasks (工作任务) of 示范市 in every state, issued over the
last seven months to city departments, districts and parks, with their history rows.

Rows are bulk-created (the demo load is one transaction and one audit event); the states and
the timeliness follow the same rules as the services (``classify``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sizhen.core.models import TransitionHistory
from sizhen.core.workcalendar import get_calendar
from sizhen.demo import data
from sizhen.organisations.models import Department, Region
from sizhen.work_tasks.models import Milestone, TaskAssignment, WorkTask
from sizhen.work_tasks.services import classify
from sizhen.work_tasks.workflow import ASSIGNMENT_WORKFLOW, STATES

TASK_COUNT = 40

TITLES = (
    ("压缩企业开办时间至 1 个工作日", "annual_plan"),
    ("推行工程建设项目审批“一站式”服务", "annual_plan"),
    ("提升获得电力便利度", "evaluation_feedback"),
    ("优化不动产登记“一窗受理”", "annual_plan"),
    ("清理拖欠中小企业账款", "leader_instruction"),
    ("惠企政策“免申即享”落地", "annual_plan"),
    ("新设企业数异常下降原因核查", "alert"),
    ("企业诉求办结率偏低整改", "request_analysis"),
    ("跨境贸易通关时间压缩", "evaluation_feedback"),
    ("政府采购电子化全流程改造", "annual_plan"),
    ("纳税缴费“非接触式”办理推广", "annual_plan"),
    ("园区企业用水报装提速", "request_analysis"),
    ("招投标领域专项整治", "leader_instruction"),
    ("涉企检查“综合查一次”", "annual_plan"),
    ("办件超期率上升预警处置", "alert"),
)

#: End states, in turn, of tasks whose deadline has passed / not yet passed: most past tasks
#: are done, some are overdue in every open state; future ones are spread over the workflow.
PAST = ("approved",) * 7 + ("received", "submitted", "returned")
FUTURE = ("issued", "received", "received", "submitted", "approved")


def _path(state: str) -> list[str]:
    steps = {
        "issued": [],
        "received": ["receive"],
        "submitted": ["receive", "submit"],
        "returned": ["receive", "submit", "return"],
        "approved": ["receive", "submit", "approve"],
    }
    return steps[state]


def build_tasks(ctx: Any) -> int:
    rng = ctx.rng("tasks")
    calendar = get_calendar()
    today = timezone.localdate()
    coordinator = ctx.users.get("coordinator")
    departments = sorted(
        (d for d in ctx.departments.values() if d.code != "SZ-YSB"), key=lambda d: d.code
    )
    districts = sorted(
        (r for r in ctx.regions.values() if r.code != data.CITY_CODE), key=lambda r: r.code
    )
    city_level = [d for d in departments if d.region_id == ctx.root.pk]
    district_level = [d for d in departments if d.region_id != ctx.root.pk]
    units: list[Department | Region] = [*city_level[:12], *district_level[:4], *districts]
    plans = []
    for index in range(TASK_COUNT):
        title, source = TITLES[index % len(TITLES)]
        issued = today - dt.timedelta(days=rng.randint(2, 180))
        limit = rng.choice((5, 10, 15, 20, 30, 40))
        deadline = calendar.add_working_days(issued, limit).date
        cycle = PAST if deadline < today else FUTURE
        state = cycle[index % len(cycle)]
        suffix = "" if index < len(TITLES) else f"（第{index // len(TITLES) + 1}批）"
        plans.append((title + suffix, source, issued, limit, deadline, state, rng.choice(units)))
    # Numbers follow the issue date within each year, as the service would have given them.
    plans.sort(key=lambda plan: plan[2])
    counters: dict[int, int] = {}
    numbers = []
    for plan in plans:
        year = plan[2].year
        counters[year] = counters.get(year, 0) + 1
        numbers.append(f"RW{year}-{counters[year]:04d}")
    tasks = WorkTask.objects.bulk_create(
        [
            WorkTask(
                number=number,
                title=title,
                content=f"按照全市优化营商环境工作部署，{title}，按期反馈进展并提交佐证材料。",
                source=source,
                issued_on=issued,
                deadline=deadline,
                deadline_working_days=limit,
                deadline_provisional=False,
                issued_by=coordinator,
                plan_year=issued.year if source == "annual_plan" else None,
            )
            for number, (title, source, issued, limit, deadline, _state, _unit) in zip(
                numbers, plans, strict=True
            )
        ]
    )
    milestones = []
    assignments = []
    for task, (_t, _s, issued, _l, deadline, state, unit) in zip(tasks, plans, strict=True):
        middle = issued + (deadline - issued) / 2
        milestones.append(Milestone(task=task, title="制定实施方案", deadline=middle, position=0))
        fields: dict[str, Any] = {"task": task, "deadline": deadline, "status": state}
        if isinstance(unit, Department):
            fields.update(department=unit, unit_path=unit.region.path)
        else:
            fields.update(region=unit, unit_path=unit.path)
        if state != "issued":
            fields["received_at"] = _at(issued + dt.timedelta(days=1))
        if state in ("submitted", "returned", "approved"):
            shift = rng.choice((-6, -3, -2, -1, 0, 0, 0, 0, 1, 2, 4, 7))
            submitted = min(
                max(deadline + dt.timedelta(days=shift), issued + dt.timedelta(days=2)), today
            )
            fields["submitted_on"] = submitted
            if state == "approved":
                timeliness, delay = classify(submitted, deadline)
                fields.update(
                    finished_on=submitted,
                    timeliness=timeliness,
                    delay_working_days=delay,
                    approved_at=_at(min(submitted + dt.timedelta(days=1), today)),
                )
            if state == "returned":
                fields["return_reason"] = "佐证材料不完整，请补充效果数据"
        if state in ("received", "returned") and deadline < today and rng.random() < 0.5:
            fields.update(
                listed=True,
                listed_at=_at(deadline + dt.timedelta(days=1)),
                listed_reason="逾期未完成，提请领导督办",
                listed_leader=ctx.users.get("leader"),
            )
        assignments.append(TaskAssignment(**fields, version=len(_path(state)) + 1))
    Milestone.objects.bulk_create(milestones)
    TaskAssignment.objects.bulk_create(assignments)
    history = []
    for assignment in assignments:
        for action in _path(assignment.status):
            transition = next(t for t in ASSIGNMENT_WORKFLOW.transitions if t.action == action)
            day = {
                "receive": assignment.received_at,
                "submit": _at(assignment.submitted_on) if assignment.submitted_on else None,
                "return": _at(assignment.submitted_on) if assignment.submitted_on else None,
                "approve": assignment.approved_at,
            }[action]
            history.append(
                TransitionHistory(
                    at=day or timezone.now(),
                    object_type=TaskAssignment._meta.label_lower,
                    object_id=str(assignment.pk),
                    workflow=ASSIGNMENT_WORKFLOW.name,
                    action=action,
                    action_label=transition.label,
                    from_state=transition.source[0],
                    to_state=transition.target,
                    actor_label="演示数据",
                    note=assignment.return_reason if action == "return" else "",
                )
            )
    TransitionHistory.objects.bulk_create(history)
    assert set(STATES) >= {a.status for a in assignments}
    return len(tasks)


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def wipe_tasks(city_path: str) -> None:
    """The demo city's work tasks, their assignments and history rows."""
    ids = list(
        TaskAssignment.objects.filter(unit_path__startswith=city_path).values_list("pk", flat=True)
    )
    TransitionHistory.objects.filter(
        object_type=TaskAssignment._meta.label_lower, object_id__in=[str(i) for i in ids]
    ).delete()
    task_ids = set(TaskAssignment.objects.filter(pk__in=ids).values_list("task_id", flat=True))
    WorkTask.objects.filter(pk__in=task_ids).delete()
