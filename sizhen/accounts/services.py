"""Writes for accounts: login with lockout, password changes, users, API tokens."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import (
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizhen.accounts.models import (
    TOKEN_PREFIX,
    ApiToken,
    ApiTokenScope,
    LoginFailure,
    LoginGate,
    PasswordHistory,
    TokenActor,
    User,
    acting_user,
    hash_token,
)
from sizhen.core.access import Actor
from sizhen.core.audit import changed, record_event, snapshot
from sizhen.core.roles import DEPARTMENT_ROLES, DEPARTMENT_STAFF_ROLES, Role
from sizhen.core.sql import select_one_with_chain


class LoginRefused(Exception):
    """The login failed; ``message`` is safe to show (it never says whether the user exists)."""


@dataclass(frozen=True)
class LockState:
    locked: bool
    minutes_left: int = 0
    #: what is locked: "username" or "address"
    reason: str = ""


def _lock_until(times: list[dt.datetime], limit: int, window: dt.timedelta) -> dt.datetime | None:
    """When the lock triggered by these failures (ascending) ends, or None.

    A lock starts at the failure that brings the count within one window to ``limit`` and lasts
    one full window from then (等保 2.0: "lock for N minutes after N failures"), however the
    failures were spread. Attempts refused while locked are not recorded, so failures of an
    expired lock can never combine with later ones."""
    until = None
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= window:
            candidate = times[i] + window
            until = candidate if until is None or candidate > until else until
    return until


def lock_state(username: str, client_address: str | None) -> LockState:
    now = timezone.now()
    window = dt.timedelta(minutes=settings.SIZHEN_LOCKOUT_MINUTES)
    # A lock still running started within the last window, and the failures that triggered it
    # lie within one window before that.
    recent = LoginFailure.objects.filter(at__gte=now - 2 * window, at__lte=now, cleared=False)
    checks = [
        ("username", recent.filter(username__iexact=username), settings.SIZHEN_LOCKOUT_ATTEMPTS)
    ]
    if client_address:
        checks.append(
            (
                "address",
                recent.filter(client_address=client_address),
                settings.SIZHEN_LOCKOUT_ADDRESS_ATTEMPTS,
            )
        )
    for reason, failures, limit in checks:
        # Bounded: nothing is recorded while locked, so two windows hold few rows; the cap
        # guards against a burst of concurrent attempts.
        times = sorted(failures.order_by("-at").values_list("at", flat=True)[: 4 * limit + 20])
        until = _lock_until(times, limit, window)
        if until is not None and until > now:
            minutes = max(1, math.ceil((until - now).total_seconds() / 60))
            return LockState(True, minutes, reason)
    return LockState(False)


def _reserve_attempt(username: str, client_address: str | None) -> tuple[LockState, int | None]:
    """Check the lockout and, when not locked, record this attempt as a failure up front, in
    one step per username and address: the gate rows are locked (in key order, so two attempts
    never wait on each other crosswise) until the reservation is committed. Parallel attempts
    therefore see each other's reservations, and at most the limit reach the password check.
    Returns the lock state and the reservation's id."""
    keys = sorted(
        [f"user:{username.lower()[:150]}"]
        + ([f"address:{client_address}"] if client_address else [])
    )
    with transaction.atomic():
        LoginGate.objects.bulk_create([LoginGate(key=key) for key in keys], ignore_conflicts=True)
        list(LoginGate.objects.select_for_update().filter(key__in=keys).order_by("key"))
        state = lock_state(username, client_address)
        if state.locked:
            return state, None
        reservation = LoginFailure.objects.create(
            username=username[:150], client_address=client_address
        )
    return state, reservation.pk


