"""The whole path through the pages as people click it, with CSRF enforced: every POST takes
the hidden fields (CSRF token, seen status) of the form the page itself shows, so a missing
form, button or token fails the test. Deadlines cross National Day 2026 (1–7 October off,
Saturday 10 October a make-up working day)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from sizhen.enterprise_requests.models import EnterpriseRequest, Forum, Revisit
from sizhen.enterprise_requests.tests.factories import category

pytestmark = pytest.mark.django_db

FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S)
ACTION = re.compile(r'\baction="(?P<action>[^"]*)"')
HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)"')


class Person:
    """A logged-in browser that only posts forms it was shown."""

    def __init__(self, user: Any):
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)

    def form(self, page: str, action: str) -> dict[str, str]:
        response = self.client.get(page)
        assert response.status_code == 200, page
        for match in FORM.finditer(response.content.decode()):
            target = ACTION.search(match["attrs"])
            if 'method="post"' in match["attrs"] and (target["action"] if target else "") == action:
                return {m["name"]: m["value"] for m in HIDDEN.finditer(match["body"])}
        raise AssertionError(f"{page} shows no form posting to {action}")

    def submit(self, page: str, action: str | None = None, files: Any = None, **data: Any) -> Any:
        """Fill the form of ``page`` that posts to ``action`` (default: the page itself)."""
        action = action or page
        hidden = self.form(page, "" if action == page else action)
        response = self.client.post(action, {**hidden, **data, **(files or {})})
        assert response.status_code in (200, 302), (action, response.status_code)
        return response

    def act(self, req: EnterpriseRequest, action: str, **data: Any) -> Any:
        detail = f"/requests/{req.pk}/"
        response = self.submit(detail, f"/requests/{req.pk}/act/{action}/", **data)
        assert response.status_code == 302
        return response


def _on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    monkeypatch.setattr(
        "sizhen.enterprise_requests.services.handling.timezone.localdate", lambda: day
    )


def test_whole_path_through_the_pages_with_csrf(personas, city, monkeypatch):
    enterprise, office = Person(personas["enterprise"]), Person(personas["coordinator"])
    lead, handler = Person(personas["lead_department"]), Person(personas["responsible_department"])
    # Without the token the portal refuses the post, and nothing is created.
    refused = enterprise.client.post("/requests/new/", {"text": "x", "kind": "help"})
    assert refused.status_code == 403 and not EnterpriseRequest.objects.exists()

    # 1. The enterprise submits on the portal.
    enterprise.submit(
        "/requests/new/",
        category=category("0101").pk,
        kind="help",
        text="刻章需要跑三次，请协调一次办结",
        contact_name="李四",
        contact_phone="13900002222",
        publishable="on",
    )
    req = EnterpriseRequest.objects.get()
    assert (req.channel, req.status, req.enterprise) == (
        "portal",
        "submitted",
        city["enterprise_a"],
    )
    assert enterprise.client.get("/requests/mine/").content.decode().count(req.number) >= 1

    # 2. The office registers and dispatches on 30 September 2026: five working days after
    #    National Day's seven days off and the make-up Saturday → Tuesday 13 October.
    _on(monkeypatch, dt.date(2026, 9, 30))
    office.act(req, "register", category=category("0101").pk, kind="help", difficulty="general")
    office.act(req, "dispatch", department=city["market"].pk)
    req.refresh_from_db()
    assert (req.status, req.lead_department, req.deadline) == (
        "dispatched",
        city["market"],
        dt.date(2026, 10, 13),
    )
    assert not req.deadline_provisional  # 2026 has its official arrangement

    # 3. The lead unit returns it (退单); the office re-dispatches with 10 working days.
    lead.act(req, "return", note="属区级事权")
    req.refresh_from_db()
    assert req.status == "returned" and req.return_count == 1
    office.act(req, "dispatch", department=city["a_dept"].pk, time_limit_days="10")
    req.refresh_from_db()
    assert (req.lead_department, req.deadline) == (city["a_dept"], dt.date(2026, 10, 20))

    # 4. The district unit accepts and replies; the enterprise follows it on its page.
    handler.act(req, "accept")
    req.refresh_from_db()
    first_accepted = req.first_accepted_at
    assert req.status == "handling" and first_accepted == req.accepted_at
    handler.act(req, "reply", text="已协调刻章点")
    req.refresh_from_db()
    assert req.status == "replied"
    page = enterprise.client.get(f"/requests/{req.pk}/").content.decode()
    assert "已协调刻章点" in page and "属区级事权" not in page

    # 5. The enterprise rates it 不满意 (企业自评): the unit must explain before the office can
    #    assign it a second time.
    enterprise.act(req, "rate", satisfaction="2", note="仍需跑两次")
    req.refresh_from_db()
    assert (req.status, req.satisfaction, req.resolved) == ("unsatisfied", 2, False)
    office.act(req, "second_assignment", note="请重新办理")
    req.refresh_from_db()
    assert req.status == "unsatisfied" and not req.second_assignment
    handler.act(req, "message", kind="explanation", text="刻章点设备故障，已修复")
    _on(monkeypatch, dt.date(2026, 10, 9))
    office.act(req, "second_assignment", note="请重新办理")
    req.refresh_from_db()
    # Ten working days from Friday 9 October, the make-up Saturday included → 22 October.
    assert (req.status, req.second_assignment, req.deadline) == (
        "handling",
        True,
        dt.date(2026, 10, 22),
    )
    # The first acceptance stays; the response rate measures it (analysis.DEFAULT_RATES).
    assert req.first_accepted_at == first_accepted and req.accepted_at > first_accepted

    # 6. The second reply, then a visit (上门回访) finds the enterprise satisfied: closed.
    handler.act(req, "reply", text="已现场一次办结")
    office.act(req, "revisit", method="visit", satisfaction="4", resolved="on", note="满意")
    req.refresh_from_db()
    assert (req.status, req.satisfaction, req.resolved) == ("closed", 4, True)
    assert req.closed_at is not None
    assert list(Revisit.objects.filter(request=req).values_list("round", "method")) == [
        (1, "rating"),
        (2, "visit"),
    ]
    timeline = office.client.get(f"/requests/{req.pk}/").content.decode()
    for label in ("退单", "二次交办", "不满意情况说明", "上门回访：满意"):
        assert label in timeline, label
    own = enterprise.client.get(f"/requests/{req.pk}/").content.decode()
    assert "已办结" in own and "已现场一次办结" in own and "设备故障" not in own


def test_staff_register_forum_window_and_wechat_requests_through_pages(personas, city):
    officer = Person(personas["district_a"])
    officer.submit(
        "/requests/forums/new/",
        held_on="2026-09-18",
        topic="民营企业面对面座谈会",
        leaders="张副区长、区营商办主任",
        location="区政府第一会议室",
        region=city["district_a"].pk,
        enterprises=[city["enterprise_a"].pk, city["enterprise_park"].pk],
    )
    forum = Forum.objects.get()
    assert (forum.held_on, forum.leaders) == (dt.date(2026, 9, 18), "张副区长、区营商办主任")
    assert set(forum.enterprises.all()) == {city["enterprise_a"], city["enterprise_park"]}
    raised = {
        "staff_forum": ("希望协调银行续贷", {"forum": forum.pk}),
        "staff_window": ("窗口反映社保转移手续繁琐", {}),
        "wechat_group": ("企业家微信群反映园区道路破损", {}),
    }
    for channel, (text, extra) in raised.items():
        officer.submit(
            "/requests/register/",
            channel=channel,
            enterprise=city["enterprise_a"].pk,
            category=category("0304").pk,
            kind="help",
            text=text,
            contact_phone="13800001111",
            **extra,
        )
    made = {r.channel: r for r in EnterpriseRequest.objects.all()}
    assert set(made) == set(raised)
    for channel, r in made.items():
        assert (r.text, r.region, r.status) == (raised[channel][0], city["district_a"], "submitted")
        assert r.submitted_by == personas["district_a"]
    assert made["staff_forum"].forum == forum and made["wechat_group"].forum is None
    # The ledger filters by channel and masks the phone (it also shows the last flash message).
    ledger = officer.client.get("/requests/?channel=wechat_group").content.decode()
    assert made["wechat_group"].number in ledger and made["staff_window"].number not in ledger
    assert "13800001111" not in ledger and "138****1111" in ledger
    page = officer.client.get(f"/requests/forums/{forum.pk}/").content.decode()
    assert made["staff_forum"].number in page and "张副区长" in page
    assert made["wechat_group"].number not in page
