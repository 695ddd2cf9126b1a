"""Problems found by asking become work (问题转办): a dissatisfied rating or a written problem
in a response is turned by the office into an enterprise request (only with the enterprise's
consent, the questionnaire's ``consent`` question) or a rectification item (整改事项), through
those apps' own services, and linked back to the answer (``FollowUp``). One of each kind per
answer: a double submit finds the first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction

from sizhen.accounts.models import acting_user
from sizhen.core.access import VIEW, Actor
from sizhen.core.audit import record_event
from sizhen.core.permissions import ensure_capability
from sizhen.enterprise_requests.choices import Channel as RequestChannel
from sizhen.enterprise_requests.choices import Kind
from sizhen.enterprise_requests.services import submit_request
from sizhen.organisations.models import Department
from sizhen.rectification.choices import Source
from sizhen.rectification.services import create_item
from sizhen.surveys.choices import FollowUpKind
from sizhen.surveys.models import Answer, FollowUp, Question, Response
from sizhen.surveys.selectors import has_consent, problem_of
from sizhen.surveys.services.common import SurveyError

NO_CONSENT = "企业未在问卷中同意将所反映的问题转为诉求办理，不能转为诉求"


def _follow_up(
    answer: Answer,
    kind: str,
    *,
    actor: Actor,
    create: Callable[[Response, Question], tuple[int, str]],
) -> tuple[FollowUp, bool]:
    ensure_capability(
        actor, "survey.follow_up", SurveyError("只有营商办可以将问卷问题转为诉求或整改事项")
    )
    response = answer.response
    if not Response.objects.visible_to(actor, VIEW).filter(pk=response.pk).exists():
        raise SurveyError("答卷不在您的权限范围内")
    if response.submitted_at is None:
        raise SurveyError("答卷尚未提交")
    question = answer.question
    if not problem_of(question, answer.value):
        raise SurveyError("只有不满意的评分或文字意见可以转办")
    with transaction.atomic():
        # Two submits of one form: the second waits for the first and finds its follow-up.
        Response.objects.select_for_update().filter(pk=response.pk).first()
        existing = FollowUp.objects.filter(answer=answer, kind=kind).first()
        if existing is not None:
            return existing, False
        target_id, number = create(response, question)
        follow_up = FollowUp.objects.create(
            response=response,
            answer=answer,
            kind=kind,
            target_id=target_id,
            target_number=number,
            created_by=acting_user(actor),
        )
        record_event(
            "survey.follow_up",
            actor=actor,
            obj=response,
            after={"question": question.name, "kind": kind, "target": number},
            message=f"问卷问题“{question.label[:40]}”转为{follow_up.get_kind_display()} {number}",
        )
    return follow_up, True


def answer_to_request(
    answer: Answer, *, actor: Actor, text: str, kind: str = Kind.COMPLAINT
) -> tuple[FollowUp, bool]:
    """Turn the answer into an enterprise request of the responding enterprise (channel 问卷调查),
    only when the response carries the enterprise's consent. Returns (follow-up, created)."""
    if not has_consent(answer.response):
        raise SurveyError(NO_CONSENT)

    def create(response: Response, _question: Question) -> tuple[int, str]:
        request, _created = submit_request(
            actor=actor,
            channel=RequestChannel.SURVEY,
            text=text,
            kind=kind,
            enterprise=response.enterprise,
            region=response.region,
            idempotency_key=f"survey-answer:{answer.pk}",
        )
        return request.pk, request.number

    return _follow_up(answer, FollowUpKind.REQUEST, actor=actor, create=create)


def answer_to_rectification(
    answer: Answer,
    *,
    actor: Actor,
    title: str,
    lead_department: Department | None,
    measures: str,
    deadline: dt.date | None = None,
    working_days: int | None = None,
    description: str = "",
) -> tuple[FollowUp, bool]:
    """Turn the answer into a rectification item (source 问卷调查) of the response's region,
    linked to the indicator the question's bank item informs. Returns (follow-up, created)."""

    def create(response: Response, question: Question) -> tuple[int, str]:
        bank = question.bank_item
        item = create_item(
            actor=actor,
            title=title,
            source=Source.SURVEY,
            region=response.region,
            lead_department=lead_department,
            measures=measures,
            deadline=deadline,
            working_days=working_days,
            description=description,
            indicators=[bank.indicator] if bank is not None and bank.indicator else [],
            source_ref=f"问卷答卷 {response.pk}",
        )
        return item.pk, item.number

    return _follow_up(answer, FollowUpKind.RECTIFICATION, actor=actor, create=create)
