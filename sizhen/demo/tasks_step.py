"""Demo step: 50 supervised work tasks (工作任务) of 示范市 in every state, issued over the
last seven months to city departments, districts and parks, with their history rows: 40 spread
at random (every fourth to the unit of a demo account), and 10 of the market regulator (市场监管局, the department of the demo account
``lead_dept``) that walk through every state — received, in progress with milestones and
progress reports, submitted, returned, approved early / on time / late, overdue.

Rows are bulk-created (the demo load is one transaction and one audit event); the states and
the timeliness follow the same rules as the services (``classify``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sizhen.core.models import TransitionHistory
from sizhen.core.workcalendar import get_calendar
from sizhen.demo import data
from sizhen.demo.people import department_staff, office
from sizhen.organisations.models import Department, Region
from sizhen.work_tasks.models import Milestone, ProgressReport, TaskAssignment, WorkTask
from sizhen.work_tasks.services import classify
from sizhen.work_tasks.workflow import ASSIGNMENT_WORKFLOW, STATES

TASK_COUNT = 40
#: The department of the demo account ``lead_dept``; its tasks are listed in LEAD_TASKS.
LEAD_DEPARTMENT = "SZ-SCJG"

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


#: The units of the other demo accounts (responsible departments, districts, a park).
PERSONA_DEPARTMENTS = ("SZ-RSJ", "DH-SCJG")
PERSONA_REGIONS = ("449901", "449902", "P449951")
#: The lead department's tasks: (title, source, issued days ago, limit in working days, state,
#: submission relative to the deadline in calendar days (submitted/returned/approved), progress
#: reports as (percent, done milestones)).
LEAD_TASKS: tuple[tuple[str, str, int, int, str, int | None, tuple[tuple[int, int], ...]], ...] = (
    ("信用修复“一网通办”", "annual_plan", 3, 20, "issued", None, ()),
    ("经营主体登记注册便利化改革", "annual_plan", 12, 40, "received", None, ((20, 0),)),
    (
        "企业开办“一网通办”全程电子化",
        "annual_plan",
        30,
        60,
        "received",
        None,
        ((30, 1), (65, 2)),
    ),
    ("“双随机、一公开”跨部门联合抽查", "annual_plan", 45, 40, "submitted", -14, ((100, 3),)),
    ("知识产权质押融资服务提升", "evaluation_feedback", 50, 45, "returned", -20, ((90, 2),)),
    ("个体工商户年报“多报合一”", "annual_plan", 120, 30, "approved", -9, ((100, 3),)),
    ("食品经营许可告知承诺制推行", "request_analysis", 100, 20, "approved", 0, ((100, 3),)),
    ("企业简易注销流程优化", "evaluation_feedback", 150, 30, "approved", 6, ((100, 3),)),
    ("涉企违规收费专项检查", "leader_instruction", 70, 20, "received", None, ((40, 1),)),
    ("市场主体活跃度下降原因核查", "alert", 60, 15, "returned", -2, ((80, 2),)),
)
#: The lead department's tasks have three milestones, at these fractions of the period.
LEAD_MILESTONES = (("制定实施方案", 0.3), ("组织实施", 0.7), ("总结评估", 1.0))


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
    persona_units: list[Department | Region] = [
        *(ctx.departments[code] for code in PERSONA_DEPARTMENTS if code in ctx.departments),
        *(ctx.regions[code] for code in PERSONA_REGIONS if code in ctx.regions),
    ]
    # (title, source, issued, limit, deadline, state, unit, submission shift, progress)
    plans: list[tuple[Any, ...]] = []
    for index in range(TASK_COUNT):
        title, source = TITLES[index % len(TITLES)]
        issued = today - dt.timedelta(days=rng.randint(2, 180))
        limit = rng.choice((5, 10, 15, 20, 30, 40))
        deadline = calendar.add_working_days(issued, limit).date
        cycle = PAST if deadline < today else FUTURE
        state = cycle[index % len(cycle)]
        suffix = "" if index < len(TITLES) else f"（第{index // len(TITLES) + 1}批）"
        unit = rng.choice(units)
        if index % 4 == 0 and persona_units:
            # Every fourth task goes to a unit of a demo account, so that each one's "my tasks"
            # page and board have some.
            unit = persona_units[(index // 4) % len(persona_units)]
        plans.append((title + suffix, source, issued, limit, deadline, state, unit, None, ()))
    lead = ctx.departments.get(LEAD_DEPARTMENT)
    for title, source, ago, limit, state, shift, progress in LEAD_TASKS if lead else ():
        issued = today - dt.timedelta(days=ago)
        deadline = calendar.add_working_days(issued, limit).date
        plans.append((title, source, issued, limit, deadline, state, lead, shift, progress))
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
            for number, (title, source, issued, limit, deadline, *_rest) in zip(
                numbers, plans, strict=True
            )
        ]
    )
    milestones: list[Milestone] = []
    assignments = []
    reports: list[tuple[TaskAssignment, list[Milestone], tuple[tuple[int, int], ...]]] = []
    for task, plan in zip(tasks, plans, strict=True):
        _t, _s, issued, _l, deadline, state, unit, fixed_shift, progress = plan
        span = deadline - issued
        if progress or fixed_shift is not None or unit is lead:
            own = [
                Milestone(task=task, title=name, deadline=issued + span * share, position=i)
                for i, (name, share) in enumerate(LEAD_MILESTONES)
            ]
        else:
            own = [
                Milestone(task=task, title="制定实施方案", deadline=issued + span / 2, position=0)
            ]
        milestones.extend(own)
        fields: dict[str, Any] = {"task": task, "deadline": deadline, "status": state}
        if isinstance(unit, Department):
            fields.update(department=unit, unit_path=unit.region.path)
        else:
            fields.update(region=unit, unit_path=unit.path)
        if state != "issued":
            fields["received_at"] = _at(issued + dt.timedelta(days=1))
        if state in ("submitted", "returned", "approved"):
            shift = (
                fixed_shift
                if fixed_shift is not None
                else rng.choice((-6, -3, -2, -1, 0, 0, 0, 0, 1, 2, 4, 7))
            )
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
        assignment = TaskAssignment(**fields, version=len(_path(state)) + 1)
        assignments.append(assignment)
        if progress and state != "issued":
            reports.append((assignment, own, progress))
    Milestone.objects.bulk_create(milestones)
    TaskAssignment.objects.bulk_create(assignments)
    ProgressReport.objects.bulk_create(_progress_reports(ctx, reports, today))
    history = []
    the_office = office(ctx)
    for assignment in assignments:
        staff = _staff(ctx, assignment)
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
                    # The unit receives and submits; the office returns and approves.
                    actor=(staff if action in ("receive", "submit") else the_office)[0],
                    actor_label=(staff if action in ("receive", "submit") else the_office)[1],
                    note=assignment.return_reason if action == "return" else "",
                )
            )
    TransitionHistory.objects.bulk_create(history)
    assert set(STATES) >= {a.status for a in assignments}
    return len(tasks)


def _staff(ctx: Any, assignment: Any) -> tuple[Any, str]:
    """Who acts for the assignment's unit: its department's staff, or the district's office."""
    if assignment.department is not None:
        return department_staff(ctx, assignment.department)
    return None, f"{assignment.region.name}营商办经办人"


