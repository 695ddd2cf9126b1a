"""The first-contact clock (首次联系) and the automatic escalation tiers (升级督办) of requests
their lead unit leaves without progress: counted in working days of the work calendar (National
Day 2026), each tier once, progress restarting the count without undoing a tier, closed
requests never escalated, and everything within each viewer's scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from sizhen.accounts.models import User
from sizhen.core.models import AuditEvent, Notification, TransitionHistory
from sizhen.core.roles import Role
from sizhen.core.workcalendar import working_days_back
from sizhen.core.workqueue import work_queue
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import FirstContact, MessageKind
from sizhen.enterprise_requests.jobs import escalate
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestMessage
from sizhen.enterprise_requests.services import RequestError
from sizhen.enterprise_requests.tests.factories import category, portal_request

pytestmark = pytest.mark.django_db

NONE = {"unit_leader": 0, "city_team": 0, "listed": 0}


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def dispatched_at(
    personas: dict[str, Any], city: dict[str, Any], when: dt.datetime, **kw: Any
) -> EnterpriseRequest:
    """A request of enterprise A dispatched at ``when`` (to a_dept unless ``department``)."""
    department = kw.pop("department", city["a_dept"])
    request = portal_request(personas[kw.pop("enterprise", "enterprise")], **kw)
    request = services.dispatch_request(
        request, actor=personas["coordinator"], department=department, today=when.date()
    )
    _date_step(request, "dispatch", when)
    EnterpriseRequest.objects.filter(pk=request.pk).update(
        dispatched_at=when, first_contact_due=when + dt.timedelta(hours=12)
    )
    request.refresh_from_db()
    return request


def _date_step(request: EnterpriseRequest, action: str, when: dt.datetime) -> None:
    TransitionHistory.objects.filter(
        object_type="enterprise_requests.enterpriserequest",
        object_id=str(request.pk),
        action=action,
    ).update(at=when)


def run(day: dt.date, capture: Any) -> dict[str, int]:
    """The job's service as the schedule runs it, at 08:00 of ``day``."""
    with capture(execute=True):
        return services.escalate_idle_requests(today=day, now=at(day, 8))


def escalations(request: EnterpriseRequest) -> list[str]:
    return list(
        request.messages.filter(kind=MessageKind.ESCALATION)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
    )


def inbox(user: Any) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("subject", flat=True)
    )


@pytest.fixture
def head(city: dict[str, Any]) -> User:
    """The head (单位负责人) of the district market bureau (a_dept)."""
    return User.objects.create(
        username="a_head",
        full_name="王局长",
        role=Role.RESPONSIBLE_DEPARTMENT,
        department=city["a_dept"],
        unit_leader=True,
        must_change_password=False,
    )


def test_tiers_count_working_days_across_national_day_2026(
    personas, city, head, django_capture_on_commit_callbacks
):
    # Dispatched Tuesday 29 September 2026; 1–7 October are off, Saturday 10 October works.
    request = dispatched_at(personas, city, at(dt.date(2026, 9, 29)))
    Notification.objects.all().delete()
    capture = django_capture_on_commit_callbacks
    # Counting weekdays would reach 3 on Friday 2 October; the calendar has only 30 September.
    assert run(dt.date(2026, 10, 2), capture) == NONE
    assert run(dt.date(2026, 10, 8), capture) == NONE
    assert run(dt.date(2026, 10, 9), capture) == {**NONE, "unit_leader": 1}
    request.refresh_from_db()
    assert (request.escalation_tier, request.escalated_at) == (1, at(dt.date(2026, 10, 9), 8))
    assert escalations(request) == [
        "自 2026-09-29 起连续 3 个工作日无办理进展，提级东湖区市场监督管理局负责人督促办理：王局长。"
    ]
    subject = f"诉求超时无进展，提级单位负责人：{request.number} {request.title}"
    # The unit's head only: not its other officer, nor the office yet.
    assert inbox(head) == [subject]
    assert inbox(personas["responsible_department"]) == []
    assert inbox(personas["coordinator"]) == []
    event = AuditEvent.objects.get(action="enterprise_request.escalate")
    assert (event.object_id, event.actor_id, event.actor_label) == (str(request.pk), None, "系统")
    assert event.before == {"escalation_tier": 0}
    assert event.after == {
        "escalation_tier": 1,
        "idle_since": "2026-09-29",
        "idle_working_days": 3,
        "listed": False,
        "notified": [head.pk],
    }
    # Seven working days: 30 Sep, 8, 9, 10 (Saturday, worked), 12, 13, 14 October.
    assert run(dt.date(2026, 10, 13), capture) == NONE
    assert run(dt.date(2026, 10, 14), capture) == {**NONE, "city_team": 1}
    assert inbox(personas["coordinator"]) == [
        f"诉求超时无进展，提级市级专班：{request.number} {request.title}"
    ]
    assert len(inbox(head)) == 2
    assert inbox(personas["leader"]) == []
    assert run(dt.date(2026, 10, 23), capture) == NONE
    assert run(dt.date(2026, 10, 26), capture) == {**NONE, "listed": 1}
    request.refresh_from_db()
    assert (request.escalation_tier, request.supervised) == (3, True)
    assert request.supervised_at == at(dt.date(2026, 10, 26), 8)
    assert request.supervision_note == escalations(request)[2]
    assert escalations(request)[1:] == [
        "自 2026-09-29 起连续 7 个工作日无办理进展，提级市级专班（营商办）协调督办，"
        "并告知东湖区市场监督管理局负责人：王局长。",
        "自 2026-09-29 起连续 15 个工作日无办理进展，挂牌督办：东湖区市场监督管理局须定期报告"
        "办理进展，问题不解决不销号。",
    ]
    listed = f"诉求超时无进展，挂牌督办：{request.number} {request.title}"
    assert inbox(personas["leader"]) == [listed]
    assert inbox(personas["coordinator"])[-1] == listed
    assert inbox(personas["responsible_department"]) == []
    # Nothing is left to escalate.
    assert run(dt.date(2026, 12, 31), capture) == NONE


