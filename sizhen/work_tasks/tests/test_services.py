"""The task lifecycle through the services: issue → receive → transfer → progress → submit →
return → resubmit → approve, across National Day 2025 and Spring Festival 2026, with exact
early / on time / late classification and the scope and role refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from sizhen.core import uploads
from sizhen.core.access import get_visible_or_404
from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.tests.files import docx_file
from sizhen.core.workflow import TransitionConflict, TransitionNotAllowed
from sizhen.work_tasks import services, supervision
from sizhen.work_tasks.models import ProgressReport, TaskAssignment, TaskFile, WorkTask
from sizhen.work_tasks.tests.support import (
    NATIONAL_DAY_DEADLINE,
    NATIONAL_DAY_ISSUE,
    assignment_for,
    audit_count,
    issue,
    state,
)

pytestmark = pytest.mark.django_db

D = dt.date


def test_full_path_across_national_day(city: Any, personas: Any, clock: Any) -> None:
    coordinator, lead, resp = (
        personas["coordinator"],
        personas["lead_department"],
        personas["responsible_department"],
    )
    clock(NATIONAL_DAY_ISSUE)
    task = issue(
        personas,
        [city["market"], city["district_a"]],
        milestones=[("制定方案", D(2025, 9, 30))],
        files=[SimpleUploadedFile("方案.pdf", b"%PDF-1.4 plan", content_type="application/pdf")],
    )
    assert task.number == "RW2025-0001"
    assert (task.issued_on, task.deadline, task.deadline_working_days) == (
        NATIONAL_DAY_ISSUE,
        NATIONAL_DAY_DEADLINE,
        5,
    )
    assert task.deadline_provisional is False
    units = sorted(
        (a.unit_name, a.status, a.deadline)
        for a in task.assignments.select_related("department", "region")
    )
    assert units == [
        ("东湖区", "issued", NATIONAL_DAY_DEADLINE),
        ("市场监督管理局", "issued", NATIONAL_DAY_DEADLINE),
    ]
    assert list(TaskFile.objects.values_list("name", "size")) == [("方案.pdf", 13)]
    market = assignment_for(task, city["market"])
    milestone = task.milestones.get()

    clock(D(2025, 9, 28))  # a make-up working Sunday
    services.receive_assignment(market, actor=lead)
    sub = services.transfer_assignment(
        market, actor=lead, units=[city["a_dept"]], note="负责东湖区登记窗口改造"
    )[0]
    assert (sub.parent_id, sub.department_id, sub.deadline, sub.status) == (
        market.pk,
        city["a_dept"].pk,
        NATIONAL_DAY_DEADLINE,
        "issued",
    )
    # The lead unit cannot submit while its sub-task is open.
    with pytest.raises(TransitionNotAllowed, match="还有 1 项转办子任务未完成"):
        services.submit_assignment(market, actor=lead)
    assert state(market) == ("received", 2)

    clock(D(2025, 9, 30))
    services.receive_assignment(sub, actor=resp)
    services.report_progress(sub, actor=resp, content="窗口改造完成", percent=100)
    services.submit_assignment(sub, actor=resp)
    # The sub-task is reviewed by the unit that transferred it, not by the coordinator.
    with pytest.raises(TransitionNotAllowed, match="只有营商办（或转办的牵头单位）可以审核"):
        services.approve_assignment(sub, actor=coordinator)
    services.approve_assignment(sub, actor=lead)
    sub.refresh_from_db()
    assert (sub.status, sub.finished_on, sub.timeliness, sub.delay_working_days) == (
        "approved",
        D(2025, 9, 30),
        "early",
        0,
    )

    report = services.report_progress(
        market,
        actor=lead,
        content="方案已印发",
        percent=60,
        milestone=milestone,
        milestone_done=True,
        files=[docx_file("印发通知.docx")],
    )
    assert (report.milestone_id, report.milestone_done, report.files.count()) == (
        milestone.pk,
        True,
        1,
    )

    clock(D(2025, 10, 9))
    services.submit_assignment(market, actor=lead, note="已完成")
    with pytest.raises(TransitionNotAllowed, match="需要填写理由"):
        services.return_assignment(market, actor=coordinator, reason="  ")
    assert state(market)[0] == "submitted"
    services.return_assignment(market, actor=coordinator, reason="缺少效果数据")
    market.refresh_from_db()
    assert (market.status, market.return_reason) == ("returned", "缺少效果数据")

    clock(D(2025, 10, 11))  # a make-up working Saturday, one working day after the deadline
    services.submit_assignment(market, actor=lead, note="补充效果数据")
    clock(D(2025, 10, 13))  # the review date does not count against the unit
    # Reported at 60 %: approving it as 已完成 takes the reviewer's reason.
    with pytest.raises(
        services.TaskError, match="任务尚未全部完成（最近一次进展反馈的完成进度为 60%）"
    ):
        services.approve_assignment(market, actor=coordinator)
    assert state(market)[0] == "submitted"
    services.approve_assignment(market, actor=coordinator, note="剩余工作已并入年度计划")
    market.refresh_from_db()
    assert (
        market.status,
        market.submitted_on,
        market.finished_on,
        market.timeliness,
        market.delay_working_days,
    ) == ("approved", D(2025, 10, 11), D(2025, 10, 11), "late", 1)

    history = list(
        TransitionHistory.objects.filter(object_id=str(market.pk), workflow="work_task")
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    )
    assert history == [
        ("receive", "issued", "received"),
        ("submit", "received", "submitted"),
        ("return", "submitted", "returned"),
        ("resubmit", "returned", "submitted"),
        ("approve", "submitted", "approved"),
    ]
    actions = list(
        AuditEvent.objects.filter(object_type="work_tasks.taskassignment", object_id=str(market.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "work_task.receive",
        "work_task.transfer",
        "work_task.progress",
        "work_task.submit",
        "work_task.return",
        "work_task.resubmit",
        "work_task.approve",
    ]
    # The district's assignment is still open, so the task as a whole is not complete.
    from sizhen.work_tasks.selectors import task_is_complete

    assert task_is_complete(task) is False
    district = assignment_for(task, city["district_a"])
    services.receive_assignment(district, actor=personas["district_a"])
    services.submit_assignment(district, actor=personas["district_a"])
    # No report ticked the milestone: approving takes a reason.
    services.approve_assignment(district, actor=coordinator, note="方案已由市局统一制定")
    assert task_is_complete(task) is True


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        (D(2025, 9, 30), ("early", 0)),
        (D(2025, 10, 8), ("early", 0)),  # a holiday: 9 and 10 October are still ahead
        (D(2025, 10, 9), ("early", 0)),
        (D(2025, 10, 10), ("on_time", 0)),
        (D(2025, 10, 11), ("late", 1)),  # make-up working Saturday
        (D(2025, 10, 12), ("late", 1)),  # Sunday: no further working day
        (D(2025, 10, 13), ("late", 2)),
    ],
)
def test_classification_around_national_day(db: Any, finished: dt.date, expected: Any) -> None:
    assert services.classify(finished, NATIONAL_DAY_DEADLINE) == expected


def test_deadline_in_working_days_across_spring_festival_2026(
    city: Any, personas: Any, clock: Any
) -> None:
    # Spring Festival 2026: 15–23 February off, Saturday 14 and Saturday 28 February worked.
    clock(D(2026, 2, 11))
    task = issue(personas, [city["market"]])
    assert task.deadline == D(2026, 2, 25)
    market = assignment_for(task, city["market"])
    services.receive_assignment(market, actor=personas["lead_department"])
    clock(D(2026, 2, 24))
    services.submit_assignment(market, actor=personas["lead_department"])
    services.approve_assignment(market, actor=personas["coordinator"])
    market.refresh_from_db()
    assert (market.timeliness, market.delay_working_days) == ("early", 0)
    assert services.classify(D(2026, 2, 28), D(2026, 2, 25)) == ("late", 3)


def test_district_officer_cannot_see_or_act_on_another_districts_task(
    city: Any, personas: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["district_a"]])
    own = assignment_for(task, city["district_a"])
    other = personas["district_b"]
    before = audit_count()
    with pytest.raises(Http404):
        get_visible_or_404(TaskAssignment, other, pk=own.pk)
    assert TaskAssignment.objects.visible_to(other).count() == 0
    assert WorkTask.objects.visible_to(other).count() == 0
    assert list(
        AuditEvent.objects.filter(pk__gt=0).order_by("-id").values_list("action", flat=True)[:1]
    ) == ["access.denied"]
    assert audit_count() == before + 1
    with pytest.raises(TransitionNotAllowed, match="只有承办单位可以办理该任务"):
        services.receive_assignment(own, actor=other)
    with pytest.raises(services.TaskError, match="只有承办单位可以反馈进展"):
        services.report_progress(own, actor=other, content="x", percent=1)
    assert state(own) == ("issued", 1)
    assert ProgressReport.objects.count() == 0
    # The district's own officer sees it; a department of that district does not (not addressed).
    assert list(
        TaskAssignment.objects.visible_to(personas["district_a"]).values_list("pk", flat=True)
    ) == [own.pk]
    assert TaskAssignment.objects.visible_to(personas["lead_department"]).count() == 0


def test_district_officer_sees_assignments_of_departments_in_the_district(
    city: Any, personas: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["a_dept"], city["b_dept"]])
    a_side = assignment_for(task, city["a_dept"])
    assert list(
        TaskAssignment.objects.visible_to(personas["district_a"]).values_list("pk", flat=True)
    ) == [a_side.pk]
    # Seeing is not acting: the department itself receives.
    with pytest.raises(TransitionNotAllowed):
        services.receive_assignment(a_side, actor=personas["district_a"])
    assert state(a_side) == ("issued", 1)


def test_concurrent_decisions_resolve_to_one_winner(city: Any, personas: Any, clock: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["market"]])
    market = assignment_for(task, city["market"])
    services.receive_assignment(market, actor=personas["lead_department"])
    services.submit_assignment(market, actor=personas["lead_department"])
    first = TaskAssignment.objects.get(pk=market.pk)
    second = TaskAssignment.objects.get(pk=market.pk)
    services.approve_assignment(first, actor=personas["coordinator"])
    with pytest.raises(TransitionConflict):
        services.return_assignment(second, actor=personas["sysadmin"], reason="晚了一步")
    assert state(market) == ("approved", 4)
    assert TaskAssignment.objects.get(pk=market.pk).return_reason == ""
    # A page showing an old state is refused too.
    with pytest.raises(TransitionConflict, match="已被他人处理"):
        services.approve_assignment(first, actor=personas["coordinator"], seen_status="submitted")


@pytest.mark.parametrize(
    ("actor", "fields", "message"),
    [
        ("lead_department", {}, "只有营商办可以下发任务"),
        ("leader", {}, "只有营商办可以下发任务"),
        ("coordinator", {"title": " "}, "请填写任务名称"),
        ("coordinator", {"deadline": D(2025, 10, 1)}, "二选一"),
        ("coordinator", {"deadline_working_days": None}, "二选一"),
        ("coordinator", {"deadline_working_days": 0}, "1–500"),
        ("coordinator", {"source": "rumour"}, "任务来源无效"),
        (
            "coordinator",
            {"milestones": [("节点", D(2025, 10, 20))]},
            "应在下发日期与完成期限之间",
        ),
        (
            "coordinator",
            {"files": [SimpleUploadedFile("run.exe", b"MZ")]},
            "类型不允许上传",
        ),
    ],
)
def test_issue_refuses_bad_input_and_writes_nothing(
    city: Any, personas: Any, clock: Any, actor: str, fields: dict[str, Any], message: str
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    values: dict[str, Any] = {
        "title": "任务",
        "content": "内容",
        "source": "annual_plan",
        "deadline_working_days": 5,
        **fields,
    }
    before = audit_count()
    with pytest.raises(services.TaskError, match=message):
        services.issue_task(actor=personas[actor], units=[city["market"]], **values)
    assert WorkTask.objects.count() == 0
    assert TaskAssignment.objects.count() == 0
    assert TaskFile.objects.count() == 0
    assert audit_count() == before


def test_issue_refuses_no_units_and_duplicates(city: Any, personas: Any) -> None:
    for units, message in (
        ([], "至少选择一个承办单位"),
        ([city["market"], city["market"]], "重复"),
    ):
        with pytest.raises(services.TaskError, match=message):
            issue(personas, units)
    assert WorkTask.objects.count() == 0


def test_evidence_upload_is_checked(city: Any, personas: Any, clock: Any, settings: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    services.receive_assignment(market, actor=personas["lead_department"])
    too_big = SimpleUploadedFile("big.pdf", b"%PDF" * (uploads.max_bytes() // 4 + 1))
    for upload, message in (
        (too_big, "超过 20 MB"),
        (SimpleUploadedFile("a.html", b"<script>"), "类型不允许上传"),
        (SimpleUploadedFile("empty.pdf", b""), "空文件"),
    ):
        with pytest.raises(services.TaskError, match=message):
            services.report_progress(
                market, actor=personas["lead_department"], content="x", percent=1, files=[upload]
            )
    assert ProgressReport.objects.count() == 0
    assert TaskFile.objects.count() == 0


def test_progress_with_client_key_is_idempotent(city: Any, personas: Any, clock: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    services.receive_assignment(market, actor=personas["lead_department"])
    first = services.report_progress(
        market, actor=personas["lead_department"], content="一", percent=10, client_key="k1"
    )
    again = services.report_progress(
        market, actor=personas["lead_department"], content="一", percent=10, client_key="k1"
    )
    assert first.pk == again.pk
    assert ProgressReport.objects.count() == 1
    assert AuditEvent.objects.filter(action="work_task.progress").count() == 1


def test_progress_refused_before_receipt_and_after_approval(
    city: Any, personas: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    with pytest.raises(services.TaskError, match="当前状态“待签收”下不能反馈进展"):
        services.report_progress(market, actor=personas["lead_department"], content="x", percent=1)
    assert ProgressReport.objects.count() == 0


def test_transfer_rules(city: Any, personas: Any, clock: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    lead = personas["lead_department"]
    with pytest.raises(services.TaskError, match="当前状态“待签收”下不能转办"):
        services.transfer_assignment(market, actor=lead, units=[city["a_dept"]], note="x")
    services.receive_assignment(market, actor=lead)
    cases = [
        (personas["coordinator"], [city["a_dept"]], "x", None, "只有承办单位可以转办"),
        (lead, [city["market"]], "x", None, "不能转办给本单位"),
        (lead, [city["a_dept"]], " ", None, "请说明转办的事项"),
        (lead, [city["a_dept"]], "x", D(2025, 10, 20), "不能晚于本任务的完成期限"),
    ]
    for actor, units, note, deadline, message in cases:
        with pytest.raises(services.TaskError, match=message):
            services.transfer_assignment(
                market, actor=actor, units=units, note=note, deadline=deadline
            )
    assert TaskAssignment.objects.filter(parent__isnull=False).count() == 0
    services.transfer_assignment(market, actor=lead, units=[city["a_dept"]], note="x")
    with pytest.raises(services.TaskError, match="已有本任务的转办子任务"):
        services.transfer_assignment(market, actor=lead, units=[city["a_dept"]], note="y")
    assert TaskAssignment.objects.filter(parent=market).count() == 1


def test_urge_listing_and_meeting(
    city: Any, personas: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from sizhen.core.models import Notification

    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    with pytest.raises(services.TaskError, match="只有营商办或转办单位可以催办"):
        supervision.urge_assignment(market, actor=personas["lead_department"], content="快")
    with django_capture_on_commit_callbacks(execute=True):
        note = supervision.urge_assignment(
            market, actor=personas["coordinator"], content="请尽快签收"
        )
    assert (note.content, note.author_label) == ("请尽快签收", "coordinator（coordinator）")
    assert (
        Notification.objects.filter(
            recipient=personas["lead_department"], subject="催办：压缩企业开办时间"
        ).count()
        == 1
    )
    with pytest.raises(services.TaskError, match="只有挂牌督办的任务才记录协调会"):
        supervision.record_meeting(
            market,
            actor=personas["coordinator"],
            held_on=NATIONAL_DAY_ISSUE,
            attendees="a",
            minutes="b",
        )
    with pytest.raises(services.TaskError, match="请选择督办领导"):
        supervision.list_for_supervision(
            market, actor=personas["coordinator"], leader=personas["lead_department"], reason="r"
        )
    with django_capture_on_commit_callbacks(execute=True):
        supervision.list_for_supervision(
            market, actor=personas["coordinator"], leader=personas["leader"], reason="进度滞后"
        )
    assert (market.listed, market.listed_leader_id, market.listed_reason) == (
        True,
        personas["leader"].pk,
        "进度滞后",
    )
    assert Notification.objects.filter(recipient=personas["leader"]).count() == 1
    meeting = supervision.record_meeting(
        market,
        actor=personas["coordinator"],
        held_on=NATIONAL_DAY_ISSUE,
        attendees="营商办、市场监管局",
        minutes="明确 10 月 9 日前完成",
    )
    assert meeting.assignment_id == market.pk
    with pytest.raises(services.TaskError, match="已挂牌督办"):
        supervision.list_for_supervision(
            market, actor=personas["coordinator"], leader=personas["leader"], reason="again"
        )


def test_notices_go_out_after_commit_and_not_after_a_rollback(
    city: Any, personas: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    from sizhen.core.models import Notification

    clock(NATIONAL_DAY_ISSUE)
    lead = personas["lead_department"]
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        issue(personas, [city["market"]])
        raise RuntimeError("a later step of the same write failed")
    assert (callbacks, WorkTask.objects.count(), Notification.objects.count()) == ([], 0, 0)

    with django_capture_on_commit_callbacks(execute=True):
        task = issue(personas, [city["market"]])
        # Nothing is in anyone's inbox before the write commits.
        assert Notification.objects.count() == 0
    assert list(Notification.objects.values_list("recipient", "subject")) == [
        (lead.pk, "新任务待签收：压缩企业开办时间")
    ]
    assert task.number == "RW2025-0001"  # the rolled-back issue gave its number back
