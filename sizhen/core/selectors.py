"""Reads owned by core for the home page (sizhen/core/workqueue.py): unread messages for
everyone, failed background jobs and the job queue for the system administrator."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from sizhen.core.access import Actor, role_of
from sizhen.core.models import Job, JobStatus, Notification
from sizhen.core.roles import USER_ROLES, Role
from sizhen.core.workqueue import KeyFigure, Queue

WORK_QUEUES = (
    Queue(
        "unread",
        "未读消息",
        "站内消息",
        frozenset(USER_ROLES),
        lambda actor: Notification.objects.visible_to(actor).filter(read_at__isnull=True),
        "core:inbox",
        deadline="",
        query="status=unread",
    ),
    Queue(
        "failed_jobs",
        "失败的后台任务",
        "系统管理",
        frozenset({Role.SYSADMIN}),
        lambda actor: Job.objects.visible_to(actor).filter(status=JobStatus.FAILED),
        "core:job_list",
        deadline="",
        query=f"status={JobStatus.FAILED}",
    ),
)


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    if role_of(actor) != Role.SYSADMIN:
        return []
    queued = Job.objects.visible_to(actor).filter(status=JobStatus.QUEUED).count()
    return [
        KeyFigure(
            "jobs.queued",
            "排队中的后台任务",
            str(queued),
            "个",
            url=f"{reverse('core:job_list')}?status={JobStatus.QUEUED}",
        )
    ]