def login_user(
    *, username: str, password: str, client_address: str | None, request: Any = None
) -> User:
    """Check the credentials under the lockout policy; every outcome is audited.

    Every refusal reads the same whether or not the username exists, and failures of unknown
    usernames are counted and locked exactly like those of real ones."""
    username = (username or "").strip()
    anonymous = AnonymousUser()
    state, reservation = _reserve_attempt(username, client_address)
    if reservation is None:
        record_event(
            "auth.login_locked",
            actor=anonymous,
            object_type="accounts.user",
            object_repr=username[:200],
            message=f"登录被拒绝：已锁定（剩余约 {state.minutes_left} 分钟）",
            after={"locked_by": state.reason},
        )
        raise LoginRefused(
            f"登录失败次数过多，账号或地址已被锁定，请 {state.minutes_left} 分钟后再试"
        )
    # From here on the attempt counts as a failure unless the password proves right (a crash
    # in between leaves it counted, which errs on the safe side).
    user = authenticate(request, username=username, password=password)
    if user is None:
        with transaction.atomic():
            record_event(
                "auth.login_failed",
                actor=anonymous,
                object_type="accounts.user",
                object_repr=username[:200],
                message="用户名或密码错误",
            )
            after = lock_state(username, client_address)
            if after.locked:
                record_event(
                    "auth.lockout",
                    actor=anonymous,
                    object_type="accounts.user",
                    object_repr=username[:200],
                    message=(
                        f"连续登录失败，{'该用户名' if after.reason == 'username' else '该地址'}"
                        f"锁定 {settings.SIZHEN_LOCKOUT_MINUTES} 分钟"
                    ),
                    after={"locked_by": after.reason},
                )
        if after.locked:
            raise LoginRefused(
                f"用户名或密码错误；失败次数过多，已锁定 {settings.SIZHEN_LOCKOUT_MINUTES} 分钟"
            )
        raise LoginRefused("用户名或密码错误")
    assert isinstance(user, User)
    with transaction.atomic():
        # The reservation was not a failure after all.
        LoginFailure.objects.filter(pk=reservation).delete()
        LoginFailure.objects.filter(username__iexact=username, cleared=False).update(cleared=True)
        record_event("auth.login", actor=user, obj=user)
    return user


#: reason -> (audit action, message) of a session's end
LOGOUT_REASONS = {
    "": ("auth.logout", ""),
    "timeout": ("auth.session_timeout", "会话空闲超时"),
    "max_age": ("auth.session_expired", "会话达到最长时限"),
}


def record_logout(user: Any, *, reason: str = "") -> None:
    if getattr(user, "is_authenticated", False):
        action, message = LOGOUT_REASONS[reason]
        record_event(action, actor=user, obj=user, message=message)


@transaction.atomic
def change_password(
    user: User, *, actor: Actor, new_password: str, old_password: str | None = None
) -> None:
    """Set a new password under the policy. Set by someone else (a reset), it must be changed
    by its owner at the next login."""
    if old_password is not None and not user.check_password(old_password):
        raise ValidationError(
            {"old_password": ValidationError("原密码不正确", code="wrong_password")}
        )
    validate_password(new_password, user)
    if user.password:
        PasswordHistory.objects.create(user=user, password=user.password)
    user.set_password(new_password)
    by_owner = actor is not None and getattr(actor, "pk", None) == user.pk
    user.must_change_password = not by_owner
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    record_event(
        "auth.password_changed" if by_owner else "user.password_reset", actor=actor, obj=user
    )


def reset_password(user: User, *, actor: Actor) -> str:
    """An administrator's reset: a generated password, shown once, to be changed at next login."""
    if getattr(actor, "pk", None) == user.pk:
        raise ValidationError("不能重置自己的密码，请使用“修改密码”")
    new_password = generate_initial_password()
    change_password(user, actor=actor, new_password=new_password)
    return new_password


#: What an administrator may set on a user. Activation, passwords and login bookkeeping have
#: their own services so that each is audited as what it is.
EDITABLE_USER_FIELDS = frozenset(
    {"full_name", "role", "department", "region", "enterprise", "phone", "email", "unit_leader"}
)


def _check_user_binding(fields: dict[str, Any]) -> None:
    """The scope a role needs: a department for department roles, a region for district
    officers, an enterprise for enterprise users, and nothing that would widen or blur it."""
    role = fields.get("role")
    errors: dict[str, str] = {}
    if role not in [r.value for r in Role if r != Role.MACHINE]:
        errors["role"] = "角色无效"
    if role in DEPARTMENT_ROLES and not fields.get("department"):
        errors["department"] = "部门用户须选择所属部门"
    if role == Role.DISTRICT_OFFICER and not fields.get("region"):
        errors["region"] = "县市区/园区用户须选择管辖区划"
    if role != Role.DISTRICT_OFFICER and fields.get("region"):
        errors["region"] = "只有县市区/园区用户需要设置管辖区划"
    if role == Role.ENTERPRISE:
        if not fields.get("enterprise"):
            errors["enterprise"] = "企业用户须选择所属企业"
        if fields.get("department"):
            errors["department"] = "企业用户不能绑定部门"
    elif fields.get("enterprise"):
        errors["enterprise"] = "该角色不能绑定企业"
    if fields.get("unit_leader") and role not in DEPARTMENT_STAFF_ROLES:
        errors["unit_leader"] = "只有部门用户可以设为单位负责人"
    if errors:
        raise ValidationError(errors)


