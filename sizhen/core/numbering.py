"""Document numbers (编号、文号) taken from one locked counter per scheme and year.

``next_number`` increments a ``DocumentCounter`` row with a conditional ``UPDATE ... SET
last_number = last_number + 1``: the update takes the row lock, so a second writer waits until
the first commits and then counts on from its number (on PostgreSQL and SQLite alike); a
rolled-back write gives its number back. Each scheme keeps its own visible format:

- work tasks ``RW2026-0001`` (scheme ``work_task``) and reminder letters ``示范营商提醒〔2026〕1号``
  (scheme ``reminder_letter``) take their sequence here;
- enterprise requests ``SQ2026-000123`` and rectification items ``ZG2026-0012`` are built from
  the row's own primary key, which is already unique without a row to contend on (decision
  0008: every intake would queue on a counter row).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import F

from sizhen.core.models import DocumentCounter


def next_number(scheme: str, year: int, *, start_after: Callable[[], int] | None = None) -> int:
    """Take the next number of ``scheme`` in ``year``. Inside the caller's transaction the
    counter row stays locked until commit. ``start_after`` gives the highest number already in
    use when the year's counter row does not exist yet (numbers written before the counter, or
    by the demo loader)."""
    with transaction.atomic():
        counted = DocumentCounter.objects.filter(scheme=scheme, year=year).update(
            last_number=F("last_number") + 1
        )
        if not counted:
            counter, created = DocumentCounter.objects.get_or_create(
                scheme=scheme,
                year=year,
                defaults={"last_number": (start_after() if start_after else 0) + 1},
            )
            if not created:  # another writer created the row between our update and insert
                DocumentCounter.objects.filter(pk=counter.pk).update(
                    last_number=F("last_number") + 1
                )
        return (
            DocumentCounter.objects.filter(scheme=scheme, year=year)
            .values_list("last_number", flat=True)
            .get()
        )
