"""Daily deadline reminders (到期提醒): a reminder when few working days are left and one when
the deadline has passed. Each is sent at most once per assignment (``ReminderLog``), so the job
is safe to re-run and to run twice on one day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sizhen.core.audit import record_event
from sizhen.core.jobs import JobContext, job, schedule
from sizhen.core.notifications import coordinators, notify_after_commit
from sizhen.core.workcalendar import working_days_between
from sizhen.work_tasks.choices import REMINDER_WORKING_DAYS, ReminderKind
from sizhen.work_tasks.models import ReminderLog, TaskAssignment
from sizhen.work_tasks.services import assignment_link, unit_users
from sizhen.work_tasks.workflow import WORKING_STATES


def send_deadline_reminders(today: dt.date | None = None) -> dict[str, int]:
    day = today or timezone.localdate()
    sent = {ReminderKind.BEFORE_DEADLINE.value: 0, ReminderKind.OVERDUE.value: 0}
    horizon = day + dt.timedelta(days=REMINDER_WORKING_DAYS * 3 + 14)
    candidates = (
        TaskAssignment.objects.filter(status__in=WORKING_STATES, deadline__lte=horizon)
        .select_related("task", "department", "region")
        .order_by("pk")
    )
    managers = coordinators()
    for assignment in candidates:
        if assignment.deadline < day:
            kind = ReminderKind.OVERDUE
            subject = f"任务已逾期：{assignment.task.title}（期限 {assignment.deadline:%Y-%m-%d}）"
            recipients: list[Any] = [*unit_users(assignment), *managers]
        else:
            left = working_days_between(day, assignment.deadline).days
            if left > REMINDER_WORKING_DAYS:
                continue
            kind = ReminderKind.BEFORE_DEADLINE
            subject = (
                f"任务即将到期：{assignment.task.title}（期限 {assignment.deadline:%Y-%m-%d}，"
                f"剩余 {left} 个工作日）"
            )
            recipients = unit_users(assignment)
        try:
            with transaction.atomic():
                ReminderLog.objects.create(assignment=assignment, kind=kind, sent_on=day)
                notify_after_commit(
                    recipients,
                    subject=subject,
                    link=assignment_link(assignment),
                    category="work_task_reminder",
                )
        except IntegrityError:
            continue  # already reminded: the unique key is the idempotency guard
        sent[kind.value] += 1
    if any(sent.values()):
        record_event(
            "work_task.reminders",
            actor=None,
            object_type=TaskAssignment._meta.label_lower,
            after=sent,
            message=f"任务到期提醒：临期 {sent['before_deadline']}，逾期 {sent['overdue']}",
        )
    return sent


@job("work_tasks.deadline_reminders", label="工作任务到期提醒")
def deadline_reminders(ctx: JobContext) -> dict[str, int]:
    return send_deadline_reminders()


schedule("work_tasks.deadline_reminders", every=dt.timedelta(days=1))
