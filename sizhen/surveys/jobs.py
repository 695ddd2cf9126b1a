"""Daily survey jobs: closing rounds whose deadline has passed, and reminding non-responders
(催答) of rounds that close within ``REMINDER_DAYS`` days. Both are safe to re-run: a closed
round stays closed, and an invitation is reminded at most once a day (``reminded_at``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from sizhen.core.jobs import JobContext, job, schedule
from sizhen.surveys.choices import REMINDER_DAYS
from sizhen.surveys.models import SurveyRound
from sizhen.surveys.services import close_due_rounds, remind_non_responders
from sizhen.surveys.workflow import OPEN


@job("surveys.close_due_rounds", label="结束已过截止日期的调查")
def close_rounds(ctx: JobContext) -> dict[str, int]:
    return {"closed": close_due_rounds()}


def send_deadline_reminders(today: dt.date | None = None) -> dict[str, int]:
    day = today or timezone.localdate()
    due = SurveyRound.objects.filter(
        status=OPEN, deadline__gte=day, deadline__lte=day + dt.timedelta(days=REMINDER_DAYS)
    )
    reminded = 0
    rounds = 0
    for survey_round in due.order_by("pk"):
        rounds += 1
        reminded += remind_non_responders(survey_round, actor=None)
    return {"rounds": rounds, "reminded": reminded}


@job("surveys.deadline_reminders", label="问卷截止前催答")
def deadline_reminders(ctx: JobContext) -> dict[str, int]:
    return send_deadline_reminders()


schedule("surveys.close_due_rounds", every=dt.timedelta(days=1))
schedule("surveys.deadline_reminders", every=dt.timedelta(days=1))
