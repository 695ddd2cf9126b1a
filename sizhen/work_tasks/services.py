"""Writes on work tasks (工作任务): issue, receive, transfer, report progress, submit, review,
supervise. Each is one transaction with one audit event (transitions write theirs through the
workflow engine)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import actor_fields, record_event
from sizhen.core.deadlines import Deadline
from sizhen.core.deadlines import resolve_deadline as resolve_given_deadline
from sizhen.core.errors import ServiceError
from sizhen.core.notifications import coordinators, notify_after_commit
from sizhen.core.notifications import unit_users as users_of_units
from sizhen.core.numbering import next_number
from sizhen.core.permissions import ensure_capability
from sizhen.core.uploads import upload_error
from sizhen.core.workcalendar import working_days_between
from sizhen.core.workflow import TransitionConflict, execute_transition
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Department, Region
from sizhen.work_tasks.choices import EARLY_MARGIN_WORKING_DAYS, TaskSource, Timeliness
from sizhen.work_tasks.models import (
    Milestone,
    ProgressReport,
    TaskAssignment,
    TaskFile,
    WorkTask,
)
from sizhen.work_tasks.workflow import (
    CANCELLED,
    RECEIVED,
    RETURNED,
    acts_for_unit,
)

MAX_UNITS = 100


class TaskError(ServiceError):
    """A work-task write that may not happen; the message is shown to the user (Chinese)."""


Unit = Department | Region


def today() -> dt.date:
    """The local date; tests replace it to walk through holidays."""
    return timezone.localdate()


def task_deadline(
    issued_on: dt.date, *, deadline: dt.date | None, working_days: int | None
) -> Deadline:
    """A task's deadline: a date, or working days counted from the issue date, one of the two."""
    if (deadline is None) == (working_days is None):
        raise TaskError("请填写完成期限：截止日期或工作日数，二选一")
    if working_days is not None and not 1 <= working_days <= 500:
        raise TaskError("工作日数应在 1–500 之间")
    if deadline is not None and deadline < issued_on:
        raise TaskError("完成期限不能早于下发日期")
    if deadline is not None and (deadline - issued_on).days > 3660:
        raise TaskError("完成期限超出十年，请检查输入")
    resolved = resolve_given_deadline(issued_on, deadline=deadline, working_days=working_days)
    assert resolved is not None
    return resolved


def classify(finished_on: dt.date, deadline: dt.date) -> tuple[str, int]:
    """(timeliness, delay in working days): early when finished at least
    ``EARLY_MARGIN_WORKING_DAYS`` working days before the deadline, late when after it."""
    if finished_on > deadline:
        return Timeliness.LATE, working_days_between(deadline, finished_on).days
    ahead = working_days_between(finished_on, deadline).days
    return (Timeliness.EARLY if ahead >= EARLY_MARGIN_WORKING_DAYS else Timeliness.ON_TIME), 0


def _check_uploads(files: Sequence[UploadedFile]) -> None:
    for upload in files:
        error = upload_error(upload)
        if error:
            raise TaskError(error)


def _save_files(
    files: Sequence[UploadedFile], *, task: WorkTask, actor: Actor, report: ProgressReport | None
) -> list[TaskFile]:
    label = actor_fields(actor)["actor_label"]
    saved = []
    for upload in files:
        row = TaskFile(
            task=task,
            report=report,
            name=Path(upload.name or "附件").name[:200],
            size=upload.size or 0,
            uploaded_by_label=label,
        )
        row.file.save(upload.name or "file", upload, save=False)
        row.save()
        saved.append(row)
    return saved


def unit_users(assignment: TaskAssignment) -> list[Any]:
    if assignment.department_id:
        return users_of_units(department_ids=[assignment.department_id])
    return users_of_units(region_ids=[assignment.region_id])


def assignment_link(assignment: TaskAssignment) -> str:
    return reverse("work_tasks:detail", args=[assignment.pk])


def _next_number(year: int) -> str:
    prefix = f"RW{year}-"

    def highest_in_use() -> int:
        # Numbers written before the counter existed (or by the demo loader) are skipped.
        numbers = WorkTask.objects.filter(number__startswith=prefix).values_list(
            "number", flat=True
        )
        return max(
            (int(n.removeprefix(prefix)) for n in numbers if n[len(prefix) :].isdigit()), default=0
        )

    return f"{prefix}{next_number('work_task', year, start_after=highest_in_use):04d}"


def _unit_fields(unit: Unit) -> dict[str, Any]:
    if isinstance(unit, Department):
        return {"department": unit, "region": None, "unit_path": unit.region.path}
    return {"department": None, "region": unit, "unit_path": unit.path}


