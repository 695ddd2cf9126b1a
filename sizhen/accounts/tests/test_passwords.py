"""Password policy (等保 2.0: 身份鉴别 — length, complexity, common passwords, history)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from conftest import PASSWORD
from sizhen.accounts import services
from sizhen.accounts.models import PasswordHistory, User
from sizhen.accounts.tests.conftest import events
from sizhen.core.roles import Role

POLICY_CASES = [
    ("Ab1!xyz9", ["password_too_short"]),
    ("abcdefghjkmnp", ["password_too_simple"]),
    ("ABCDEFGHJKmnp", ["password_too_simple"]),
    ("384729105638", ["password_entirely_numeric", "password_too_simple"]),
    ("Password123", ["password_too_common"]),
    ("Qwerty12345", ["password_too_common"]),
    ("Ab1!", ["password_too_short"]),
    (PASSWORD, ["password_reused"]),
]


def _codes(exc: ValidationError) -> list[str]:
    return [error.code for error in exc.error_list]


@pytest.mark.django_db
@pytest.mark.parametrize(("password", "codes"), POLICY_CASES)
def test_policy_refuses_with_exact_codes_and_changes_nothing(personas, password, codes):
    user = personas["district_a"]
    with pytest.raises(ValidationError) as caught:
        services.change_password(user, actor=user, old_password=PASSWORD, new_password=password)
    assert _codes(caught.value) == codes
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert PasswordHistory.objects.count() == 0
    assert events("auth.password_changed") == []


@pytest.mark.django_db
def test_minimum_length_is_ten_by_default(personas):
    user = personas["district_a"]
    with pytest.raises(ValidationError) as caught:
        services.change_password(user, actor=user, new_password="Ab1!xyz9q")
    assert _codes(caught.value) == ["password_too_short"]
    services.change_password(user, actor=user, new_password="Ab1!xyz9qw")
    user.refresh_from_db()
    assert user.check_password("Ab1!xyz9qw")


@pytest.mark.django_db
def test_three_of_four_classes_is_enough(personas):
    user = personas["district_a"]
    for password in ("lowerUPPER2026", "lower#upper#Case", "lower-2026-digit"):
        services.change_password(user, actor=user, new_password=password)
        user.refresh_from_db()
        assert user.check_password(password)


@pytest.mark.django_db
def test_wrong_old_password_is_refused_with_its_code(personas):
    user = personas["district_a"]
    with pytest.raises(ValidationError) as caught:
        services.change_password(
            user, actor=user, old_password="Not#the#password1", new_password="Fresh#Password2026"
        )
    assert [e.code for e in caught.value.error_dict["old_password"]] == ["wrong_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_the_last_five_passwords_cannot_be_reused(personas):
    user = personas["district_a"]
    history = [PASSWORD] + [f"Rotation#{n}Pass" for n in range(1, 7)]
    for new in history[1:]:
        services.change_password(user, actor=user, new_password=new)
        user.refresh_from_db()
    assert user.check_password("Rotation#6Pass")
    assert PasswordHistory.objects.filter(user=user).count() == 6
    # Current password and the five before it are refused...
    for reused in history[-6:]:
        with pytest.raises(ValidationError) as caught:
            services.change_password(user, actor=user, new_password=reused)
        assert _codes(caught.value) == ["password_reused"]
    user.refresh_from_db()
    assert user.check_password("Rotation#6Pass")
    # ...the sixth-oldest (the persona's original password) may be used again.
    services.change_password(user, actor=user, new_password=PASSWORD)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@override_settings(
    AUTH_PASSWORD_VALIDATORS=[
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": 18},
        },
        {"NAME": "sizhen.accounts.passwords.ComplexityValidator"},
    ]
)
@pytest.mark.django_db
def test_generated_passwords_follow_a_longer_configured_minimum(personas):
    password = services.generate_initial_password()
    assert len(password) == 18
    user, initial = services.create_user(
        actor=personas["sysadmin"], username="long.pw", full_name="长密码", role=Role.LEADER
    )
    assert len(initial) == 18
    assert user.check_password(initial)


@pytest.mark.django_db
def test_generated_passwords_always_pass_the_policy(personas):
    from django.contrib.auth.password_validation import validate_password

    user = personas["district_a"]
    for _ in range(50):
        password = services.generate_initial_password()
        validate_password(password, user)
        assert len(password) == 14


# --- the page --------------------------------------------------------------------------------


def _form_codes(response, field):  # type: ignore[no-untyped-def]
    return [e.code for e in response.context["form"].errors.as_data()[field]]


@pytest.mark.django_db
@pytest.mark.parametrize(("password", "codes"), POLICY_CASES)
def test_password_page_shows_each_policy_error(personas, client_for, password, codes):
    client = client_for("district_a")
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password": password, "new_password_again": password},
    )
    assert response.status_code == 400
    assert _form_codes(response, "new_password") == codes
    user = User.objects.get(username="district_a")
    assert user.check_password(PASSWORD)
    assert events("auth.password_changed") == []


@pytest.mark.django_db
def test_password_page_wrong_old_password_and_mismatch(personas, client_for):
    client = client_for("district_a")
    wrong_old = client.post(
        "/accounts/password/",
        {
            "old_password": "Not#the#password1",
            "new_password": "Fresh#Password2026",
            "new_password_again": "Fresh#Password2026",
        },
    )
    assert wrong_old.status_code == 400
    assert _form_codes(wrong_old, "old_password") == ["wrong_password"]
    assert "原密码不正确" in wrong_old.content.decode()
    mismatch = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password": "Fresh#Password2026",
            "new_password_again": "Fresh#Password2027",
        },
    )
    assert mismatch.status_code == 400
    assert _form_codes(mismatch, "new_password_again") == ["password_mismatch"]
    user = User.objects.get(username="district_a")
    assert user.check_password(PASSWORD)
    assert PasswordHistory.objects.count() == 0


@pytest.mark.django_db
def test_password_page_changes_the_password_and_keeps_the_session(personas, client_for):
    client = client_for("district_a")
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password": "Fresh#Password2026",
            "new_password_again": "Fresh#Password2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="district_a")
    assert user.check_password("Fresh#Password2026")
    assert user.password_changed_at is not None
    assert PasswordHistory.objects.filter(user=user).count() == 1
    [event] = events("auth.password_changed")
    assert event.actor_id == user.pk
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_password_page_needs_login(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password/"


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("Ab1!x", ["密码太短，至少需要 10 个字符"]),
        (
            "20262026202620",
            ["密码不能全为数字", "密码须至少包含大写字母、小写字母、数字、符号中的三类"],
        ),
        ("Password123", ["密码过于常见"]),
    ],
)
def test_policy_messages_are_chinese_outside_any_request(password, messages):
    # Services and the API run without a request that activates Chinese.
    from django.contrib.auth.password_validation import validate_password
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert refused.value.messages == messages
