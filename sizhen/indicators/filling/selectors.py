"""Reads of periodic filling (``list_*``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.indicators.catalogue import completeness
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.filling.choices import OPEN_STATES, FillingStatus
from sizhen.indicators.filling.models import FillingTask
from sizhen.organisations.models import Region


def list_overdue(actor: Actor, *, today: dt.date | None = None) -> QuerySet[FillingTask]:
    """Tasks past their deadline and not submitted (逾期未报), as far as the actor may see."""
    today = today or timezone.localdate()
    return FillingTask.objects.visible_to(actor).filter(status__in=OPEN_STATES, deadline__lt=today)


def list_open_tasks_past_deadline(today: dt.date) -> QuerySet[FillingTask]:
    """Every task past its deadline and not submitted, with its indicator, region and
    department (for the alert scan, which sees all regions)."""
    return FillingTask.objects.filter(status__in=OPEN_STATES, deadline__lt=today).select_related(
        "indicator", "region", "department"
    )


def complete_filled_periods(
    asks: list[completeness.Ask], region: Region, today: dt.date
) -> set[tuple[int, dt.date]]:
    """The filling rule of ``catalogue.completeness``: every task of the indicator for the
    period is approved (审核通过), whichever region asked. A period no round asked for counts
    once it has a value (imported or entered some other way)."""
    if not asks:
        return set()
    counts = {
        (row["indicator_id"], row["period"]): (row["total"], row["approved"])
        for row in FillingTask.objects.filter(
            indicator_id__in={leaf.pk for leaf, _ in asks}, period__in={day for _, day in asks}
        )
        .values("indicator_id", "period")
        .annotate(total=Count("pk"), approved=Count("pk", filter=Q(status=FillingStatus.APPROVED)))
        .order_by()
    }
    complete = completeness.present_values(
        [(leaf, day) for leaf, day in asks if (leaf.pk, day) not in counts], region
    )
    asked = {(leaf.pk, day) for leaf, day in asks}
    complete.update(key for key, (total, approved) in counts.items() if total == approved)
    return complete & asked


completeness.register_leaf_check(SourceKind.FILLING, complete_filled_periods)
