"""Steps as entered on the task page: the note typed when signing (签收) is kept and shown with
its actor; the review page shows what the unit's reports leave unfinished, and approving such
work as 已完成 takes a reason that the history and the audit log keep."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.tests.pages import submit_form
from sizhen.work_tasks import services
from sizhen.work_tasks.models import TaskAssignment
from sizhen.work_tasks.tests.support import NATIONAL_DAY_ISSUE, assignment_for, issue, state

pytestmark = pytest.mark.django_db


def _row(label: str, actor: str, state_label: str, text: str) -> str:
    return f"<td>{label}</td><td>{actor}</td><td>{state_label}</td><td>{text}"


def test_the_note_typed_when_signing_a_task_is_recorded_and_shown(
    city: Any, personas: Any, client_for: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    lead = personas["lead_department"]

    response = submit_form(
        client_for("lead_department"),
        f"/tasks/{market.pk}/",
        f"/tasks/{market.pk}/receive/",
        note="已指定登记科牵头，本周内报送方案",
    )

    page = response.content.decode()
    assert _row("签收", lead.audit_label, "办理中", "已指定登记科牵头，本周内报送方案") in page
    assert list(
        TransitionHistory.objects.filter(object_id=str(market.pk)).values_list(
            "action", "actor", "note"
        )
    ) == [("receive", lead.pk, "已指定登记科牵头，本周内报送方案")]
    assert AuditEvent.objects.get(action="work_task.receive").message == (
        "已指定登记科牵头，本周内报送方案"
    )
    coordinator_page = client_for("coordinator").get(f"/tasks/{market.pk}/").content.decode()
    assert _row("签收", lead.audit_label, "办理中", "已指定登记科牵头，本周内报送方案") in (
        coordinator_page
    )


def _submitted_at_60_percent(city: Any, personas: Any, clock: Any) -> TaskAssignment:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(
        personas,
        [city["market"]],
        milestones=[("印发方案", dt.date(2025, 9, 29)), ("系统上线", dt.date(2025, 10, 9))],
    )
    market = assignment_for(task, city["market"])
    lead = personas["lead_department"]
    services.receive_assignment(market, actor=lead)
    first, _second = task.milestones.all()
    services.report_progress(
        market, actor=lead, content="方案已印发", percent=60, milestone=first, milestone_done=True
    )
    services.submit_assignment(market, actor=lead)
    return market


UNFINISHED = [
    "最近一次进展反馈的完成进度为 60%",
    "阶段节点“系统上线”（期限 2025-10-09）未反馈完成",
]


def test_the_review_page_shows_what_is_unfinished_and_asks_for_a_reason(
    city: Any, personas: Any, client_for: Any, clock: Any
) -> None:
    market = _submitted_at_60_percent(city, personas, clock)
    coordinator = client_for("coordinator")
    page = coordinator.get(f"/tasks/{market.pk}/").content.decode()
    assert (
        '<div class="warn" data-testid="unfinished"><p>该任务尚未全部完成：</p><ul>'
        f"<li>{UNFINISHED[0]}</li><li>{UNFINISHED[1]}</li></ul>"
        "<p>如确需审核通过，请填写理由。</p></div>"
    ) in page
    assert (
        '<label>未完成仍通过的理由（必填） <input type="text" name="note" maxlength="2000" '
        'data-testid="note-approve" required></label>'
    ) in page
    events, history = AuditEvent.objects.count(), TransitionHistory.objects.count()

    # The browser asks for the reason; a request without one is refused by the service.
    refused = submit_form(coordinator, f"/tasks/{market.pk}/", f"/tasks/{market.pk}/approve/")

    assert f"任务尚未全部完成（{'；'.join(UNFINISHED)}），如确需审核通过，请填写理由" in (
        refused.content.decode()
    )
    assert state(market) == ("submitted", 3)
    assert (AuditEvent.objects.count(), TransitionHistory.objects.count()) == (events, history)

    approved = submit_form(
        coordinator,
        f"/tasks/{market.pk}/",
        f"/tasks/{market.pk}/approve/",
        note="系统上线并入全市统一平台建设，不再单列",
    )

    assert state(market)[0] == "approved"
    row = TransitionHistory.objects.get(object_id=str(market.pk), action="approve")
    assert (row.actor, row.note, row.data) == (
        personas["coordinator"],
        "系统上线并入全市统一平台建设，不再单列",
        {"unfinished": UNFINISHED},
    )
    assert AuditEvent.objects.get(action="work_task.approve").message == (
        "系统上线并入全市统一平台建设，不再单列"
    )
    assert (
        _row(
            "审核通过",
            personas["coordinator"].audit_label,
            "已完成",
            "系统上线并入全市统一平台建设，不再单列<br>"
            '<span class="warn" data-testid="approved-unfinished">审核时未完成：'
            f"{'；'.join(UNFINISHED)}</span>",
        )
        in approved.content.decode()
    )


def test_finished_work_is_approved_without_a_reason(
    city: Any, personas: Any, client_for: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["market"]], milestones=[("印发方案", dt.date(2025, 9, 29))])
    market = assignment_for(task, city["market"])
    lead = personas["lead_department"]
    services.receive_assignment(market, actor=lead)
    services.report_progress(
        market,
        actor=lead,
        content="方案已印发",
        percent=40,
        milestone=task.milestones.get(),
        milestone_done=True,
    )
    services.report_progress(market, actor=lead, content="全部完成", percent=100)
    services.submit_assignment(market, actor=lead)
    assert market.unfinished() == []
    coordinator = client_for("coordinator")
    page = coordinator.get(f"/tasks/{market.pk}/").content.decode()
    assert 'data-testid="unfinished"' not in page

    submit_form(coordinator, f"/tasks/{market.pk}/", f"/tasks/{market.pk}/approve/")

    assert state(market)[0] == "approved"
    assert TransitionHistory.objects.get(object_id=str(market.pk), action="approve").data is None


def test_a_sub_task_answers_for_its_progress_not_the_tasks_milestones(
    city: Any, personas: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["market"]], milestones=[("印发方案", dt.date(2025, 9, 29))])
    market = assignment_for(task, city["market"])
    services.receive_assignment(market, actor=personas["lead_department"])
    (sub,) = services.transfer_assignment(
        market, actor=personas["lead_department"], units=[city["a_dept"]], note="窗口改造"
    )
    services.receive_assignment(sub, actor=personas["responsible_department"])
    services.report_progress(
        sub, actor=personas["responsible_department"], content="过半", percent=50
    )
    assert sub.unfinished() == ["最近一次进展反馈的完成进度为 50%"]
    assert market.unfinished() == ["阶段节点“印发方案”（期限 2025-09-29）未反馈完成"]
