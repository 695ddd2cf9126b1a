"""Login, lockout, logout and idle timeout (等保 2.0: 登录失败处理, 会话超时, 安全审计)."""

from __future__ import annotations

import time

import pytest
from django.test import Client, override_settings

from conftest import PASSWORD
from sizhen.accounts.middleware import SESSION_LAST_SEEN, SESSION_LOGIN_AT
from sizhen.accounts.models import LoginFailure, User
from sizhen.accounts.services import lock_state
from sizhen.accounts.tests.conftest import (
    LOGIN_URL,
    events,
    logged_in_user_id,
    login_error,
    post_login,
    travel_failures,
)

LOCKOUT = override_settings(
    SIZHEN_LOCKOUT_ATTEMPTS=5, SIZHEN_LOCKOUT_ADDRESS_ATTEMPTS=20, SIZHEN_LOCKOUT_MINUTES=15
)


@pytest.mark.django_db
def test_login_succeeds_redirects_home_and_is_audited_with_address(personas, address_client):
    client = address_client("10.1.0.7")
    response = post_login(client, "leader")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) == str(personas["leader"].pk)
    [event] = events("auth.login")
    assert event.actor_id == personas["leader"].pk
    assert event.object_id == str(personas["leader"].pk)
    assert event.client_address == "10.1.0.7"
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_login_page_renders_policy_from_settings(client):
    with override_settings(
        SIZHEN_LOCKOUT_ATTEMPTS=6, SIZHEN_LOCKOUT_MINUTES=20, SIZHEN_IDLE_TIMEOUT_SECONDS=900
    ):
        response = client.get(LOGIN_URL)
    assert response.status_code == 200
    assert "连续 6 次输入错误将锁定 20 分钟；15 分钟无操作自动退出" in response.content.decode()


@pytest.mark.django_db
def test_failed_login_is_refused_audited_and_counted(personas, address_client):
    client = address_client("10.1.0.8")
    response = post_login(client, "leader", "Wrong#password1")
    assert response.status_code == 400
    assert login_error(response) == "用户名或密码错误"
    assert logged_in_user_id(client) is None
    [event] = events("auth.login_failed")
    assert event.actor_id is None
    assert event.actor_label == "匿名"
    assert event.object_repr == "leader"
    assert event.client_address == "10.1.0.8"
    assert list(LoginFailure.objects.values_list("username", "client_address", "cleared")) == [
        ("leader", "10.1.0.8", False)
    ]
    assert events("auth.login") == []


@pytest.mark.django_db
def test_login_does_not_reveal_whether_a_username_exists(personas, address_client):
    client = address_client("10.1.0.9")
    personas["enterprise_b"].is_active = False
    personas["enterprise_b"].save()
    wrong_password = post_login(client, "leader", "Wrong#password1")
    unknown_user = post_login(client, "nobody-here", "Wrong#password1")
    inactive_user = post_login(client, "ent_b", PASSWORD)
    for response in (wrong_password, unknown_user, inactive_user):
        assert response.status_code == 400
        assert login_error(response) == "用户名或密码错误"
        assert response.context["form"].errors.keys() == {"__all__"}
    assert logged_in_user_id(client) is None
    assert [e.object_repr for e in events("auth.login_failed")] == [
        "leader",
        "nobody-here",
        "ent_b",
    ]


@pytest.mark.django_db
def test_empty_form_is_refused_without_counting_a_failure(personas, client):
    response = client.post(LOGIN_URL, {"username": "", "password": ""})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "username": ["请输入用户名"],
        "password": ["请输入密码"],
    }
    assert LoginFailure.objects.count() == 0
    assert events("auth.login_failed") == []


@pytest.mark.django_db
def test_next_is_followed_only_within_the_site(personas, client):
    response = post_login(client, "leader", next="/system/")
    assert response["Location"] == "/system/"
    client.post("/accounts/logout/")
    response = post_login(client, "leader", next="https://evil.example/phish")
    assert response["Location"] == "/"


# --- lockout -------------------------------------------------------------------------------


