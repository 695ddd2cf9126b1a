"""Writes for accounts: login with lockout, password changes, users, API tokens."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizhen.accounts.models import (
    TOKEN_PREFIX,
    ApiToken,
    ApiTokenScope,
    LoginFailure,
    PasswordHistory,
    TokenActor,
    User,
    hash_token,
)
from sizhen.core.audit import changed, record_event, snapshot
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role


class LoginRefused(Exception):
    """The login failed; ``message`` is safe to show (it never says whether the user exists)."""


@dataclass(frozen=True)
class LockState:
    locked: bool
    minutes_left: int = 0


def lock_state(username: str, client_address: str | None) -> LockState:
    window_start = timezone.now() - dt.timedelta(minutes=settings.SIZHEN_LOCKOUT_MINUTES)
    recent = LoginFailure.objects.filter(at__gte=window_start, cleared=False)
    by_user = recent.filter(username__iexact=username).order_by("-at")
    checks = [(by_user, settings.SIZHEN_LOCKOUT_ATTEMPTS)]
    if client_address:
        checks.append(
            (
                recent.filter(client_address=client_address).order_by("-at"),
                settings.SIZHEN_LOCKOUT_ADDRESS_ATTEMPTS,
            )
        )
    for failures, limit in checks:
        if failures.count() >= limit:
            oldest_counted = list(failures.values_list("at", flat=True)[:limit])[-1]
            unlock = oldest_counted + dt.timedelta(minutes=settings.SIZHEN_LOCKOUT_MINUTES)
            minutes = max(1, int((unlock - timezone.now()).total_seconds() // 60) + 1)
            return LockState(True, minutes)
    return LockState(False)


def login_user(*, username: str, password: str, client_address: str | None, request: Any = None) -> User:
    """Check the credentials under the lockout policy; every outcome is audited."""
    username = (username or "").strip()
    state = lock_state(username, client_address)
    if state.locked:
        record_event(
            "auth.login_locked",
            actor=None,
            object_type="accounts.user",
            object_repr=username[:200],
            message=f"登录被锁定（剩余约 {state.minutes_left} 分钟）",
        )
        raise LoginRefused(
            f"登录失败次数过多，账号或地址已被锁定，请 {state.minutes_left} 分钟后再试"
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        with transaction.atomic():
            LoginFailure.objects.create(username=username, client_address=client_address)
            record_event(
                "auth.login_failed",
                actor=None,
                object_type="accounts.user",
                object_repr=username[:200],
                message="用户名或密码错误",
            )
        after = lock_state(username, client_address)
        if after.locked:
            raise LoginRefused(
                f"用户名或密码错误；失败次数过多，已锁定 {settings.SIZHEN_LOCKOUT_MINUTES} 分钟"
            )
        raise LoginRefused("用户名或密码错误")
    assert isinstance(user, User)
    with transaction.atomic():
        LoginFailure.objects.filter(username__iexact=username, cleared=False).update(cleared=True)
        record_event("auth.login", actor=user, obj=user)
    return user


def record_logout(user: Any, *, reason: str = "") -> None:
    if getattr(user, "is_authenticated", False):
        record_event(
            "auth.session_timeout" if reason == "timeout" else "auth.logout",
            actor=user,
            obj=user,
            message="会话空闲超时" if reason == "timeout" else "",
        )


@transaction.atomic
def change_password(user: User, *, actor: Any, new_password: str, old_password: str | None = None) -> None:
    if old_password is not None and not user.check_password(old_password):
        raise ValidationError({"old_password": "原密码不正确"})
    validate_password(new_password, user)
    if user.password:
        PasswordHistory.objects.create(user=user, password=user.password)
    user.set_password(new_password)
    user.must_change_password = actor is not None and getattr(actor, "pk", None) != user.pk
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    record_event(
        "auth.password_changed" if actor is not None and actor.pk == user.pk else "user.password_reset",
        actor=actor,
        obj=user,
    )


def _check_user_binding(fields: dict[str, Any]) -> None:
    role = fields.get("role")
    errors: dict[str, str] = {}
    if role not in [r.value for r in Role if r != Role.MACHINE]:
        errors["role"] = "角色无效"
    if role in DEPARTMENT_ROLES and not fields.get("department"):
        errors["department"] = "部门用户须选择所属部门"
    if role == Role.DISTRICT_OFFICER and not fields.get("region"):
        errors["region"] = "县市区/园区用户须选择管辖区划"
    if role == Role.ENTERPRISE and not fields.get("enterprise"):
        errors["enterprise"] = "企业用户须选择所属企业"
    if role in CITY_WIDE_ROLES and fields.get("enterprise"):
        errors["enterprise"] = "该角色不能绑定企业"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_user(*, actor: Any, password: str | None = None, **fields: Any) -> tuple[User, str]:
    """Create a user; returns (user, initial password). The user must change it on first login."""
    _check_user_binding(fields)
    initial = password or generate_initial_password()
    user = User(**fields)
    user.must_change_password = True
    validate_password(initial, user)
    user.set_password(initial)
    user.full_clean(exclude=["password"])
    user.save()
    record_event("user.create", actor=actor, obj=user, after=snapshot(user))
    return user, initial


@transaction.atomic
def update_user(user: User, *, actor: Any, **fields: Any) -> User:
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    _check_user_binding(
        {
            "role": locked.role,
            "department": locked.department,
            "region": locked.region,
            "enterprise": locked.enterprise,
        }
    )
    locked.full_clean(exclude=["password"])
    locked.save()
    old, new = changed(before, snapshot(locked))
    record_event("user.update", actor=actor, obj=locked, before=old, after=new)
    return locked


def generate_initial_password() -> str:
    # 14 characters with every class present, so it always satisfies the complexity policy.
    alphabet_upper = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    alphabet_lower = "abcdefghijkmnpqrstuvwxyz"
    digits = "23456789"
    symbols = "!@#%*+-_"
    core = [secrets.choice(alphabet_upper), secrets.choice(alphabet_lower), secrets.choice(digits)]
    core.append(secrets.choice(symbols))
    pool = alphabet_upper + alphabet_lower + digits
    core += [secrets.choice(pool) for _ in range(10)]
    secrets.SystemRandom().shuffle(core)
    return "".join(core)


@transaction.atomic
def create_api_token(
    *,
    actor: Any,
    name: str,
    department: Any,
    scopes: list[str],
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns (token row, the secret) — the secret is never stored or shown again."""
    unknown = set(scopes) - set(ApiTokenScope.values)
    if unknown:
        raise ValidationError({"scopes": f"未知的权限范围：{', '.join(sorted(unknown))}"})
    if not scopes:
        raise ValidationError({"scopes": "至少选择一项权限范围"})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "到期时间须晚于当前时间"})
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        name=name,
        department=department,
        prefix=prefix,
        key_hash=hash_token(secret),
        scopes=sorted(scopes),
        created_by=actor if getattr(actor, "pk", None) else None,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    record_event(
        "api_token.create",
        actor=actor,
        obj=token,
        after={"name": name, "department": department.pk, "scopes": sorted(scopes)},
    )
    return token, secret


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor: Any) -> ApiToken:
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event("api_token.revoke", actor=actor, obj=locked)
    return locked


#: last_used_at is written at most this often per token, so high-rate intake is not one
#: extra write per request.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def authenticate_token(raw: str, *, client_address: str | None) -> TokenActor | None:
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("department__region")
        .filter(key_hash=hash_token(raw))
        .first()
    )
    if token is None or not token.is_usable:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(
            last_used_at=now, last_used_address=client_address
        )
        token.last_used_at = now
    return TokenActor(token)
