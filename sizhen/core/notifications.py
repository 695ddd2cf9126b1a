"""Notifications: an in-app inbox per user, delivered further through pluggable channels.

``notify_after_commit(...)`` is what services call: the inbox rows and the delivery job (email by
default) are written once the caller's transaction commits, so a rolled-back write tells no one
and the delivery job's unique key is not held through the caller's transaction. ``notify`` writes
them at once (jobs and on-commit callbacks). The recipient helpers say who acts for a unit. Channels are classes listed in ``SIZHEN_NOTIFICATION_CHANNELS``; an SMS
gateway or WeCom (企业微信) channel subclasses ``Channel`` and implements ``send``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from sizhen.core.jobs import JobContext, enqueue, job, schedule
from sizhen.core.models import Notification
from sizhen.core.roles import Role

logger = logging.getLogger(__name__)


class Channel:
    """A delivery channel beyond the inbox."""

    name = "base"

    def send(self, recipient: Any, notifications: list[Notification]) -> bool:
        raise NotImplementedError


class EmailChannel(Channel):
    name = "email"

    def send(self, recipient: Any, notifications: list[Notification]) -> bool:
        if not recipient.email:
            return False
        if len(notifications) == 1:
            subject = f"【四诊】{notifications[0].subject}"
        else:
            subject = f"【四诊】您有 {len(notifications)} 条新消息"
        body = "\n\n".join(
            f"{n.subject}\n{n.body}".strip() + (f"\n{n.link}" if n.link else "")
            for n in notifications
        )
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
        return True


class LogChannel(Channel):
    """Writes to the log; a stand-in for an SMS or WeCom gateway during acceptance."""

    name = "log"

    def send(self, recipient: Any, notifications: list[Notification]) -> bool:
        for n in notifications:
            logger.info("notify %s: %s", recipient, n.subject)
        return True


def channels() -> list[Channel]:
    return [import_string(path)() for path in settings.SIZHEN_NOTIFICATION_CHANNELS]


def notify(
    recipients: Iterable[Any],
    *,
    subject: str,
    body: str = "",
    link: str = "",
    category: str = "",
    items: list[dict[str, str]] | None = None,
) -> list[Notification]:
    """Put a message in each recipient's inbox and schedule delivery through the channels.
    ``items`` (``[{"text": ..., "link": ...}]``) are a digest's entries, shown as links."""
    unique = {r.pk: r for r in recipients if r is not None and r.pk is not None}
    with transaction.atomic():
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    recipient=r,
                    subject=subject[:200],
                    body=body,
                    link=link,
                    category=category,
                    items=items or [],
                )
                for r in unique.values()
            ]
        )
        if rows:
            enqueue(
                "core.deliver_notifications", key="core.deliver_notifications", label="发送通知"
            )
    return rows


def notify_after_commit(
    recipients: Iterable[Any],
    *,
    subject: str,
    body: str = "",
    link: str = "",
    category: str = "",
    items: list[dict[str, str]] | None = None,
) -> None:
    """``notify`` once the current transaction commits (at once outside a transaction). The
    recipients are read now, as the write saw them."""
    people = list(recipients)
    transaction.on_commit(
        lambda: notify(
            people, subject=subject, body=body, link=link, category=category, items=items
        )
    )


#: The roles that act for a department (部门账号): its lead and responsible officers.
DEPARTMENT_ROLES = (Role.LEAD_DEPARTMENT, Role.RESPONSIBLE_DEPARTMENT)


def coordinators() -> list[Any]:
    """The coordinating office's (营商办) active users."""
    User = get_user_model()
    return list(User.objects.filter(role=Role.COORDINATOR, is_active=True).order_by("pk"))


def city_leaders() -> list[Any]:
    """The city leaders' (市领导) active users."""
    User = get_user_model()
    return list(User.objects.filter(role=Role.LEADER, is_active=True).order_by("pk"))


def unit_leaders(department_ids: Iterable[int | None]) -> list[Any]:
    """The heads (单位负责人) of each department: its active officers flagged ``unit_leader``.
    A department that has flagged no one is answered by all its officers, so that what is
    meant for its head still reaches the unit."""
    User = get_user_model()
    wanted = {pk for pk in department_ids if pk is not None}
    if not wanted:
        return []
    officers = list(
        User.objects.filter(
            department_id__in=wanted, role__in=DEPARTMENT_ROLES, is_active=True
        ).order_by("pk")
    )
    headed = {u.department_id for u in officers if u.unit_leader}
    return [u for u in officers if u.unit_leader or u.department_id not in headed]


def unit_users(
    *, department_ids: Iterable[int | None] = (), region_ids: Iterable[int | None] = ()
) -> list[Any]:
    """Who acts for the units: the department officers of each department and the district
    officers (县市区/园区) of each region, active only."""
    User = get_user_model()
    departments = [pk for pk in department_ids if pk is not None]
    regions = [pk for pk in region_ids if pk is not None]
    if not departments and not regions:
        return []
    unit = Q(department_id__in=departments, role__in=DEPARTMENT_ROLES) | Q(
        region_id__in=regions, role=Role.DISTRICT_OFFICER
    )
    return list(User.objects.filter(unit, is_active=True).order_by("pk"))


def enterprise_users(enterprise_ids: Iterable[int]) -> list[Any]:
    """The active accounts of the enterprises (企业账号)."""
    User = get_user_model()
    ids = list(enterprise_ids)
    if not ids:
        return []
    return list(
        User.objects.filter(enterprise_id__in=ids, role=Role.ENTERPRISE, is_active=True).order_by(
            "pk"
        )
    )


@job("core.deliver_notifications", label="发送通知")
def deliver_notifications(ctx: JobContext) -> dict[str, int]:
    """Send every not-yet-delivered message, grouped per recipient into one digest.

    Each recipient's batch is claimed (marked delivered) in a short transaction before it is
    sent: the schedule and ``notify`` may run this job on two workers at once, and a message
    must not reach anyone twice. A channel that fails loses that delivery; the inbox keeps it."""
    User = get_user_model()
    recipient_ids = list(
        Notification.objects.filter(emailed_at__isnull=True)
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    active = channels()
    users = User.objects.in_bulk(recipient_ids)
    sent = 0
    recipients = 0
    for index, user_id in enumerate(recipient_ids, start=1):
        with transaction.atomic():
            items = list(
                Notification.objects.select_for_update()
                .filter(recipient_id=user_id, emailed_at__isnull=True)
                .order_by("id")
            )
            Notification.objects.filter(pk__in=[n.pk for n in items]).update(
                emailed_at=timezone.now()
            )
        user = users.get(user_id)
        if items and user is not None and user.is_active:
            recipients += 1
            for channel in active:
                try:
                    channel.send(user, items)
                except Exception:  # one failing recipient must not block the others
                    logger.exception("channel %s failed for %s", channel.name, user)
            sent += len(items)
        ctx.progress(index, len(recipient_ids))
    return {"delivered": sent, "recipients": recipients}


# A job that was already running when a message arrived leaves it for the next sweep.
schedule("core.deliver_notifications", every=dt.timedelta(minutes=1))


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
