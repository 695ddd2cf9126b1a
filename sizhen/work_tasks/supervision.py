"""Supervision (督办) of assignments: urging notes (催办), listed supervision (挂牌督办) that
escalates an assignment to a leader, and the coordination meetings (协调会) held on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import actor_fields, record_event
from sizhen.core.notifications import notify_after_commit
from sizhen.core.permissions import ensure_capability, has_capability
from sizhen.core.roles import Role
from sizhen.work_tasks import services
from sizhen.work_tasks.models import CoordinationMeeting, TaskAssignment, UrgeNote
from sizhen.work_tasks.services import (
    TaskError,
    _lock_open,
    assignment_link,
    unit_users,
)
from sizhen.work_tasks.workflow import OPEN_STATES, is_reviewer


def urge_assignment(assignment: TaskAssignment, *, actor: Actor, content: str) -> UrgeNote:
    """Send an urging note (催办) to the unit and keep it on record."""
    if not (has_capability(actor, "task.supervise") or is_reviewer(assignment, actor)):
        raise TaskError("只有营商办或转办单位可以催办")
    content = content.strip()
    if not content:
        raise TaskError("请填写催办内容")
    with transaction.atomic():
        locked = _lock_open(assignment, OPEN_STATES, "催办")
        note = UrgeNote.objects.create(
            assignment=locked, content=content, author_label=actor_fields(actor)["actor_label"]
        )
        record_event("work_task.urge", actor=actor, obj=locked, message=content)
        notify_after_commit(
            unit_users(locked),
            subject=f"催办：{locked.task.title}",
            body=content,
            link=assignment_link(locked),
            category="work_task",
        )
    return note


def list_for_supervision(
    assignment: TaskAssignment, *, actor: Actor, leader: Any, reason: str
) -> TaskAssignment:
    """Listed supervision (挂牌督办): escalate the assignment to a leader's attention."""
    ensure_capability(actor, "task.supervise", TaskError("只有营商办可以挂牌督办"))
    reason = reason.strip()
    if not reason:
        raise TaskError("请填写挂牌督办理由")
    if leader is None or getattr(leader, "role", None) != Role.LEADER or not leader.is_active:
        raise TaskError("请选择督办领导")
    with transaction.atomic():
        locked = _lock_open(assignment, OPEN_STATES, "挂牌督办")
        if locked.listed:
            raise TaskError("该任务已挂牌督办")
        TaskAssignment.objects.filter(pk=locked.pk).update(
            listed=True, listed_at=timezone.now(), listed_reason=reason, listed_leader=leader
        )
        record_event(
            "work_task.list",
            actor=actor,
            obj=locked,
            after={"leader": leader.pk, "reason": reason},
            message=reason,
        )
        notify_after_commit(
            [leader, *unit_users(locked)],
            subject=f"挂牌督办：{locked.task.title}（{locked.unit_name}）",
            body=reason,
            link=assignment_link(locked),
            category="work_task",
        )
    assignment.refresh_from_db()
    return assignment


def record_meeting(
    assignment: TaskAssignment,
    *,
    actor: Actor,
    held_on: dt.date,
    attendees: str,
    minutes: str,
) -> CoordinationMeeting:
    """Record a coordination meeting (协调会) on a task under listed supervision."""
    ensure_capability(actor, "task.supervise", TaskError("只有营商办可以记录协调会"))
    if not attendees.strip() or not minutes.strip():
        raise TaskError("请填写参会单位和人员、会议纪要")
    if held_on > services.today():
        raise TaskError("召开日期不能晚于今天")
    with transaction.atomic():
        locked = TaskAssignment.objects.select_for_update().get(pk=assignment.pk)
        if not locked.listed:
            raise TaskError("只有挂牌督办的任务才记录协调会")
        meeting = CoordinationMeeting.objects.create(
            assignment=locked,
            held_on=held_on,
            attendees=attendees.strip(),
            minutes=minutes.strip(),
            author_label=actor_fields(actor)["actor_label"],
        )
        record_event(
            "work_task.meeting",
            actor=actor,
            obj=locked,
            after={"meeting": meeting.pk, "held_on": held_on},
            message=minutes.strip()[:500],
        )
    return meeting
