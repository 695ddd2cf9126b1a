"""/api/v1/policies (public read of published policies, ranked with snippets) and
/api/v1/enterprises/{uscc}/policies (政策找人, within the caller's scope)."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.thinktank.models import Policy


@pytest.fixture
def library(make_policy: Any, city: dict[str, Any]) -> dict[str, Policy]:
    return {
        "title": make_policy("留抵退税操作指引", "办理流程。"),
        "body": make_policy("减税降费政策汇编", "包括增值税期末留抵退税等。"),
        "draft": make_policy("留抵退税新规（草稿）", "留抵退税。", publish=False),
        "district": make_policy(
            "东湖区小企业政策", "小企业。", sizes=["small"], regions=[city["district_a"]]
        ),
    }


def test_anonymous_search_answers_ranked_published_policies(
    client_for: Any, library: dict[str, Policy]
) -> None:
    response = client_for(None).get("/api/v1/policies", {"q": "留抵退税"})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"count": 2, "limit": 20, "offset": 0}
    assert [i["title"] for i in body["items"]] == ["留抵退税操作指引", "减税降费政策汇编"]
    item = body["items"][1]
    assert set(item) >= {"id", "title", "doc_number", "issuer", "published_on", "status", "snippet"}
    assert "<mark>留抵退税</mark>" in item["snippet"]
    assert item["status"] == "in_force"


def test_filters_and_paging(client_for: Any, library: dict[str, Policy]) -> None:
    client = client_for(None)
    body = client.get("/api/v1/policies", {"q": "留抵退税", "limit": 1, "offset": 1}).json()
    assert [i["title"] for i in body["items"]] == ["减税降费政策汇编"]
    assert client.get("/api/v1/policies", {"status": "repealed"}).json()["items"] == []
    assert client.get("/api/v1/policies", {"status": "nonsense"}).status_code == 400
    assert client.get("/api/v1/policies", {"level": "galactic"}).status_code == 400


def test_a_bad_token_is_refused_not_treated_as_anonymous(
    client_for: Any, library: dict[str, Policy]
) -> None:
    response = client_for(None).get("/api/v1/policies", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401


def test_a_draft_is_404_to_the_public_and_200_to_the_office(
    client_for: Any, library: dict[str, Policy]
) -> None:
    url = f"/api/v1/policies/{library['draft'].pk}"
    assert client_for(None).get(url).status_code == 404
    assert client_for("district_a").get(url).status_code == 404
    assert client_for("coordinator").get(url).status_code == 200
    published = client_for(None).get(f"/api/v1/policies/{library['title'].pk}").json()
    assert (published["title"], published["status_label"]) == ("留抵退税操作指引", "现行有效")


def test_enterprise_policies_within_scope(
    client_for: Any, library: dict[str, Policy], city: dict[str, Any]
) -> None:
    uscc_a = city["enterprise_a"].uscc
    uscc_b = city["enterprise_b"].uscc
    own = client_for("enterprise").get(f"/api/v1/enterprises/{uscc_a}/policies")
    assert own.status_code == 200
    body = own.json()
    assert body["enterprise"] == uscc_a
    assert body["count"] == 3
    assert body["items"][0]["title"] == "东湖区小企业政策"
    assert body["items"][0]["reasons"] == ["规模：政策适用小型，企业为小型", "区划：政策适用东湖区"]
    assert client_for("enterprise").get(f"/api/v1/enterprises/{uscc_b}/policies").status_code == 404
    assert client_for("district_a").get(f"/api/v1/enterprises/{uscc_b}/policies").status_code == 404
    assert (
        client_for("district_b").get(f"/api/v1/enterprises/{uscc_b}/policies").json()["count"] == 2
    )
    assert client_for(None).get(f"/api/v1/enterprises/{uscc_a}/policies").status_code == 401
