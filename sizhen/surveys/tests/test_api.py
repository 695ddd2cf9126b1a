"""POST /api/v1/surveys/{code}/responses: 201, 422 with every error, 404 out of scope,
idempotent client_key, one response per enterprise and round; tokens need surveys:write."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.accounts.services import create_api_token
from sizhen.core.models import AuditEvent
from sizhen.surveys.models import Answer, Invitation, Response
from sizhen.surveys.tests.support import good_answers, make_round

pytestmark = pytest.mark.django_db

URL = "/api/v1/surveys/sat_test/responses"


def _post(client: Any, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(URL, body, content_type="application/json", **headers)


def _token(personas: Any, department: Any, scopes: list[str]) -> dict[str, str]:
    _row, secret = create_api_token(
        actor=personas["sysadmin"], name="问卷对接", department=department, scopes=scopes
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _nothing_stored() -> None:
    assert Response.objects.count() == 0
    assert Answer.objects.count() == 0
    assert not AuditEvent.objects.filter(action="survey.response_submit").exists()


def test_staff_session_enters_a_paper_questionnaire(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    enterprise = city["enterprise_a"]
    response = _post(
        client_for("coordinator"), {"enterprise": enterprise.uscc, "answers": good_answers()}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    stored = Response.objects.get()
    assert body == {
        "id": stored.pk,
        "round": city_round.pk,
        "round_title": "2026 年营商环境满意度调查",
        "enterprise": enterprise.uscc,
        "enterprise_name": "东湖示范科技有限公司",
        "sequence": 1,
        "channel": "paper",
        "submitted_at": body["submitted_at"],
        "created": True,
    }
    assert body["submitted_at"] is not None
    assert dict(stored.answers.values_list("question__name", "value")) == {
        "satisfied": "yes",
        "employees": 25,
        "score": 4,
        "services": {"r_permit": "5", "r_tax": "4"},
        "revenue": 1200.5,
        "founded": "2018-05-18",
    }
    assert dict(stored.answers.values_list("question__name", "number")) == {
        "satisfied": None,
        "employees": 25.0,
        "score": 4.0,
        "services": None,
        "revenue": 1200.5,
        "founded": None,
    }
    invitation = Invitation.objects.get(enterprise=enterprise)
    assert invitation.answered_at == stored.submitted_at
    assert stored.region == enterprise.region


def test_every_error_is_listed_with_question_code_and_message(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    answers = {
        "satisfied": "yes",  # so "problems" is not relevant ...
        "problems": ["slow"],  # ... but answered
        "employees": 100001,  # constraint
        "score": 7,  # off the 1–5 scale
        "services": {"r_permit": "9"},  # not a choice
        "founded": "2026-13-01",  # not a date
        "nonsense": "x",  # no such question
    }
    response = _post(
        client_for("coordinator"), {"enterprise": city["enterprise_a"].uscc, "answers": answers}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [
        {"field": "nonsense", "question": "nonsense", "code": "unknown_question", "message": "问卷中没有这道题"},
        {"field": "problems", "question": "problems", "code": "not_relevant", "message": "按跳题规则本题不应作答"},
        {"field": "employees", "question": "employees", "code": "constraint", "message": "员工人数应在 0 到 100000 之间"},
        {"field": "score", "question": "score", "code": "invalid_value", "message": "应为 1–5 之间的整数"},
        {"field": "services", "question": "services", "code": "invalid_choice", "message": "“9”不是本题的选项"},
        {"field": "founded", "question": "founded", "code": "invalid_value", "message": "应为有效日期（YYYY-MM-DD）"},
    ]  # fmt: skip
    assert body["detail"].startswith("答卷有误：nonsense：问卷中没有这道题")
    _nothing_stored()


def test_required_and_skip_logic_on_the_dissatisfied_branch(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    client = client_for("coordinator")
    uscc = city["enterprise_a"].uscc
    missing = _post(client, {"enterprise": uscc, "answers": {"satisfied": "no", "score": 2}})
    assert missing.status_code == 422
    assert [(e["question"], e["code"]) for e in missing.json()["errors"]] == [
        ("problems", "required"),
        ("employees", "required"),
    ]
    # "problem_detail" is relevant only when "other" is selected.
    wrong_branch = good_answers(satisfied="no", problems=["slow"], problem_detail="太慢")
    response = _post(client, {"enterprise": uscc, "answers": wrong_branch})
    assert [(e["question"], e["code"]) for e in response.json()["errors"]] == [
        ("problem_detail", "not_relevant")
    ]
    _nothing_stored()
    right = good_answers(satisfied="no", problems=["slow", "other"], problem_detail="审批材料多")
    assert _post(client, {"enterprise": uscc, "answers": right}).status_code == 201
    assert Answer.objects.get(question__name="problems").value == ["slow", "other"]


def test_same_client_key_answers_the_first_response_and_stores_nothing(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    client = client_for("coordinator")
    body = {"enterprise": city["enterprise_a"].uscc, "answers": good_answers(), "client_key": "p-1"}
    first = _post(client, body)
    assert first.status_code == 201
    again = _post(client, {**body, "answers": good_answers(score=1)})
    assert again.status_code == 200
    assert again.json() == {**first.json(), "created": False}
    assert Response.objects.count() == 1
    assert Answer.objects.get(question__name="score").value == 4
    assert AuditEvent.objects.filter(action="survey.response_submit").count() == 1


def test_one_response_per_enterprise_and_round(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    client = client_for("coordinator")
    body = {"enterprise": city["enterprise_a"].uscc, "answers": good_answers()}
    assert _post(client, body).status_code == 201
    second = _post(client, {**body, "client_key": "other"})
    assert second.status_code == 409
    assert second.json() == {"detail": "该企业已提交过本轮问卷，不能重复提交"}
    assert Response.objects.count() == 1
    # A questionnaire that allows more takes a second response, numbered 2.
    city_round.questionnaire.allow_multiple_responses = True
    city_round.questionnaire.save()
    third = _post(client, {**body, "client_key": "third"})
    assert third.status_code == 201
    assert third.json()["sequence"] == 2


def test_enterprise_outside_the_callers_scope_is_404(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    client = client_for("district_b")
    response = _post(client, {"enterprise": city["enterprise_a"].uscc, "answers": good_answers()})
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到"}
    unknown = _post(client, {"enterprise": "91449902MA0000099X", "answers": good_answers()})
    assert unknown.status_code == 404
    _nothing_stored()
    # Its own district's enterprise it may enter.
    own = _post(client, {"enterprise": city["enterprise_b"].uscc, "answers": good_answers()})
    assert own.status_code == 201


def test_unknown_questionnaire_404_and_no_open_round_409(
    questionnaire: Any, city: dict[str, Any], client_for: Any
) -> None:
    client = client_for("coordinator")
    body = {"enterprise": city["enterprise_a"].uscc, "answers": good_answers()}
    missing = client.post(
        "/api/v1/surveys/no_such/responses", body, content_type="application/json"
    )
    assert missing.status_code == 404
    not_open = _post(client, body)
    assert not_open.status_code == 409
    assert not_open.json() == {"detail": "该问卷当前没有进行中的调查"}
    _nothing_stored()


@pytest.mark.parametrize("persona", ["enterprise", "leader", "lead_department", None])
def test_roles_that_do_not_enter_questionnaires(
    city_round: Any, city: dict[str, Any], client_for: Any, persona: str | None
) -> None:
    response = _post(
        client_for(persona), {"enterprise": city["enterprise_a"].uscc, "answers": good_answers()}
    )
    assert response.status_code == (401 if persona is None else 404)
    _nothing_stored()


def test_tokens_need_the_surveys_write_scope(
    city_round: Any, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for(None)
    body = {"enterprise": city["enterprise_a"].uscc, "answers": good_answers(), "client_key": "k"}
    reader = _token(personas, city["office"], ["read"])
    assert _post(client, body, **reader).status_code == 404
    _nothing_stored()
    writer = _token(personas, city["office"], ["surveys:write"])
    created = _post(client, body, **writer)
    assert created.status_code == 201
    assert created.json()["channel"] == "api"
    assert _post(client, body, **writer).status_code == 200
    # A district department's token reaches its own district only.
    district = _token(personas, city["b_dept"], ["surveys:write"])
    assert _post(client, body, **district).status_code == 404
    assert Response.objects.count() == 1


def test_enterprise_outside_the_rounds_region(
    questionnaire: Any, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:

    from sizhen.surveys import services

    coordinator = personas["coordinator"]
    district_round = make_round(
        questionnaire, coordinator, city["district_b"], "西山区专项调查", days=7
    )
    services.transition_round(district_round, "open", actor=coordinator)
    response = _post(
        client_for("coordinator"),
        {"enterprise": city["enterprise_a"].uscc, "answers": good_answers()},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "该企业不在本轮调查范围内"}
    _nothing_stored()
