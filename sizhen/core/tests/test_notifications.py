"""Notifications: inbox rows written with the change, one delivery job, one digest per person."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from sizhen.core import jobs
from sizhen.core.models import Job, JobStatus, Notification
from sizhen.core.notifications import Channel, notify, notify_after_commit, unread_count

pytestmark = pytest.mark.django_db

DELIVERY = "core.deliver_notifications"


@pytest.fixture
def people(personas: dict[str, Any]) -> dict[str, Any]:
    for name in ("coordinator", "district_a", "district_b"):
        user = personas[name]
        user.email = f"{user.username}@example.gov.cn"
        user.save(update_fields=["email"])
    return personas


@pytest.fixture(autouse=True)
def no_schedules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "SCHEDULES", {})


def test_notify_creates_inbox_rows_and_one_delivery_job(people: dict[str, Any]) -> None:
    a, b = people["district_a"], people["district_b"]
    rows = notify([a, b, a, None], subject="新任务：核查办件数据", body="请于 5 个工作日内反馈")
    assert sorted(n.recipient_id for n in rows) == sorted([a.pk, b.pk])
    notify([a], subject="督办提醒", link="/m/tasks/")
    assert Notification.objects.filter(recipient=a).count() == 2
    assert Notification.objects.filter(recipient=b).count() == 1
    assert list(Job.objects.values_list("name", "status")) == [(DELIVERY, JobStatus.QUEUED)]
    assert unread_count(a) == 2


def test_notify_rolled_back_with_the_change(people: dict[str, Any]) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        notify([people["district_a"]], subject="不会发送")
        raise Abort
    assert Notification.objects.count() == 0
    assert Job.objects.count() == 0


def test_nobody_to_notify_enqueues_nothing() -> None:
    assert notify([], subject="空") == []
    assert Job.objects.count() == 0


def test_delivery_sends_one_digest_per_recipient(people: dict[str, Any], mailoutbox: list) -> None:
    a, b, c = people["district_a"], people["district_b"], people["coordinator"]
    notify([a, b], subject="新任务：核查办件数据", body="请于 5 个工作日内反馈", link="/m/tasks/")
    notify([a], subject="督办提醒")
    notify([a], subject="预警：开办时长异常")
    notify([c], subject="仅一条")
    assert jobs.run_pending() == 1

    by_recipient = {tuple(m.to): m for m in mailoutbox}
    assert len(mailoutbox) == 3
    assert by_recipient[(a.email,)].subject == "【四诊】您有 3 条新消息"
    assert by_recipient[(a.email,)].body == (
        "新任务：核查办件数据\n请于 5 个工作日内反馈\n/m/tasks/\n\n督办提醒\n\n预警：开办时长异常"
    )
    assert by_recipient[(b.email,)].subject == "【四诊】新任务：核查办件数据"
    assert by_recipient[(c.email,)].subject == "【四诊】仅一条"
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0
    job = Job.objects.get()
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"delivered": 5, "recipients": 3})
    assert (job.progress_done, job.progress_total) == (3, 3)
    # Delivered means delivered once: a second run finds nothing.
    assert jobs.enqueue(DELIVERY).pk != job.pk
    jobs.run_pending()
    assert len(mailoutbox) == 3
    # Delivery by e-mail does not mark the inbox as read.
    assert unread_count(a) == 3


def test_recipients_without_email_or_inactive(people: dict[str, Any], mailoutbox: list) -> None:
    inactive = people["district_b"]
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    notify([people["enterprise"], inactive, people["district_a"]], subject="通知")
    jobs.run_pending()
    assert [m.to for m in mailoutbox] == [[people["district_a"].email]]
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


class Broken(Channel):
    name = "broken"

    def send(self, recipient: Any, notifications: list[Notification]) -> bool:
        raise ConnectionError("短信网关不可用")


@override_settings(
    SIZHEN_NOTIFICATION_CHANNELS=[
        "sizhen.core.tests.test_notifications.Broken",
        "sizhen.core.notifications.EmailChannel",
    ]
)
def test_a_failing_channel_does_not_block_the_others(
    people: dict[str, Any], mailoutbox: list
) -> None:
    notify([people["district_a"], people["district_b"]], subject="通知")
    jobs.run_pending()
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [people["district_a"].email, people["district_b"].email]
    )
    assert Job.objects.get().status == JobStatus.SUCCEEDED


class TestInboxPages:
    def test_inbox_shows_only_own_messages(self, people: dict[str, Any], client_for: Any) -> None:
        notify([people["district_a"]], subject="东湖区的消息")
        notify([people["district_b"]], subject="西山区的消息")
        response = client_for("district_a").get("/inbox/")
        assert response.status_code == 200
        body = response.content.decode()
        assert "东湖区的消息" in body
        assert "西山区的消息" not in body
        assert response.context["page"].paginator.count == 1

    def test_anonymous_is_sent_to_login(self, people: dict[str, Any], client_for: Any) -> None:
        notify([people["district_a"]], subject="东湖区的消息")
        response = client_for(None).get("/inbox/")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/accounts/login/")
        response = client_for(None).post("/inbox/read/")
        assert response.status_code == 302
        assert Notification.objects.filter(read_at__isnull=True).count() == 1

    def test_mark_read_touches_only_own_messages(
        self, people: dict[str, Any], client_for: Any
    ) -> None:
        notify([people["district_a"]], subject="一")
        notify([people["district_a"]], subject="二")
        notify([people["district_b"]], subject="三")
        client = client_for("district_a")
        assert client.get("/inbox/read/").status_code == 405
        assert unread_count(people["district_a"]) == 2
        response = client.post("/inbox/read/")
        assert response.status_code == 302
        assert response.headers["Location"] == "/inbox/"
        assert unread_count(people["district_a"]) == 0
        assert unread_count(people["district_b"]) == 1
        page = client.get("/inbox/").content.decode()
        rows = page.split("<tbody>")[1].split("</tbody>")[0]
        assert (rows.count("<td>已读</td>"), rows.count("<td>未读</td>")) == (2, 0)


def test_notice_after_commit_waits_for_the_commit_and_a_rollback_sends_nothing(
    people: dict[str, Any], django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify_after_commit([people["coordinator"]], subject="不会发出")
        raise RuntimeError("the write failed")
    assert (callbacks, Notification.objects.count(), Job.objects.count()) == ([], 0, 0)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notify_after_commit([people["coordinator"], people["district_a"]], subject="已提交")
        assert Notification.objects.count() == 0
    assert len(callbacks) == 1
    assert sorted(Notification.objects.values_list("recipient__username", "subject")) == [
        ("coordinator", "已提交"),
        ("district_a", "已提交"),
    ]
    assert list(Job.objects.values_list("name", "status")) == [(DELIVERY, JobStatus.QUEUED)]
    assert jobs.run_pending() == 1
    assert sorted(m.to[0] for m in mailoutbox) == [
        "coordinator@example.gov.cn",
        "district_a@example.gov.cn",
    ]


def test_unit_users_are_the_department_and_district_officers(personas: dict[str, Any]) -> None:
    from sizhen.core.notifications import coordinators, unit_users

    market = personas["lead_department"].department_id
    district_a = personas["district_a"].region_id
    assert [u.username for u in unit_users(department_ids=[market])] == ["lead_dept"]
    assert [u.username for u in unit_users(region_ids=[district_a])] == ["district_a"]
    assert unit_users(department_ids=[None], region_ids=[]) == []
    # The office's leader and coordinator belong to a department but do not act for it.
    office = personas["coordinator"].department_id
    assert unit_users(department_ids=[office]) == []
    assert [u.username for u in coordinators()] == ["coordinator"]
