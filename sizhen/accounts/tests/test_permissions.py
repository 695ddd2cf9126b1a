"""Authorisation matrix of every accounts page and action, for every persona and anonymous.

Allowed: the page answers. Denied to a logged-in role: 404 (as if it did not exist), the attempt
is audited, and nothing changes. Anonymous: sent to the login page, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.views import redirect_to_login

from sizhen.accounts import services
from sizhen.accounts.models import ApiToken, LoginFailure, PasswordHistory, User
from sizhen.core.models import AuditEvent

PERSONAS = [
    "leader",
    "coordinator",
    "lead_department",
    "responsible_department",
    "district_a",
    "district_b",
    "enterprise",
    "enterprise_b",
    "sysadmin",
    None,
]
ADMIN = {"sysadmin"}
READERS = {"sysadmin", "coordinator", "leader"}

# (method, url, allowed personas, status when allowed, changes state when allowed)
ENDPOINTS = [
    ("get", "/accounts/users/", READERS, 200, False),
    ("get", "/accounts/users/?export=xlsx", READERS, 200, False),
    ("get", "/accounts/users/{target}/", READERS, 200, False),
    ("get", "/accounts/users/new/", ADMIN, 200, False),
    ("post", "/accounts/users/new/", ADMIN, 200, True),
    ("get", "/accounts/users/{target}/edit/", ADMIN, 200, False),
    ("post", "/accounts/users/{target}/edit/", ADMIN, 302, True),
    ("get", "/accounts/users/{target}/disable/", ADMIN, 200, False),
    ("post", "/accounts/users/{target}/disable/", ADMIN, 302, True),
    ("get", "/accounts/users/{disabled}/enable/", ADMIN, 200, False),
    ("post", "/accounts/users/{disabled}/enable/", ADMIN, 302, True),
    ("get", "/accounts/users/{target}/reset-password/", ADMIN, 200, False),
    ("post", "/accounts/users/{target}/reset-password/", ADMIN, 200, True),
    ("get", "/accounts/tokens/", ADMIN, 200, False),
    ("get", "/accounts/tokens/new/", ADMIN, 200, False),
    ("post", "/accounts/tokens/new/", ADMIN, 200, True),
    ("get", "/accounts/tokens/{token}/revoke/", ADMIN, 200, False),
    ("post", "/accounts/tokens/{token}/revoke/", ADMIN, 302, True),
]

CASES = [
    pytest.param(persona, *endpoint, id=f"{endpoint[0]}:{endpoint[1]}:{persona or 'anonymous'}")
    for endpoint in ENDPOINTS
    for persona in PERSONAS
]


def _state() -> list[Any]:
    """Everything an accounts action could change, except the audit log."""
    return [
        list(User.objects.order_by("pk").values()),
        list(ApiToken.objects.order_by("pk").values()),
        PasswordHistory.objects.count(),
        LoginFailure.objects.count(),
    ]


def _payload(url: str, city: dict[str, Any]) -> dict[str, Any]:
    if url == "/accounts/users/new/":
        return {"username": "new.user", "full_name": "新用户", "role": "leader"}
    if url.endswith("/edit/"):
        return {"full_name": "改名", "role": "district_officer", "region": city["district_b"].pk}
    if url == "/accounts/tokens/new/":
        return {"name": "新令牌", "department": city["a_dept"].pk, "scopes": ["read"]}
    return {}


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "method", "url", "allowed", "status", "writes"), CASES)
def test_accounts_authorisation_matrix(
    personas, city, client_for, persona, method, url, allowed, status, writes
):
    admin = personas["sysadmin"]
    disabled, _ = services.create_user(
        actor=admin, username="retired", full_name="退休", role="leader"
    )
    services.set_user_active(disabled, actor=admin, active=False)
    token, _ = services.create_api_token(
        actor=admin, name="办件推送", department=city["a_dept"], scopes=["read"]
    )
    path = url.format(target=personas["district_b"].pk, disabled=disabled.pk, token=token.pk)
    client = client_for(persona)
    before = _state()
    events_before = AuditEvent.objects.count()

    response = client.post(path, _payload(url, city)) if method == "post" else client.get(path)

    if persona is None:
        assert response.status_code == 302
        assert response["Location"] == redirect_to_login(path).url
        assert _state() == before
        assert AuditEvent.objects.count() == events_before
    elif persona in allowed:
        assert response.status_code == status
        assert (_state() != before) is writes
        assert not AuditEvent.objects.filter(action="access.denied").exists()
    else:
        assert response.status_code == 404
        assert _state() == before
        denied = AuditEvent.objects.order_by("-id").first()
        assert denied.action == "access.denied"
        assert denied.actor_id == personas[persona].pk
        assert AuditEvent.objects.count() == events_before + 1


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_own_password_page_is_open_to_every_logged_in_role(personas, client_for, persona):
    response = client_for(persona).get("/accounts/password/")
    if persona is None:
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/accounts/password/"
    else:
        assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_login_page_sends_logged_in_users_home(personas, client_for, persona):
    response = client_for(persona).get("/accounts/login/")
    if persona is None:
        assert response.status_code == 200
    else:
        assert (response.status_code, response["Location"]) == (302, "/")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_system_page_links_to_accounts_pages_by_role(personas, client_for, persona):
    response = client_for(persona).get("/system/")
    if persona in ("sysadmin", "coordinator", "district_a", "district_b"):
        body = response.content.decode()
        assert response.status_code == 200
        shown = ('href="/accounts/users/"' in body, 'href="/accounts/tokens/"' in body)
        # The coordinator reads the user list (read-only); tokens are the administrator's;
        # district officers reach only their enterprises from the system menu.
        expected = {"sysadmin": (True, True), "coordinator": (True, False)}
        assert shown == expected.get(persona, (False, False))
    elif persona is None:
        assert response.status_code == 302
    else:
        assert response.status_code == 404
