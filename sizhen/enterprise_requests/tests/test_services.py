import datetime as dt

import pytest

from sizhen.core.models import AuditEvent, Notification, TransitionHistory
from sizhen.core.workflow import TransitionNotAllowed
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import Channel, Kind, MessageKind, RevisitMethod
from sizhen.enterprise_requests.models import EnterpriseRequest, Revisit
from sizhen.enterprise_requests.services import RequestError, intake
from sizhen.enterprise_requests.tests.factories import category, dispatched, portal_request
from sizhen.enterprise_requests.workflow import STATES, TERMINAL, is_closed


def test_states_and_is_closed():
    assert STATES["closed"] == "已办结"
    assert is_closed("closed") and is_closed("merged") and is_closed("referred")
    assert not is_closed("replied") and not is_closed("unsatisfied")
    assert {"closed", "referred", "merged", "withdrawn", "rejected"} == TERMINAL


@pytest.mark.django_db
def test_default_taxonomy_has_two_levels():
    from sizhen.enterprise_requests.models import RequestCategory

    assert RequestCategory.objects.filter(parent__isnull=True).count() == 9
    assert RequestCategory.objects.filter(parent__isnull=False).count() == 30
    assert category("0401").time_limit_days == 0
    assert category("0301").difficulty == "complex"


@pytest.mark.django_db
def test_submit_by_enterprise_fills_enterprise_region_contact_and_number(personas, city):
    request = portal_request(personas["enterprise"])
    assert request.enterprise == city["enterprise_a"]
    assert request.region == city["district_a"]
    assert request.contact_phone == "13800001111"
    assert request.contact_name == "张三"
    assert request.kind == Kind.HELP
    assert request.status == "submitted"
    assert request.number == f"SQ{request.submitted_at.year}-{request.pk:06d}"
    assert request.title == "企业开办时刻章环节需要跑三次，请协调解决"
    event = AuditEvent.objects.get(action="enterprise_request.submit")
    assert event.object_id == str(request.pk)


@pytest.mark.django_db
def test_enterprise_cannot_submit_for_another_enterprise(personas, city):
    request = portal_request(personas["enterprise"], enterprise=city["enterprise_b"])
    assert request.enterprise == city["enterprise_a"]


@pytest.mark.django_db
def test_submit_refusals_change_nothing(personas, city):
    with pytest.raises(RequestError, match="请填写诉求内容"):
        services.submit_request(actor=personas["enterprise"], channel=Channel.PORTAL, text="  ")
    with pytest.raises(RequestError, match="企业用户只能通过企业服务门户"):
        services.submit_request(
            actor=personas["enterprise"], channel=Channel.STAFF_WINDOW, text="x"
        )
    with pytest.raises(RequestError, match="角色不能提交"):
        services.submit_request(actor=personas["leader"], channel=Channel.STAFF_WINDOW, text="x")
    with pytest.raises(RequestError, match="只能登记本辖区"):
        services.submit_request(
            actor=personas["district_a"],
            channel=Channel.STAFF_WINDOW,
            text="西山企业的诉求",
            enterprise=city["enterprise_b"],
        )
    assert EnterpriseRequest.objects.count() == 0


