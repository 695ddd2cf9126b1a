"""Problems found by asking become work (问题转办): a dissatisfied rating or a written problem
turned by the office into an enterprise request (only with the enterprise's consent) or a
rectification item, linked both ways, audited, once per answer however often it is posted;
outside the office's capability or the response's scope, 404 and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from sizhen.core.models import AuditEvent
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.rectification.models import RectificationItem
from sizhen.surveys import services
from sizhen.surveys.models import Answer, FollowUp, Response, SurveyRound
from sizhen.surveys.selectors import problem_answers
from sizhen.surveys.services.common import SurveyError
from sizhen.surveys.services.follow_up import NO_CONSENT

pytestmark = pytest.mark.django_db


def _answer(city: dict[str, Any], enterprise: str, question: str) -> Answer:
    return Answer.objects.select_related("response", "question").get(
        response__enterprise=city[enterprise], question__name=question
    )


def _url(answer: Answer) -> str:
    return reverse("surveys:response_follow_up", args=[answer.response_id]) + (
        f"?answer={answer.pk}"
    )


def _nothing_created() -> bool:
    return not (
        FollowUp.objects.exists()
        or EnterpriseRequest.objects.exists()
        or RectificationItem.objects.exists()
        or AuditEvent.objects.filter(action="survey.follow_up").exists()
    )


def test_the_problem_answers_are_low_ratings_and_written_problems(
    index_round: SurveyRound, city: dict[str, Any]
) -> None:
    b2 = Response.objects.get(enterprise=city["enterprise_b2"])
    names = {
        Answer.objects.get(pk=pk).question.name: why for pk, why in problem_answers(b2).items()
    }
    # ip 2 of 1–5 is 25 (< 50); the matrix rows are 3 (50) and the score 3 (50): not below.
    assert names == {"ip": "不满意评分", "problem": "文字意见"}
    park = Response.objects.get(enterprise=city["enterprise_park"])
    # The 1–10 rating of 10 and a 5 are satisfied; nothing to follow up.
    assert problem_answers(park) == {}


def test_an_answer_becomes_a_request_of_the_consenting_enterprise_once(
    index_round: SurveyRound, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    answer = _answer(city, "enterprise_b2", "problem")
    client = client_for("coordinator")
    page = client.get(_url(answer)).content.decode()
    assert 'data-testid="to-request"' in page and "办事要跑多个窗口" in page
    form = {
        "answer": answer.pk,
        "target": "request",
        "kind": "complaint",
        "text": "办事要跑多个窗口",
    }
    first = client.post(_url(answer), form)
    second = client.post(_url(answer), form)  # a double submit
    detail = reverse("surveys:response_detail", args=[answer.response_id])
    assert first["Location"] == detail and second["Location"] == detail
    request = EnterpriseRequest.objects.get()
    assert (request.channel, request.kind, request.text) == (
        "survey",
        "complaint",
        "办事要跑多个窗口",
    )
    assert (request.enterprise, request.region) == (city["enterprise_b2"], city["district_b"])
    follow_up = FollowUp.objects.get()
    assert (follow_up.kind, follow_up.target_id, follow_up.target_number) == (
        "request",
        request.pk,
        request.number,
    )
    assert (follow_up.answer, follow_up.created_by) == (answer, personas["coordinator"])
    event = AuditEvent.objects.get(action="survey.follow_up")
    assert event.after == {"question": "problem", "kind": "request", "target": request.number}
    assert AuditEvent.objects.filter(action="enterprise_request.submit").count() == 1
    # The link both ways: the response names the request, the request the response.
    page = client.get(detail).content.decode()
    link = page[page.index('data-testid="follow-up-link"') - 40 :].split("</a>")[0]
    assert f'href="/requests/{request.pk}/"' in link and f"企业诉求 {request.number}" in link
    page = client.get(reverse("enterprise_requests:detail", args=[request.pk])).content.decode()
    link = page[page.index('data-testid="survey-source"') :].split("</a>")[0]
    assert f"问卷答卷 {answer.response_id}：遇到的其他问题" in link
    assert f'href="{detail}"' in page


def test_without_consent_no_request_is_made(
    index_round: SurveyRound, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    answer = _answer(city, "enterprise_a", "problem")  # consent "no"
    with pytest.raises(SurveyError) as refused:
        services.answer_to_request(answer, actor=personas["coordinator"], text="审批材料多")
    assert refused.value.message == NO_CONSENT
    client = client_for("coordinator")
    page = client.get(_url(answer)).content.decode()
    assert 'data-testid="no-consent"' in page and 'data-testid="to-request"' not in page
    response = client.post(
        _url(answer), {"answer": answer.pk, "target": "request", "kind": "complaint", "text": "x"}
    )
    assert response.status_code == 200 and NO_CONSENT in response.content.decode()
    assert _nothing_created()


def test_a_low_rating_becomes_a_ledger_item_linked_to_its_indicator_once(
    index_round: SurveyRound, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    answer = _answer(city, "enterprise_b2", "ip")
    form = {
        "answer": answer.pk,
        "target": "rectification",
        "title": "知识产权维权难",
        "description": "企业反映知识产权保护力度不足",
        "lead_department": city["market"].pk,
        "measures": "开通快速维权通道",
        "working_days": 20,
    }
    client = client_for("coordinator")
    client.post(_url(answer), form)
    client.post(_url(answer), form)
    item = RectificationItem.objects.get()
    assert (item.source, item.source_ref, item.region, item.lead_department) == (
        "survey",
        f"问卷答卷 {answer.response_id}",
        city["district_b"],
        city["market"],
    )
    assert [i.code for i in item.indicators.all()] == ["BE16.02"]
    follow_up = FollowUp.objects.get()
    assert (follow_up.kind, follow_up.target_id) == ("rectification", item.pk)
    assert AuditEvent.objects.filter(action="rectification.create").count() == 1
    page = client.get(reverse("rectification:item_detail", args=[item.pk])).content.decode()
    link = page[page.index('data-testid="survey-source"') :].split("</a>")[0]
    assert f"问卷答卷 {answer.response_id}：知识产权保护力度" in link
    # No consent is needed for the ledger: enterprise_a's problem (consent "no") may go there.
    other = _answer(city, "enterprise_a", "problem")
    created = services.answer_to_rectification(
        other,
        actor=personas["coordinator"],
        title="审批材料多",
        lead_department=city["market"],
        measures="精简材料",
        working_days=10,
    )
    assert created[1] is True and RectificationItem.objects.count() == 2


def test_a_satisfied_answer_is_not_followed_up(
    index_round: SurveyRound, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    answer = _answer(city, "enterprise_b", "score")  # 5 of 5
    assert client_for("coordinator").get(_url(answer)).status_code == 404
    with pytest.raises(SurveyError):
        services.answer_to_rectification(
            answer,
            actor=personas["coordinator"],
            title="x",
            lead_department=city["market"],
            measures="x",
            working_days=5,
        )
    assert _nothing_created()


@pytest.mark.parametrize("persona", ["district_a", "district_b", "lead_department", "enterprise"])
def test_others_get_404_and_nothing_changes(
    index_round: SurveyRound, city: dict[str, Any], personas: dict[str, Any], client_for: Any,
    persona: str,
) -> None:  # fmt: skip
    answer = _answer(city, "enterprise_b2", "problem")
    client = client_for(persona)
    assert client.get(_url(answer)).status_code == 404
    form = {"answer": answer.pk, "target": "request", "kind": "complaint", "text": "x"}
    assert client.post(_url(answer), form).status_code == 404
    with pytest.raises(SurveyError):
        services.answer_to_request(answer, actor=personas[persona], text="x")
    assert _nothing_created()


def test_the_answer_must_belong_to_the_response(
    index_round: SurveyRound, city: dict[str, Any], client_for: Any
) -> None:
    answer = _answer(city, "enterprise_b2", "problem")
    other = Response.objects.get(enterprise=city["enterprise_a"])
    url = reverse("surveys:response_follow_up", args=[other.pk]) + f"?answer={answer.pk}"
    assert client_for("coordinator").get(url).status_code == 404
    assert _nothing_created()
