"""Session-authenticated writes need the CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import PASSWORD
from sizhen.accounts.models import ApiToken, User
from sizhen.accounts.tests.conftest import events


def _csrf_client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _token_from(client: Client, url: str) -> str:
    client.get(url)
    return client.cookies["csrftoken"].value


@pytest.mark.django_db
def test_admin_write_without_csrf_token_is_refused(personas):
    client = _csrf_client(personas["sysadmin"])
    target = personas["district_b"]
    response = client.post(f"/accounts/users/{target.pk}/disable/")
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active is True
    assert events("user.disable") == []

    token = _token_from(client, f"/accounts/users/{target.pk}/disable/")
    accepted = client.post(f"/accounts/users/{target.pk}/disable/", {"csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    target.refresh_from_db()
    assert target.is_active is False


@pytest.mark.django_db
def test_user_and_token_creation_without_csrf_token_are_refused(personas, city):
    client = _csrf_client(personas["sysadmin"])
    users_before = User.objects.count()
    assert (
        client.post(
            "/accounts/users/new/", {"username": "x.y", "full_name": "X", "role": "leader"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/accounts/tokens/new/",
            {"name": "t", "department": city["a_dept"].pk, "scopes": ["read"]},
        ).status_code
        == 403
    )
    assert User.objects.count() == users_before
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_password_change_and_logout_without_csrf_token_are_refused(personas):
    user = personas["district_a"]
    client = _csrf_client(user)
    changed = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password": "Fresh#Password2026",
            "new_password_again": "Fresh#Password2026",
        },
    )
    assert changed.status_code == 403
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert client.post("/accounts/logout/").status_code == 403
    assert client.session.get("_auth_user_id") == str(user.pk)
    assert events("auth.logout") == []


@pytest.mark.django_db
def test_login_without_csrf_token_is_refused(personas):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "leader", "password": PASSWORD})
    assert response.status_code == 403
    assert client.session.get("_auth_user_id") is None
    assert events("auth.login") == []
