"""Every error of /api/v1 answers in the documented shape and in Chinese: bounds on numbers,
bodies and texts (422/413 instead of 500), bad tokens (401 instead of a CSRF refusal)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from config.api import api
from sizhen.accounts.models import ApiTokenScope
from sizhen.accounts.services import create_api_token, revoke_api_token
from sizhen.work_tasks.models import WorkTask

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.fixture
def token(personas: dict[str, Any], city: dict[str, Any]) -> tuple[Any, str]:
    return create_api_token(
        actor=personas["sysadmin"],
        name="城市令牌",
        department=city["office"],
        scopes=list(ApiTokenScope.values),
    )


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def list_paths() -> list[str]:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return sorted(
        path
        for path, operations in schema["paths"].items()
        if any(p["name"] == "offset" for p in operations.get("get", {}).get("parameters", []))
    )


def test_every_list_bounds_offset_and_limit(client_for: Any) -> None:
    paths = list_paths()
    assert len(paths) >= 9, paths
    client = client_for("coordinator")
    for path in paths:
        url = path.replace("{code}", "BE15.03").replace("{batch_id}", "1")
        for query, message in (
            (f"offset={HUGE}", "不能大于 1000000000"),
            ("offset=-1", "不能小于 0"),
            (f"limit={HUGE}", "不能大于 10000"),
            ("limit=0", "不能小于 1"),
        ):
            response = client.get(f"{url}?{query}")
            field = query.split("=")[0]
            assert response.status_code == 422, (url, query, response.content[:300])
            assert response.json() == {
                "detail": f"请求参数有误：{field} {message}",
                "errors": [{"field": field, "message": message}],
            }, (url, query)


def test_bad_json_missing_and_overlong_fields_answer_in_chinese(client_for: Any) -> None:
    client = client_for("coordinator")
    garbled = client.post("/api/v1/tasks", "{bad", content_type="application/json")
    assert (garbled.status_code, garbled.json()) == (
        400,
        {"detail": "请求体无法解析：应为有效的 JSON"},
    )
    missing = client.post("/api/v1/tasks", {"title": "x"}, content_type="application/json")
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"field": "content", "message": "必填"},
        {"field": "source", "message": "必填"},
    ]
    too_long = client.post(
        "/api/v1/tasks",
        {
            "title": "长" * 2400,
            "content": "x",
            "source": "other",
            "milestones": [{"title": "节" * 201}],
        },
        content_type="application/json",
    )
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == [
        {"field": "title", "message": "长度不能超过 200 个字符"},
        {"field": "milestones[0].title", "message": "长度不能超过 200 个字符"},
    ]
    assert WorkTask.objects.count() == 0
    unknown = client.get("/api/v1/tasks/987654")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "未找到"})


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
def test_a_body_over_the_limit_is_413_in_chinese(client_for: Any, token: Any) -> None:
    body = json.dumps({"records": [{"case_id": "x" * 1000}] * 100})
    answer = Client().post(
        "/api/v1/datasets/gov_service_cases/records",
        body,
        content_type="application/json",
        **bearer(token[1]),
    )
    assert (answer.status_code, answer.json()) == (
        413,
        {"detail": "请求体过大：超过 0.0625 MiB 的上限，请分批提交"},
    )
    page = client_for("coordinator").post("/accounts/password/", {"old_password": "x" * 70000})
    assert page.status_code == 413
    assert "请求体过大：超过 0.0625 MiB 的上限，请分批提交" in page.content.decode()


@override_settings(DEBUG=False)
def test_the_400_page_is_chinese(client: Client) -> None:
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def test_a_bad_or_revoked_token_on_a_post_is_401_not_a_csrf_refusal(
    personas: dict[str, Any], token: Any
) -> None:
    row, secret = token
    revoke_api_token(row, actor=personas["sysadmin"])
    client = Client(enforce_csrf_checks=True)
    unauthenticated = {"detail": "未认证：请提供有效的接口令牌，或登录后使用"}
    for headers in (bearer(secret), bearer("szk_not_a_token"), {"HTTP_X_API_KEY": secret}, {}):
        posted = client.post("/api/v1/tasks", "{}", content_type="application/json", **headers)
        read = client.get("/api/v1/tasks", **headers)
        for response in (posted, read):
            assert (response.status_code, response.json()) == (401, unauthenticated), headers
    assert WorkTask.objects.count() == 0


def test_a_browser_session_without_csrf_is_refused_in_chinese(personas: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["coordinator"])
    response = client.post("/api/v1/tasks", "{}", content_type="application/json")
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "CSRF 校验失败：请刷新页面后重试"},
    )
    assert WorkTask.objects.count() == 0


def test_nul_characters_are_refused_before_they_reach_the_database(
    client_for: Any, token: Any
) -> None:
    nul = {"detail": "请求不能包含空字符（U+0000）"}
    posted = Client().post(
        "/api/v1/requests",
        '{"text": "诉求\\u0000内容", "channel": "api"}',
        content_type="application/json",
        **bearer(token[1]),
    )
    assert (posted.status_code, posted.json()) == (400, nul)
    client = client_for("coordinator")
    for url in ("/api/v1/requests?q=%00", "/api/v1/regions/44%0099"):
        response = client.get(url)
        assert (response.status_code, response.json()) == (400, nul), url
    # An escaped backslash before "u0000" is text, not NUL.
    text = client.post(
        "/api/v1/dispatch/suggest", '{"text": "路径 C:\\\\u0000"}', content_type="application/json"
    )
    assert text.status_code != 400 or text.json() != nul
