"""The states of a survey round (调查轮次) and of a questionnaire version.

Round: draft (未开始) → open (进行中) → closed (已结束, terminal). Opening fixes nothing new (the
version was chosen when the round was created) but checks that it may be answered; closing is
the coordinator's, or the system's once the deadline has passed.

Version: draft (草稿) → published (已发布, terminal): a published version is never changed;
editing it makes a new draft (services.edit_question)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.permissions import capability_roles, has_capability
from sizhen.core.workflow import Transition, Workflow

DRAFT = "draft"
OPEN = "open"
CLOSED = "closed"
PUBLISHED = "published"

ROUND_STATES = {DRAFT: "未开始", OPEN: "进行中", CLOSED: "已结束"}
VERSION_STATES = {DRAFT: "草稿", PUBLISHED: "已发布"}


def open_refusal(survey_round: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    """Why the round may not open now, or None."""
    version = survey_round.form_version
    if version.status != PUBLISHED:
        return f"问卷第 {version.number} 版尚未发布，不能开始调查"
    if not version.questions.exclude(type="note").exists():
        return "问卷没有需要作答的题目，不能开始调查"
    if survey_round.deadline < timezone.localdate():
        return "截止日期已过，请先修改截止日期"
    other = (
        type(survey_round)
        .objects.filter(questionnaire_id=survey_round.questionnaire_id, status=OPEN)
        .exclude(pk=survey_round.pk)
        .first()
    )
    if other is not None:
        return f"该问卷已有进行中的调查“{other.title}”，请先结束它"
    return None


def _distributor_or_system(
    survey_round: Any, actor: Actor | None, context: dict[str, Any]
) -> str | None:
    # The close_due_rounds job acts as the system (no actor) once the deadline has passed.
    if actor is None and context.get("deadline_passed"):
        return None
    if has_capability(actor, "survey.distribute"):
        return None
    return "只有营商办可以结束调查"


def publish_refusal(version: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    # ``manage.py import_survey --publish`` acts as the system (no actor).
    if not (actor is None and context.get("system")) and not has_capability(actor, "survey.design"):
        return "只有营商办可以发布问卷"
    from sizhen.surveys.validation import form_problems

    problems = form_problems(version)
    return problems[0] if problems else None


ROUND_WORKFLOW = Workflow(
    name="survey_round",
    states=ROUND_STATES,
    initial=DRAFT,
    terminal=frozenset({CLOSED}),
    transitions=[
        Transition(
            "open",
            (DRAFT,),
            OPEN,
            "开始调查",
            roles=capability_roles("survey.distribute"),
            guard=open_refusal,
        ),
        Transition("close", (OPEN,), CLOSED, "结束调查", guard=_distributor_or_system),
    ],
)

VERSION_WORKFLOW = Workflow(
    name="survey_version",
    states=VERSION_STATES,
    initial=DRAFT,
    terminal=frozenset({PUBLISHED}),
    transitions=[
        Transition(
            "publish",
            (DRAFT,),
            PUBLISHED,
            "发布",
            guard=publish_refusal,
        ),
    ],
)
