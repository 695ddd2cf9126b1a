"""Background jobs of the reminder letters: the drafts proposed from red alerts, subscribed to
what the alert scan announces (monitoring never imports reports)."""

from __future__ import annotations

from sizhen.core.jobs import JobContext, job, subscribe
from sizhen.monitoring.models import HIGHEST_SEVERITY
from sizhen.monitoring.selectors import list_active_alerts
from sizhen.monitoring.services import ALERTS_RAISED
from sizhen.reports.services import propose_letters

PROPOSE_JOB = "reports.propose_letters"


@job(PROPOSE_JOB, label="根据红色预警生成提醒函建议稿")
def propose_letters_job(ctx: JobContext | None, alert_ids: list[int]) -> dict[str, int]:
    """Enqueued with the alerts a scan raised; the red ones may each get a draft letter."""
    alerts = list(list_active_alerts(alert_ids, severity=HIGHEST_SEVERITY))
    letters = propose_letters(alerts)
    return {"red_alerts": len(alerts), "proposed": len(letters)}


subscribe(ALERTS_RAISED, PROPOSE_JOB)