def _unit_key(unit: Unit) -> tuple[str, int]:
    return ("d" if isinstance(unit, Department) else "r", unit.pk)


def _create_task(
    *,
    actor: Actor,
    title: str,
    content: str,
    source: str,
    units: Sequence[Unit],
    deadline: dt.date | None,
    deadline_working_days: int | None,
    milestones: Sequence[tuple[str, dt.date]],
    indicators: Iterable[Indicator],
    files: Sequence[UploadedFile],
    issued_on: dt.date | None,
    alert_id: int | None,
    plan_year: int | None,
) -> WorkTask:
    ensure_capability(actor, "task.issue", TaskError("只有营商办可以下发任务"))
    title = title.strip()
    content = content.strip()
    if not title:
        raise TaskError("请填写任务名称")
    if len(title) > 200:
        raise TaskError("任务名称最多 200 字")
    if not content:
        raise TaskError("请填写任务内容")
    if source not in TaskSource.values:
        raise TaskError("任务来源无效")
    if not units:
        raise TaskError("请至少选择一个承办单位")
    if len(units) > MAX_UNITS:
        raise TaskError(f"承办单位最多 {MAX_UNITS} 个")
    keys = [_unit_key(u) for u in units]
    if len(set(keys)) != len(keys):
        raise TaskError("承办单位重复")
    issued = issued_on or today()
    resolved = task_deadline(issued, deadline=deadline, working_days=deadline_working_days)
    for name, when in milestones:
        if not name.strip():
            raise TaskError("阶段节点名称不能为空")
        if not issued <= when <= resolved.date:
            raise TaskError(f"阶段节点“{name[:40]}”的期限应在下发日期与完成期限之间")
    _check_uploads(files)
    task = WorkTask.objects.create(
        number=_next_number(issued.year),
        title=title,
        content=content,
        source=source,
        issued_on=issued,
        deadline=resolved.date,
        deadline_working_days=resolved.working_days,
        deadline_provisional=resolved.provisional,
        issued_by=actor if isinstance(actor, get_user_model()) else None,
        alert_id=alert_id,
        plan_year=plan_year,
    )
    task.indicators.set(list(indicators))
    Milestone.objects.bulk_create(
        [
            Milestone(task=task, title=name.strip()[:200], deadline=when, position=index)
            for index, (name, when) in enumerate(milestones)
        ]
    )
    assignments = [
        TaskAssignment.objects.create(task=task, deadline=resolved.date, **_unit_fields(u))
        for u in units
    ]
    _save_files(files, task=task, actor=actor, report=None)
    for assignment in assignments:
        notify_after_commit(
            unit_users(assignment),
            subject=f"新任务待签收：{task.title}",
            body=f"完成期限 {task.deadline:%Y-%m-%d}。{task.content[:200]}",
            link=assignment_link(assignment),
            category="work_task",
        )
    return task


def issue_task(
    *,
    actor: Actor,
    title: str,
    content: str,
    source: str,
    units: Sequence[Unit],
    deadline: dt.date | None = None,
    deadline_working_days: int | None = None,
    milestones: Sequence[tuple[str, dt.date]] = (),
    indicators: Iterable[Indicator] = (),
    files: Sequence[UploadedFile] = (),
    issued_on: dt.date | None = None,
    plan_year: int | None = None,
) -> WorkTask:
    """Issue (下发) a task to one or more units: one assignment per unit, each with its state."""
    with transaction.atomic():
        task = _create_task(
            actor=actor,
            title=title,
            content=content,
            source=source,
            units=units,
            deadline=deadline,
            deadline_working_days=deadline_working_days,
            milestones=milestones,
            indicators=indicators,
            files=files,
            issued_on=issued_on,
            alert_id=None,
            plan_year=plan_year,
        )
        record_event(
            "work_task.issue",
            actor=actor,
            obj=task,
            after=_issue_summary(task),
            message=f"下发任务“{task.title}”",
        )
    return task


def _issue_summary(task: WorkTask) -> dict[str, Any]:
    return {
        "number": task.number,
        "source": task.source,
        "deadline": task.deadline,
        "deadline_working_days": task.deadline_working_days,
        "units": [a.unit_name for a in task.assignments.select_related("department", "region")],
    }