@pytest.mark.django_db
def test_idempotency_key_creates_one_request(personas):
    first, created = services.submit_request(
        actor=personas["coordinator"],
        channel=Channel.HOTLINE_12345,
        text="来电反映",
        idempotency_key="k1",
    )
    again, created_again = services.submit_request(
        actor=personas["coordinator"],
        channel=Channel.HOTLINE_12345,
        text="不同内容",
        idempotency_key="k1",
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert EnterpriseRequest.objects.count() == 1
    other, created_other = services.submit_request(
        actor=personas["sysadmin"],
        channel=Channel.HOTLINE_12345,
        text="来电反映",
        idempotency_key="k1",
    )
    assert created_other and other.pk != first.pk


@pytest.mark.django_db
def test_race_on_idempotency_key_returns_existing(personas, monkeypatch):
    # The ORM path's probe-then-insert race (PostgreSQL's one statement has no probe: its
    # ON CONFLICT is tested with two connections in test_intake_load.py).
    monkeypatch.setattr(intake, "ONE_STATEMENT_INTAKE", False)
    first, _ = services.submit_request(
        actor=personas["coordinator"],
        channel=Channel.HOTLINE_12345,
        text="来电反映",
        idempotency_key="k2",
    )
    # Simulate the other delivery committing between our look-up and our insert.
    real_filter = EnterpriseRequest.objects.filter
    calls = {"n": 0}

    def filter_missing_once(*args, **kwargs):
        if kwargs.get("idempotency_key") == "k2" and calls["n"] == 0:
            calls["n"] += 1
            return EnterpriseRequest.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(EnterpriseRequest.objects, "filter", filter_missing_once)
    again, created = services.submit_request(
        actor=personas["coordinator"],
        channel=Channel.HOTLINE_12345,
        text="来电反映",
        idempotency_key="k2",
    )
    assert not created and again.pk == first.pk
    assert EnterpriseRequest.objects.count() == 1


@pytest.mark.django_db
def test_duplicate_of_open_request_of_same_enterprise_is_flagged(personas):
    first = portal_request(
        personas["enterprise"], text="我公司申请的稳岗补贴至今未到账，请帮助查询进度"
    )
    second = portal_request(
        personas["enterprise"], text="我公司申请的稳岗补贴至今还未到账，请帮忙查询进度"
    )
    unrelated = portal_request(personas["enterprise"], text="园区门口道路破损严重影响货车通行")
    assert second.suspected_duplicate_of == first
    assert second.duplicate_similarity > 0.6
    assert unrelated.suspected_duplicate_of is None


@pytest.mark.django_db
def test_whole_path_with_deadline_across_national_day(personas, city):
    enterprise, coordinator = personas["enterprise"], personas["coordinator"]
    request = portal_request(enterprise)
    services.register_request(request, actor=coordinator, category=category("0101"), kind=Kind.HELP)
    assert request.status == "registered"

    services.dispatch_request(
        request, actor=coordinator, department=city["market"], today=dt.date(2025, 9, 30)
    )
    assert request.status == "dispatched"
    # 5 working days from 30 September 2025: National Day runs 1-8 October, 11 October is a
    # make-up working Saturday: 9, 10, 11, 13, 14.
    assert request.deadline == dt.date(2025, 10, 14)
    assert request.deadline_provisional is False
    assert request.deadline_label == "2025-10-14"

    with pytest.raises(TransitionNotAllowed, match="只有主办单位"):
        services.accept_request(request, actor=personas["responsible_department"])
    with pytest.raises(RequestError, match="退单须填写理由"):
        services.return_request(request, actor=personas["lead_department"], reason=" ")
    services.return_request(request, actor=personas["lead_department"], reason="属区级事权")
    assert request.status == "returned" and request.return_count == 1

    services.dispatch_request(
        request,
        actor=coordinator,
        department=city["a_dept"],
        co_departments=[city["tax"]],
        today=dt.date(2025, 10, 9),
    )
    assert request.lead_department == city["a_dept"]
    assert list(request.co_departments.all()) == [city["tax"]]
    assert request.deadline == dt.date(2025, 10, 15)

    handler = personas["responsible_department"]
    services.accept_request(request, actor=handler)
    assert request.status == "handling" and request.accepted_at is not None
    services.reply_request(request, actor=handler, text="已协调刻章点同步办理，一次办结。")
    assert request.status == "replied" and request.replied_at is not None
    assert request.messages.filter(kind=MessageKind.REPLY).count() == 1

    services.record_revisit(
        request, actor=enterprise, method=RevisitMethod.RATING, satisfaction=2, resolved=False
    )
    assert request.status == "unsatisfied" and request.satisfaction == 2
    with pytest.raises(RequestError, match="尚未提交不满意情况说明"):
        services.assign_second_time(request, actor=coordinator, note="请重新办理")
    services.add_message(
        request, actor=handler, kind=MessageKind.EXPLANATION, text="刻章点系统故障导致延误"
    )
    with pytest.raises(TransitionNotAllowed, match="需要填写理由"):
        services.assign_second_time(request, actor=coordinator, note="")
    services.assign_second_time(
        request, actor=coordinator, note="请重新办理", today=dt.date(2025, 10, 20)
    )
    assert request.status == "handling" and request.second_assignment is True
    assert request.deadline == dt.date(2025, 10, 27)

    services.reply_request(request, actor=handler, text="已现场办结。")
    services.record_revisit(
        request, actor=coordinator, method=RevisitMethod.PHONE, satisfaction=4, note="企业表示满意"
    )
    assert request.status == "closed" and request.closed_at is not None
    assert request.satisfaction == 4 and request.resolved is True
    assert list(Revisit.objects.filter(request=request).values_list("round", "satisfaction")) == [
        (1, 2),
        (2, 4),
    ]
    actions = list(
        TransitionHistory.objects.filter(object_id=str(request.pk)).values_list("action", flat=True)
    )
    assert actions == [
        "register",
        "dispatch",
        "return",
        "dispatch",
        "accept",
        "reply",
        "revisit_unsatisfied",
        "second_assignment",
        "reply",
        "revisit_satisfied",
    ]


@pytest.mark.django_db
def test_complaint_reply_goes_to_review(personas, city):
    request = dispatched(personas, city, kind=Kind.COMPLAINT)
    handler = personas["responsible_department"]
    services.accept_request(request, actor=handler)
    services.reply_request(request, actor=handler, text="经核查情况属实，已整改。")
    assert request.status == "reply_review"
    assert request.replied_at is None
    assert request.messages.filter(kind=MessageKind.REPLY).count() == 0
    services.send_back_reply(request, actor=personas["coordinator"], note="请补充整改措施")
    assert request.status == "handling"
    services.reply_request(request, actor=handler, text="经核查情况属实，已整改并约谈窗口人员。")
    services.approve_reply(request, actor=personas["coordinator"])
    assert request.status == "replied"
    assert (
        request.messages.get(kind=MessageKind.REPLY).text
        == "经核查情况属实，已整改并约谈窗口人员。"
    )


@pytest.mark.django_db
def test_referral_only_after_second_assignment(personas, city):
    coordinator, handler = personas["coordinator"], personas["responsible_department"]
    request = dispatched(personas, city)
    services.accept_request(request, actor=handler)
    services.reply_request(request, actor=handler, text="已答复")
    services.record_revisit(request, actor=personas["enterprise"], method="rating", satisfaction=1)
    with pytest.raises(TransitionNotAllowed, match="请先二次交办"):
        services.refer_to_discipline(request, actor=coordinator, note="推诿")
    assert request.status == "unsatisfied"
    services.add_message(request, actor=handler, kind=MessageKind.EXPLANATION, text="说明")
    services.assign_second_time(request, actor=coordinator, note="二次交办")
    services.reply_request(request, actor=handler, text="再次答复")
    services.record_revisit(
        request, actor=coordinator, method="phone", satisfaction=1, note="仍不满意"
    )
    services.refer_to_discipline(request, actor=coordinator, note="推诿扯皮，转纪委监委")
    assert request.status == "referred" and request.referred_at is not None


@pytest.mark.django_db
def test_revisit_refusals(personas, city):
    request = dispatched(personas, city)
    handler = personas["responsible_department"]
    services.accept_request(request, actor=handler)
    services.reply_request(request, actor=handler, text="已答复")
    with pytest.raises(RequestError, match="企业只能通过评价方式"):
        services.record_revisit(
            request, actor=personas["enterprise"], method="phone", satisfaction=5
        )
    with pytest.raises(TransitionNotAllowed, match="只有营商办或提出诉求的企业"):
        services.record_revisit(
            request, actor=personas["enterprise_b"], method="rating", satisfaction=5
        )
    with pytest.raises(RequestError, match="满意度"):
        services.record_revisit(
            request, actor=personas["enterprise"], method="rating", satisfaction=7
        )
    request.refresh_from_db()
    assert request.status == "replied" and request.satisfaction is None
    assert Revisit.objects.count() == 0


@pytest.mark.django_db
def test_merge_duplicate_into_main(personas, city):
    main = portal_request(personas["enterprise"], text="稳岗补贴未到账")
    duplicate = portal_request(personas["enterprise"], text="稳岗补贴还未到账")
    with pytest.raises(TransitionNotAllowed):
        services.merge_requests(duplicate, main=main, actor=personas["responsible_department"])
    services.merge_requests(duplicate, main=main, actor=personas["coordinator"])
    assert duplicate.status == "merged" and duplicate.duplicate_of == main
    with pytest.raises(RequestError, match="不能与自身并单"):
        services.merge_requests(main, main=main, actor=personas["coordinator"])


@pytest.mark.django_db
def test_extension_approved_moves_deadline_in_working_days(personas, city):
    request = portal_request(personas["enterprise"])
    services.dispatch_request(
        request,
        actor=personas["coordinator"],
        department=city["a_dept"],
        today=dt.date(2025, 9, 30),
    )
    handler = personas["responsible_department"]
    with pytest.raises(RequestError, match="只有主办单位"):
        services.request_extension(request, actor=personas["lead_department"], days=3, reason="x")
    extension = services.request_extension(request, actor=handler, days=3, reason="需现场核查")
    with pytest.raises(RequestError, match="只有营商办"):
        services.decide_extension(extension, actor=handler, approve=True)
    request.refresh_from_db()
    assert request.deadline == dt.date(2025, 10, 14)
    services.decide_extension(extension, actor=personas["coordinator"], approve=True)
    request.refresh_from_db()
    assert request.deadline == dt.date(2025, 10, 17)
    extension.refresh_from_db()
    assert extension.status == "approved" and extension.old_deadline == dt.date(2025, 10, 14)


@pytest.mark.django_db
def test_supervision_and_urging(personas, city):
    request = dispatched(personas, city)
    with pytest.raises(RequestError, match="只有营商办可以挂牌督办"):
        services.list_for_supervision(request, actor=personas["leader"], note="x")
    with pytest.raises(RequestError, match="协调会记录用于挂牌督办"):
        services.add_message(
            request, actor=personas["coordinator"], kind=MessageKind.COORDINATION, text="会议"
        )
    services.list_for_supervision(request, actor=personas["coordinator"], note="跨部门难题")
    assert request.supervised is True
    services.add_message(
        request, actor=personas["coordinator"], kind=MessageKind.COORDINATION, text="协调会纪要"
    )
    services.add_message(
        request, actor=personas["responsible_department"], kind=MessageKind.PROGRESS, text="进展"
    )
    services.urge_request(request, actor=personas["leader"], note="请加快")
    kinds = list(request.messages.values_list("kind", flat=True))
    assert kinds == ["coordination", "progress", "urge"]
    with pytest.raises(RequestError, match="只有营商办或市领导可以催办"):
        services.urge_request(request, actor=personas["responsible_department"], note="x")
    assert request.messages.count() == 3


@pytest.mark.django_db
def test_deadline_in_a_year_without_official_calendar_is_provisional(personas, city, client_for):
    from sizhen.core.workcalendar import PACKAGE_LAST_YEAR

    request = portal_request(personas["enterprise"])
    # 2 March of the first year chinese-calendar does not know: a Monday-to-Friday guess.
    start = dt.date(PACKAGE_LAST_YEAR + 1, 3, 2)
    services.dispatch_request(
        request, actor=personas["coordinator"], department=city["a_dept"], today=start
    )
    assert request.deadline_provisional is True
    assert request.deadline_label.endswith("（暂定）")
    page = client_for("responsible_department").get(f"/requests/{request.pk}/").content.decode()
    assert f"{request.deadline:%Y-%m-%d}（暂定）" in page


def test_return_count_is_counted_in_the_database(
    personas, city, django_capture_on_commit_callbacks
):
    handler, coordinator = personas["responsible_department"], personas["coordinator"]
    request = dispatched(personas, city)
    # A copy read before the first return: same state (dispatched) again later, stale count.
    stale = EnterpriseRequest.objects.get(pk=request.pk)
    services.return_request(request, actor=handler, reason="属市级事权")
    services.dispatch_request(request, actor=coordinator, department=city["a_dept"])
    with django_capture_on_commit_callbacks(execute=True):
        services.return_request(stale, actor=handler, reason="仍属市级事权")
    assert (stale.status, stale.return_count) == ("returned", 2)
    assert EnterpriseRequest.objects.get(pk=request.pk).return_count == 2
    assert [
        e.after["return_count"]
        for e in AuditEvent.objects.filter(action="enterprise_request.return").order_by("id")
    ] == [1, 2]
    assert list(
        Notification.objects.filter(recipient=coordinator).values_list("subject", flat=True)
    ) == [f"诉求退单：{request.number}"]
