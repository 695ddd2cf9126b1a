"""Writes owned by core: calendar overrides, inbox state."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import changed, record_event, snapshot
from sizhen.core.models import CalendarDay, CalendarDayKind, CalendarYear, Notification


@transaction.atomic
def set_calendar_day(
    *, actor: Actor, date: dt.date, kind: str, name: str = "", note: str = ""
) -> CalendarDay:
    if kind not in CalendarDayKind.values:
        raise ValidationError({"kind": "类型须为工作日或休息日"})
    existing = CalendarDay.objects.select_for_update().filter(date=date).first()
    before = snapshot(existing) if existing else None
    day, _ = CalendarDay.objects.update_or_create(
        date=date, defaults={"kind": kind, "name": name, "note": note}
    )
    record_event("calendar.set_day", actor=actor, obj=day, before=before, after=snapshot(day))
    return day


@transaction.atomic
def delete_calendar_day(day: CalendarDay, *, actor: Actor) -> None:
    before = snapshot(day)
    record_event("calendar.delete_day", actor=actor, obj=day, before=before)
    CalendarDay.objects.filter(pk=day.pk).delete()


@transaction.atomic
def confirm_calendar_year(*, actor: Actor, year: int, source: str) -> CalendarYear:
    if not source.strip():
        raise ValidationError({"source": "请填写依据（如国务院办公厅通知文号）"})
    row, _ = CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
    record_event(
        "calendar.confirm_year", actor=actor, obj=row, after={"year": year, "source": source}
    )
    return row


@transaction.atomic
def mark_notifications_read(*, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark the actor's own unread messages read: those with the given ids (ids of other
    people's messages are ignored), or all of them when ``ids`` is None. Audited, so that
    "I never saw that notice" can be checked."""
    qs = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    marked = sorted(qs.values_list("pk", flat=True))
    count = Notification.objects.filter(pk__in=marked).update(read_at=timezone.now())
    if count:
        record_event(
            "notification.mark_read",
            actor=actor,
            object_type="core.notification",
            message=f"将 {count} 条站内消息标为已读",
            # The ids of a selection (a page at most); "all" may be thousands, so only counted.
            after={"count": count, "ids": marked} if ids is not None else {"count": count},
        )
    return count


M = TypeVar("M", bound=models.Model)


def create_validated(model: type[M], *, actor: Actor, action: str, **fields: Any) -> M:
    """Create a row after full validation and write its audit event (call inside the
    caller's transaction). The plain create service of every simple model."""
    instance = model(**fields)
    instance.full_clean()
    instance.save()
    record_event(action, actor=actor, obj=instance, after=snapshot(instance))
    return instance


def update_validated(instance: M, *, actor: Actor, action: str, **fields: Any) -> M:
    """Lock the row, apply the changes, validate, save and audit only what changed (call
    inside the caller's transaction)."""
    model = type(instance)
    locked = model._default_manager.select_for_update().get(pk=instance.pk)
    before = snapshot(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    old, new = changed(before, snapshot(locked))
    record_event(action, actor=actor, obj=locked, before=old, after=new)
    return locked
