"""Background jobs of ingestion, registered with the job runner by name (the names are stored on
queued jobs, so they do not change): loads, pulls, recomputes and record extracts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from sizhen.core.audit import record_event
from sizhen.core.jobs import JobContext, enqueue, job, on_worker_start, schedule
from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.compute import compute
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.extracts import read_records
from sizhen.indicators.ingestion.loads import (
    batch_summary,
    fail_batch,
    recover_interrupted,
    run_load,
)
from sizhen.indicators.ingestion.models import Dataset, LoadBatch, PullSource, RecordExtract
from sizhen.indicators.ingestion.pulls import due_sources, run_pull
from sizhen.indicators.ingestion.services import RECORD_EXTRACT_JOB


@job("indicators.run_load", label="数据入库", max_attempts=2)
def run_load_job(ctx: JobContext, *, batch_id: int) -> dict[str, Any]:
    try:
        batch = run_load(batch_id, ctx)
    except Exception as exc:
        if ctx.job.attempts >= ctx.job.max_attempts:
            # The last attempt: say so on the batch, or its page would show 处理中 for ever.
            # The store is as before (the merge is one DuckDB transaction).
            detail = str(exc) if isinstance(exc, store.StoreBusy) else type(exc).__name__
            with transaction.atomic():
                fail_batch(
                    LoadBatch.objects.select_related("dataset").get(pk=batch_id),
                    LoadStatus.FAILED,
                    f"后台处理失败（{detail}），请联系系统管理员查看后台任务 #{ctx.job.pk}",
                    code="load_failed",
                )
        raise
    return batch_summary(batch)


# A load killed with its worker must not stay 处理中, nor lose the recompute of what it committed.
on_worker_start(recover_interrupted)


@job("indicators.pull_sources", label="定时拉取数据", max_attempts=1)
def pull_sources_job(ctx: JobContext) -> dict[str, Any]:
    sources = due_sources()
    results: dict[str, str] = {}
    for index, source in enumerate(sources, start=1):
        ctx.progress(index - 1, len(sources), f"拉取 {source.name}")
        results[str(source.pk)] = run_pull(source).status
    ctx.progress(len(sources), len(sources), "完成")
    return {"sources": results}


@job("indicators.run_pull", label="立即拉取数据", max_attempts=1)
def run_pull_job(ctx: JobContext, *, source_id: int) -> dict[str, Any]:
    outcome = run_pull(PullSource.objects.get(pk=source_id))
    return {"status": outcome.status, "message": outcome.message, "batch": outcome.batch_id}


schedule("indicators.pull_sources", every=dt.timedelta(minutes=5))


@job("indicators.recompute", label="指标重算")
def recompute_job(
    ctx: JobContext, *, batch_id: int | None = None, full: bool = False
) -> dict[str, Any]:
    if full or batch_id is None:
        report = compute(ctx=ctx)
    else:
        batch = LoadBatch.objects.get(pk=batch_id)
        report = compute(touched=[tuple(p) for p in batch.touched or []], batch=batch, ctx=ctx)
    if report.periods:
        # Alerts look at what changed; the job is looked up by name (no import of monitoring).
        enqueue(
            "monitoring.scan",
            label="预警扫描",
            periods=sorted(p.isoformat() for p in report.periods),
        )
    record_event(
        "indicators.recompute",
        actor=None,
        after=report.as_dict(),
        object_type="indicators.indicatorvalue",
    )
    return report.as_dict()


@job(RECORD_EXTRACT_JOB, label="明细记录抽取", max_attempts=3)
def run_record_extract(ctx: JobContext | None, *, extract_id: int) -> dict[str, Any]:
    """Runs in the worker, the only process that opens the analytical store. Safe to re-run:
    it overwrites the extract's rows."""
    extract = RecordExtract.objects.select_related("indicator", "region").get(pk=extract_id)
    if ctx is not None:
        ctx.progress(0, 1, "正在读取明细记录")
    try:
        with store.open_store() as con:
            result = read_records(extract, con)
    except store.StoreBusy:
        raise  # the job runner retries later
    except (ValueError, Dataset.DoesNotExist) as exc:
        RecordExtract.objects.filter(pk=extract.pk).update(error=str(exc)[:500])
        return {"error": str(exc)}
    RecordExtract.objects.filter(pk=extract.pk).update(
        columns=result["columns"],
        rows=result["rows"],
        matched=result["matched"],
        skipped_filters=result["skipped"],
        completed_at=timezone.now(),
        error="",
    )
    if ctx is not None:
        ctx.progress(1, 1, f"已读取 {len(result['rows'])} 条")
    return {"rows": len(result["rows"]), "matched": result["matched"]}
