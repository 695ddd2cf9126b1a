"""POST/GET /api/v1/requests: machine intake with Idempotency-Key, scoped reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sizhen.accounts.services import create_api_token
from sizhen.core.models import AuditEvent
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.enterprise_requests.tests.factories import dispatched, portal_request

pytestmark = pytest.mark.django_db

URL = "/api/v1/requests"


def _token(personas: Any, department: Any, scopes: list[str]) -> str:
    _row, secret = create_api_token(
        actor=personas["sysadmin"], name="12345热线", department=department, scopes=scopes
    )
    return secret


def _post(client: Client, body: dict[str, Any], token: str | None = None, key: str | None = None):
    headers: dict[str, str] = {}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


HOTLINE = {
    "text": "来电企业反映：申请的稳岗补贴至今未到账",
    "category": "0402",
    "enterprise_uscc": None,
    "contact_phone": "13912345678",
    "external_id": "12345-20251001-0001",
}


def test_hotline_push_is_idempotent(personas, city):
    token = _token(personas, city["office"], ["requests:write"])
    body = {**HOTLINE, "enterprise_uscc": city["enterprise_a"].uscc}
    first = _post(Client(), body, token, key="call-0001")
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["channel"] == "hotline_12345"
    assert data["category"] == "0402"
    assert data["enterprise"] == "东湖示范科技有限公司"
    assert data["region_code"] == "449901"
    assert data["contact_phone"] == "13912345678"
    again = _post(Client(), {**body, "text": "重试"}, token, key="call-0001")
    assert again.status_code == 200
    assert again.json()["number"] == data["number"]
    assert EnterpriseRequest.objects.count() == 1
    saved = EnterpriseRequest.objects.get()
    assert saved.source_token is not None and saved.idempotency_key == "call-0001"
    assert saved.external_id == "12345-20251001-0001"


def test_push_validation_changes_nothing(personas, city):
    token = _token(personas, city["office"], ["requests:write"])
    bad_category = _post(Client(), {**HOTLINE, "category": "9999"}, token)
    assert bad_category.status_code == 400
    assert bad_category.json()["detail"] == "诉求分类编码 9999 不存在或已停用"
    bad_channel = _post(Client(), {**HOTLINE, "channel": "portal"}, token)
    assert bad_channel.status_code == 400
    empty = _post(Client(), {**HOTLINE, "text": "  "}, token)
    assert empty.status_code == 400 and empty.json()["detail"] == "请填写诉求内容"
    assert EnterpriseRequest.objects.count() == 0


def test_token_without_scope_and_anonymous_are_refused(personas, city):
    read_only = _token(personas, city["office"], ["read"])
    assert _post(Client(), HOTLINE, read_only).status_code == 404
    assert _post(Client(), HOTLINE).status_code == 401
    assert EnterpriseRequest.objects.count() == 0
    assert AuditEvent.objects.filter(action="access.denied").count() == 1


def test_people_without_submit_role_are_refused(client_for):
    response = _post(client_for("leader"), {**HOTLINE, "channel": "staff_window"})
    assert response.status_code == 404
    assert EnterpriseRequest.objects.count() == 0


def test_enterprise_submits_through_portal_channel_by_session(client_for, city):
    response = _post(
        client_for("enterprise"), {"text": "咨询研发费用加计扣除政策", "category": "0401"}
    )
    assert response.status_code == 201
    assert response.json()["enterprise"] == "东湖示范科技有限公司"
    assert response.json()["channel"] == "portal"


def test_list_and_detail_are_scoped(personas, city, client_for):
    mine = portal_request(personas["enterprise"])
    theirs = portal_request(personas["enterprise_b"], text="西山企业的用电报装问题")
    listing = client_for("enterprise").get(URL).json()
    assert [i["number"] for i in listing["items"]] == [mine.number]
    assert listing["items"][0]["contact_phone"] == "138****1111"
    assert client_for("enterprise").get(f"{URL}/{theirs.number}").status_code == 404
    assert client_for("enterprise").get(f"{URL}/{mine.number}").json()["contact_phone"] == (
        "13800001111"
    )
    district_b = client_for("district_b").get(URL).json()
    assert [i["number"] for i in district_b["items"]] == [theirs.number]
    coordinator = client_for("coordinator").get(URL).json()
    assert coordinator["meta"]["count"] == 2


def test_token_reads_what_it_pushed_and_what_its_department_handles(personas, city):
    token = _token(personas, city["a_dept"], ["requests:write"])
    pushed = _post(Client(), HOTLINE, token, key="x1").json()["number"]
    handled = dispatched(personas, city)
    other = portal_request(personas["enterprise_b"], text="西山企业的用电报装问题")
    response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert sorted(i["number"] for i in response["items"]) == sorted([pushed, handled.number])
    assert (
        Client().get(f"{URL}/{other.number}", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        == 404
    )


def test_categories_listed(client_for):
    data = client_for("enterprise").get("/api/v1/request-categories").json()
    assert len(data) == 39
    assert {"code": "0101", "parent": "01"}.items() <= data[1].items()


def test_reply_visible_only_after_it_was_sent(personas, city, client_for):
    request = dispatched(personas, city, kind="complaint")
    handler = personas["responsible_department"]
    services.accept_request(request, actor=handler)
    services.reply_request(request, actor=handler, text="整改完毕")
    detail = client_for("enterprise").get(f"{URL}/{request.number}").json()
    assert detail["status"] == "reply_review" and detail["reply"] == ""
    services.approve_reply(request, actor=personas["coordinator"])
    assert client_for("enterprise").get(f"{URL}/{request.number}").json()["reply"] == "整改完毕"