def create_task_from_alert(
    alert: Any,
    *,
    actor: Actor,
    title: str,
    content: str,
    units: Sequence[Unit],
    deadline: dt.date | None = None,
    deadline_working_days: int | None = None,
    milestones: Sequence[tuple[str, dt.date]] = (),
) -> WorkTask:
    """Turn an alert (预警) into a work task; the alert is marked converted in the same
    transaction, so either both happen or neither."""
    from sizhen.monitoring.services import convert_alert

    with transaction.atomic():
        task = _create_task(
            actor=actor,
            title=title,
            content=content,
            source=TaskSource.ALERT,
            units=units,
            deadline=deadline,
            deadline_working_days=deadline_working_days,
            milestones=milestones,
            indicators=[alert.indicator],
            files=(),
            issued_on=None,
            alert_id=alert.pk,
            plan_year=None,
        )
        record_event(
            "work_task.issue",
            actor=actor,
            obj=task,
            after={**_issue_summary(task), "alert": alert.pk},
            message=f"由预警转为任务“{task.title}”",
        )
        department = next((u for u in units if isinstance(u, Department)), None)
        convert_alert(
            alert,
            target_kind="work_task",
            target_id=task.pk,
            actor=actor,
            department=department,
            note=f"转为工作任务 {task.number}",
        )
    return task


def _check_seen(assignment: TaskAssignment, seen_status: str | None) -> None:
    if seen_status is not None and seen_status != assignment.status:
        raise TransitionConflict(
            f"该任务已被他人处理，当前状态为“{assignment.get_status_display()}”，请刷新后重试"
        )


def _transition(
    assignment: TaskAssignment,
    action: str,
    *,
    actor: Actor,
    note: str = "",
    changes: dict[str, Any] | None = None,
    seen_status: str | None = None,
    context: dict[str, Any] | None = None,
) -> TaskAssignment:
    _check_seen(assignment, seen_status)
    execute_transition(assignment, action, actor=actor, note=note, changes=changes, context=context)
    return assignment


def receive_assignment(
    assignment: TaskAssignment, *, actor: Actor, note: str = "", seen_status: str | None = None
) -> TaskAssignment:
    """Receive (签收) the assignment."""
    return _transition(
        assignment,
        "receive",
        actor=actor,
        note=note.strip(),
        changes={"received_at": timezone.now()},
        seen_status=seen_status,
    )


def submit_assignment(
    assignment: TaskAssignment, *, actor: Actor, note: str = "", seen_status: str | None = None
) -> TaskAssignment:
    """Submit (提交审核) the work for review, or resubmit it after a return."""
    action = "resubmit" if assignment.status == RETURNED else "submit"
    with transaction.atomic():
        _transition(
            assignment,
            action,
            actor=actor,
            note=note,
            changes={"submitted_on": today()},
            seen_status=seen_status,
        )
        parent = assignment.parent
        notify_after_commit(
            coordinators() if parent is None else unit_users(parent),
            subject=f"任务待审核：{assignment.task.title}（{assignment.unit_name}）",
            link=assignment_link(assignment),
            category="work_task",
        )
    return assignment


def approve_assignment(
    assignment: TaskAssignment, *, actor: Actor, note: str = "", seen_status: str | None = None
) -> TaskAssignment:
    """Approve (审核通过): the assignment is complete and classed early / on time / late
    by the date of the submission approved. Work the unit's reports leave unfinished (progress
    below 100 %, open milestones) is approved only with the reviewer's reason, which the
    history keeps with what was unfinished."""
    _check_seen(assignment, seen_status)
    # A submitted assignment takes no progress reports, so what is unfinished cannot change
    # between this read and the transition's lock.
    unfinished = assignment.unfinished()
    note = note.strip()
    if unfinished and not note:
        raise TaskError(f"任务尚未全部完成（{'；'.join(unfinished)}），如确需审核通过，请填写理由")
    finished = assignment.submitted_on or today()
    timeliness, delay = classify(finished, assignment.deadline)
    return _transition(
        assignment,
        "approve",
        actor=actor,
        note=note,
        changes={
            "approved_at": timezone.now(),
            "finished_on": finished,
            "timeliness": timeliness,
            "delay_working_days": delay,
        },
        seen_status=seen_status,
        context={"history_data": {"unfinished": unfinished}} if unfinished else None,
    )


def return_assignment(
    assignment: TaskAssignment, *, actor: Actor, reason: str, seen_status: str | None = None
) -> TaskAssignment:
    """Return (退回) the submission with a reason; the unit resubmits."""
    with transaction.atomic():
        _transition(
            assignment,
            "return",
            actor=actor,
            note=reason.strip(),
            changes={"return_reason": reason.strip()},
            seen_status=seen_status,
        )
        notify_after_commit(
            unit_users(assignment),
            subject=f"任务被退回：{assignment.task.title}",
            body=reason.strip(),
            link=assignment_link(assignment),
            category="work_task",
        )
    return assignment


