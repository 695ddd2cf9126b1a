"""The inbox page (站内消息): filters by read state, kind and date, marks the selected messages
(or all) read with a CSRF-protected POST that touches only the reader's own messages and is
audited, and shows a digest's entries as a short list of links."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from sizhen.core.models import AuditEvent, Notification
from sizhen.core.notifications import notify, unread_count

pytestmark = pytest.mark.django_db

NOON = dt.time(12, 0)


def message(user: Any, subject: str, *, day: dt.date, kind: str = "", read: bool = False) -> int:
    [row] = notify([user], subject=subject, category=kind)
    when = timezone.make_aware(dt.datetime.combine(day, NOON))
    Notification.objects.filter(pk=row.pk).update(created_at=when, read_at=when if read else None)
    return row.pk


def subjects(response: Any) -> list[str]:
    assert response.status_code == 200
    return [n.subject for n in response.context["page"].object_list]


@pytest.fixture
def inbox(personas: dict[str, Any]) -> dict[str, int]:
    a = personas["district_a"]
    return {
        "task": message(a, "任务已下发", day=dt.date(2026, 3, 2), kind="work_task"),
        "digest": message(a, "预警摘要", day=dt.date(2026, 3, 5), kind="alert_digest"),
        "filling": message(a, "填报已退回", day=dt.date(2026, 3, 9), kind="filling", read=True),
        "letter": message(a, "提醒函", day=dt.date(2026, 3, 12), kind="reminder_letter"),
        "other": message(personas["district_b"], "西山区任务", day=dt.date(2026, 3, 5)),
    }


class TestFilters:
    def test_read_state(self, inbox: dict[str, int], client_for: Any) -> None:
        client = client_for("district_a")
        assert subjects(client.get("/inbox/?status=unread")) == ["提醒函", "预警摘要", "任务已下发"]
        assert subjects(client.get("/inbox/?status=read")) == ["填报已退回"]
        assert subjects(client.get("/inbox/")) == ["提醒函", "填报已退回", "预警摘要", "任务已下发"]

    def test_kind(self, inbox: dict[str, int], client_for: Any) -> None:
        client = client_for("district_a")
        assert subjects(client.get("/inbox/?kind=alert_digest")) == ["预警摘要"]
        assert subjects(client.get("/inbox/?kind=work_task")) == ["任务已下发"]
        page = client.get("/inbox/?kind=filling").content.decode()
        assert '<td class="kind">定期填报</td>' in page

    def test_dates_are_inclusive(self, inbox: dict[str, int], client_for: Any) -> None:
        client = client_for("district_a")
        assert subjects(client.get("/inbox/?since=2026-03-05&until=2026-03-09")) == [
            "填报已退回",
            "预警摘要",
        ]
        assert subjects(client.get("/inbox/?since=2026-03-10")) == ["提醒函"]

    def test_filters_combine_and_never_show_others_messages(
        self, inbox: dict[str, int], client_for: Any
    ) -> None:
        client = client_for("district_a")
        assert subjects(client.get("/inbox/?status=unread&until=2026-03-05")) == [
            "预警摘要",
            "任务已下发",
        ]
        assert subjects(client_for("district_b").get("/inbox/?since=2026-03-01")) == ["西山区任务"]

    def test_a_bad_date_is_a_form_error_not_a_crash(
        self, inbox: dict[str, int], client_for: Any
    ) -> None:
        response = client_for("district_a").get("/inbox/?since=2026-13-40")
        assert subjects(response) == []
        assert "form-errors" in response.content.decode()


class TestMarkRead:
    def test_selected_rows_only_and_audited(
        self, inbox: dict[str, int], personas: dict[str, Any], client_for: Any
    ) -> None:
        a = personas["district_a"]
        response = client_for("district_a").post(
            "/inbox/read/",
            {
                "scope": "selected",
                "ids": [inbox["task"], inbox["letter"], inbox["other"]],
                "query": "status=unread&kind=",
            },
        )
        assert response.status_code == 302
        # Back to the list as it was filtered.
        assert response.headers["Location"] == "/inbox/?status=unread&kind="
        unread = Notification.objects.filter(recipient=a, read_at__isnull=True)
        assert list(unread.values_list("pk", flat=True)) == [inbox["digest"]]
        # Someone else's message named in the POST stays unread.
        assert Notification.objects.get(pk=inbox["other"]).read_at is None
        event = AuditEvent.objects.get(action="notification.mark_read")
        assert event.actor_id == a.pk
        assert event.after == {"count": 2, "ids": sorted([inbox["task"], inbox["letter"]])}

    def test_nothing_selected_marks_nothing(
        self, inbox: dict[str, int], personas: dict[str, Any], client_for: Any
    ) -> None:
        client = client_for("district_a")
        response = client.post("/inbox/read/", {"scope": "selected"}, follow=True)
        assert "请先勾选要标为已读的消息" in response.content.decode()
        assert unread_count(personas["district_a"]) == 3
        assert not AuditEvent.objects.filter(action="notification.mark_read").exists()

    def test_all(self, inbox: dict[str, int], personas: dict[str, Any], client_for: Any) -> None:
        response = client_for("district_a").post("/inbox/read/", {"scope": "all"})
        assert response.headers["Location"] == "/inbox/"
        assert unread_count(personas["district_a"]) == 0
        assert unread_count(personas["district_b"]) == 1
        event = AuditEvent.objects.get(action="notification.mark_read")
        assert event.after == {"count": 3}

    def test_post_without_csrf_token_is_refused(
        self, inbox: dict[str, int], personas: dict[str, Any]
    ) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(personas["district_a"])
        response = client.post("/inbox/read/", {"scope": "selected", "ids": [inbox["task"]]})
        assert response.status_code == 403
        assert unread_count(personas["district_a"]) == 3
        assert not AuditEvent.objects.filter(action="notification.mark_read").exists()

    def test_the_page_offers_both_buttons_in_a_form_with_a_token(
        self, inbox: dict[str, int], client_for: Any
    ) -> None:
        page = client_for("district_a").get("/inbox/?status=unread").content.decode()
        form = page.split('id="inbox-read"')[1].split("</form>")[0]
        assert 'name="csrfmiddlewaretoken"' in form
        assert 'name="query" value="status=unread"' in form
        assert 'value="selected"' in form and 'value="all"' in form
        boxes = page.count('name="ids"')
        assert boxes == 3


def test_digest_entries_are_links_in_the_inbox(personas: dict[str, Any], client_for: Any) -> None:
    notify(
        [personas["coordinator"]],
        subject="预警摘要：7 条新预警",
        body="一\n二",
        category="alert_digest",
        items=[
            {"text": "【红色·未达目标】网上办理率（东湖区）", "link": "/monitoring/alerts/11/"},
            {
                "text": "另有 6 条新预警，请在预警列表中查看",
                "link": "/monitoring/alerts/?status=open",
            },
        ],
    )
    page = client_for("coordinator").get("/inbox/").content.decode()
    digest = page.split('data-testid="digest"')[1].split("</ul>")[0]
    assert digest.count("<li>") == 2
    assert '<a href="/monitoring/alerts/11/">【红色·未达目标】网上办理率（东湖区）</a>' in digest
    assert '<a href="/monitoring/alerts/?status=open">另有 6 条新预警' in digest
