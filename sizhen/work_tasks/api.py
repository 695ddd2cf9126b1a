"""Work tasks over the API (/api/v1/tasks): scoped reads for staff and read tokens; the steps
for people by role; progress reports (进展反馈) also for a department's machine token with the
"tasks:write" scope, idempotent by ``client_key``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import Field

from sizhen.core.access import CHANGE, get_visible_or_404
from sizhen.core.api import (
    Limit,
    Offset,
    PageMeta,
    actor_of,
    bounded_by,
    page,
    require_token_scope,
)
from sizhen.core.models import TransitionHistory
from sizhen.core.permissions import require_capability
from sizhen.core.workflow import history_of
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Department, Region
from sizhen.work_tasks import selectors, services
from sizhen.work_tasks.models import Milestone, ProgressReport, TaskAssignment, WorkTask
from sizhen.work_tasks.workflow import STATES

router = Router(tags=["工作任务"])


class TaskFilters(Schema):
    status: str = ""
    mine: bool = False
    overdue: bool = False
    limit: Limit = 100
    offset: Offset = 0


class MilestoneOut(Schema):
    id: int
    title: str
    deadline: dt.date


class StepOut(Schema):
    at: dt.datetime
    action: str
    label: str
    from_state: str
    to_state: str
    actor: str
    note: str


class ProgressOut(Schema):
    id: int
    milestone_id: int | None
    content: str
    percent: int
    milestone_done: bool
    author: str
    created_at: dt.datetime


class AssignmentOut(Schema):
    id: int
    task_id: int
    number: str
    title: str
    source: str
    parent_id: int | None
    unit: str
    department_code: str | None
    region_code: str | None
    issued_on: dt.date
    deadline: dt.date
    deadline_working_days: int | None
    deadline_provisional: bool
    status: str
    status_label: str
    submitted_on: dt.date | None
    finished_on: dt.date | None
    timeliness: str
    delay_working_days: int | None
    listed: bool


class AssignmentDetailOut(AssignmentOut):
    content: str
    indicators: list[str]
    milestones: list[MilestoneOut]
    history: list[StepOut]
    progress: list[ProgressOut]


class AssignmentPage(Schema):
    meta: PageMeta
    items: list[AssignmentOut]


DepartmentCode = Annotated[str, bounded_by(Department, "code")]
RegionCode = Annotated[str, bounded_by(Region, "code")]


class IssueIn(Schema):
    title: Annotated[str, bounded_by(WorkTask, "title")]
    content: Annotated[str, bounded_by(WorkTask, "content")]
    source: Annotated[str, bounded_by(WorkTask, "source")]
    department_codes: list[DepartmentCode] = []
    region_codes: list[RegionCode] = []
    deadline: dt.date | None = None
    deadline_working_days: Annotated[int, Field(ge=1, le=500)] | None = None
    #: {"title": …, "deadline": "YYYY-MM-DD"}
    milestones: list[dict[str, Annotated[str, bounded_by(Milestone, "title")]]] = []
    #: Codes of the related indicators (关联指标), e.g. "BE01.01".
    indicator_codes: list[Annotated[str, bounded_by(Indicator, "code")]] = []


class IssueOut(Schema):
    task_id: int
    number: str
    deadline: dt.date
    deadline_provisional: bool
    assignment_ids: list[int]


class StepIn(Schema):
    note: Annotated[str, bounded_by(TransitionHistory, "note")] = ""
    #: The state the client last saw; a step taken on stale data is refused (409). Optional
    #: over the API (docs/api.md, "Stale-status guard").
    status: Annotated[str, bounded_by(TaskAssignment, "status")] | None = None


class TransferIn(Schema):
    note: Annotated[str, bounded_by(TaskAssignment, "scope_note")]
    department_codes: list[DepartmentCode] = []
    region_codes: list[RegionCode] = []
    deadline: dt.date | None = None


class ProgressIn(Schema):
    content: Annotated[str, bounded_by(ProgressReport, "content")]
    percent: Annotated[int, Field(ge=0, le=100)]
    milestone_id: int | None = None
    milestone_done: bool = False
    client_key: Annotated[str, bounded_by(ProgressReport, "client_key")] | None = None


class SummaryOut(Schema):
    early: int
    on_time: int
    late: int
    open: int
    overdue_open: int


def _out(a: TaskAssignment) -> dict[str, Any]:
    t = a.task
    return {
        "id": a.pk,
        "task_id": t.pk,
        "number": t.number,
        "title": t.title,
        "source": t.source,
        "parent_id": a.parent_id,
        "unit": a.unit_name,
        "department_code": a.department.code if a.department else None,
        "region_code": a.region.code if a.region else None,
        "issued_on": t.issued_on,
        "deadline": a.deadline,
        "deadline_working_days": t.deadline_working_days,
        "deadline_provisional": t.deadline_provisional,
        "status": a.status,
        "status_label": STATES.get(a.status, a.status),
        "submitted_on": a.submitted_on,
        "finished_on": a.finished_on,
        "timeliness": a.timeliness,
        "delay_working_days": a.delay_working_days,
        "listed": a.listed,
    }


def _detail(a: TaskAssignment) -> dict[str, Any]:
    return {
        **_out(a),
        "content": a.task.content,
        "indicators": list(a.task.indicators.order_by("code").values_list("code", flat=True)),
        "milestones": [
            {"id": m.pk, "title": m.title, "deadline": m.deadline} for m in a.task.milestones.all()
        ],
        "history": [
            {
                "at": h.at,
                "action": h.action,
                "label": h.action_label,
                "from_state": h.from_state,
                "to_state": h.to_state,
                "actor": h.actor_label,
                "note": h.note,
            }
            for h in history_of(a)
        ],
        "progress": [
            {
                "id": r.pk,
                "milestone_id": r.milestone_id,
                "content": r.content,
                "percent": r.percent,
                "milestone_done": r.milestone_done,
                "author": r.author_label,
                "created_at": r.created_at,
            }
            for r in a.reports.all()
        ],
    }


def _people(request: HttpRequest) -> Any:
    actor = actor_of(request)
    require_capability(actor, "staff.pages", target="工作任务接口")
    return actor


def _units(department_codes: list[str], region_codes: list[str]) -> list[Any]:
    departments = {d.code: d for d in Department.objects.filter(code__in=department_codes)}
    regions = {r.code: r for r in Region.objects.filter(code__in=region_codes)}
    missing = [c for c in department_codes if c not in departments] + [
        c for c in region_codes if c not in regions
    ]
    if missing:
        raise HttpError(400, f"找不到承办单位：{'、'.join(missing[:10])}")
    return [departments[c] for c in department_codes] + [regions[c] for c in region_codes]


def _indicators(codes: list[str]) -> list[Indicator]:
    found = {i.code: i for i in Indicator.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise HttpError(400, f"找不到指标：{'、'.join(missing[:10])}")
    return [found[c] for c in dict.fromkeys(codes)]


def _fetch(request: HttpRequest, pk: int, action: str) -> TaskAssignment:
    return get_visible_or_404(
        TaskAssignment.objects.select_related("task", "department", "region", "parent"),
        actor_of(request),
        action,
        pk=pk,
    )


@router.get("/tasks", response=AssignmentPage, summary="工作任务（承办任务）列表")
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]) -> dict[str, Any]:
    require_token_scope(request, "read")
    actor = actor_of(request)
    require_capability(actor, "staff.api", target="工作任务接口")
    if filters.status and filters.status not in STATES:
        raise HttpError(400, f"参数 status 应为 {'、'.join(STATES)} 之一")
    qs = selectors.list_my_assignments(actor) if filters.mine else selectors.list_assignments(actor)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = selectors.overdue_assignments(actor, services.today()).filter(pk__in=qs.values("pk"))
    items, meta = page(qs.order_by("deadline", "pk"), filters.limit, filters.offset)
    return {"meta": meta, "items": [_out(a) for a in items]}


@router.get("/tasks/summary", response=SummaryOut, summary="任务完成情况汇总（驾驶舱）")
def summary(request: HttpRequest) -> dict[str, int]:
    actor = _people(request)
    return selectors.completion_summary(actor, services.today())


@router.get("/tasks/{pk}", response=AssignmentDetailOut, summary="工作任务详情（含流转记录）")
def task_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    require_token_scope(request, "read")
    actor = actor_of(request)
    require_capability(actor, "staff.api", target="工作任务接口")
    return _detail(_fetch(request, pk, "view"))


@router.post("/tasks", response={201: IssueOut}, summary="下发任务（营商办）")
def issue(request: HttpRequest, payload: IssueIn) -> Status[dict[str, Any]]:
    actor = actor_of(request)
    require_capability(actor, "task.issue", target="下发任务接口")
    milestones = []
    for item in payload.milestones:
        try:
            milestones.append((item["title"], dt.date.fromisoformat(item["deadline"])))
        except (KeyError, ValueError) as exc:
            raise HttpError(400, "阶段节点应为 {title, deadline: YYYY-MM-DD}") from exc
    task = services.issue_task(
        actor=actor,
        title=payload.title,
        content=payload.content,
        source=payload.source,
        units=_units(payload.department_codes, payload.region_codes),
        deadline=payload.deadline,
        deadline_working_days=payload.deadline_working_days,
        milestones=milestones,
        indicators=_indicators(payload.indicator_codes),
    )
    return Status(
        201,
        {
            "task_id": task.pk,
            "number": task.number,
            "deadline": task.deadline,
            "deadline_provisional": task.deadline_provisional,
            "assignment_ids": list(task.assignments.order_by("pk").values_list("pk", flat=True)),
        },
    )


@router.post(
    "/tasks/{pk}/transfer", response={201: list[AssignmentOut]}, summary="转办（生成子任务）"
)
def transfer(request: HttpRequest, pk: int, payload: TransferIn) -> Status[list[Any]]:
    actor = _people(request)
    assignment = _fetch(request, pk, CHANGE)
    children = services.transfer_assignment(
        assignment,
        actor=actor,
        units=_units(payload.department_codes, payload.region_codes),
        note=payload.note,
        deadline=payload.deadline,
    )
    return Status(201, [_out(c) for c in children])


@router.post(
    "/tasks/{pk}/progress", response={201: ProgressOut}, summary="进展反馈（可用部门令牌）"
)
def progress(request: HttpRequest, pk: int, payload: ProgressIn) -> Status[dict[str, Any]]:
    require_token_scope(request, "tasks:write")
    actor = actor_of(request)
    require_capability(actor, "staff.api", target="进展反馈接口")
    assignment = _fetch(request, pk, CHANGE)
    milestone = None
    if payload.milestone_id is not None:
        milestone = Milestone.objects.filter(
            pk=payload.milestone_id, task_id=assignment.task_id
        ).first()
        if milestone is None:
            raise HttpError(400, "阶段节点不属于该任务")
    if payload.client_key is not None and not 1 <= len(payload.client_key) <= 64:
        raise HttpError(400, "client_key 长度应为 1–64")
    report = services.report_progress(
        assignment,
        actor=actor,
        content=payload.content,
        percent=payload.percent,
        milestone=milestone,
        milestone_done=payload.milestone_done,
        client_key=payload.client_key,
    )
    return Status(
        201,
        {
            "id": report.pk,
            "milestone_id": report.milestone_id,
            "content": report.content,
            "percent": report.percent,
            "milestone_done": report.milestone_done,
            "author": report.author_label,
            "created_at": report.created_at,
        },
    )


# Declared last: the generic step route would otherwise capture /transfer and /progress.
_STEPS = {
    "receive": lambda a, actor, p: services.receive_assignment(
        a, actor=actor, note=p.note, seen_status=p.status
    ),
    "submit": lambda a, actor, p: services.submit_assignment(
        a, actor=actor, note=p.note, seen_status=p.status
    ),
    "approve": lambda a, actor, p: services.approve_assignment(
        a, actor=actor, note=p.note, seen_status=p.status
    ),
    "return": lambda a, actor, p: services.return_assignment(
        a, actor=actor, reason=p.note, seen_status=p.status
    ),
}


@router.post(
    "/tasks/{pk}/{action}", response=AssignmentOut, summary="办理：签收、提交、审核通过、退回"
)
def take_step(request: HttpRequest, pk: int, action: str, payload: StepIn) -> dict[str, Any]:
    actor = _people(request)
    run = _STEPS.get(action)
    if run is None:
        raise HttpError(404, "未找到该操作")
    assignment = _fetch(request, pk, CHANGE)
    run(assignment, actor, payload)
    return _out(assignment)
