"""Background jobs of training: attempts whose time ran out are scored even when nobody opens
them again (the server's deadline, not the page's clock, ends an exam)."""

from __future__ import annotations

import datetime as dt

from sizhen.core.jobs import JobContext, job, schedule
from sizhen.training.services import expire_due_attempts


@job("training.expire_attempts", label="考试超时自动交卷")
def expire_attempts(ctx: JobContext) -> dict[str, int]:
    return {"expired": expire_due_attempts()}


schedule("training.expire_attempts", every=dt.timedelta(minutes=5))