def test_running_twice_escalates_and_notifies_once_per_tier(
    personas, city, head, django_capture_on_commit_callbacks
):
    request = dispatched_at(personas, city, at(dt.date(2026, 9, 29)))
    Notification.objects.all().delete()
    capture = django_capture_on_commit_callbacks
    # A job that did not run for weeks: all three tiers at once, each once, in order.
    assert run(dt.date(2026, 11, 2), capture) == {"unit_leader": 1, "city_team": 1, "listed": 1}
    assert run(dt.date(2026, 11, 2), capture) == NONE
    with capture(execute=True):
        escalate(None)  # the scheduled job itself, on the real today: nothing new
    # Each entry says how long the request really waited: 20 working days by 2 November.
    idle = "自 2026-09-29 起连续 20 个工作日无办理进展"
    assert escalations(request) == [
        f"{idle}，提级东湖区市场监督管理局负责人督促办理：王局长。",
        f"{idle}，提级市级专班（营商办）协调督办，并告知东湖区市场监督管理局负责人：王局长。",
        f"{idle}，挂牌督办：东湖区市场监督管理局须定期报告办理进展，问题不解决不销号。",
    ]
    assert len(inbox(head)) == 3
    assert len(inbox(personas["coordinator"])) == 2
    assert len(inbox(personas["leader"])) == 1
    assert AuditEvent.objects.filter(action="enterprise_request.escalate").count() == 3


def test_a_request_listed_by_hand_keeps_its_reason(
    personas, city, head, django_capture_on_commit_callbacks
):
    request = dispatched_at(personas, city, at(dt.date(2026, 9, 29)))
    services.list_for_supervision(request, actor=personas["coordinator"], note="跨部门难题")
    listed_at = EnterpriseRequest.objects.get(pk=request.pk).supervised_at
    run(dt.date(2026, 11, 2), django_capture_on_commit_callbacks)
    request.refresh_from_db()
    assert (request.escalation_tier, request.supervision_note) == (3, "跨部门难题")
    assert request.supervised_at == listed_at
    event = AuditEvent.objects.filter(action="enterprise_request.escalate").last()
    assert event is not None and event.after["listed"] is False


@pytest.mark.parametrize(
    "status", ["closed", "withdrawn", "referred", "replied", "reply_review", "returned"]
)
def test_requests_not_held_by_the_unit_never_escalate(
    personas, city, head, status, django_capture_on_commit_callbacks
):
    request = dispatched_at(personas, city, at(dt.date(2026, 9, 29)))
    EnterpriseRequest.objects.filter(pk=request.pk).update(status=status)
    Notification.objects.all().delete()
    assert run(dt.date(2026, 11, 2), django_capture_on_commit_callbacks) == NONE
    request.refresh_from_db()
    assert (request.escalation_tier, request.supervised, escalations(request)) == (0, False, [])
    assert Notification.objects.count() == 0
    assert not AuditEvent.objects.filter(action="enterprise_request.escalate").exists()


