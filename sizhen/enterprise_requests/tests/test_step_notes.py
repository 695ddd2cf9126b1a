"""Every step's note and actor as entered: the note typed when signing for a request (签收) and
when approving a reply is recorded and shown in the request's timeline, and an approved reply
stays the unit's (its writer, not the office that approved it)."""

from __future__ import annotations

import pytest

from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.tests.pages import submit_form
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import Kind, MessageKind
from sizhen.enterprise_requests.tests.factories import dispatched

pytestmark = pytest.mark.django_db


def _row(label: str, actor: str, state: str, text: str) -> str:
    return f"<td>{label}</td><td>{actor}</td><td>{state}</td><td>{text}</td></tr>"


def test_the_note_typed_when_signing_is_recorded_and_shown(client_for, personas, city):
    req = dispatched(personas, city)
    handler = personas["responsible_department"]
    page = f"/requests/{req.pk}/"

    response = submit_form(
        client_for("responsible_department"),
        page,
        f"/requests/{req.pk}/act/accept/",
        note="已电话联系企业，三日内上门核实",
    )

    assert response.status_code == 200
    assert _row("签收", handler.audit_label, "办理中", "已电话联系企业，三日内上门核实") in (
        response.content.decode()
    )
    assert list(
        TransitionHistory.objects.filter(object_id=str(req.pk), action="accept").values_list(
            "actor", "note"
        )
    ) == [(handler.pk, "已电话联系企业，三日内上门核实")]
    assert AuditEvent.objects.get(action="enterprise_request.accept").message == (
        "已电话联系企业，三日内上门核实"
    )
    # The office reads the same row on its page.
    office_page = client_for("coordinator").get(page).content.decode()
    assert _row("签收", handler.audit_label, "办理中", "已电话联系企业，三日内上门核实") in (
        office_page
    )


def test_an_approved_reply_is_the_units_and_the_approval_note_is_kept(client_for, personas, city):
    req = dispatched(personas, city, kind=Kind.COMPLAINT)
    handler, coordinator = personas["responsible_department"], personas["coordinator"]
    services.accept_request(req, actor=handler)
    unit = client_for("responsible_department")
    submit_form(
        unit,
        f"/requests/{req.pk}/",
        f"/requests/{req.pk}/act/reply/",
        text="经核查情况属实，已约谈窗口人员并整改。",
    )
    req.refresh_from_db()
    assert req.status == "reply_review"

    response = submit_form(
        client_for("coordinator"),
        f"/requests/{req.pk}/",
        f"/requests/{req.pk}/act/approve_reply/",
        note="答复口径已核，同意答复企业",
    )

    page = response.content.decode()
    assert (
        _row(
            "提交答复审核",
            handler.audit_label,
            "答复待审核",
            "经核查情况属实，已约谈窗口人员并整改。",
        )
        in page
    )
    assert _row(
        "审核通过", coordinator.audit_label, "已答复待回访", "答复口径已核，同意答复企业"
    ) in (page)
    assert _row("答复", handler.audit_label, "", "经核查情况属实，已约谈窗口人员并整改。") in page
    assert _row(
        "答复", coordinator.audit_label, "", "经核查情况属实，已约谈窗口人员并整改。"
    ) not in (page)
    reply = req.messages.get(kind=MessageKind.REPLY)
    assert (reply.author, reply.author_label, reply.department) == (
        handler,
        handler.audit_label,
        city["a_dept"],
    )
    assert AuditEvent.objects.get(action="enterprise_request.approve_reply").message == (
        "答复口径已核，同意答复企业"
    )
    # The enterprise reads the reply under the unit's name, without the office's internal note.
    enterprise_page = client_for("enterprise").get(f"/requests/{req.pk}/").content.decode()
    assert _row("答复", city["a_dept"].name, "", "经核查情况属实，已约谈窗口人员并整改。") in (
        enterprise_page
    )
    assert "答复口径已核" not in enterprise_page


def test_a_reply_sent_back_keeps_each_draft(personas, city):
    req = dispatched(personas, city, kind=Kind.COMPLAINT)
    handler, coordinator = personas["responsible_department"], personas["coordinator"]
    services.accept_request(req, actor=handler)
    services.reply_request(req, actor=handler, text="已处理。")
    services.send_back_reply(req, actor=coordinator, note="请写明整改措施")
    services.reply_request(req, actor=handler, text="已处理，窗口增设导办员。")
    services.approve_reply(req, actor=coordinator)
    assert list(
        TransitionHistory.objects.filter(object_id=str(req.pk))
        .exclude(action__in=["dispatch", "accept"])
        .values_list("action", "actor", "note")
    ) == [
        ("reply_for_review", handler.pk, "已处理。"),
        ("send_back_reply", coordinator.pk, "请写明整改措施"),
        ("reply_for_review", handler.pk, "已处理，窗口增设导办员。"),
        ("approve_reply", coordinator.pk, ""),
    ]
    assert req.messages.get(kind=MessageKind.REPLY).author == handler