@LOCKOUT
@pytest.mark.django_db
def test_five_failures_lock_the_username_and_refuse_the_correct_password(personas, address_client):
    client = address_client("10.2.0.1")
    for _ in range(4):
        assert login_error(post_login(client, "leader", "Wrong#password1")) == "用户名或密码错误"
    assert events("auth.lockout") == []
    fifth = post_login(client, "leader", "Wrong#password1")
    assert login_error(fifth) == "用户名或密码错误；失败次数过多，已锁定 15 分钟"
    [lockout] = events("auth.lockout")
    assert lockout.object_repr == "leader"
    assert lockout.client_address == "10.2.0.1"
    assert lockout.after == {"locked_by": "username"}

    # The correct password, even from another address, is refused while locked.
    other = Client(REMOTE_ADDR="10.2.0.2")
    refused = post_login(other, "leader")
    assert refused.status_code == 400
    assert login_error(refused) == "登录失败次数过多，账号或地址已被锁定，请 15 分钟后再试"
    assert logged_in_user_id(other) is None
    [locked] = events("auth.login_locked")
    assert locked.object_repr == "leader"
    assert locked.client_address == "10.2.0.2"
    assert events("auth.login") == []
    # Attempts refused while locked are not counted, so they cannot extend the lock.
    assert LoginFailure.objects.count() == 5

    travel_failures(14)
    assert login_error(post_login(other, "leader")) == (
        "登录失败次数过多，账号或地址已被锁定，请 1 分钟后再试"
    )
    travel_failures(1.01)
    unlocked = post_login(other, "leader")
    assert unlocked.status_code == 302
    assert logged_in_user_id(other) == str(personas["leader"].pk)
    assert [e.client_address for e in events("auth.login")] == ["10.2.0.2"]


@LOCKOUT
@pytest.mark.django_db
def test_lockout_is_case_insensitive_on_the_username(personas, address_client):
    client = address_client("10.2.0.3")
    for name in ("leader", "LEADER", "Leader", "leadeR", "LeAdEr"):
        post_login(client, name, "Wrong#password1")
    assert lock_state("leader", None).locked is True
    assert login_error(post_login(client, "leader")).startswith("登录失败次数过多")


@LOCKOUT
@pytest.mark.django_db
def test_lock_lasts_the_full_window_from_the_failure_that_triggered_it(personas, client):
    for _ in range(4):
        post_login(client, "leader", "Wrong#password1")
    travel_failures(14)
    # Four failures 14 minutes ago plus one now: five within the window, the lock starts now.
    post_login(client, "leader", "Wrong#password1")
    assert lock_state("leader", None).locked is True
    travel_failures(2)
    # The first four are now outside the window, but the lock still runs from the fifth.
    state = lock_state("leader", None)
    assert (state.locked, state.minutes_left, state.reason) == (True, 13, "username")
    travel_failures(13.01)
    assert lock_state("leader", None).locked is False
    assert post_login(client, "leader").status_code == 302


@LOCKOUT
@pytest.mark.django_db
def test_failures_spread_wider_than_the_window_do_not_lock(personas, client):
    for _ in range(4):
        post_login(client, "leader", "Wrong#password1")
    travel_failures(15.5)
    post_login(client, "leader", "Wrong#password1")
    assert lock_state("leader", None).locked is False
    assert events("auth.lockout") == []
    assert post_login(client, "leader").status_code == 302


@LOCKOUT
@pytest.mark.django_db
def test_unknown_usernames_are_locked_exactly_like_real_ones(personas, client):
    for name in ("leader", "ghost-user"):
        for _ in range(5):
            post_login(client, name, "Wrong#password1")
    real = login_error(post_login(client, "leader", "Wrong#password1"))
    ghost = login_error(post_login(client, "ghost-user", "Wrong#password1"))
    assert real == ghost == "登录失败次数过多，账号或地址已被锁定，请 15 分钟后再试"
    assert [e.object_repr for e in events("auth.lockout")] == ["leader", "ghost-user"]


@override_settings(
    SIZHEN_LOCKOUT_ATTEMPTS=5, SIZHEN_LOCKOUT_ADDRESS_ATTEMPTS=4, SIZHEN_LOCKOUT_MINUTES=15
)
@pytest.mark.django_db
def test_one_address_is_locked_after_failures_across_usernames(personas, address_client):
    attacker = address_client("10.3.0.66")
    for name in ("leader", "coordinator", "sysadmin"):
        assert login_error(post_login(attacker, name, "Wrong#password1")) == "用户名或密码错误"
    fourth = post_login(attacker, "district_a", "Wrong#password1")
    assert login_error(fourth) == "用户名或密码错误；失败次数过多，已锁定 15 分钟"
    [lockout] = events("auth.lockout")
    assert lockout.after == {"locked_by": "address"}
    assert lockout.client_address == "10.3.0.66"

    # No username reached its own limit, yet the address may not log in as anyone.
    refused = post_login(attacker, "resp_dept")
    assert login_error(refused) == "登录失败次数过多，账号或地址已被锁定，请 15 分钟后再试"
    assert logged_in_user_id(attacker) is None
    assert events("auth.login_locked")[0].after == {"locked_by": "address"}

    # Another address is not affected.
    elsewhere = address_client("10.3.0.67")
    assert post_login(elsewhere, "leader").status_code == 302

    travel_failures(15.01)
    assert post_login(attacker, "resp_dept").status_code == 302


