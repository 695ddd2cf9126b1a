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
