"""Background retraining of the dispatch suggester: daily, and on demand from the model page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sizhen.core.jobs import JobContext, job, schedule
from sizhen.dispatch.services import train_model


@job("dispatch.train", label="训练智能派单模型", max_attempts=1)
def train_job(ctx: JobContext) -> dict[str, Any]:
    ctx.progress(0, 1, "训练中")
    result = train_model(actor=None)
    ctx.progress(1, 1, result.reason)
    return {"version": result.model.version, "activated": result.activated}


schedule("dispatch.train", every=dt.timedelta(days=1))