def _check_editable(fields: dict[str, Any], extra: frozenset[str] = frozenset()) -> None:
    unknown = set(fields) - EDITABLE_USER_FIELDS - extra
    if unknown:
        raise TypeError(f"not editable through this service: {', '.join(sorted(unknown))}")


@transaction.atomic
def create_user(
    *, actor: Actor | None, password: str | None = None, **fields: Any
) -> tuple[User, str]:
    """Create a user; returns (user, initial password). The user must change it on first login."""
    _check_editable(fields, frozenset({"username"}))
    _check_user_binding(fields)
    username = (fields.get("username") or "").strip()
    fields["username"] = username
    # Logins and lockouts match usernames case-insensitively, so two users must not differ
    # only in case.
    if username and User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "该用户名已被使用"})
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
def update_user(user: User, *, actor: Actor, **fields: Any) -> User:
    _check_editable(fields)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.pk == getattr(actor, "pk", None) and fields.get("role", locked.role) != locked.role:
        # Otherwise the last administrator could demote themselves and nobody could undo it.
        raise ValidationError({"role": "不能修改自己的角色"})
    before = snapshot(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    _check_user_binding(
        {
            "role": locked.role,
            "department": locked.department,
            "region": locked.region,
            "enterprise": locked.enterprise,
            "unit_leader": locked.unit_leader,
        }
    )
    locked.full_clean(exclude=["password"])
    locked.save()
    old, new = changed(before, snapshot(locked))
    record_event("user.update", actor=actor, obj=locked, before=old, after=new)
    return locked


@transaction.atomic
def set_user_active(user: User, *, actor: Actor, active: bool) -> User:
    """Disable (停用) or enable a user. A disabled user's sessions stop working at once: the
    authentication backend refuses inactive users on every request."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.pk == getattr(actor, "pk", None):
        raise ValidationError("不能停用或启用自己的账号")
    if locked.is_active == active:
        raise ValidationError("该用户已启用" if active else "该用户已停用")
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    record_event(
        "user.enable" if active else "user.disable",
        actor=actor,
        obj=locked,
        before={"is_active": not active},
        after={"is_active": active},
    )
    return locked


def generate_initial_password() -> str:
    """A random password that always satisfies the policy: every character class is present
    and it is at least 14 characters, or longer if the configured minimum is."""
    alphabet_upper = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    alphabet_lower = "abcdefghijkmnpqrstuvwxyz"
    digits = "23456789"
    symbols = "!@#%*+-_"
    minimum = max([14] + [getattr(v, "min_length", 0) for v in get_default_password_validators()])
    core = [secrets.choice(alphabet_upper), secrets.choice(alphabet_lower), secrets.choice(digits)]
    core.append(secrets.choice(symbols))
    pool = alphabet_upper + alphabet_lower + digits
    core += [secrets.choice(pool) for _ in range(minimum - len(core))]
    secrets.SystemRandom().shuffle(core)
    return "".join(core)


@transaction.atomic
def create_api_token(
    *,
    actor: Actor,
    name: str,
    department: Any,
    scopes: list[str],
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns (token row, secret). The secret is never stored or shown again."""
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "请填写令牌名称"
    unknown = set(scopes) - set(ApiTokenScope.values)
    if unknown:
        errors["scopes"] = f"未知的权限范围：{', '.join(sorted(unknown))}"
    elif not scopes:
        errors["scopes"] = "至少选择一项权限范围"
    if department is None:
        errors["department"] = "请选择所属部门"
    elif not department.is_active:
        errors["department"] = "该部门已停用，不能签发令牌"
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "到期时间须晚于当前时间"
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        name=name,
        department=department,
        prefix=prefix,
        key_hash=hash_token(secret),
        scopes=sorted(scopes),
        created_by=acting_user(actor),
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
def revoke_api_token(token: ApiToken, *, actor: Actor) -> ApiToken:
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
    # Every machine request comes through here: one statement, built once per process (the
    # same row select_related("department__region") gives), never a cached answer: a revoked
    # token stops working at once.
    token = select_one_with_chain(ApiToken, ("department", "region"), "key_hash", hash_token(raw))
    if token is None or not token.is_usable or not token.department.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(
            last_used_at=now, last_used_address=client_address
        )
        token.last_used_at = now
    return TokenActor(token)
