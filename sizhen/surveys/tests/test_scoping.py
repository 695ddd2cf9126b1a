"""Scoping: another district's round, invitations and responses answer 404 on every page and
change nothing; lists show each role its own; city rounds are seen by every district."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.surveys import services
from sizhen.surveys.choices import Channel
from sizhen.surveys.models import Invitation, Response, SurveyRound
from sizhen.surveys.tests.support import good_answers, make_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def east_round(questionnaire: Any, personas: dict[str, Any], city: dict[str, Any]) -> Any:
    """A round over 东湖区 only, open, with its enterprise's answers."""
    coordinator = personas["coordinator"]
    survey_round = make_round(
        questionnaire, coordinator, city["district_a"], "东湖区企业专项调查", days=10
    )
    services.invite_enterprises(survey_round, actor=coordinator, enterprises=[city["enterprise_a"]])
    services.transition_round(survey_round, "open", actor=coordinator)
    services.submit_response(
        survey_round,
        actor=coordinator,
        enterprise=city["enterprise_a"],
        answers=good_answers(),
        channel=Channel.PAPER,
    )
    # Closed, so that the questionnaire's city round may open beside it in a test.
    return services.transition_round(survey_round, "close", actor=coordinator)


def _round_urls(survey_round: Any) -> list[tuple[str, str]]:
    pk = survey_round.pk
    return [
        ("get", f"/surveys/rounds/{pk}/"),
        ("get", f"/surveys/rounds/{pk}/rates/"),
        ("get", f"/surveys/rounds/{pk}/invitations/"),
        ("get", f"/surveys/rounds/{pk}/invitations/?export=xlsx"),
        ("get", f"/surveys/rounds/{pk}/results/"),
        ("post", f"/surveys/rounds/{pk}/step/open/"),
        ("post", f"/surveys/rounds/{pk}/invite/"),
        ("post", f"/surveys/rounds/{pk}/remind/"),
        ("post", f"/surveys/rounds/{pk}/links/"),
    ]


def test_another_districts_round_and_response_answer_404(east_round: Any, client_for: Any) -> None:
    response = Response.objects.get()
    before_round = SurveyRound.objects.values().get(pk=east_round.pk)
    before_invitations = list(Invitation.objects.values())
    events = AuditEvent.objects.exclude(action="access.denied").count()
    client = client_for("district_b")
    for method, url in [*_round_urls(east_round), ("get", f"/surveys/responses/{response.pk}/")]:
        answer = getattr(client, method)(url, {"status": "open"} if method == "post" else None)
        assert answer.status_code == 404, url
    # Nothing changed, nothing but the refusals was written.
    assert SurveyRound.objects.values().get(pk=east_round.pk) == before_round
    assert list(Invitation.objects.values()) == before_invitations
    assert AuditEvent.objects.exclude(action="access.denied").count() == events
    assert TransitionHistory.objects.filter(workflow="survey_round").count() == 2
    assert AuditEvent.objects.filter(action="access.denied", actor_role="district_officer").exists()
    # The enterprise of another district cannot read the response either.
    assert client_for("enterprise_b").get(f"/surveys/responses/{response.pk}/").status_code == 404
    # API results of that round for its region: 404 as well.
    api = client.get("/api/v1/surveys/sat_test/results", {"round": east_round.pk})
    assert api.status_code == 404


def test_own_district_and_city_wide_roles_see_it(east_round: Any, client_for: Any) -> None:
    response = Response.objects.get()
    for persona in ("district_a", "coordinator", "leader"):
        client = client_for(persona)
        for _method, url in _round_urls(east_round)[:5]:
            assert client.get(url).status_code == 200, (persona, url)
        assert client.get(f"/surveys/responses/{response.pk}/").status_code == 200
    assert client_for("enterprise").get(f"/surveys/responses/{response.pk}/").status_code == 200


def test_lists_show_each_role_its_own(
    east_round: Any,
    city_round: Any,
    city: dict[str, Any],
    personas: dict[str, Any],
    client_for: Any,
) -> None:
    services.submit_response(
        city_round,
        actor=personas["coordinator"],
        enterprise=city["enterprise_b"],
        answers=good_answers(),
        channel=Channel.PAPER,
    )
    west = client_for("district_b")
    rounds = west.get("/surveys/rounds/").content.decode()
    assert "2026 年营商环境满意度调查" in rounds and "东湖区企业专项调查" not in rounds
    responses = west.get("/surveys/responses/")
    assert responses.context["page"].paginator.count == 1
    assert "西山示范物流有限公司" in responses.content.decode()
    invitations = west.get(f"/surveys/rounds/{city_round.pk}/invitations/")
    assert [row[0][0] for row in invitations.context["rows"]] == ["西山示范物流有限公司"]
    # The phone number is masked on the page and in the export.
    assert "139****3333" in invitations.content.decode()
    assert "13900003333" not in invitations.content.decode()
    city_list = client_for("coordinator").get("/surveys/responses/?sort=-submitted_at")
    assert city_list.context["page"].paginator.count == 2
    export = client_for("coordinator").get("/surveys/responses/?export=xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert AuditEvent.objects.filter(action="export.xlsx", object_type="surveys.response").exists()
    # Rates on the city round: a district sees its own row only.
    rates = west.get(f"/surveys/rounds/{city_round.pk}/rates/").context["rates"]
    assert (rates["top"].code, rates["total"]["invited"], rates["total"]["answered"]) == (
        "449902",
        1,
        1,
    )
    city_rates = (
        client_for("leader").get(f"/surveys/rounds/{city_round.pk}/rates/").context["rates"]
    )
    assert [(r["label"], r["invited"], r["answered"], r["rate"]) for r in city_rates["rows"]] == [
        ("东湖区", 1, 0, 0.0),
        ("西山区", 1, 1, 100.0),
    ]
    assert (city_rates["total"]["invited"], city_rates["total"]["rate"]) == (2, 50.0)


def test_enterprises_do_not_reach_staff_pages(east_round: Any, client_for: Any) -> None:
    client = client_for("enterprise")
    for url in (
        "/surveys/",
        "/surveys/bank/",
        "/surveys/rounds/",
        "/surveys/responses/",
        f"/surveys/rounds/{east_round.pk}/",
        "/surveys/q/sat_test/",
    ):
        assert client.get(url).status_code == 404, url