def _progress_reports(
    ctx: Any,
    plans: list[tuple[TaskAssignment, list[Milestone], tuple[tuple[int, int], ...]]],
    today: dt.date,
) -> list[ProgressReport]:
    """Progress reports (进展反馈) between receipt and submission (or today): each closes the
    milestones up to its count, as a unit reporting through ``report_progress`` would."""
    rows = []
    for assignment, milestones, progress in plans:
        start = timezone.localtime(assignment.received_at).date()
        end = min(assignment.submitted_on or today, today)
        steps: list[tuple[int, Milestone | None]] = []
        done_before = 0
        for percent, done in progress:
            if done <= done_before:
                steps.append((percent, None))
                continue
            # One report per milestone finished since the last one, the last at ``percent``.
            first_percent = steps[-1][0] if steps else 0
            count = done - done_before
            for k, finished in enumerate(milestones[done_before:done], start=1):
                steps.append((first_percent + (percent - first_percent) * k // count, finished))
            done_before = done
        for index, (percent, milestone) in enumerate(steps, start=1):
            day = start + (end - start) * index / (len(steps) + 1)
            if milestone is not None:
                content = f"已完成“{milestone.title}”，整体进度 {percent}%。"
            else:
                content = f"正在推进，整体进度 {percent}%。"
            rows.append(
                ProgressReport(
                    assignment=assignment,
                    milestone=milestone,
                    content=content,
                    percent=percent,
                    milestone_done=milestone is not None,
                    author_label=_staff(ctx, assignment)[1],
                    created_at=_at(day),
                )
            )
    return rows


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
    # Progress reports refer to the milestones (PROTECT): they go before their tasks.
    ProgressReport.objects.filter(assignment__task_id__in=task_ids).delete()
    WorkTask.objects.filter(pk__in=task_ids).delete()
