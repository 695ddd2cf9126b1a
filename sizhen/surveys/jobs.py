"""Survey jobs: daily, closing rounds whose deadline has passed and reminding non-responders
(催答) of rounds that close within ``REMINDER_DAYS`` days; after a round closes, publishing its
satisfaction index (企业满意度指数). All are safe to re-run: a closed round stays closed, an
invitation is reminded at most once a day (``reminded_at``), and publishing again writes the
same figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from sizhen.core.jobs import JobContext, job, schedule
from sizhen.surveys.choices import REMINDER_DAYS
from sizhen.surveys.index import overall_indicator
from sizhen.surveys.models import SurveyRound
from sizhen.surveys.services import close_due_rounds, publish_index, remind_non_responders
from sizhen.surveys.services.common import SurveyError
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


@job("surveys.publish_index", label="发布企业满意度指数")
def publish_index_job(
    ctx: JobContext, round_id: int, actor_id: int | None = None
) -> dict[str, Any]:
    """Publish a closed round's index, as the person who closed it (when they still may), else
    as the system."""
    survey_round = SurveyRound.objects.select_related("region", "form_version").get(pk=round_id)
    actor = (
        get_user_model().objects.filter(pk=actor_id, is_active=True).first() if actor_id else None
    )
    try:
        results = publish_index(survey_round, actor=actor)
    except SurveyError as exc:
        return {"round": round_id, "note": str(exc)}
    overall = [r for r in results if r.indicator_code == overall_indicator()]
    return {
        "round": round_id,
        "regions": len(overall),
        "with_value": sum(1 for r in overall if r.value is not None),
        "published": sum(1 for r in results if r.published),
    }


schedule("surveys.close_due_rounds", every=dt.timedelta(days=1))
schedule("surveys.deadline_reminders", every=dt.timedelta(days=1))
