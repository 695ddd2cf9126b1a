"""The append-only audit log. Services call ``record_event`` inside their transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import uuid
from typing import TYPE_CHECKING, Any

from django.db import models

from sizhen.core import context
from sizhen.core.access import Actor
from sizhen.core.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def actor_fields(actor: Actor | AnonymousUser | None) -> dict[str, Any]:
    """Who, for an event or a history row: None is the system, an anonymous visitor (a
    refused login) is recorded as such, a token by its label without a user."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {
            "actor": None,
            "actor_label": "匿名" if actor is not None else "系统",
            "actor_role": "",
        }
    label = getattr(actor, "audit_label", None) or str(actor)
    user = actor if isinstance(actor, models.Model) else None
    return {"actor": user, "actor_label": label[:200], "actor_role": getattr(actor, "role", "")}


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of an instance, for before/after."""
    result: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in {"password"}:
            continue
        result[field.attname] = jsonable(getattr(instance, field.attname))
    return result


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def valid_address(value: str | None) -> str | None:
    """The address if it is a plain IP address, else None.

    A proxy may forward "unknown" or "host:port"; storing that in an inet column (PostgreSQL)
    would fail the whole audited write, so the event is kept and the address dropped."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def event_fields(
    action: str,
    *,
    actor: Actor | AnonymousUser | None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
    message: str = "",
) -> dict[str, Any]:
    """The field values of one event: who (the actor), when, what, on which object, and the
    request it came from (client address and request id of the current request context)."""
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    return {
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr[:200],
        "before": jsonable(before),
        "after": jsonable(after),
        "message": message,
        "client_address": valid_address(ctx.client_address),
        "request_id": ctx.request_id,
        **actor_fields(actor),
    }


def record_event(
    action: str,
    *,
    actor: Actor | AnonymousUser | None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
    message: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        **event_fields(
            action,
            actor=actor,
            obj=obj,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            before=before,
            after=after,
            message=message,
        )
    )
