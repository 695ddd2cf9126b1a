"""API tokens: stored as a hash only, Bearer or X-Api-Key, expiry and revocation, scoping."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from sizhen.accounts import services
from sizhen.accounts.models import ApiToken, ApiTokenScope
from sizhen.accounts.services import LAST_USED_RESOLUTION
from sizhen.accounts.tests.conftest import events
from sizhen.core.models import AuditEvent


def _token(personas, department, scopes=("read",), **kwargs):  # type: ignore[no-untyped-def]
    return services.create_api_token(
        actor=personas["sysadmin"],
        name="办件推送",
        department=department,
        scopes=list(scopes),
        **kwargs,
    )


def _bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.mark.django_db
def test_only_the_sha256_of_the_secret_is_stored(personas, city):
    token, secret = _token(personas, city["a_dept"])
    assert secret.startswith(f"szk_{token.prefix}_")
    assert len(secret) == len("szk_") + 8 + 1 + 43
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    tail = secret.split("_", 2)[2]
    for field in ApiToken._meta.concrete_fields:
        stored = json.dumps(getattr(row, field.attname), default=str)
        assert secret not in stored
        assert tail not in stored
    for event in AuditEvent.objects.all():
        text = json.dumps(
            [getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields], default=str
        )
        assert secret not in text
        assert tail not in text
    [created] = events("api_token.create")
    assert created.after == {
        "name": "办件推送",
        "department": city["a_dept"].pk,
        "scopes": ["read"],
    }


@pytest.mark.django_db
def test_bearer_and_x_api_key_both_authenticate_me(personas, city):
    token, secret = _token(personas, city["a_dept"])
    client = Client()
    expected = {
        "kind": "token",
        "name": f"接口令牌 {token.prefix}（东湖区市场监督管理局）",
        "role": "machine",
        "role_label": "接口客户端",
        "scope": "东湖区市场监督管理局",
        "department_code": "DH-SCJG",
        "region_code": "449901",
    }
    bearer = client.get("/api/v1/me", **_bearer(secret))
    assert (bearer.status_code, bearer.json()) == (200, expected)
    header = client.get("/api/v1/me", HTTP_X_API_KEY=secret)
    assert (header.status_code, header.json()) == (200, expected)


@pytest.mark.django_db
def test_wrong_missing_and_malformed_tokens_get_401(personas, city):
    _token_row, secret = _token(personas, city["a_dept"])
    client = Client()
    for headers in (
        {},
        _bearer(secret[:-1] + ("A" if secret[-1] != "A" else "B")),
        _bearer("not-a-sizhen-token"),
        {"HTTP_X_API_KEY": ""},
        {"HTTP_X_API_KEY": "szk_" + "x" * 300},
    ):
        assert client.get("/api/v1/me", **headers).status_code == 401


@pytest.mark.django_db
def test_expired_token_gets_401(personas, city):
    token, secret = _token(
        personas, city["a_dept"], expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert Client().get("/api/v1/me", **_bearer(secret)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client().get("/api/v1/me", **_bearer(secret)).status_code == 401
    assert Client().get("/api/v1/me", HTTP_X_API_KEY=secret).status_code == 401


@pytest.mark.django_db
def test_revoked_token_gets_401_and_revocation_is_audited(personas, city):
    token, secret = _token(personas, city["a_dept"])
    assert Client().get("/api/v1/me", **_bearer(secret)).status_code == 200
    services.revoke_api_token(token, actor=personas["sysadmin"])
    assert Client().get("/api/v1/me", **_bearer(secret)).status_code == 401
    assert Client().get("/api/v1/me", HTTP_X_API_KEY=secret).status_code == 401
    [event] = events("api_token.revoke")
    assert (event.actor_id, event.object_id) == (personas["sysadmin"].pk, str(token.pk))
    # Revoking again changes nothing and writes no second event.
    services.revoke_api_token(token, actor=personas["sysadmin"])
    assert len(events("api_token.revoke")) == 1


@pytest.mark.django_db
def test_token_of_a_disabled_department_gets_401(personas, city):
    _token_row, secret = _token(personas, city["a_dept"])
    city["a_dept"].is_active = False
    city["a_dept"].save()
    assert Client().get("/api/v1/me", **_bearer(secret)).status_code == 401


@pytest.mark.django_db
def test_last_use_time_and_address_are_recorded(personas, city):
    token, secret = _token(personas, city["a_dept"])
    assert (token.last_used_at, token.last_used_address) == (None, None)
    before = timezone.now()
    Client(REMOTE_ADDR="172.16.5.9").get("/api/v1/me", **_bearer(secret))
    token.refresh_from_db()
    assert token.last_used_address == "172.16.5.9"
    assert before <= token.last_used_at <= timezone.now()
    # Within the resolution the row is not rewritten (high-rate intake)...
    first_use = token.last_used_at
    Client(REMOTE_ADDR="172.16.5.10").get("/api/v1/me", HTTP_X_API_KEY=secret)
    token.refresh_from_db()
    assert (token.last_used_at, token.last_used_address) == (first_use, "172.16.5.9")
    # ...after it, the newest use and address are recorded.
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=first_use - LAST_USED_RESOLUTION - dt.timedelta(seconds=1)
    )
    Client(REMOTE_ADDR="172.16.5.10").get("/api/v1/me", HTTP_X_API_KEY=secret)
    token.refresh_from_db()
    assert token.last_used_address == "172.16.5.10"
    assert token.last_used_at >= first_use


@pytest.mark.django_db
def test_district_department_token_sees_only_its_region_subtree(personas, city):
    _token_row, secret = _token(personas, city["a_dept"], scopes=["read", "records:write"])
    client = Client()
    listing = client.get("/api/v1/enterprises", **_bearer(secret))
    assert listing.status_code == 200
    assert listing.json()["meta"]["count"] == 2
    assert {e["name"] for e in listing.json()["items"]} == {
        "东湖示范科技有限公司",
        "高新示范制造有限公司",
    }
    own = client.get(f"/api/v1/enterprises/{city['enterprise_park'].uscc}", **_bearer(secret))
    assert (own.status_code, own.json()["region_code"]) == (200, "P449951")

    denied_before = len(events("access.denied"))
    other = client.get(f"/api/v1/enterprises/{city['enterprise_b'].uscc}", **_bearer(secret))
    assert other.status_code == 404
    denied = events("access.denied")
    assert len(denied) == denied_before + 1
    assert denied[-1].actor_role == "machine"
    assert denied[-1].actor_id is None


@pytest.mark.django_db
def test_city_department_token_sees_the_whole_city(personas, city):
    _token_row, secret = _token(personas, city["market"])
    listing = Client().get("/api/v1/enterprises", **_bearer(secret))
    assert listing.json()["meta"]["count"] == 3


@pytest.mark.django_db
def test_token_without_read_scope_gets_404_on_enterprises(personas, city):
    _token_row, secret = _token(personas, city["a_dept"], scopes=["records:write"])
    client = Client()
    assert client.get("/api/v1/me", **_bearer(secret)).status_code == 200
    listing = client.get("/api/v1/enterprises", **_bearer(secret))
    assert listing.status_code == 404
    detail = client.get(f"/api/v1/enterprises/{city['enterprise_a'].uscc}", **_bearer(secret))
    assert detail.status_code == 404
    assert [e.message for e in events("access.denied")] == ["令牌缺少权限范围 read"] * 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        ({"scopes": []}, {"scopes": ["至少选择一项权限范围"]}),
        ({"scopes": ["read", "admin"]}, {"scopes": ["未知的权限范围：admin"]}),
        ({"name": "  "}, {"name": ["请填写令牌名称"]}),
        (
            {"expires_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
            {"expires_at": ["到期时间须晚于当前时间"]},
        ),
    ],
)
def test_invalid_token_requests_create_nothing(personas, city, kwargs, errors):
    arguments = {
        "actor": personas["sysadmin"],
        "name": "办件推送",
        "department": city["a_dept"],
        "scopes": [ApiTokenScope.READ],
        **kwargs,
    }
    with pytest.raises(ValidationError) as caught:
        services.create_api_token(**arguments)
    assert caught.value.message_dict == errors
    assert ApiToken.objects.count() == 0
    assert events("api_token.create") == []


@pytest.mark.django_db
def test_token_for_a_disabled_department_is_refused(personas, city):
    city["b_dept"].is_active = False
    city["b_dept"].save()
    with pytest.raises(ValidationError) as caught:
        _token(personas, city["b_dept"])
    assert caught.value.message_dict == {"department": ["该部门已停用，不能签发令牌"]}
    assert ApiToken.objects.count() == 0