@LOCKOUT
@pytest.mark.django_db
def test_successful_login_clears_the_usernames_failures(personas, address_client):
    client = address_client("10.4.0.1")
    for _ in range(4):
        post_login(client, "leader", "Wrong#password1")
    post_login(client, "coordinator", "Wrong#password1")
    assert post_login(client, "leader").status_code == 302
    assert LoginFailure.objects.filter(username="leader", cleared=False).count() == 0
    assert LoginFailure.objects.filter(username="leader", cleared=True).count() == 4
    # Other usernames' failures are not touched.
    assert LoginFailure.objects.filter(username="coordinator", cleared=False).count() == 1

    fresh = address_client("10.4.0.1")
    for _ in range(4):
        post_login(fresh, "leader", "Wrong#password1")
    # Eight failures in the window, but only four since the successful login.
    assert lock_state("leader", "10.4.0.1").locked is False
    assert post_login(fresh, "leader").status_code == 302


# --- logout ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_is_audited_with_the_address_and_ends_the_session(personas, address_client):
    client = address_client("10.5.0.1")
    post_login(client, "district_a")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    [event] = events("auth.logout")
    assert event.actor_id == personas["district_a"].pk
    assert event.client_address == "10.5.0.1"
    assert logged_in_user_id(client) is None
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_logout_by_get_is_refused_and_the_session_stays(client_for, personas):
    client = client_for("district_a")
    assert client.get("/accounts/logout/").status_code == 405
    assert logged_in_user_id(client) == str(personas["district_a"].pk)
    assert events("auth.logout") == []


# --- idle timeout ----------------------------------------------------------------------------


def _set_last_seen(client: Client, seconds_ago: float) -> None:
    session = client.session
    session[SESSION_LAST_SEEN] = time.time() - seconds_ago
    session.save()


@override_settings(SIZHEN_IDLE_TIMEOUT_SECONDS=600)
@pytest.mark.django_db
def test_idle_session_is_logged_out_audited_and_sent_to_login(personas, address_client):
    client = address_client("10.6.0.1")
    post_login(client, "coordinator")
    assert client.get("/").status_code == 200
    _set_last_seen(client, 601)
    response = client.get("/system/?tab=1")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fsystem%2F%3Ftab%3D1"
    [event] = events("auth.session_timeout")
    assert event.actor_id == personas["coordinator"].pk
    assert event.client_address == "10.6.0.1"
    assert logged_in_user_id(client) is None
    assert client.get("/").status_code == 302
    assert len(events("auth.session_timeout")) == 1
    login_page = client.get(response["Location"])
    assert "您已超过 10 分钟未操作，为保障安全已自动退出，请重新登录" in login_page.content.decode()


@override_settings(SIZHEN_IDLE_TIMEOUT_SECONDS=600)
@pytest.mark.django_db
def test_active_session_is_kept_and_its_clock_restarts(personas, client_for):
    client = client_for("coordinator")
    assert client.get("/").status_code == 200
    _set_last_seen(client, 590)
    assert client.get("/").status_code == 200
    # The request restarted the idle clock: it is now fresh, not 590 seconds old.
    assert time.time() - client.session[SESSION_LAST_SEEN] < 60
    assert logged_in_user_id(client) == str(personas["coordinator"].pk)
    assert events("auth.session_timeout") == []


@override_settings(SIZHEN_IDLE_TIMEOUT_SECONDS=600)
@pytest.mark.django_db
def test_idle_api_session_is_logged_out_and_gets_401(personas, client_for):
    client = client_for("coordinator")
    assert client.get("/api/v1/me").status_code == 200
    _set_last_seen(client, 601)
    assert client.get("/api/v1/me").status_code == 401
    assert len(events("auth.session_timeout")) == 1


