"""The enterprise answers through its 问卷 menu (one section per page, save and continue, skip
logic on the server); an enterprise without an account through a one-time link."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sizhen.core.models import Notification
from sizhen.surveys import services
from sizhen.surveys.models import Invitation, Response
from sizhen.surveys.tests.support import make_round

pytestmark = pytest.mark.django_db


def _invitation(city: dict[str, Any], key: str = "enterprise_a") -> Invitation:
    return Invitation.objects.get(enterprise=city[key])


def test_opening_a_round_tells_the_invited_enterprises_accounts(
    questionnaire: Any,
    personas: dict[str, Any],
    city: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    coordinator = personas["coordinator"]
    survey_round = make_round(
        questionnaire, coordinator, city["root"], "2026 年营商环境满意度调查", days=10
    )
    services.invite_enterprises(
        survey_round,
        actor=coordinator,
        enterprises=[city["enterprise_a"], city["enterprise_park"]],
    )
    # Invited, not yet told: the round has not opened.
    assert Notification.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.transition_round(survey_round, "open", actor=coordinator)
    invitation = _invitation(city)
    assert list(Notification.objects.values_list("recipient__username", "subject", "link")) == [
        (
            "ent_a",
            f"请填写问卷：2026 年营商环境满意度调查（{survey_round.deadline:%Y-%m-%d} 截止）",
            f"/surveys/mine/{invitation.pk}/",
        )
    ]
    assert invitation.sent_at is not None
    # The park's enterprise has no account: it gets a printed link instead.
    assert _invitation(city, "enterprise_park").sent_at is None


def test_enterprise_answers_section_by_section(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    client = client_for("enterprise")
    invitation = _invitation(city)
    url = f"/surveys/mine/{invitation.pk}/"
    menu = client.get("/surveys/mine/")
    assert menu.status_code == 200
    assert f'href="{url}"' in menu.content.decode()
    assert "开始填写" in menu.content.decode()

    first = client.get(url)
    assert first.status_code == 200
    page = first.content.decode()
    assert 'data-testid="question-satisfied"' in page
    # Not relevant until the enterprise says it is not satisfied.
    assert 'data-testid="question-problems"' not in page
    assert "第 1/3 页" in page

    # Skip logic refreshed on the server (htmx): the problem question appears, nothing saved.
    refreshed = client.post(
        url, {"section": "0", "action": "refresh", "q-satisfied": "no"}, HTTP_HX_REQUEST="true"
    )
    assert refreshed.status_code == 200
    fragment = refreshed.content.decode()
    assert 'data-testid="question-problems"' in fragment and "<html" not in fragment
    assert Response.objects.count() == 0

    # An out-of-range number is refused beside its question; nothing saved.
    refused = client.post(
        url,
        {"section": "0", "action": "next", "q-satisfied": "no", "q-problems": ["slow", "other"],
         "q-problem_detail": "窗口少", "q-employees": "-3"},
    )  # fmt: skip
    assert refused.status_code == 400
    assert "员工人数应在 0 到 100000 之间" in refused.content.decode()
    assert Response.objects.count() == 0

    saved = client.post(
        url,
        {"section": "0", "action": "next", "q-satisfied": "no", "q-problems": ["slow", "other"],
         "q-problem_detail": "窗口少", "q-employees": "30"},
    )  # fmt: skip
    assert saved.status_code == 302
    assert saved["Location"] == f"{url}?section=1"
    draft = Response.objects.get()
    assert draft.submitted_at is None
    assert services.draft_answers(draft) == {
        "satisfied": "no",
        "problems": ["slow", "other"],
        "problem_detail": "窗口少",
        "employees": 30,
    }
    # Save and continue later: the menu says so, the page shows what was saved.
    assert "继续填写" in client.get("/surveys/mine/").content.decode()
    back = client.get(f"{url}?section=0").content.decode()
    assert 'value="30"' in back and "窗口少" in back

    # Submitting with the required rating missing points at it.
    incomplete = client.post(url, {"section": "1", "action": "submit", "q-revenue": "80"})
    assert incomplete.status_code == 400
    assert 'data-testid="error-score"' in incomplete.content.decode()
    assert Response.objects.get().submitted_at is None

    done = client.post(
        url,
        {"section": "1", "action": "submit", "q-score": "3", "q-services-r_permit": "4",
         "q-services-r_tax": "5", "q-revenue": "80", "q-founded": "2020-02-02"},
    )  # fmt: skip
    assert done.status_code == 302
    assert done["Location"] == "/surveys/mine/"
    response = Response.objects.get()
    assert response.submitted_at is not None and response.channel == "account"
    assert services.draft_answers(response) == {
        "satisfied": "no",
        "problems": ["slow", "other"],
        "problem_detail": "窗口少",
        "employees": 30,
        "score": 3,
        "services": {"r_permit": "4", "r_tax": "5"},
        "revenue": 80.0,
        "founded": "2020-02-02",
    }
    assert _invitation(city).answered_at == response.submitted_at
    # Answered: the page sends the enterprise back, the menu links the answers.
    again = client.get(url)
    assert again.status_code == 302
    menu = client.get("/surveys/mine/").content.decode()
    assert f'href="/surveys/responses/{response.pk}/"' in menu
    assert client.get(f"/surveys/responses/{response.pk}/").status_code == 200


def test_changing_an_answer_drops_what_is_no_longer_relevant(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    client = client_for("enterprise")
    url = f"/surveys/mine/{_invitation(city).pk}/"
    client.post(
        url,
        {"section": "0", "action": "save", "q-satisfied": "no", "q-problems": ["fees"],
         "q-employees": "5"},
    )  # fmt: skip
    client.post(url, {"section": "0", "action": "save", "q-satisfied": "yes", "q-employees": "5"})
    assert services.draft_answers(Response.objects.get()) == {"satisfied": "yes", "employees": 5}


def test_another_enterprise_cannot_open_the_invitation(
    city_round: Any, city: dict[str, Any], client_for: Any
) -> None:
    url = f"/surveys/mine/{_invitation(city).pk}/"
    client = client_for("enterprise_b")
    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"section": "0", "action": "save", "q-satisfied": "yes"}).status_code
        == 404
    )
    assert client_for("coordinator").get(url).status_code == 404
    assert Response.objects.count() == 0


def test_one_time_link_works_once(
    city_round: Any, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    coordinator = personas["coordinator"]
    services.invite_enterprises(
        city_round, actor=coordinator, enterprises=[city["enterprise_park"]]
    )
    staff = client_for("coordinator")
    sheet = staff.post(f"/surveys/rounds/{city_round.pk}/links/")
    assert sheet.status_code == 200
    page = sheet.content.decode()
    # Only the enterprise without an account gets a link; its QR code is drawn on the server.
    assert page.count('class="link-sheet"') == 1
    assert "高新示范制造有限公司" in page and "<svg" in page
    token = re.search(r"/surveys/t/([A-Za-z0-9_\-]+)/", page)
    assert token is not None
    invitation = Invitation.objects.get(enterprise=city["enterprise_park"])
    assert invitation.token_hash and token.group(1) not in invitation.token_hash

    link = f"/surveys/t/{token.group(1)}/"
    public = client_for(None)
    assert public.get(link).status_code == 200
    saved = public.post(
        link, {"section": "0", "action": "next", "q-satisfied": "yes", "q-employees": "12"}
    )
    assert saved.status_code == 302
    done = public.post(
        link,
        {"section": "1", "action": "submit", "q-score": "5", "q-services-r_permit": "5",
         "q-services-r_tax": "5"},
    )  # fmt: skip
    assert done.status_code == 302
    response = Response.objects.get(enterprise=city["enterprise_park"])
    assert (response.channel, response.submitted_at is not None) == ("link", True)
    invitation.refresh_from_db()
    assert invitation.token_used_at is not None and invitation.answered_at is not None

    # Used: the link shows so and takes nothing more.
    assert public.get(link).status_code == 410
    again = public.post(link, {"section": "1", "action": "submit", "q-score": "1"})
    assert again.status_code == 410
    assert Response.objects.filter(enterprise=city["enterprise_park"]).count() == 1
    assert services.draft_answers(response)["score"] == 5
    assert public.get("/surveys/t/not-a-token/").status_code == 404


def test_a_new_link_replaces_the_old_one(
    city_round: Any, city: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    coordinator = personas["coordinator"]
    invitation = _invitation(city, "enterprise_b")
    [(_, old)] = services.issue_links(city_round, actor=coordinator, invitations=[invitation])
    [(_, new)] = services.issue_links(city_round, actor=coordinator, invitations=[invitation])
    public = client_for(None)
    assert public.get(f"/surveys/t/{old}/").status_code == 404
    assert public.get(f"/surveys/t/{new}/").status_code == 200


def test_preview_shows_the_respondents_view_and_saves_nothing(
    questionnaire: Any, client_for: Any
) -> None:
    client = client_for("district_a")
    page = client.get("/surveys/q/sat_test/preview/").content.decode()
    assert 'data-testid="question-satisfied"' in page
    assert 'data-testid="question-problems"' not in page
    checked = client.post(
        "/surveys/q/sat_test/preview/", {"action": "check", "q-satisfied": "no", "q-employees": "x"}
    ).content.decode()
    assert 'data-testid="question-problems"' in checked
    assert 'data-testid="error-problems"' in checked and 'data-testid="error-employees"' in checked
    assert Response.objects.count() == 0
    assert client_for("enterprise").get("/surveys/q/sat_test/preview/").status_code == 404
