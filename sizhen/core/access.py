"""Central access scoping. Every list, detail, export and API endpoint goes through here.

Each scoped model's queryset has ``visible_to(actor, action)`` which delegates to the model's
``scope_q(actor, action)``. An object the actor may not see answers 404, the same as one that does
not exist; the attempt is written to the audit log (``access.denied``).
"""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeGuard, TypeVar

from django.db import models
from django.db.models import Q
from django.http import Http404

from sizhen.core.roles import CITY_WIDE_ROLES, Role

VIEW = "view"
CHANGE = "change"
EXPORT = "export"
DELETE = "delete"
ACTIONS = frozenset({VIEW, CHANGE, EXPORT, DELETE})

#: A Q that matches nothing: the fail-closed answer.
NOTHING = Q(pk__in=[])


class Actor(Protocol):
    """Who acts: a logged-in user (``accounts.User``) or an API token's machine client
    (``accounts.TokenActor``). Read-only properties, so that model fields, class attributes and
    properties all satisfy it. Services that store the actor in a foreign key need a ``User``
    and ask for one (``accounts.models.acting_user``)."""

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def role(self) -> str: ...

    @property
    def pk(self) -> int | None: ...

    @property
    def scope_path(self) -> str | None: ...

    @property
    def department_id(self) -> int | None: ...

    @property
    def enterprise_id(self) -> int | None: ...

    @property
    def audit_label(self) -> str: ...


class MachineActor(Actor, Protocol):
    """An API token's machine client (``accounts.TokenActor``, role ``machine``): an actor
    that also holds the token's scopes (people are governed by their role instead)."""

    def has_scope(self, scope: str) -> bool: ...


def is_machine(actor: Actor | None) -> TypeGuard[MachineActor]:
    """Whether the actor is an API token's machine client. Only tokens have the role
    ``machine`` (users are given one of ``USER_ROLES``)."""
    return role_of(actor) == Role.MACHINE


def role_of(actor: Actor | None) -> str | None:
    """The actor's role, or None for nobody (no actor, logged out, disabled): every check
    built on it fails closed."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    if not getattr(actor, "is_active", True):
        return None
    return getattr(actor, "role", None)


def scope_key(actor: Actor | None) -> tuple[str | None, str | None, int | None, int | None]:
    """What the scope rules of shared figures (indicators, values, benchmarks, regions) read of
    an actor: role, scope path, department, enterprise. Two actors with the same key see the
    same figures, so a cache of them may share an entry (``core/versions.py``). Rules that read
    the actor's own id (their notifications, their jobs) must not be cached by this key."""
    return (
        role_of(actor),
        getattr(actor, "scope_path", None),
        getattr(actor, "department_id", None),
        getattr(actor, "enterprise_id", None),
    )


def is_city_wide(actor: Actor | None) -> bool:
    return role_of(actor) in CITY_WIDE_ROLES


def has_role(actor: Actor | None, *roles: str) -> bool:
    return role_of(actor) in roles


def region_scope_q(actor: Actor | None, region_path_field: str) -> Q:
    """Objects whose region lies in the actor's region subtree (materialised path prefix)."""
    role = role_of(actor)
    if role is None:
        return NOTHING
    if role in CITY_WIDE_ROLES:
        return Q()
    path = getattr(actor, "scope_path", None)
    if not path:
        return NOTHING
    return Q(**{f"{region_path_field}__startswith": path})


def source_key_of(actor: Actor | None) -> str:
    """Who submits, as the namespace of idempotency keys: ``token:<id>`` for an API token,
    ``user:<id>`` for a person, ``system`` otherwise."""
    token = getattr(actor, "token", None)
    if role_of(actor) == Role.MACHINE and token is not None:
        return f"token:{token.pk}"
    pk = getattr(actor, "pk", None)
    if pk is not None:
        return f"user:{pk}"
    return "system"


M = TypeVar("M", bound=models.Model)


class ScopedQuerySet(models.QuerySet[M]):
    """QuerySet with the one mechanism of access scoping. Generic over the model, so that
    ``Indicator.objects.visible_to(actor)`` is a queryset of indicators to the type checker."""

    def visible_to(self, actor: Actor | None, action: str = VIEW) -> Self:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if role_of(actor) is None:
            return self.none()
        scope = getattr(self.model, "scope_q", None)
        if scope is None:
            # A model without a scope rule is visible to no one: fail closed.
            return self.none()
        q = scope(actor, action)
        if q is None:
            return self.none()
        return self.filter(q)


#: The manager of every scoped model (``objects = ScopedManager()``): the plain manager with
#: ``visible_to`` and the other queryset methods, typed by the model it is attached to.
ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def get_visible_or_404(
    queryset: models.QuerySet[M] | type[M],
    actor: Actor | None,
    action: str = VIEW,
    **lookup: Any,
) -> M:
    """Fetch one object through the scope; 404 for missing and for not visible alike."""
    from sizhen.core.audit import record_event

    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    model: Any = qs.model
    if not isinstance(qs, ScopedQuerySet):
        raise TypeError(f"{model.__name__} has no ScopedManager: it cannot be fetched by scope")
    visible = qs.visible_to(actor, action)
    try:
        return visible.get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        try:
            exists = qs.filter(**lookup).exists()
        except (ValueError, TypeError):
            exists = False
        if exists:
            record_event(
                "access.denied",
                actor=actor,
                object_type=model._meta.label_lower,
                object_id=str(next(iter(lookup.values()), "")),
                message=f"无权{_ACTION_LABELS.get(action, action)}",
                after={"action": action},
            )
        raise Http404("未找到该记录") from exc
    except model.MultipleObjectsReturned as exc:  # pragma: no cover - lookups are unique
        raise Http404("未找到该记录") from exc


def require_role(
    actor: Actor | None, *roles: str, action: str = "access", target: str = ""
) -> None:
    """Refuse (404, audited) unless the actor holds one of the roles."""
    from sizhen.core.audit import record_event

    if role_of(actor) in roles:
        return
    if role_of(actor) is not None:
        record_event(
            "access.denied",
            actor=actor,
            object_type=target,
            message=f"角色无权访问：{target or action}",
            after={"action": action, "roles": sorted(roles)},
        )
    raise Http404("未找到该页面")


_ACTION_LABELS = {VIEW: "查看", CHANGE: "修改", EXPORT: "导出", DELETE: "删除"}

__all__ = [
    "CHANGE",
    "DELETE",
    "EXPORT",
    "NOTHING",
    "VIEW",
    "Actor",
    "MachineActor",
    "Role",
    "ScopedManager",
    "ScopedQuerySet",
    "get_visible_or_404",
    "has_role",
    "is_city_wide",
    "is_machine",
    "region_scope_q",
    "require_role",
    "role_of",
    "source_key_of",
]
