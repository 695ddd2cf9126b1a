"""Parallel login attempts (threads, each with its own database connection, released together
by a barrier) cannot get past the lockout: the lock check and the reservation of an attempt
are one atomic step, so no more attempts than the limit ever reach the password check."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from conftest import PASSWORD
from sizhen.accounts import services
from sizhen.accounts.models import LoginFailure
from sizhen.accounts.tests.conftest import LOGIN_URL, events

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("personas")]

LOCKED = "登录失败次数过多，账号或地址已被锁定，请 15 分钟后再试"


def shown_error(response: Any) -> str:
    # From the page itself: response.context is collected through a global signal, which
    # mixes the pages of clients running in parallel threads.
    found = re.search(r'data-testid="login-error">([^<]*)<', response.content.decode())
    return found.group(1) if found else ""


@pytest.fixture(autouse=True)
def _lockout_policy(settings: Any) -> None:
    settings.SIZHEN_LOCKOUT_ATTEMPTS = 5
    settings.SIZHEN_LOCKOUT_ADDRESS_ATTEMPTS = 20
    settings.SIZHEN_LOCKOUT_MINUTES = 15


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the attempts that reach the password check. Each check is held back a moment so
    that, without an atomic lock check, every parallel attempt would pass it before any
    failure is recorded (the test hashes passwords with fast MD5)."""
    checked: list[str] = []
    guard = threading.Lock()
    real = services.authenticate

    def counting(request: Any, **credentials: Any) -> Any:
        with guard:
            checked.append(credentials["username"])
        time.sleep(0.3)
        return real(request, **credentials)

    monkeypatch.setattr(services, "authenticate", counting)
    return checked


def attempt_all(attempts: list[tuple[str, str, str]]) -> list[Any]:
    """(address, username, password) each posted by its own thread at the same moment."""
    barrier = threading.Barrier(len(attempts))
    responses: list[Any] = [None] * len(attempts)

    def run(index: int, address: str, username: str, password: str) -> None:
        try:
            client = Client(REMOTE_ADDR=address)
            barrier.wait(timeout=30)
            responses[index] = client.post(LOGIN_URL, {"username": username, "password": password})
        except Exception as exc:  # surfaced by the assertions of the test
            responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def test_thirty_parallel_wrong_passwords_check_only_five(password_checks: list[str]) -> None:
    attempts = [(f"10.20.0.{i}", "leader", "Wrong#password1") for i in range(30)]
    responses = attempt_all(attempts)

    assert password_checks == ["leader"] * 5
    assert all(r.status_code == 400 for r in responses), responses
    errors = sorted(shown_error(r) for r in responses)
    assert errors.count(LOCKED) == 25
    assert LoginFailure.objects.filter(username="leader").count() == 5
    assert len(events("auth.login_failed")) == 5
    assert len(events("auth.login_locked")) == 25
    assert events("auth.login") == []


def test_parallel_attempts_with_the_right_password_log_in_only_within_the_limit(
    password_checks: list[str],
) -> None:
    attempts = [(f"10.21.0.{i}", "leader", "Wrong#password1") for i in range(14)]
    attempts.append(("10.21.0.99", "leader", PASSWORD))
    responses = attempt_all(attempts)

    logged_in = [r for r in responses if r.status_code == 302]
    refused = [shown_error(r) for r in responses if r.status_code == 400]
    assert len(logged_in) + len(refused) == 15, responses
    assert refused.count(LOCKED) == 15 - len(password_checks)
    assert len(logged_in) == len(events("auth.login")) <= 1
    failures = LoginFailure.objects.filter(username="leader")
    assert failures.count() == len(password_checks) - len(logged_in)
    # A successful login clears the failures before it, so the right password got in only if
    # fewer than five failures had been checked before it, and no more than five after.
    assert failures.filter(cleared=True).count() <= 4
    assert failures.filter(cleared=False).count() <= 5
    if not logged_in:
        assert password_checks == ["leader"] * 5


def test_one_address_gets_only_its_limit_checked_across_usernames(
    password_checks: list[str],
) -> None:
    attempts = [("10.22.0.66", f"guess-{i}", "Wrong#password1") for i in range(30)]
    responses = attempt_all(attempts)

    assert len(password_checks) == 20
    assert [shown_error(r) for r in responses].count(LOCKED) == 10
    assert LoginFailure.objects.filter(client_address="10.22.0.66").count() == 20
