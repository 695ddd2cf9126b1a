"""Reads of reminder letters (提醒函), through the scope: the home page's work queue."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.roles import DEPARTMENT_STAFF_ROLES, Role
from sizhen.core.workqueue import Queue
from sizhen.reports.models import LetterStatus, ReminderLetter

MODULE = "提醒函"


def list_to_answer(actor: Actor) -> QuerySet[ReminderLetter]:
    """Letters sent to the actor's department whose feedback deadline (反馈期限) has not
    passed: the department owes an answer."""
    if actor.department_id is None:
        return ReminderLetter.objects.none()
    return ReminderLetter.objects.visible_to(actor).filter(
        status=LetterStatus.SENT,
        department_id=actor.department_id,
        deadline__gte=timezone.localdate(),
    )


WORK_QUEUES = (
    Queue(
        "send",
        "待发送的提醒函",
        MODULE,
        frozenset({Role.COORDINATOR}),
        lambda actor: ReminderLetter.objects.visible_to(actor).filter(status=LetterStatus.DRAFT),
        "reports:letter_list",
    ),
    Queue(
        "answer",
        "反馈期内待反馈的提醒函",
        MODULE,
        DEPARTMENT_STAFF_ROLES,
        list_to_answer,
        "reports:letter_list",
    ),
)
