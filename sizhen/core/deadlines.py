"""Deadlines given either as a date or as a number of working days (工作日) from a start date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sizhen.core.workcalendar import add_working_days


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    #: The working days it was counted from, or None when it was given as a date.
    working_days: int | None
    #: Counted over a year whose holidays are not published yet (see core/workcalendar.py).
    provisional: bool


def resolve_deadline(
    start: dt.date, *, deadline: dt.date | None, working_days: int | None
) -> Deadline | None:
    """The date as given (it wins when both are given), or ``working_days`` working days after
    ``start``; None when neither is given. Callers check their own limits first."""
    if deadline is not None:
        return Deadline(deadline, None, False)
    if working_days is not None:
        counted = add_working_days(start, working_days)
        return Deadline(counted.date, working_days, counted.provisional)
    return None