def cancel_assignment(
    assignment: TaskAssignment, *, actor: Actor, reason: str, seen_status: str | None = None
) -> TaskAssignment:
    """Cancel (撤销) an open assignment with a reason."""
    return _transition(
        assignment, "cancel", actor=actor, note=reason.strip(), seen_status=seen_status
    )


def _lock_open(assignment: TaskAssignment, states: Iterable[str], what: str) -> TaskAssignment:
    locked = TaskAssignment.objects.select_for_update().get(pk=assignment.pk)
    if locked.status not in set(states):
        raise TaskError(f"当前状态“{locked.get_status_display()}”下不能{what}")
    return locked


def transfer_assignment(
    assignment: TaskAssignment,
    *,
    actor: Actor,
    units: Sequence[Unit],
    note: str,
    deadline: dt.date | None = None,
) -> list[TaskAssignment]:
    """Transfer (转办) parts of the work to responsible units as sub-tasks of this one."""
    if not acts_for_unit(assignment, actor):
        raise TaskError("只有承办单位可以转办")
    note = note.strip()
    if not note:
        raise TaskError("请说明转办的事项")
    if not units:
        raise TaskError("请至少选择一个转办单位")
    keys = [_unit_key(u) for u in units]
    own = (
        ("d", assignment.department_id) if assignment.department_id else ("r", assignment.region_id)
    )
    if own in keys:
        raise TaskError("不能转办给本单位")
    if len(set(keys)) != len(keys):
        raise TaskError("转办单位重复")
    with transaction.atomic():
        locked = _lock_open(assignment, (RECEIVED, RETURNED), "转办")
        existing = {
            ("d", c.department_id) if c.department_id else ("r", c.region_id)
            for c in locked.children.exclude(status=CANCELLED)
        }
        if existing & set(keys):
            raise TaskError("该单位已有本任务的转办子任务")
        due = deadline or locked.deadline
        if due > locked.deadline:
            raise TaskError("子任务期限不能晚于本任务的完成期限")
        if due < today():
            raise TaskError("子任务期限不能早于今天")
        children = [
            TaskAssignment.objects.create(
                task_id=locked.task_id,
                parent=locked,
                deadline=due,
                scope_note=note,
                **_unit_fields(u),
            )
            for u in units
        ]
        record_event(
            "work_task.transfer",
            actor=actor,
            obj=locked,
            after={"children": [c.pk for c in children], "units": [c.unit_name for c in children]},
            message=note,
        )
        for child in children:
            notify_after_commit(
                unit_users(child),
                subject=f"转办任务待签收：{locked.task.title}",
                body=note,
                link=assignment_link(child),
                category="work_task",
            )
    return children


def report_progress(
    assignment: TaskAssignment,
    *,
    actor: Actor,
    content: str,
    percent: int,
    milestone: Milestone | None = None,
    milestone_done: bool = False,
    files: Sequence[UploadedFile] = (),
    client_key: str | None = None,
) -> ProgressReport:
    """Report progress (进展反馈), per milestone, with evidence files (佐证材料). A machine
    client's ``client_key`` makes a retried report return the first one."""
    if not acts_for_unit(assignment, actor):
        raise TaskError("只有承办单位可以反馈进展")
    content = content.strip()
    if not content:
        raise TaskError("请填写进展情况")
    if not 0 <= percent <= 100:
        raise TaskError("完成进度应在 0–100 之间")
    if milestone is not None and milestone.task_id != assignment.task_id:
        raise TaskError("阶段节点不属于该任务")
    _check_uploads(files)
    if client_key:
        found = ProgressReport.objects.filter(assignment=assignment, client_key=client_key).first()
        if found is not None:
            return found
    with transaction.atomic():
        locked = _lock_open(assignment, (RECEIVED, RETURNED), "反馈进展")
        try:
            with transaction.atomic():
                report = ProgressReport.objects.create(
                    assignment=locked,
                    milestone=milestone,
                    content=content,
                    percent=percent,
                    milestone_done=milestone_done,
                    author_label=actor_fields(actor)["actor_label"],
                    client_key=client_key or None,
                )
        except IntegrityError:
            return ProgressReport.objects.get(assignment=locked, client_key=client_key)
        _save_files(files, task=locked.task, actor=actor, report=report)
        record_event(
            "work_task.progress",
            actor=actor,
            obj=locked,
            after={
                "report": report.pk,
                "percent": percent,
                "milestone": milestone.pk if milestone else None,
                "milestone_done": milestone_done,
                "files": len(files),
            },
            message=content[:500],
        )
    return report