def test_progress_restarts_the_count_without_undoing_a_tier(
    personas, city, head, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    request = dispatched_at(personas, city, at(dt.date(2026, 9, 29)))
    assert run(dt.date(2026, 10, 9), capture)["unit_leader"] == 1
    # A handling note (办理记录) is no progress: it tells the enterprise and the office nothing.
    note = services.add_message(
        request, actor=personas["responsible_department"], kind=MessageKind.NOTE, text="研究中"
    )
    RequestMessage.objects.filter(pk=note.pk).update(created_at=at(dt.date(2026, 10, 12)))
    # The progress report (进展报告) of Monday 12 October is.
    report = services.add_message(
        request,
        actor=personas["responsible_department"],
        kind=MessageKind.PROGRESS,
        text="已约企业现场核实，正协调税务部门",
    )
    RequestMessage.objects.filter(pk=report.pk).update(created_at=at(dt.date(2026, 10, 12), 16))
    request.refresh_from_db()
    assert request.escalation_tier == 1  # 问题不关闭、督办考核不关闭
    # Without the report the second tier would come on 14 October.
    assert run(dt.date(2026, 10, 14), capture) == NONE
    assert run(dt.date(2026, 10, 20), capture) == NONE
    # Seven working days after 12 October: 13, 14, 15, 16, 19, 20, 21.
    assert run(dt.date(2026, 10, 21), capture) == {**NONE, "city_team": 1}
    assert escalations(request)[1].startswith("自 2026-10-12 起连续 7 个工作日无办理进展")
    # Acceptance is progress too; so is a contact with the enterprise.
    accepted = services.accept_request(request, actor=personas["responsible_department"])
    _date_step(accepted, "accept", at(dt.date(2026, 10, 22)))
    services.record_contact(
        accepted, actor=personas["responsible_department"], method="phone", note="与企业通话"
    )
    RequestMessage.objects.filter(kind=MessageKind.CONTACT).update(
        created_at=at(dt.date(2026, 10, 23))
    )
    # 15 working days after 22 October would be 12 November; after 23 October, 13 November.
    assert run(dt.date(2026, 11, 12), capture) == NONE
    assert run(dt.date(2026, 11, 13), capture) == {**NONE, "listed": 1}


def test_escalation_days_are_a_setting(
    personas, city, head, settings, django_capture_on_commit_callbacks
):
    settings.SIZHEN_REQUEST_ESCALATION_DAYS = ["1", "2", "4"]
    assert services.escalation_days() == (1, 2, 4)
    dispatched_at(personas, city, at(dt.date(2026, 9, 29)))
    assert run(dt.date(2026, 10, 8), django_capture_on_commit_callbacks) == {
        **NONE,
        "unit_leader": 1,
        "city_team": 1,
    }
    for wrong in (["3", "3", "15"], ["0", "7", "15"], ["3", "7"], ["三", "7", "15"]):
        settings.SIZHEN_REQUEST_ESCALATION_DAYS = wrong
        with pytest.raises(ValueError, match="SIZHEN_REQUEST_ESCALATION_DAYS"):
            services.escalation_days()


def test_a_unit_without_a_head_is_told_through_all_its_officers(
    personas, city, django_capture_on_commit_callbacks
):
    request = dispatched_at(personas, city, at(dt.date(2026, 9, 29)))
    Notification.objects.all().delete()
    run(dt.date(2026, 10, 9), django_capture_on_commit_callbacks)
    assert inbox(personas["responsible_department"]) == [
        f"诉求超时无进展，提级单位负责人：{request.number} {request.title}"
    ]
    assert escalations(request) == [
        "自 2026-09-29 起连续 3 个工作日无办理进展，提级东湖区市场监督管理局负责人督促办理："
        "resp_dept。"
    ]


def test_scope_of_escalated_requests(
    personas, city, head, client_for, django_capture_on_commit_callbacks
):
    mine = dispatched_at(personas, city, at(dt.date(2026, 9, 29)))
    theirs = dispatched_at(
        personas,
        city,
        at(dt.date(2026, 9, 29)),
        enterprise="enterprise_b",
        department=city["b_dept"],
        text="西山区物流园区道路拥堵",
    )
    quiet = dispatched_at(personas, city, at(dt.date(2026, 10, 8)), text="用电报装进度")
    Notification.objects.all().delete()
    assert run(dt.date(2026, 10, 9), django_capture_on_commit_callbacks)["unit_leader"] == 2
    # The western unit has no head and no officer: its tier is told to nobody in the east.
    assert inbox(head) == [f"诉求超时无进展，提级单位负责人：{mine.number} {mine.title}"]
    assert inbox(personas["responsible_department"]) == []

    def listed(persona: str, query: str) -> list[int]:
        response = client_for(persona).get(f"/requests/?{query}")
        assert response.status_code == 200
        return sorted(r.pk for r in response.context["page"].object_list)

    assert listed("coordinator", "escalation=any") == sorted([mine.pk, theirs.pk])
    assert listed("coordinator", "escalation=1") == sorted([mine.pk, theirs.pk])
    assert listed("coordinator", "escalation=2") == []
    assert listed("coordinator", "escalation=0") == [quiet.pk]
    assert listed("responsible_department", "escalation=any") == [mine.pk]
    assert listed("district_b", "escalation=any") == [theirs.pk]
    assert listed("lead_department", "escalation=any") == []
    # Another unit's escalated request does not exist for the department.
    assert client_for("responsible_department").get(f"/requests/{theirs.pk}/").status_code == 404


def test_page_shows_the_clock_the_tiers_and_the_history(
    personas, city, head, client_for, django_capture_on_commit_callbacks
):
    # The page counts to the real today: the request waits 8 working days by then.
    today = timezone.localdate()
    since = working_days_back(today, 8)
    request = dispatched_at(personas, city, at(since))
    run(today, django_capture_on_commit_callbacks)
    page = client_for("coordinator").get(f"/requests/{request.pk}/").content.decode()
    due = at(since) + dt.timedelta(hours=12)
    assert (
        f'<dd data-testid="first-contact">时限 {timezone.localtime(due):%Y-%m-%d %H:%M} · '
        '<strong class="error">超时未联系</strong></dd>'
    ) in page
    run_at = f"{today:%Y-%m-%d} 08:00"
    assert (
        f'<dd data-testid="escalation">一级：提级单位负责人（{run_at}） → '
        f"二级：提级市级专班（{run_at}）；自 {since:%Y-%m-%d} 起无办理进展 8 个工作日，"
        "满 15 个工作日将三级：挂牌督办</dd>"
    ) in page
    assert 'data-testid="escalation-badge">二级：提级市级专班</strong>' in page
    timeline = page.split('data-testid="timeline"')[1]
    assert timeline.count(f"<td>{run_at}</td><td>升级督办</td><td>系统</td>") == 2
    # The enterprise sees neither the clock nor the escalation.
    own = client_for("enterprise").get(f"/requests/{request.pk}/").content.decode()
    assert "升级督办" not in own and "首次联系" not in own
    assert "escalation-badge" not in own


def test_first_contact_clock_from_dispatch(personas, city, settings):
    request = portal_request(personas["enterprise"])
    services.dispatch_request(request, actor=personas["coordinator"], department=city["a_dept"])
    request.refresh_from_db()
    assert request.first_contact_due == request.dispatched_at + dt.timedelta(hours=12)
    assert request.first_contact_state() == FirstContact.PENDING
    assert request.first_contact_state(request.first_contact_due) == FirstContact.PENDING
    late = request.first_contact_due + dt.timedelta(seconds=1)
    assert request.first_contact_state(late) == FirstContact.OVERDUE
    # The setting, and a category's own limit beside its time limit in working days.
    settings.SIZHEN_REQUEST_FIRST_CONTACT_HOURS = 24
    other = portal_request(personas["enterprise"], text="税务注销需要多次跑腿")
    services.dispatch_request(other, actor=personas["coordinator"], department=city["a_dept"])
    other.refresh_from_db()
    assert other.first_contact_due == other.dispatched_at + dt.timedelta(hours=24)
    urgent = category("0102")
    urgent.first_contact_hours = 4
    urgent.save()
    third = portal_request(personas["enterprise"], text="经营范围变更", category=urgent)
    services.dispatch_request(third, actor=personas["coordinator"], department=city["a_dept"])
    third.refresh_from_db()
    assert third.first_contact_due == third.dispatched_at + dt.timedelta(hours=4)


def test_contact_by_the_lead_unit_stops_the_clock_once(personas, city, client_for):
    request = dispatched_at(personas, city, timezone.now() - dt.timedelta(hours=2))
    unit = personas["responsible_department"]
    # Only the lead unit (or the office for it) records contacts; nothing changes otherwise.
    for outsider in ("lead_department", "enterprise", "leader", "district_a"):
        with pytest.raises(RequestError, match="只有主办单位可以记录联系企业"):
            services.record_contact(request, actor=personas[outsider], method="phone", note="x")
    with pytest.raises(RequestError, match="请选择联系方式"):
        services.record_contact(request, actor=unit, method="fax", note="x")
    with pytest.raises(RequestError, match="请填写联系情况"):
        services.record_contact(request, actor=unit, method="phone", note="  ")
    request.refresh_from_db()
    assert request.first_contacted_at is None
    assert not request.messages.filter(kind=MessageKind.CONTACT).exists()
    # Through the page, as the unit: the contact form is offered and records the call.
    client = client_for("responsible_department")
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="do-contact"' in page
    assert 'data-testid="do-contact"' not in (
        client_for("coordinator").get(f"/requests/{request.pk}/").content.decode()
    )
    response = client.post(
        f"/requests/{request.pk}/act/contact/",
        {"method": "phone", "note": "已与企业负责人张总通话，约定周三上门", "status": "dispatched"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    first = request.first_contacted_at
    assert first is not None and request.first_contact_state() == FirstContact.MET
    [message] = request.messages.filter(kind=MessageKind.CONTACT)
    assert message.text == "电话联系：已与企业负责人张总通话，约定周三上门"
    assert (message.author_id, message.department_id) == (unit.pk, city["a_dept"].pk)
    event = AuditEvent.objects.get(action="enterprise_request.contact")
    assert event.after == {
        "method": "phone",
        "note": "已与企业负责人张总通话，约定周三上门",
        "first_contact": True,
    }
    # A later contact is recorded as such and leaves the first one.
    services.record_contact(request, actor=unit, method="visit", note="上门核实")
    request.refresh_from_db()
    assert request.first_contacted_at == first
    assert request.messages.filter(kind=MessageKind.CONTACT).count() == 2
    # A re-dispatch after the contact keeps it: the enterprise has been reached.
    services.return_request(request, actor=unit, reason="非本单位职责")
    services.dispatch_request(request, actor=personas["coordinator"], department=city["b_dept"])
    request.refresh_from_db()
    assert request.first_contacted_at == first
    assert request.first_contact_state() == FirstContact.MET
    # A request not yet dispatched takes no contact record.
    fresh = portal_request(personas["enterprise"], text="新诉求")
    with pytest.raises(RequestError, match="不能记录联系企业"):
        services.record_contact(fresh, actor=personas["coordinator"], method="phone", note="x")


def test_a_reply_reaching_the_enterprise_is_its_first_contact(personas, city):
    request = dispatched_at(personas, city, timezone.now() - dt.timedelta(hours=20))
    unit = personas["responsible_department"]
    services.accept_request(request, actor=unit)
    services.reply_request(request, actor=unit, text="已办结，详见答复。")
    request.refresh_from_db()
    assert request.first_contacted_at == request.replied_at
    assert request.first_contact_state() == FirstContact.LATE


def test_overdue_first_contact_is_a_list_filter_and_the_office_queue(personas, city, client_for):
    late = dispatched_at(personas, city, timezone.now() - dt.timedelta(hours=13))
    on_time = dispatched_at(personas, city, timezone.now() - dt.timedelta(hours=3), text="另一件")
    services.record_contact(
        on_time, actor=personas["responsible_department"], method="phone", note="已联系"
    )
    waiting = dispatched_at(personas, city, timezone.now() - dt.timedelta(hours=1), text="第三件")
    elsewhere = dispatched_at(
        personas,
        city,
        timezone.now() - dt.timedelta(hours=30),
        enterprise="enterprise_b",
        department=city["b_dept"],
        text="西山区检查过多",
    )

    def listed(persona: str, state: str) -> list[int]:
        page = client_for(persona).get(f"/requests/?first_contact={state}").context["page"]
        return sorted(r.pk for r in page.object_list)

    assert listed("coordinator", "overdue") == sorted([late.pk, elsewhere.pk])
    assert listed("coordinator", "met") == [on_time.pk]
    assert listed("coordinator", "pending") == [waiting.pk]
    assert listed("responsible_department", "overdue") == [late.pk]
    assert listed("district_b", "overdue") == [elsewhere.pk]
    queues = {q.ident: q for q in work_queue(personas["coordinator"], timezone.localdate())}
    assert queues["enterprise_requests-first_contact"].count == 2
    assert queues["enterprise_requests-first_contact"].url == "/requests/?first_contact=overdue"
    # A unit's home has no office queue.
    unit_queues = work_queue(personas["responsible_department"], timezone.localdate())
    assert "enterprise_requests-first_contact" not in {q.ident for q in unit_queues}
    ledger = client_for("coordinator").get("/requests/?first_contact=overdue").content.decode()
    assert ledger.count("<td>超时未联系</td>") == 2
