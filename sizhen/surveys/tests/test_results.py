"""GET /api/v1/surveys/{code}/results against a hand computation, for the city and for a
district's subtree; a region outside the caller's scope answers 404."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.accounts.services import create_api_token
from sizhen.surveys import services
from sizhen.surveys.choices import Channel
from sizhen.surveys.tests.support import good_answers

pytestmark = pytest.mark.django_db

URL = "/api/v1/surveys/sat_test/results"


@pytest.fixture
def answered(city_round: Any, city: dict[str, Any], personas: dict[str, Any]) -> Any:
    """东湖区 (with its park) two responses, 西山区 one, and a draft that must not count."""
    coordinator = personas["coordinator"]
    rows = [
        ("enterprise_a", good_answers(employees=10, score=5, revenue=100.0)),
        (
            "enterprise_park",
            good_answers(
                satisfied="no",
                problems=["slow", "fees"],
                employees=40,
                score=2,
                services={"r_permit": "3"},
                revenue=300.0,
                founded=None,
            ),
        ),
        (
            "enterprise_b",
            good_answers(
                satisfied="no",
                problems=["slow"],
                employees=7,
                score=4,
                services={"r_permit": "4", "r_tax": "2"},
                revenue=None,
                founded=None,
            ),
        ),
    ]
    for key, answers in rows:
        services.submit_response(
            city_round,
            actor=coordinator,
            enterprise=city[key],
            answers=answers,
            channel=Channel.PAPER,
        )
    return city_round


def _counts(item: dict[str, Any]) -> dict[str, int]:
    return {c["name"]: c["count"] for c in item["counts"]}


def _by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["name"]: q for q in body["questions"]}


def test_city_results_match_the_hand_computation(answered: Any, client_for: Any) -> None:
    response = client_for("leader").get(URL)
    assert response.status_code == 200
    body = response.json()
    assert (body["questionnaire"], body["round"], body["region"], body["responses"]) == (
        "sat_test",
        answered.pk,
        "449900",
        3,
    )
    items = _by_name(body)
    assert list(items) == [
        "satisfied",
        "problems",
        "problem_detail",
        "employees",
        "score",
        "services",
        "revenue",
        "founded",
    ]
    assert (items["satisfied"]["n"], _counts(items["satisfied"])) == (3, {"yes": 1, "no": 2})
    assert (items["problems"]["n"], _counts(items["problems"])) == (
        2,
        {"slow": 2, "fees": 1, "other": 0},
    )
    assert items["problem_detail"]["n"] == 0
    # employees 10, 40, 7: mean 19, median 10
    assert (items["employees"]["n"], items["employees"]["mean"], items["employees"]["median"]) == (
        3,
        19.0,
        10.0,
    )
    # score 5, 2, 4: mean 11/3, median 4
    assert (items["score"]["mean"], items["score"]["median"]) == (3.6667, 4.0)
    assert items["score"]["counts"] is None
    assert (items["revenue"]["n"], items["revenue"]["mean"], items["revenue"]["median"]) == (
        2,
        200.0,
        200.0,
    )
    assert items["founded"]["n"] == 1 and items["founded"]["mean"] is None
    rows = {r["name"]: r for r in items["services"]["rows"]}
    assert (rows["r_permit"]["n"], _counts(rows["r_permit"])) == (
        3,
        {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
    )
    assert (rows["r_tax"]["n"], _counts(rows["r_tax"])) == (
        2,
        {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0},
    )
    assert items["services"]["n"] == 3


def test_a_district_reads_its_subtree_only(answered: Any, client_for: Any) -> None:
    client = client_for("district_a")
    own = client.get(URL).json()  # default: the officer's own district, with its park
    assert (own["region"], own["responses"]) == ("449901", 2)
    items = _by_name(own)
    assert _counts(items["satisfied"]) == {"yes": 1, "no": 1}
    assert (items["employees"]["mean"], items["employees"]["median"]) == (25.0, 25.0)
    assert (items["score"]["mean"], items["score"]["median"]) == (3.5, 3.5)
    park = client.get(URL, {"region": "P449951"}).json()
    assert (park["responses"], _by_name(park)["employees"]["mean"]) == (1, 40.0)
    assert client.get(URL, {"region": "449902"}).status_code == 404
    assert client.get(URL, {"region": "449900"}).status_code == 404
    assert client.get(URL, {"region": "nowhere"}).status_code == 404
    city = client_for("coordinator").get(URL, {"region": "449902"}).json()
    assert (city["region"], city["responses"]) == ("449902", 1)


def test_results_of_a_round_and_who_may_read(
    answered: Any, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    assert client_for("leader").get(URL, {"round": answered.pk}).status_code == 200
    assert client_for("leader").get(URL, {"round": 987654}).status_code == 404
    assert client_for("enterprise").get(URL).status_code == 404
    assert client_for(None).get(URL).status_code == 401
    _row, secret = create_api_token(
        actor=personas["sysadmin"], name="读", department=city["office"], scopes=["read"]
    )
    body = client_for(None).get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert body["responses"] == 3
    _row, writer = create_api_token(
        actor=personas["sysadmin"], name="写", department=city["office"], scopes=["surveys:write"]
    )
    assert client_for(None).get(URL, HTTP_AUTHORIZATION=f"Bearer {writer}").status_code == 404


def test_drafts_do_not_count(
    answered: Any, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    enterprise_user = personas["enterprise"]
    # A second enterprise of 东湖区 saves part of its answers without submitting.
    from sizhen.organisations import services as org
    from sizhen.organisations.validators import build_uscc

    other = org.create_enterprise(
        actor=None,
        uscc=build_uscc("449901", "MA0000044"),
        name="东湖草稿有限公司",
        region=city["district_a"],
    )
    services.invite_enterprises(answered, actor=personas["coordinator"], enterprises=[other])
    services.save_draft(
        answered,
        actor=personas["coordinator"],
        enterprise=other,
        answers={"satisfied": "yes"},
        channel=Channel.PAPER,
    )
    assert enterprise_user.enterprise_id != other.pk
    body = client_for("leader").get(URL).json()
    assert body["responses"] == 3
    assert _counts(_by_name(body)["satisfied"]) == {"yes": 1, "no": 2}
