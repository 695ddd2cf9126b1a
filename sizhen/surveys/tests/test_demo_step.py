"""The demo city gets the satisfaction questionnaire (30 questions), a closed round answered in
every district, county and park, and an open round the demo enterprise accounts are invited to;
every generated answer set passes the questionnaire's own check."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from sizhen.core.models import TransitionHistory
from sizhen.organisations.models import Region
from sizhen.surveys.models import BankItem, Invitation, Question, Response, SurveyRound
from sizhen.surveys.services import draft_answers
from sizhen.surveys.validation import check_answers, form_of

pytestmark = pytest.mark.django_db


def test_demo_surveys() -> None:
    call_command("demo", "--records", "0", stdout=io.StringIO())
    questions = Question.objects.filter(version__questionnaire__code="satisfaction")
    assert questions.exclude(type="note").count() == 30
    assert BankItem.objects.filter(code__startswith="SAT_").count() == 30
    assert BankItem.objects.filter(code="SAT_STARTUP", indicator__code="BE01").exists()
    closed = SurveyRound.objects.get(status="closed")
    open_round = SurveyRound.objects.get(status="open")
    answered = set(
        Region.objects.filter(
            pk__in=Response.objects.filter(round=closed, submitted_at__isnull=False).values(
                "region_id"
            )
        ).values_list("code", flat=True)
    )
    below_city = set(Region.objects.filter(depth__gte=1).values_list("code", flat=True))
    assert answered == below_city and len(answered) == 13
    invited = Invitation.objects.filter(round=open_round)
    assert invited.filter(
        enterprise__users__username="enterprise", answered_at__isnull=True
    ).exists()
    assert invited.filter(enterprise__users__username="enterprise_xs").exists()
    form = form_of(closed.form_version)
    responses = Response.objects.filter(submitted_at__isnull=False)
    assert responses.count() > 100
    for response in responses:
        result = check_answers(form, draft_answers(response), strict=True)
        assert result.errors == [], (response.pk, result.errors)
        assert response.invitation is not None and response.invitation.answered_at is not None
    steps = set(
        TransitionHistory.objects.filter(workflow="survey_round").values_list("action", flat=True)
    )
    assert steps == {"open", "close"}
    # Reset removes it all and builds it again.
    call_command("demo", "--reset", "--records", "0", stdout=io.StringIO())
    assert SurveyRound.objects.count() == 2
    assert Response.objects.filter(submitted_at__isnull=False).count() == responses.count()
