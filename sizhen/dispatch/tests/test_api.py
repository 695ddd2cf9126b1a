"""POST /api/v1/dispatch/suggest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sizhen.accounts.services import create_api_token
from sizhen.dispatch.models import DispatchExample

pytestmark = pytest.mark.django_db

API = "/api/v1/dispatch/suggest"
TEXT = {"text": "公司想申请增值税留抵退税，网上提交后一直显示审核中"}


def _post(client: Client, payload: dict[str, Any], **extra: Any) -> Any:
    return client.post(API, json.dumps(payload), content_type="application/json", **extra)


def test_staff_get_top_three_departments_and_categories(
    catalogue_city: dict[str, Any], client_for: Any
) -> None:
    response = _post(client_for("responsible_department"), TEXT)

    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "catalogue"
    assert len(body["departments"]) == 3
    assert body["departments"][0] == {
        "code": "SZ-SW",
        "name": "税务局",
        "confidence": body["departments"][0]["confidence"],
    }
    assert body["categories"][0]["code"] == "0403"
    assert body["categories"][0]["name"] == "税费减免"
    confidences = [d["confidence"] for d in body["departments"]]
    assert confidences == sorted(confidences, reverse=True)
    assert DispatchExample.objects.count() == 0  # suggesting records nothing


def test_enterprise_and_anonymous_are_refused(
    catalogue_city: dict[str, Any], client_for: Any
) -> None:
    assert _post(client_for("enterprise"), TEXT).status_code == 404
    assert _post(client_for(None), TEXT).status_code == 401


@pytest.mark.parametrize(
    ("payload", "message"),
    [({"text": "   "}, "诉求内容不能为空"), ({"text": "字" * 5001}, "不能超过 5000 字")],
)
def test_bad_text_is_refused(
    catalogue_city: dict[str, Any], client_for: Any, payload: dict[str, Any], message: str
) -> None:
    response = _post(client_for("coordinator"), payload)

    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_machine_token_needs_the_requests_write_scope(
    catalogue_city: dict[str, Any], personas: dict[str, Any]
) -> None:
    _row, pusher = create_api_token(
        actor=personas["sysadmin"],
        name="12345",
        department=catalogue_city["office"],
        scopes=["requests:write"],
    )
    _row, reader = create_api_token(
        actor=personas["sysadmin"],
        name="只读",
        department=catalogue_city["office"],
        scopes=["read"],
    )

    allowed = _post(Client(), TEXT, HTTP_AUTHORIZATION=f"Bearer {pusher}")
    refused = _post(Client(), TEXT, HTTP_AUTHORIZATION=f"Bearer {reader}")

    assert allowed.status_code == 200
    assert allowed.json()["departments"][0]["code"] == "SZ-SW"
    assert refused.status_code == 404
