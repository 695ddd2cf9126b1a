"""Pages: portal submission, staff registration, the ledger, the detail with its actions, and
the whole path through the pages; enterprise and district isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.tests.files import csv_file
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.models import EnterpriseRequest, Forum, RequestCategory
from sizhen.enterprise_requests.tests.factories import category, dispatched, portal_request

pytestmark = pytest.mark.django_db


def _act(client, req, action, **data):
    data.setdefault("status", EnterpriseRequest.objects.get(pk=req.pk).status)
    return client.post(f"/requests/{req.pk}/act/{action}/", data)


def test_enterprise_submits_on_portal_with_attachment(client_for, city):
    client = client_for("enterprise")
    page = client.get("/requests/new/")
    assert page.status_code == 200
    assert "13800001111" in page.content.decode()
    response = client.post(
        "/requests/new/",
        {
            "category": category("0101").pk,
            "kind": "help",
            "text": "企业开办刻章环节需要跑多次",
            "contact_name": "张三",
            "contact_phone": "13800001111",
            "publishable": "on",
            "attachments": [SimpleUploadedFile("营业执照.pdf", b"%PDF-1.4", "application/pdf")],
        },
    )
    created = EnterpriseRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{created.pk}/"
    assert created.channel == "portal" and created.publishable
    assert created.attachments.get().name == "营业执照.pdf"
    download = client.get(f"/requests/{created.pk}/files/{created.attachments.get().pk}/")
    assert download.status_code == 200
    assert (
        client_for("enterprise_b")
        .get(f"/requests/{created.pk}/files/{created.attachments.get().pk}/")
        .status_code
        == 404
    )


def test_portal_form_errors_change_nothing(client_for):
    client = client_for("enterprise")
    response = client.post("/requests/new/", {"kind": "help", "text": "", "contact_phone": "abc"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "请选择诉求分类" in body and "请填写诉求内容" in body and "联系电话格式不正确" in body
    bad_file = client.post(
        "/requests/new/",
        {
            "category": category("0101").pk,
            "kind": "help",
            "text": "内容",
            "attachments": [SimpleUploadedFile("a.exe", b"MZ", "application/octet-stream")],
        },
    )
    assert "类型不允许" in bad_file.content.decode()
    assert EnterpriseRequest.objects.count() == 0


def test_portal_refused_attachment_keeps_the_form_and_csv_is_accepted(client_for):
    client = client_for("enterprise")
    fields = {"category": category("0101").pk, "kind": "help", "text": "刻章环节需要跑多次"}
    renamed = SimpleUploadedFile("材料.docx", b"%PDF-1.4 a pdf named docx")
    refused = client.post("/requests/new/", {**fields, "attachments": [renamed]})
    assert refused.status_code == 200
    page = refused.content.decode()
    assert (
        '<ul class="errorlist" id="id_attachments_error">'
        "<li>文件“材料.docx”的内容不是 Word 文件，类型不允许上传</li></ul>"
    ) in page
    assert "刻章环节需要跑多次</textarea>" in page
    assert EnterpriseRequest.objects.count() == 0
    accepted = client.post("/requests/new/", {**fields, "attachments": [csv_file("明细.csv")]})
    created = EnterpriseRequest.objects.get()
    assert accepted.status_code == 302
    assert list(created.attachments.values_list("name", flat=True)) == ["明细.csv"]


def test_refused_message_attachment_keeps_the_text(client_for, personas, city):
    req = dispatched(personas, city)
    client = client_for("responsible_department")
    response = client.post(
        f"/requests/{req.pk}/act/message/",
        {
            "kind": "progress",
            "text": "已联系企业核实",
            "attachments": [SimpleUploadedFile("x.exe", b"MZ")],
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<div data-testid="message-attachments-errors">' in page
    assert "文件“x.exe”的类型不允许上传" in page
    assert ">已联系企业核实</textarea>" in page
    assert '<option value="progress" selected>' in page
    assert req.messages.count() == 0


@pytest.mark.parametrize("persona", ["coordinator", "district_a", "lead_department"])
def test_portal_page_is_for_enterprises_only(client_for, persona):
    assert client_for(persona).get("/requests/new/").status_code == 404
    assert client_for(persona).post("/requests/new/", {"text": "x"}).status_code == 404
    assert EnterpriseRequest.objects.count() == 0


def test_staff_registers_forum_request(client_for, personas, city):
    client = client_for("district_a")
    response = client.post(
        "/requests/forums/new/",
        {
            "held_on": "2025-09-12",
            "topic": "民营企业座谈会",
            "region": city["district_a"].pk,
            "enterprises": [city["enterprise_a"].pk],
        },
    )
    forum = Forum.objects.get()
    assert response.status_code == 302
    response = client.post(
        "/requests/register/",
        {
            "channel": "staff_forum",
            "forum": forum.pk,
            "enterprise": city["enterprise_a"].pk,
            "category": category("0304").pk,
            "kind": "help",
            "text": "希望协调银行续贷",
        },
    )
    created = EnterpriseRequest.objects.get()
    assert response.status_code == 302
    assert created.forum == forum and created.channel == "staff_forum"
    assert created.region == city["district_a"]
    page = client.get(f"/requests/forums/{forum.pk}/").content.decode()
    assert created.number in page
    # A district officer of another district neither sees the forum nor registers into it.
    assert client_for("district_b").get(f"/requests/forums/{forum.pk}/").status_code == 404
    refused = client_for("district_b").post(
        "/requests/register/",
        {
            "channel": "staff_window",
            "enterprise": city["enterprise_a"].pk,
            "category": category("0304").pk,
            "kind": "help",
            "text": "x",
        },
    )
    assert refused.status_code == 200
    assert EnterpriseRequest.objects.count() == 1


def test_enterprise_isolation_on_pages(client_for, personas):
    mine = portal_request(personas["enterprise"])
    assert client_for("enterprise").get(f"/requests/{mine.pk}/").status_code == 200
    assert client_for("enterprise_b").get(f"/requests/{mine.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", object_id=str(mine.pk)).count() == 1
    listing = client_for("enterprise_b").get("/requests/mine/").content.decode()
    assert mine.number not in listing
    refused = _act(client_for("enterprise_b"), mine, "withdraw", note="撤回")
    assert refused.status_code == 404
    mine.refresh_from_db()
    assert mine.status == "submitted"
    # The ledger is for staff; an enterprise is sent to its own list.
    assert client_for("enterprise").get("/requests/")["Location"] == "/requests/mine/"


def test_district_isolation_and_masked_phone_in_ledger(client_for, personas):
    a = portal_request(personas["enterprise"])
    b = portal_request(personas["enterprise_b"], text="西山物流园道路破损")
    page_a = client_for("district_a").get("/requests/").content.decode()
    assert a.number in page_a and b.number not in page_a
    assert "138****1111" in page_a and "13800001111" not in page_a
    assert client_for("district_a").get(f"/requests/{b.pk}/").status_code == 404
    page_all = client_for("coordinator").get("/requests/").content.decode()
    assert a.number in page_all and b.number in page_all
    export = client_for("coordinator").get("/requests/?export=xlsx")
    assert export.status_code == 200
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.content)).active
    phones = [row[10] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(phones) == ["138****1111", "139****3333"]


def test_department_sees_only_what_it_handles(client_for, personas, city):
    handled = dispatched(personas, city)
    other = portal_request(personas["enterprise_b"], text="西山物流园道路破损")
    assert client_for("responsible_department").get(f"/requests/{handled.pk}/").status_code == 200
    assert client_for("responsible_department").get(f"/requests/{other.pk}/").status_code == 404
    assert client_for("lead_department").get(f"/requests/{handled.pk}/").status_code == 404
    services.dispatch_request(
        other,
        actor=personas["coordinator"],
        department=city["b_dept"],
        co_departments=[city["market"]],
    )
    assert client_for("lead_department").get(f"/requests/{other.pk}/").status_code == 200


def test_whole_path_through_pages(client_for, personas, city, monkeypatch):
    monkeypatch.setattr(
        "sizhen.enterprise_requests.services.handling.timezone.localdate",
        lambda: dt.date(2025, 9, 30),
    )
    enterprise, coordinator = client_for("enterprise"), client_for("coordinator")
    lead, handler = client_for("lead_department"), client_for("responsible_department")
    enterprise.post(
        "/requests/new/",
        {"category": category("0101").pk, "kind": "help", "text": "刻章需要跑多次"},
    )
    req = EnterpriseRequest.objects.get()
    assert (
        _act(
            coordinator,
            req,
            "register",
            category=category("0101").pk,
            kind="help",
            difficulty="general",
        ).status_code
        == 302
    )
    detail = coordinator.get(f"/requests/{req.pk}/").content.decode()
    assert 'data-testid="do-dispatch"' in detail
    _act(coordinator, req, "dispatch", department=city["market"].pk)
    req.refresh_from_db()
    assert req.status == "dispatched" and req.deadline == dt.date(2025, 10, 14)
    assert "2025-10-14" in lead.get(f"/requests/{req.pk}/").content.decode()
    # A unit that is not the lead cannot accept; nothing changes.
    assert _act(handler, req, "accept").status_code == 404
    # Returning needs a reason.
    _act(lead, req, "return", note="")
    req.refresh_from_db()
    assert req.status == "dispatched"
    _act(lead, req, "return", note="属区级事权")
    req.refresh_from_db()
    assert req.status == "returned"
    _act(coordinator, req, "dispatch", department=city["a_dept"].pk, time_limit_days="10")
    req.refresh_from_db()
    assert req.lead_department == city["a_dept"] and req.time_limit_days == 10
    assert req.deadline == dt.date(2025, 10, 21)
    _act(handler, req, "accept")
    _act(handler, req, "reply", text="已协调刻章点一次办结")
    req.refresh_from_db()
    assert req.status == "replied"
    assert "已协调刻章点一次办结" in enterprise.get(f"/requests/{req.pk}/").content.decode()
    _act(enterprise, req, "rate", method="rating", satisfaction="2", note="未解决")
    req.refresh_from_db()
    assert req.status == "unsatisfied"
    refused = _act(coordinator, req, "second_assignment", note="请重新办理")
    assert refused.status_code == 302
    req.refresh_from_db()
    assert req.status == "unsatisfied"
    client = handler
    client.post(f"/requests/{req.pk}/act/message/", {"kind": "explanation", "text": "系统故障"})
    _act(coordinator, req, "second_assignment", note="请重新办理")
    req.refresh_from_db()
    assert req.status == "handling" and req.second_assignment
    _act(handler, req, "reply", text="已现场办结")
    _act(coordinator, req, "revisit", method="phone", satisfaction="5", resolved="on", note="满意")
    req.refresh_from_db()
    assert req.status == "closed" and req.satisfaction == 5
    timeline = coordinator.get(f"/requests/{req.pk}/").content.decode()
    for label in ("退单", "二次交办", "电话回访：非常满意", "不满意情况说明"):
        assert label in timeline
    # The enterprise does not see internal notes such as the return reason.
    enterprise_view = enterprise.get(f"/requests/{req.pk}/").content.decode()
    assert "属区级事权" not in enterprise_view and "系统故障" not in enterprise_view
    assert "<td>退单</td>" not in enterprise_view and "<td>答复企业</td>" in enterprise_view


def test_stale_status_is_refused(client_for, personas, city):
    req = dispatched(personas, city)
    response = _act(client_for("responsible_department"), req, "accept", status="submitted")
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == "dispatched"


def test_a_step_posted_without_the_status_the_page_showed_is_refused(client_for, personas, city):
    req = dispatched(personas, city)
    client = client_for("responsible_department")
    response = client.post(f"/requests/{req.pk}/act/accept/", {"note": ""}, follow=True)
    assert "页面状态无效，请刷新后重试" in response.content.decode()
    req.refresh_from_db()
    assert req.status == "dispatched"
    assert not TransitionHistory.objects.filter(action="accept").exists()
    # Every form of the detail page sends it.
    page = client.get(f"/requests/{req.pk}/").content.decode()
    assert page.count('name="status"') == page.count(f"/requests/{req.pk}/act/") > 0


def test_publication_masks_enterprise_and_phone(client_for, personas, city, client):
    req = dispatched(personas, city, publishable=True, title="稳岗补贴")
    handler = personas["responsible_department"]
    services.accept_request(req, actor=handler)
    services.reply_request(req, actor=handler, text="已拨付，联系人电话13812345678")
    services.record_revisit(req, actor=personas["enterprise"], method="rating", satisfaction=5)
    refused = _act(client_for("responsible_department"), req, "publish", published="1")
    assert refused.status_code == 302
    req.refresh_from_db()
    assert not req.published
    _act(client_for("coordinator"), req, "publish", published="1")
    page = client.get("/requests/public/").content.decode()
    assert req.number in page
    assert "东湖****公司" in page and "东湖示范科技有限公司" not in page
    assert "138****5678" in page and "13812345678" not in page


def test_taxonomy_admin(client_for):
    client = client_for("coordinator")
    assert client.get("/requests/categories/").status_code == 200
    parent = RequestCategory.objects.get(code="01")
    response = client.post(
        "/requests/categories/new/",
        {
            "code": "0105",
            "name": "跨区迁移",
            "parent": parent.pk,
            "default_kind": "help",
            "difficulty": "general",
            "time_limit_days": "10",
            "active": "on",
            "sort_order": "5",
        },
    )
    assert response.status_code == 302
    assert RequestCategory.objects.get(code="0105").parent == parent
    bad = client.post(
        "/requests/categories/new/",
        {
            "code": "0106",
            "name": "x",
            "default_kind": "help",
            "difficulty": "general",
            "time_limit_days": "400",
            "sort_order": "1",
        },
    )
    assert "办理时限应在 0 到 365 个工作日之间" in bad.content.decode()
    assert not RequestCategory.objects.filter(code="0106").exists()
    assert client_for("district_a").get("/requests/categories/").status_code == 404
    assert (
        client_for("enterprise").post("/requests/categories/new/", {"code": "0107"}).status_code
        == 404
    )
    assert not RequestCategory.objects.filter(code="0107").exists()
