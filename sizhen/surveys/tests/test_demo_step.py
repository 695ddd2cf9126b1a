"""The demo city gets the satisfaction questionnaire (32 questions), a closed round answered in
every district, county and park above the index's minimum sample, its satisfaction index
published into the survey leaves, one answer turned into a request and one into a ledger item,
and an open round the demo enterprise accounts are invited to; every generated answer set
passes the questionnaire's own check."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command

from sizhen.core.models import TransitionHistory
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.indicators.catalogue.models import IndicatorValue
from sizhen.organisations.models import Region
from sizhen.rectification.models import RectificationItem
from sizhen.surveys.models import (
    BankItem,
    FollowUp,
    IndexResult,
    Invitation,
    Question,
    Response,
    SurveyRound,
)
from sizhen.surveys.services import draft_answers
from sizhen.surveys.validation import check_answers, form_of

pytestmark = pytest.mark.django_db


def test_demo_surveys() -> None:
    call_command("demo", "--records", "0", stdout=io.StringIO())
    questions = Question.objects.filter(version__questionnaire__code="satisfaction")
    assert questions.exclude(type="note").count() == 32
    assert BankItem.objects.filter(code__startswith="SAT_").count() == 32
    assert BankItem.objects.filter(code="SAT_STARTUP", indicator__code="BE01").exists()
    assert BankItem.objects.filter(code="SAT_IP", indicator__code="BE16.02").exists()
    assert BankItem.objects.filter(code="SAT_PUBLIC_SERVICES", indicator__code="BE18.04").exists()
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
    per_region = Counter(
        Response.objects.filter(round=closed, submitted_at__isnull=False).values_list(
            "region__code", flat=True
        )
    )
    assert min(per_region.values()) >= 30
    # The index of every region and leaf is published, scored and in the indicators.
    index = IndexResult.objects.filter(round=closed)
    assert {(r.indicator_code, r.published) for r in index} == {
        ("BE16.02", True),
        ("BE18.04", True),
        ("BE18.07", True),
    }
    assert index.count() == 3 * 14 and not index.filter(value__isnull=True).exists()
    values = IndicatorValue.objects.filter(source_kind="survey")
    assert values.count() == 42 and not values.filter(score__isnull=True).exists()
    city = index.get(indicator_code="BE18.07", region__depth=0)
    assert city.respondents == sum(per_region.values())
    assert values.get(indicator__code="BE18.07", region__depth=0).value == city.value
    # One answer became a request (with consent), one a ledger item.
    follow_ups = {f.kind: f for f in FollowUp.objects.all()}
    assert sorted(follow_ups) == ["rectification", "request"]
    request = EnterpriseRequest.objects.get(pk=follow_ups["request"].target_id)
    assert (request.channel, request.number) == ("survey", follow_ups["request"].target_number)
    item = RectificationItem.objects.get(pk=follow_ups["rectification"].target_id)
    assert (item.source, item.number) == ("survey", follow_ups["rectification"].target_number)
    # The open round is partly answered.
    open_answers = Response.objects.filter(round=open_round, submitted_at__isnull=False).count()
    assert 0 < open_answers < Invitation.objects.filter(round=open_round).count()
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
