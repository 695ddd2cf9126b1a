"""Background jobs of the ledger: reopen items whose source alert came back (问题反弹)."""

from __future__ import annotations

from sizhen.core.jobs import JobContext, job
from sizhen.core.workflow import WorkflowError
from sizhen.rectification.models import RectificationItem
from sizhen.rectification.services import reopen_item
from sizhen.rectification.workflow import CLOSED


@job("rectification.reopen_on_recurrence", label="整改事项问题反弹重开")
def reopen_on_recurrence(ctx: JobContext, alert_ids: list[int]) -> dict[str, int]:
    """Enqueued by the alert scan with the alerts it re-opened: each closed item registered on
    one of them starts a new round, with the alert's recurrence as the reason."""
    reopened = skipped = 0
    items = RectificationItem.objects.filter(source_alert_id__in=alert_ids, status=CLOSED)
    for item in items.order_by("pk"):
        try:
            reopen_item(
                item,
                actor=None,
                reason=f"来源预警（编号 {item.source_alert_id}）再次出现，问题反弹，自动重新打开",
                recurrence=True,
            )
            reopened += 1
        except WorkflowError:
            # Someone reopened or changed it in the meantime: nothing left to do for it.
            skipped += 1
    return {"reopened": reopened, "skipped": skipped}
