"""Users with a role and a scope, password history, failed logins, API tokens."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import (
    CHANGE,
    DELETE,
    EXPORT,
    VIEW,
    Actor,
    ScopedManager,
    ScopedQuerySet,
    has_role,
)
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, USER_ROLES, Role
from sizhen.organisations.models import Department, Enterprise, Region

_UserManagerWithScope = UserManager.from_queryset(ScopedQuerySet)


# django-stubs' plugin builds the ``from_queryset`` class, and types the manager and its
# querysets from it, but mypy still calls the variable "not valid as a type" in a base list.
class ScopedUserManager(_UserManagerWithScope["User"]):  # type: ignore[valid-type]
    """Django's user manager (``create_user`` …) with ``visible_to``; a named class, because
    migrations refer to it."""


class User(AbstractUser):
    """A person with one role. Scope: city-wide roles see everything; department roles their
    department's region subtree; district officers their region subtree; enterprises themselves."""

    full_name = models.CharField("姓名", max_length=40, blank=True)
    role = models.CharField("角色", max_length=30, choices=[(r.value, r.label) for r in USER_ROLES])
    department = models.ForeignKey(
        Department,
        verbose_name="所属部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="所属企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    region = models.ForeignKey(
        Region,
        verbose_name="管辖区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    phone = models.CharField("手机号", max_length=20, blank=True)
    #: The head of a department (单位负责人): whom an enterprise request its department leaves
    #: without progress is escalated to first (docs/decisions/0011-request-escalation.md).
    unit_leader = models.BooleanField(
        "单位负责人",
        default=False,
        help_text="部门用户：本单位主要或分管负责同志；本单位诉求超时无进展时首先提级给此人",
    )
    must_change_password = models.BooleanField("首次登录须改密", default=True)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)

    objects: ClassVar[ScopedUserManager] = ScopedUserManager()

    class Meta:
        verbose_name = "用户"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def audit_label(self) -> str:
        return f"{self.full_name or self.username}（{self.username}）"

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else self.role

    @property
    def scope_region(self) -> Region | None:
        if self.role in CITY_WIDE_ROLES:
            return Region.objects.filter(parent__isnull=True).first()
        if self.role == Role.DISTRICT_OFFICER:
            return self.region
        if self.role in DEPARTMENT_ROLES and self.department_id:
            return self.department.region  # type: ignore[union-attr]
        if self.role == Role.ENTERPRISE and self.enterprise_id:
            return self.enterprise.region  # type: ignore[union-attr]
        return None

    @property
    def scope_path(self) -> str | None:
        if self.role in CITY_WIDE_ROLES:
            return "/"
        if self.role == Role.ENTERPRISE:
            return None  # enterprises are scoped to their own records, not to a region
        region = self.scope_region
        return region.path if region else None

    @property
    def scope_label(self) -> str:
        if self.role in CITY_WIDE_ROLES:
            return "全市"
        if self.role == Role.ENTERPRISE:
            return str(self.enterprise) if self.enterprise_id else "未绑定企业"
        if self.role in DEPARTMENT_ROLES:
            return str(self.department) if self.department_id else "未绑定部门"
        region = self.scope_region
        return str(region) if region else "未设置管辖区划"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if has_role(actor, Role.SYSADMIN):
            return Q()
        if action in (VIEW, EXPORT) and has_role(actor, Role.COORDINATOR, Role.LEADER):
            return Q()
        if action in (CHANGE, DELETE):
            return None
        return Q(pk=getattr(actor, "pk", None))


class PasswordHistory(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d}"


class LoginFailure(models.Model):
    """One failed login; the lockout counts these per username and per client address."""

    username = models.CharField(max_length=150, db_index=True)
    client_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    cleared = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M:%S}"


class LoginGate(models.Model):
    """One row per username (lower-cased) and per client address that has tried to log in.

    An attempt locks its rows (SELECT … FOR UPDATE; on SQLite the IMMEDIATE transaction) while
    it checks the lockout and reserves its place, so parallel attempts are counted one after
    another and no more than the limit ever reach the password check."""

    key = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.key


TOKEN_PREFIX = "szk_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for


def hash_token(secret: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is safe (no dictionary to attack) and
    # keeps lookup cheap for high-rate machine intake; see docs/decisions/0003-api-tokens.md.
    return hashlib.sha256(secret.encode()).hexdigest()

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M:%S}"


class ApiTokenScope(models.TextChoices):
    RECORDS_WRITE = "records:write", "推送业务数据"
    REQUESTS_WRITE = "requests:write", "推送企业诉求"
    REQUESTS_READ = "requests:read", "读取企业诉求"
    TASKS_WRITE = "tasks:write", "反馈工作任务"
    RECTIFICATION_WRITE = "rectification:write", "反馈整改进展"
    SURVEYS_WRITE = "surveys:write", "提交问卷答卷"
    READ = "read", "只读查询"


class ApiToken(models.Model):
    """A machine client's credential. Only its SHA-256 is stored; the token is shown once."""

    name = models.CharField("名称", max_length=100)
    department = models.ForeignKey(
        Department, verbose_name="所属部门", on_delete=models.PROTECT, related_name="api_tokens"
    )
    prefix = models.CharField("前缀", max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField("权限范围", default=list)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    expires_at = models.DateTimeField("到期时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    last_used_address = models.GenericIPAddressField("最近使用地址", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "接口令牌"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def state_label(self) -> str:
        if self.revoked_at:
            return "已吊销"
        if self.expires_at and self.expires_at <= timezone.now():
            return "已过期"
        return "有效"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return Q() if has_role(actor, Role.SYSADMIN) else None


class TokenActor:
    """The actor behind an API token: a machine client of one department."""

    is_authenticated = True
    is_active = True
    role = Role.MACHINE.value
    pk = None

    def __init__(self, token: ApiToken):
        self.token = token
        self.department = token.department
        self.department_id = token.department_id
        self.enterprise_id = None
        self.scopes = frozenset(token.scopes)

    @property
    def scope_path(self) -> str | None:
        return self.department.region.path

    @property
    def audit_label(self) -> str:
        return f"接口令牌 {self.token.prefix}（{self.department.name}）"

    def __str__(self) -> str:
        return self.audit_label

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def acting_user(actor: Actor | None) -> User | None:
    """The user to record in a foreign key (created by, reviewed by, author …): the actor when
    it is a person. A machine client (API token) and the system (None) record none; the audit
    event carries their label."""
    return actor if isinstance(actor, User) else None
