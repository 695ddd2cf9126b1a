"""Reads on alerts, always through the access scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from sizhen.core.access import VIEW, Actor
from sizhen.monitoring.models import Alert


def list_alerts(
    actor: Actor,
    *,
    indicator: str = "",
    region: str = "",
    period: dt.date | None = None,
    status: str = "",
    action: str = VIEW,
) -> QuerySet[Alert]:
    """Alerts the actor may see, most impactful first; filters by indicator and region code."""
    qs = Alert.objects.visible_to(actor, action).select_related(
        "indicator", "region", "assigned_department", "department"
    )
    if indicator:
        qs = qs.filter(indicator__code=indicator)
    if region:
        qs = qs.filter(region__code=region)
    if period is not None:
        qs = qs.filter(period=period)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-impact", "pk")
