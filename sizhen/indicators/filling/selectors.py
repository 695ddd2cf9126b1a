"""Reads of periodic filling (``list_*``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from sizhen.indicators.filling.choices import OPEN_STATES
from sizhen.indicators.filling.models import FillingTask


def list_overdue(actor: Any, *, today: dt.date | None = None) -> QuerySet[FillingTask]:
    """Tasks past their deadline and not submitted (逾期未报), as far as the actor may see."""
    today = today or timezone.localdate()
    return FillingTask.objects.visible_to(actor).filter(status__in=OPEN_STATES, deadline__lt=today)


def list_open_tasks_past_deadline(today: dt.date) -> QuerySet[FillingTask]:
    """Every task past its deadline and not submitted, with its indicator, region and
    department (for the alert scan, which sees all regions)."""
    return FillingTask.objects.filter(status__in=OPEN_STATES, deadline__lt=today).select_related(
        "indicator", "region", "department"
    )
