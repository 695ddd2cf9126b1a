"""Background jobs of periodic filling, registered with the job runner by name."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sizhen.core.jobs import JobContext, job, schedule
from sizhen.indicators.filling.rounds import open_due_filling_rounds


@job("indicators.open_filling_rounds", label="下发定期填报任务")
def open_filling_rounds_job(ctx: JobContext) -> dict[str, Any]:
    opened = open_due_filling_rounds()
    return {"rounds": [r.pk for r in opened]}


schedule("indicators.open_filling_rounds", every=dt.timedelta(hours=6))
