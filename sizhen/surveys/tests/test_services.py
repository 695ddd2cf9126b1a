"""Versions (a published version is never changed), round states through the workflow, the
daily jobs (closing due rounds, reminders), sampling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from sizhen.core.models import Notification, TransitionHistory
from sizhen.core.workflow import TransitionConflict, TransitionNotAllowed
from sizhen.surveys import services
from sizhen.surveys.choices import Channel
from sizhen.surveys.jobs import send_deadline_reminders
from sizhen.surveys.models import Invitation, Question, QuestionnaireVersion, SurveyRound
from sizhen.surveys.tests.support import good_answers, make_round

pytestmark = pytest.mark.django_db


def test_editing_a_published_version_makes_a_new_draft(
    city_round: Any, city: dict[str, Any], personas: dict[str, Any]
) -> None:
    coordinator = personas["coordinator"]
    services.submit_response(
        city_round,
        actor=coordinator,
        enterprise=city["enterprise_a"],
        answers=good_answers(),
        channel=Channel.PAPER,
    )
    published = QuestionnaireVersion.objects.get()
    question = Question.objects.get(version=published, name="score")
    edited = services.edit_question(
        question, actor=coordinator, label="政务服务总体评分", required=False
    )
    assert edited.version.number == 2 and edited.version.status == "draft"
    assert edited.version.based_on == published
    question.refresh_from_db()
    assert (question.label, question.required) == ("政务服务评分", True)
    assert (edited.label, edited.required) == ("政务服务总体评分", False)
    # The draft is edited in place from now on: no third version.
    again = services.edit_question(edited, actor=coordinator, hint="1 分最低，5 分最高")
    assert again.pk == edited.pk
    assert QuestionnaireVersion.objects.count() == 2
    assert (
        Question.objects.filter(version=published).count()
        == Question.objects.filter(version=edited.version).count()
    )
    # A bad expression is refused and the draft keeps its question as it was.
    with pytest.raises(services.SurveyError, match="不支持运算符"):
        services.edit_question(again, actor=coordinator, relevant="${employees} + 1 > 3")
    again.refresh_from_db()
    assert again.relevant == ""
    # The round keeps asking version 1.
    assert SurveyRound.objects.get().form_version == published


def test_only_the_coordinator_edits(questionnaire: Any, personas: dict[str, Any]) -> None:
    question = Question.objects.get(name="score")
    with pytest.raises(services.SurveyError, match="只有营商办可以修改问卷"):
        services.edit_question(question, actor=personas["district_a"], label="x")
    assert QuestionnaireVersion.objects.count() == 1


def test_add_and_remove_questions_in_the_draft(
    questionnaire: Any, personas: dict[str, Any]
) -> None:
    coordinator = personas["coordinator"]
    item = services.create_bank_item(
        actor=coordinator,
        code="BANK_FINANCE_1",
        type="rating",
        label="融资服务满意度",
        parameters={"start": 1, "end": 10, "step": 1},
        weight=1.5,
    )
    added = services.add_question(questionnaire, actor=coordinator, bank_item=item, name="finance")
    assert (added.version.number, added.bank_item, added.scale, added.weight) == (
        2,
        item,
        (1, 10, 1),
        1.5,
    )
    draft = added.version
    services.publish_version(draft, actor=coordinator)
    assert QuestionnaireVersion.objects.get(pk=draft.pk).status == "published"
    with pytest.raises(TransitionNotAllowed):
        services.publish_version(QuestionnaireVersion.objects.get(pk=draft.pk), actor=coordinator)
    removed = services.remove_question(added, actor=coordinator)
    assert removed.number == 3
    assert not Question.objects.filter(version=removed, name="finance").exists()
    assert Question.objects.filter(version=draft, name="finance").exists()


def test_round_states_and_guards(
    questionnaire: Any, city: dict[str, Any], personas: dict[str, Any]
) -> None:
    coordinator = personas["coordinator"]
    first = make_round(questionnaire, coordinator, city["root"], "第一轮", days=5)
    second = make_round(questionnaire, coordinator, city["root"], "第二轮", days=5)
    with pytest.raises(TransitionNotAllowed, match="角色无权"):
        services.transition_round(first, "open", actor=personas["district_a"])
    services.transition_round(first, "open", actor=coordinator, seen_status="draft")
    with pytest.raises(TransitionNotAllowed, match="已有进行中的调查“第一轮”"):
        services.transition_round(second, "open", actor=coordinator)
    with pytest.raises(TransitionConflict):
        services.transition_round(first, "close", actor=coordinator, seen_status="draft")
    services.transition_round(first, "close", actor=coordinator)
    with pytest.raises(TransitionNotAllowed, match="终结状态"):
        services.transition_round(first, "open", actor=coordinator)
    services.transition_round(second, "open", actor=coordinator)
    rounds = TransitionHistory.objects.filter(workflow="survey_round").order_by("pk")
    actions = list(rounds.values_list("object_id", "action"))
    assert actions == [(str(first.pk), "open"), (str(first.pk), "close"), (str(second.pk), "open")]


def test_due_rounds_close_and_non_responders_are_reminded(
    city_round: Any,
    city: dict[str, Any],
    personas: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    today = timezone.localdate()
    services.submit_response(
        city_round,
        actor=personas["coordinator"],
        enterprise=city["enterprise_b"],
        answers=good_answers(),
        channel=Channel.PAPER,
    )
    # Three days before the deadline the enterprise that has not answered is reminded, once.
    day = city_round.deadline - dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(day) == {"rounds": 1, "reminded": 1}
        assert send_deadline_reminders(day) == {"rounds": 1, "reminded": 0}
    assert list(Notification.objects.values_list("recipient__username", "category")) == [
        ("ent_a", "survey_reminder")
    ]
    invitation = Invitation.objects.get(enterprise=city["enterprise_a"])
    assert invitation.reminder_count == 1
    # enterprise_b's account answers; nothing more goes to it.
    assert send_deadline_reminders(today + dt.timedelta(days=30)) == {"rounds": 0, "reminded": 0}
    # After the deadline the job closes the round, as the system.
    assert services.close_due_rounds(city_round.deadline + dt.timedelta(days=1)) == 1
    city_round.refresh_from_db()
    assert city_round.status == "closed" and city_round.closed_at is not None
    history = TransitionHistory.objects.get(workflow="survey_round", action="close")
    assert history.actor_label == "系统"
    assert services.close_due_rounds(city_round.deadline + dt.timedelta(days=1)) == 0


def test_sampling_by_region_and_size(
    questionnaire: Any, city: dict[str, Any], personas: dict[str, Any]
) -> None:
    coordinator = personas["coordinator"]
    survey_round = make_round(questionnaire, coordinator, city["root"], "抽样", days=5)
    assert (
        services.invite_enterprises(
            survey_round, actor=coordinator, region=city["district_a"], size="medium", panel=True
        )
        == 1
    )
    assert list(Invitation.objects.values_list("enterprise__name", "panel")) == [
        ("高新示范制造有限公司", True)
    ]
    assert services.invite_enterprises(survey_round, actor=coordinator, sample=2, seed="s") == 2
    assert Invitation.objects.count() == 3
    # A district officer may not distribute, nor reach outside the round.
    with pytest.raises(services.SurveyError):
        services.invite_enterprises(survey_round, actor=personas["district_a"], sample=1)
    east = make_round(questionnaire, coordinator, city["district_a"], "东湖", days=5)
    with pytest.raises(services.SurveyError, match="不在本轮调查范围内"):
        services.invite_enterprises(east, actor=coordinator, enterprises=[city["enterprise_b"]])
    assert Invitation.objects.filter(round=east).count() == 0
