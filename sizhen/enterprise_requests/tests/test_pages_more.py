"""More pages: role matrix, merging, withdrawing, material, co-handling, urging, extensions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.models import DeadlineExtension, EnterpriseRequest
from sizhen.enterprise_requests.tests.factories import dispatched, portal_request

pytestmark = pytest.mark.django_db


def _act(client, req, action, **data):
    data.setdefault("status", EnterpriseRequest.objects.get(pk=req.pk).status)
    return client.post(f"/requests/{req.pk}/act/{action}/", data)


@pytest.mark.parametrize(
    ("persona", "ledger", "mine", "register", "forums", "categories"),
    [
        ("leader", 200, 404, 404, 200, 404),
        ("coordinator", 200, 404, 200, 200, 200),
        ("lead_department", 200, 404, 404, 200, 404),
        ("responsible_department", 200, 404, 404, 200, 404),
        ("district_a", 200, 404, 200, 200, 404),
        ("enterprise", 302, 200, 404, 404, 404),
        ("sysadmin", 200, 404, 200, 200, 200),
    ],
)
def test_page_role_matrix(client_for, persona, ledger, mine, register, forums, categories):
    client = client_for(persona)
    assert client.get("/requests/").status_code == ledger
    assert client.get("/requests/mine/").status_code == mine
    assert client.get("/requests/register/").status_code == register
    assert client.get("/requests/forums/").status_code == forums
    assert client.get("/requests/categories/").status_code == categories
    assert client.get("/requests/public/").status_code == 200


def test_anonymous_is_sent_to_login_but_sees_public_results(client):
    assert client.get("/requests/").status_code == 302
    assert client.get("/requests/new/")["Location"].startswith("/accounts/login")
    assert client.get("/requests/public/").status_code == 200


@pytest.mark.parametrize(
    "persona", ["leader", "coordinator", "responsible_department", "district_a", "enterprise"]
)
def test_detail_renders_for_everyone_in_scope(client_for, personas, city, persona):
    req = dispatched(personas, city)
    page = client_for(persona).get(f"/requests/{req.pk}/")
    assert page.status_code == 200
    assert req.number in page.content.decode()


def test_detail_offers_each_role_its_actions(client_for, personas, city):
    req = dispatched(personas, city)
    coordinator = client_for("coordinator").get(f"/requests/{req.pk}/").content.decode()
    handler = client_for("responsible_department").get(f"/requests/{req.pk}/").content.decode()
    enterprise = client_for("enterprise").get(f"/requests/{req.pk}/").content.decode()
    leader = client_for("leader").get(f"/requests/{req.pk}/").content.decode()
    assert 'data-testid="do-dispatch"' in coordinator and 'data-testid="do-urge"' in coordinator
    assert 'data-testid="do-accept"' in handler and 'data-testid="do-dispatch"' not in handler
    assert 'data-testid="do-withdraw"' in enterprise and 'data-testid="do-accept"' not in enterprise
    assert 'data-testid="do-urge"' in leader and 'data-testid="do-dispatch"' not in leader


def test_merge_on_the_page(client_for, personas):
    main = portal_request(personas["enterprise"], text="我公司申请的稳岗补贴至今未到账请查询")
    dup = portal_request(personas["enterprise"], text="我公司申请的稳岗补贴至今还未到账请查询")
    page = client_for("coordinator").get(f"/requests/{dup.pk}/").content.decode()
    assert main.number in page and 'data-testid="duplicate"' in page
    refused = _act(client_for("district_a"), dup, "merge", main_number=main.number)
    assert refused.status_code == 302
    dup.refresh_from_db()
    assert dup.status == "submitted"
    _act(client_for("coordinator"), dup, "merge", main_number="SQ0000-000000")
    dup.refresh_from_db()
    assert dup.status == "submitted"
    _act(client_for("coordinator"), dup, "merge", main_number=main.number)
    dup.refresh_from_db()
    assert dup.status == "merged" and dup.duplicate_of == main
    mine = client_for("enterprise").get(f"/requests/{dup.pk}/").content.decode()
    assert f"已并入 {main.number}" in mine


def test_enterprise_withdraws_and_answers_with_material(client_for, personas, city):
    req = dispatched(personas, city)
    handler = client_for("responsible_department")
    handler.post(
        f"/requests/{req.pk}/act/message/",
        {"kind": "supplement_question", "text": "请提供营业执照复印件"},
    )
    enterprise = client_for("enterprise")
    enterprise.post(
        f"/requests/{req.pk}/act/message/",
        {
            "kind": "supplement_answer",
            "text": "已上传",
            "attachments": [SimpleUploadedFile("执照.pdf", b"%PDF", "application/pdf")],
        },
    )
    # An enterprise cannot write a handling note.
    enterprise.post(f"/requests/{req.pk}/act/message/", {"kind": "note", "text": "内部"})
    assert list(req.messages.values_list("kind", flat=True)) == [
        "supplement_question",
        "supplement_answer",
    ]
    assert req.attachments.get().name == "执照.pdf"
    page = enterprise.get(f"/requests/{req.pk}/").content.decode()
    assert "请提供营业执照复印件" in page
    assert _act(enterprise, req, "withdraw", note="").status_code == 302
    req.refresh_from_db()
    assert req.status == "dispatched"
    _act(enterprise, req, "withdraw", note="问题已自行解决")
    req.refresh_from_db()
    assert req.status == "withdrawn" and req.closed_at is not None


def test_co_handler_gives_opinion_but_cannot_reply(client_for, personas, city):
    req = portal_request(personas["enterprise"])
    services.dispatch_request(
        req,
        actor=personas["coordinator"],
        department=city["a_dept"],
        co_departments=[city["market"]],
    )
    services.accept_request(req, actor=personas["responsible_department"])
    co = client_for("lead_department")
    co.post(f"/requests/{req.pk}/act/message/", {"kind": "co_opinion", "text": "同意主办意见"})
    _act(co, req, "reply", text="越权答复")
    req.refresh_from_db()
    assert req.status == "handling" and req.reply_text == ""
    assert list(req.messages.values_list("kind", "text")) == [("co_opinion", "同意主办意见")]


def test_extension_through_pages(client_for, personas, city):
    req = portal_request(personas["enterprise"])
    services.dispatch_request(
        req, actor=personas["coordinator"], department=city["a_dept"], today=dt.date(2025, 9, 30)
    )
    handler = client_for("responsible_department")
    handler.post(f"/requests/{req.pk}/act/extension/", {"days": "0", "reason": "x"})
    assert DeadlineExtension.objects.count() == 0
    handler.post(f"/requests/{req.pk}/act/extension/", {"days": "2", "reason": "需现场核查"})
    extension = DeadlineExtension.objects.get()
    client_for("coordinator").post(
        f"/requests/{req.pk}/act/decide_extension/",
        {"extension": extension.pk, "approve": "1", "note": "同意"},
    )
    req.refresh_from_db()
    assert req.deadline == dt.date(2025, 10, 16)
    assert (
        "延期申请 2 个工作日（已批准）"
        in client_for("coordinator").get(f"/requests/{req.pk}/").content.decode()
    )


def test_unknown_action_is_404(client_for, personas, city):
    req = dispatched(personas, city)
    assert client_for("coordinator").post(f"/requests/{req.pk}/act/explode/").status_code == 404


def test_ledger_filters_overdue(client_for, personas, city):
    late = portal_request(personas["enterprise"], text="稳岗补贴未到账")
    services.dispatch_request(
        late, actor=personas["coordinator"], department=city["a_dept"], today=dt.date(2025, 9, 1)
    )
    fresh = portal_request(personas["enterprise"], text="园区道路破损严重影响通行")
    page = client_for("coordinator").get("/requests/?overdue=overdue").content.decode()
    assert late.number in page and fresh.number not in page
    assert "已逾期 1 件" in page


def test_dispatch_panel_shows_suggestions_and_records_the_choice(
    client_for, personas, city, django_capture_on_commit_callbacks
):
    from sizhen.dispatch.models import DispatchExample
    from sizhen.dispatch.services import reset_cache

    # The suggester is cached per process; another test's database state must not leak in.
    reset_cache()

    req = portal_request(
        personas["enterprise"], text="企业申请的技改奖补和专精特新奖励一直没有兑现"
    )
    from sizhen.dispatch.catalogue import category_name
    from sizhen.dispatch.services import suggest
    from sizhen.enterprise_requests.models import RequestCategory

    top = suggest(req.text).categories[0].label
    known = RequestCategory.objects.filter(code=top).first()
    expected = known.name if known else category_name(top)
    page = client_for("coordinator").get(f"/requests/{req.pk}/").content.decode()
    assert 'data-testid="suggestions"' in page and f"分类建议：{expected}（" in page
    with django_capture_on_commit_callbacks(execute=True):
        _act(client_for("coordinator"), req, "dispatch", department=city["a_dept"].pk)
    example = DispatchExample.objects.get()
    assert (example.department, example.category_code) == (city["a_dept"], "0101")
