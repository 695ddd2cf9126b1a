"""Reads of enterprise requests (企业诉求), always through the scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from sizhen.core.access import VIEW, Actor
from sizhen.core.refcache import ReferenceCache
from sizhen.core.workcalendar import add_working_days
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
from sizhen.enterprise_requests.workflow import ON_THE_CLOCK

#: A request on the clock is "soon due" within this many working days of its deadline.
SOON_DUE_WORKING_DAYS = 2


def requests_visible_to(actor: Actor, action: str = VIEW) -> QuerySet[EnterpriseRequest]:
    qs = EnterpriseRequest.objects.visible_to(actor, action)
    return qs.select_related("category", "enterprise", "region", "lead_department")


def request_base() -> QuerySet[EnterpriseRequest]:
    """The unscoped queryset to hand to ``get_visible_or_404`` (it applies the scope itself
    and audits a denied look-up of an existing request)."""
    return EnterpriseRequest.objects.select_related(
        "category", "enterprise", "region", "lead_department", "duplicate_of"
    )


def soon_due_limit(today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return add_working_days(today, SOON_DUE_WORKING_DAYS).date


def overdue(qs: QuerySet[EnterpriseRequest], today: dt.date | None = None) -> QuerySet[Any]:
    today = today or timezone.localdate()
    return qs.filter(status__in=ON_THE_CLOCK, deadline__lt=today)


def soon_due(qs: QuerySet[EnterpriseRequest], today: dt.date | None = None) -> QuerySet[Any]:
    today = today or timezone.localdate()
    return qs.filter(
        status__in=ON_THE_CLOCK, deadline__gte=today, deadline__lte=soon_due_limit(today)
    )


def active_categories() -> QuerySet[RequestCategory]:
    return RequestCategory.objects.filter(active=True).select_related("parent")


def leaf_categories() -> QuerySet[RequestCategory]:
    return (
        active_categories()
        .filter(parent__isnull=False)
        .order_by("parent__sort_order", "sort_order", "code")
    )


def mask_phone(phone: str) -> str:
    """13800001111 -> 138****1111; short numbers keep only their last two digits."""
    digits = phone.strip()
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits


def mask_name(name: str) -> str:
    """An enterprise or a person, for public pages: 东湖示范科技有限公司 -> 东湖****公司."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) <= 3:
        return name[0] + "*" * (len(name) - 1)
    return name[:2] + "*" * 4 + name[-2:]


#: Active categories by code for the intake path (sizhen/core/refcache.py: per process, 60 s;
#: a category deactivated in another process may be accepted for that long).
ACTIVE_CATEGORIES = ReferenceCache(
    RequestCategory,
    lambda code: RequestCategory.objects.filter(code=code, active=True).first(),
    name="enterprise_requests.category",
)


def active_category(code: str) -> RequestCategory | None:
    """The active category with this code, cached per process for a short while."""
    return ACTIVE_CATEGORIES.get(code)
