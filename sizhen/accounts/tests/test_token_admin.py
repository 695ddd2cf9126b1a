"""API token administration pages (接口令牌管理)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.test import Client
from django.utils import timezone

from sizhen.accounts import services
from sizhen.accounts.models import ApiToken
from sizhen.accounts.tests.conftest import events
from sizhen.core.models import AuditEvent


def _create(client: Client, **data):  # type: ignore[no-untyped-def]
    return client.post("/accounts/tokens/new/", data)


@pytest.mark.django_db
def test_create_shows_the_secret_once_and_never_again(personas, city, client_for, caplog):
    admin = client_for("sysadmin")
    caplog.set_level(logging.DEBUG)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = _create(
        admin,
        name="12345 热线推送",
        department=city["office"].pk,
        scopes=["requests:write", "requests:read"],
        expires_on=tomorrow.isoformat(),
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    body = response.content.decode()
    assert f'data-testid="secret">{secret}<' in body
    assert "令牌只显示这一次" in body
    assert "Ctrl+C" in body
    token = ApiToken.objects.get()
    assert (token.name, token.department_id, token.scopes) == (
        "12345 热线推送",
        city["office"].pk,
        ["requests:read", "requests:write"],
    )
    # Valid through the whole chosen day, local time.
    assert timezone.localtime(token.expires_at) == timezone.make_aware(
        dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time.min)
    )
    assert token.created_by_id == personas["sysadmin"].pk
    [event] = events("api_token.create")
    assert event.actor_id == personas["sysadmin"].pk

    for url in ("/accounts/tokens/", "/system/audit/"):
        later = admin.get(url)
        assert later.status_code == 200
        assert secret.encode() not in later.content
    assert secret not in str(list(AuditEvent.objects.values()))
    assert secret not in caplog.text
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


@pytest.mark.django_db
def test_list_shows_state_and_use_but_never_the_hash(personas, city, client_for):
    admin_user = personas["sysadmin"]
    usable, _ = services.create_api_token(
        actor=admin_user, name="办件推送", department=city["a_dept"], scopes=["records:write"]
    )
    revoked, _ = services.create_api_token(
        actor=admin_user, name="旧接口", department=city["market"], scopes=["read"]
    )
    services.revoke_api_token(revoked, actor=admin_user)
    expired, _ = services.create_api_token(
        actor=admin_user,
        name="临时查询",
        department=city["tax"],
        scopes=["read", "requests:read"],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    ApiToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1),
        last_used_at=timezone.now() - dt.timedelta(days=2),
        last_used_address="192.0.2.44",
    )
    admin = client_for("sysadmin")
    response = admin.get("/accounts/tokens/?sort=name")
    assert response.status_code == 200
    rows = {row[0][0]: [value for value, _ in row] for row in response.context["rows"]}
    assert [c.label for c in response.context["columns"]] == [
        "名称",
        "所属部门",
        "前缀",
        "权限范围",
        "状态",
        "创建时间",
        "到期时间",
        "最近使用",
        "最近使用地址",
        "操作",
    ]
    assert rows["办件推送"][1:5] == [
        "东湖区市场监督管理局",
        f"szk_{usable.prefix}_…",
        "推送业务数据",
        "有效",
    ]
    assert rows["旧接口"][4] == "已吊销"
    assert rows["旧接口"][9] == ""
    assert rows["临时查询"][3:5] == ["只读查询、读取企业诉求", "已过期"]
    assert rows["临时查询"][8] == "192.0.2.44"
    body = response.content.decode()
    for token in ApiToken.objects.all():
        assert token.key_hash not in body
    assert f'href="/accounts/tokens/{usable.pk}/revoke/"' in body
    assert f'href="/accounts/tokens/{revoked.pk}/revoke/"' not in body

    by_state = admin.get("/accounts/tokens/?state=revoked")
    assert [row[0][0] for row in by_state.context["rows"]] == ["旧接口"]
    by_state = admin.get("/accounts/tokens/?state=usable")
    assert [row[0][0] for row in by_state.context["rows"]] == ["办件推送"]
    by_department = admin.get(f"/accounts/tokens/?department={city['tax'].pk}")
    assert [row[0][0] for row in by_department.context["rows"]] == ["临时查询"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "", "scopes": ["read"]}, {"name": ["请填写令牌名称"]}),
        ({"name": "x", "scopes": []}, {"scopes": ["至少选择一项权限范围"]}),
        ({"name": "x", "scopes": ["admin"]}, {"scopes": ["权限范围无效"]}),
        (
            {"name": "x", "scopes": ["read"], "expires_on": "2020-01-01"},
            {"expires_on": ["有效期不能早于今天"]},
        ),
        ({"name": "x", "scopes": ["read"], "department": ""}, {"department": ["请选择所属部门"]}),
    ],
)
def test_create_refuses_bad_input_and_creates_nothing(personas, city, client_for, data, errors):
    posted = {"department": city["a_dept"].pk, **data}
    response = _create(client_for("sysadmin"), **posted)
    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert "secret" not in response.context
    assert ApiToken.objects.count() == 0
    assert events("api_token.create") == []


@pytest.mark.django_db
def test_disabled_department_is_not_offered(personas, city, client_for):
    city["b_dept"].is_active = False
    city["b_dept"].save()
    response = _create(
        client_for("sysadmin"), name="x", department=city["b_dept"].pk, scopes=["read"]
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"department": ["所选部门不存在或已停用"]}
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_revoke_asks_first_then_revokes(personas, city, client_for):
    token, secret = services.create_api_token(
        actor=personas["sysadmin"], name="办件推送", department=city["a_dept"], scopes=["read"]
    )
    admin = client_for("sysadmin")
    confirm = admin.get(f"/accounts/tokens/{token.pk}/revoke/")
    assert confirm.status_code == 200
    assert f"确定吊销令牌“办件推送（{token.prefix}…）”（东湖区市场监督管理局）吗？" in (
        confirm.content.decode()
    )
    token.refresh_from_db()
    assert token.revoked_at is None

    response = admin.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    [event] = events("api_token.revoke")
    assert (event.actor_id, event.object_id) == (personas["sysadmin"].pk, str(token.pk))
    assert Client().get("/api/v1/me", HTTP_X_API_KEY=secret).status_code == 401

    again = admin.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert "已于" in again.content.decode()
    assert len(events("api_token.revoke")) == 1


@pytest.mark.django_db
def test_unknown_token_is_404(personas, client_for):
    admin = client_for("sysadmin")
    assert admin.get("/accounts/tokens/424242/revoke/").status_code == 404
    assert admin.post("/accounts/tokens/424242/revoke/").status_code == 404
