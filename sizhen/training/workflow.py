"""States of exams (考试) and of attempts (答卷).

An exam is drafted (草稿), published (已发布: people in its audience may start attempts) and
closed (已结束). An attempt is in progress (答题中) until the person submits it (已交卷) or its
server-side deadline passes (超时交卷, by the system: on the next request that touches it or by
the periodic job); both end states are terminal and scored."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.permissions import capability_roles
from sizhen.core.workflow import Transition, Workflow

DRAFT = "draft"
PUBLISHED = "published"
CLOSED = "closed"

EXAM_STATES = {DRAFT: "草稿", PUBLISHED: "已发布", CLOSED: "已结束"}

IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
EXPIRED = "expired"

ATTEMPT_STATES = {IN_PROGRESS: "答题中", SUBMITTED: "已交卷", EXPIRED: "超时交卷"}
FINISHED_ATTEMPT_STATES = frozenset({SUBMITTED, EXPIRED})


def _publishable(exam: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    from sizhen.training.exams import rule_shortfalls

    if not exam.rules:
        return "请先设置抽题规则"
    shortfalls = rule_shortfalls(exam.rules)
    if shortfalls:
        return "题库中的题目不足：" + "；".join(shortfalls)
    return None


EXAM_WORKFLOW = Workflow(
    name="training_exam",
    states=EXAM_STATES,
    initial=DRAFT,
    terminal=frozenset({CLOSED}),
    transitions=[
        Transition(
            "publish",
            (DRAFT,),
            PUBLISHED,
            "发布考试",
            roles=capability_roles("training.manage"),
            guard=_publishable,
        ),
        Transition(
            "close", (PUBLISHED,), CLOSED, "结束考试", roles=capability_roles("training.manage")
        ),
    ],
)


def _owner(attempt: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if actor is not None and getattr(actor, "pk", None) == attempt.user_id:
        return None
    return "只有答题人本人可以交卷"


def _past_deadline(attempt: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if timezone.now() >= attempt.deadline:
        return None
    return "考试时间未到，不能按超时交卷"


ATTEMPT_WORKFLOW = Workflow(
    name="training_attempt",
    states=ATTEMPT_STATES,
    initial=IN_PROGRESS,
    terminal=FINISHED_ATTEMPT_STATES,
    transitions=[
        Transition("submit", (IN_PROGRESS,), SUBMITTED, "交卷", guard=_owner),
        # The system's transition (actor None): the deadline passed with the attempt open.
        Transition("expire", (IN_PROGRESS,), EXPIRED, "超时自动交卷", guard=_past_deadline),
    ],
)
