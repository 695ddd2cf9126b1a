"""Helpers shared by the accounts tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import F
from django.test import Client

from conftest import PASSWORD
from sizhen.accounts.models import LoginFailure
from sizhen.core.models import AuditEvent

LOGIN_URL = "/accounts/login/"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def travel_failures(minutes: float) -> None:
    """Move every recorded login failure ``minutes`` into the past (time travel)."""
    LoginFailure.objects.update(at=F("at") - dt.timedelta(minutes=minutes))


def post_login(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(LOGIN_URL, {"username": username, "password": password, **extra})


def login_error(response: Any) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.fixture
def address_client() -> Any:
    """address_client("10.0.0.1") -> an anonymous Client whose requests come from that address."""

    def make(address: str) -> Client:
        return Client(REMOTE_ADDR=address)

    return make