def _travel_session(client: Client, seconds: float) -> None:
    """Move the session's login and last-seen stamps ``seconds`` into the past."""
    session = client.session
    for key in (SESSION_LAST_SEEN, SESSION_LOGIN_AT):
        session[key] -= seconds
    session.save()


@override_settings(SIZHEN_IDLE_TIMEOUT_SECONDS=30)
@pytest.mark.django_db
def test_short_idle_timeout_keeps_a_session_active_every_twenty_seconds(personas, client_for):
    client = client_for("coordinator")
    assert client.get("/").status_code == 200
    for _ in range(6):
        _travel_session(client, 20)
        assert client.get("/").status_code == 200
    assert logged_in_user_id(client) == str(personas["coordinator"].pk)
    assert events("auth.session_timeout") == []
    _travel_session(client, 31)
    assert client.get("/").status_code == 302
    assert len(events("auth.session_timeout")) == 1


@override_settings(SIZHEN_IDLE_TIMEOUT_SECONDS=1800, SESSION_COOKIE_AGE=12 * 3600)
@pytest.mark.django_db
def test_an_active_session_ends_at_the_maximum_age_since_login(personas, address_client):
    client = address_client("10.6.0.2")
    post_login(client, "coordinator")
    assert client.get("/").status_code == 200
    # Active all day: a request every 20 minutes for 11 hours 40 minutes.
    for _ in range(35):
        _travel_session(client, 20 * 60)
        assert client.get("/").status_code == 200
    assert logged_in_user_id(client) == str(personas["coordinator"].pk)
    _travel_session(client, 21 * 60)
    response = client.get("/system/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fsystem%2F"
    assert logged_in_user_id(client) is None
    [event] = events("auth.session_expired")
    assert (event.actor_id, event.client_address) == (personas["coordinator"].pk, "10.6.0.2")
    assert events("auth.session_timeout") == []
    login_page = client.get(response["Location"])
    assert "登录已超过 12 小时，为保障安全已自动退出，请重新登录" in login_page.content.decode()


@override_settings(SIZHEN_IDLE_TIMEOUT_SECONDS=7200, SESSION_COOKIE_AGE=3600)
@pytest.mark.django_db
def test_an_api_session_past_the_maximum_age_gets_401(personas, client_for):
    client = client_for("coordinator")
    assert client.get("/api/v1/me").status_code == 200
    _travel_session(client, 3601)
    assert client.get("/api/v1/me").status_code == 401
    assert len(events("auth.session_expired")) == 1


# --- forced password change ------------------------------------------------------------------


@pytest.mark.django_db
def test_created_user_must_change_the_initial_password_first(personas, city, client_for):
    admin = client_for("sysadmin")
    created = admin.post(
        "/accounts/users/new/",
        {
            "username": "wang.fang",
            "full_name": "王芳",
            "role": "district_officer",
            "region": city["district_b"].pk,
        },
    )
    initial = created.context["password"]
    user = User.objects.get(username="wang.fang")
    assert user.must_change_password is True

    client = Client(REMOTE_ADDR="10.7.0.1")
    response = post_login(client, "wang.fang", initial, next="/system/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"
    # Every other page, and the API, sends the user back to the password page.
    for url in ("/", "/accounts/users/", "/org/enterprises/"):
        forced = client.get(url)
        assert (forced.status_code, forced["Location"]) == (302, "/accounts/password/")
    api = client.get("/api/v1/me")
    assert api.status_code == 403
    assert api.json() == {"detail": "首次登录须先修改密码"}
    page = client.get("/accounts/password/")
    assert page.status_code == 200
    assert 'data-testid="must-change"' in page.content.decode()

    changed = client.post(
        "/accounts/password/",
        {
            "old_password": initial,
            "new_password": "Xishan#Road2026",
            "new_password_again": "Xishan#Road2026",
        },
    )
    assert changed.status_code == 302
    assert changed["Location"] == "/"
    user.refresh_from_db()
    assert user.must_change_password is False
    assert user.check_password("Xishan#Road2026")
    [event] = events("auth.password_changed")
    assert (event.actor_id, event.object_id, event.client_address) == (
        user.pk,
        str(user.pk),
        "10.7.0.1",
    )
    # The session survived the password change and now reaches the pages.
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").json()["region_code"] == "449902"
