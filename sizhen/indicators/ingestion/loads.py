"""Loads of source records (智慧集数): submission, validation report, commit, quarantine.

The web process validates immediately (an in-memory DuckDB with the region and department
codes) so that a source system learns at once what to fix, then queues the batch; the worker —
the only writer of the analytical store — commits it and schedules the recompute of what it
touched. Re-sending the same content returns the same batch (idempotent)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import xxhash
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import actor_fields, record_event
from sizhen.core.jobs import JobContext, enqueue
from sizhen.core.models import ACTIVE_JOB_STATUSES, Job, JobStatus
from sizhen.indicators.ingestion.choices import LoadChannel, LoadMode, LoadStatus, QuarantineStatus
from sizhen.indicators.ingestion.datasets import spec_for
from sizhen.indicators.ingestion.engine import ingest, store
from sizhen.indicators.ingestion.models import Dataset, LoadBatch, LoadError, QuarantineRow

MAX_API_RECORDS = 20_000
#: Pushed records are numbered by their position in ``records`` (1 = the first); file rows as
#: the spreadsheet shows them (1 = the header).
FIRST_RECORD_NUMBER = 1
ACTIVE_OR_DONE = (LoadStatus.QUEUED, LoadStatus.RUNNING, LoadStatus.LOADED, LoadStatus.VALIDATED)


def incoming_dir() -> Path:
    path = Path(settings.SIZHEN_ANALYTICS_DIR) / "incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _hash_bytes(data: bytes, *parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


def _hash_file(path: Path, *parts: str) -> str:
    # A content fingerprint for idempotency, not a security control: XXH3-128 reads at memory
    # speed (multi-gigabyte files hash in a fraction of a second; SHA-256 took seconds).
    digest = xxhash.xxh3_128()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _existing(dataset: Dataset, content_hash: str) -> LoadBatch | None:
    return (
        LoadBatch.objects.filter(
            dataset=dataset, content_hash=content_hash, status__in=ACTIVE_OR_DONE
        )
        .order_by("-created_at")
        .first()
    )


def _new_batch(
    *,
    actor: Actor | None,
    dataset: Dataset,
    channel: str,
    mode: str,
    dry_run: bool,
    content_hash: str,
    file_name: str = "",
) -> LoadBatch:
    labels = actor_fields(actor)
    return LoadBatch.objects.create(
        dataset=dataset,
        schema_version=dataset.current_version,
        channel=channel,
        mode=mode,
        dry_run=dry_run,
        content_hash=content_hash,
        file_name=file_name[:200],
        department=getattr(actor, "department", None),
        created_by=labels["actor"],
        created_by_label=labels["actor_label"],
    )


def _dimension_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the reference tables: validation without the store."""
    con = duckdb.connect()
    con.execute("SET threads = 1")
    store.ensure_base_tables(con)
    store.sync_dimensions(con, calendar=False)
    return con


@transaction.atomic
def submit_records(
    *,
    actor: Actor | None,
    dataset: Dataset,
    records: list[Any],
    mode: str = LoadMode.STRICT,
    dry_run: bool = False,
) -> tuple[LoadBatch, bool]:
    """API push. Returns (batch, created). Validation errors are on the batch at once; a clean
    (or lenient) batch is queued for the worker to commit."""
    payload = json.dumps(records, ensure_ascii=False, sort_keys=True, default=str).encode()
    # The sender is part of the identity: two departments sending the same content each get
    # (and may read) their own batch.
    sender = str(getattr(actor, "department_id", "") or "")
    content_hash = _hash_bytes(payload, dataset.code, mode, "dry" if dry_run else "load", sender)
    existing = _existing(dataset, content_hash)
    if existing is not None:
        return existing, False
    batch = _new_batch(
        actor=actor,
        dataset=dataset,
        channel=LoadChannel.API,
        mode=mode,
        dry_run=dry_run,
        content_hash=content_hash,
    )
    spec = spec_for(dataset)
    spec.allowed_region_path = _sender_region_path(batch)
    batch.rows_total = len(records)
    con = _dimension_connection()
    try:
        ingest.stage_records(con, records, spec)
        error_count = ingest.validate(con, spec, first_row_number=FIRST_RECORD_NUMBER)
        errors = con.execute(f"SELECT * FROM errors LIMIT {ingest.MAX_STORED_ERRORS}").fetchall()
        bad = con.execute("SELECT count(*) FROM bad_rows").fetchall()[0]
        rejected = int(bad[0]) if bad else 0
    except ingest.FileProblem as problem:
        batch.rejected = batch.rows_total
        fail_batch(batch, LoadStatus.REJECTED, str(problem), code=problem.code)
        return batch, True
    finally:
        con.close()
    batch.error_count = error_count
    _store_errors(batch, [(int(r[0]), r[1], r[2], r[3], r[4] or "") for r in errors])
    if error_count and mode == LoadMode.STRICT:
        batch.status = LoadStatus.REJECTED
        batch.rejected = batch.rows_total
        batch.message = f"校验未通过：{error_count} 个错误，整批拒收（严格模式）"
        batch.finished_at = timezone.now()
        batch.save()
        record_event("records.rejected", actor=actor, obj=batch, after=batch_summary(batch))
        return batch, True
    batch.rejected = rejected
    path = incoming_dir() / f"batch-{batch.pk}.json"
    path.write_bytes(payload)
    batch.staged_path = str(path)
    queued = enqueue(
        "indicators.run_load",
        key=f"load:{batch.pk}",
        label=f"数据入库 #{batch.pk}",
        batch_id=batch.pk,
    )
    batch.job_id = queued.pk
    batch.message = (
        "校验通过，已进入入库队列"
        if not error_count
        else f"{rejected} 行有错误将进入隔离区，其余入库"
    )
    batch.save()
    record_event("records.submitted", actor=actor, obj=batch, after=batch_summary(batch))
    return batch, True


@transaction.atomic
def submit_file(
    *,
    actor: Actor | None,
    dataset: Dataset,
    source: Path,
    file_name: str,
    mode: str = LoadMode.STRICT,
    dry_run: bool = False,
    enqueue_job: bool = True,
) -> tuple[LoadBatch, bool]:
    """File import (UI upload or command). The file is copied to the incoming folder and loaded
    by the worker (or, with enqueue_job=False, by the caller through ``run_load``)."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ingest.FileProblem("bad_type", "只支持 CSV 或 XLSX（Excel）文件")
    sender = str(getattr(actor, "department_id", "") or "")
    content_hash = _hash_file(source, dataset.code, mode, "dry" if dry_run else "load", sender)
    existing = _existing(dataset, content_hash)
    if existing is not None and not dry_run:
        return existing, False
    batch = _new_batch(
        actor=actor,
        dataset=dataset,
        channel=LoadChannel.FILE,
        mode=mode,
        dry_run=dry_run,
        content_hash=content_hash,
        file_name=file_name,
    )
    if enqueue_job:
        # The worker reads it later: keep a copy that outlives the upload's temporary file.
        target = incoming_dir() / f"batch-{batch.pk}{suffix}"
        shutil.copyfile(source, target)
        batch.staged_path = str(target)
    else:
        # The caller loads it now (import_records): read the file where it is.
        batch.staged_path = str(source.resolve())
    if enqueue_job:
        queued = enqueue(
            "indicators.run_load",
            key=f"load:{batch.pk}",
            label=f"数据入库 #{batch.pk}",
            batch_id=batch.pk,
        )
        batch.job_id = queued.pk
    batch.save()
    record_event("records.file_submitted", actor=actor, obj=batch, after={"file": file_name})
    return batch, True


def run_load(
    batch_id: int, ctx: JobContext | None = None, *, con: duckdb.DuckDBPyConnection | None = None
) -> LoadBatch:
    """Worker side: stage, validate, commit to the store; then the app-side report.

    The store is held from before the batch is marked running until its report is written, so
    a batch that is ``running`` while nobody holds the store was left by a dead process (what
    ``recover_interrupted`` relies on)."""
    own = con is None
    connection = con or store.connect()
    try:
        batch = LoadBatch.objects.select_related("dataset").get(pk=batch_id)
        if batch.status in (LoadStatus.LOADED, LoadStatus.REJECTED, LoadStatus.VALIDATED):
            return batch
        LoadBatch.objects.filter(pk=batch.pk).update(status=LoadStatus.RUNNING)
        spec = spec_for(batch.dataset, batch.schema_version)
        spec.allowed_region_path = _sender_region_path(batch)
        path = Path(batch.staged_path)
        store.sync_dimensions(connection)
        if ctx:
            ctx.progress(0, 3, "读取数据")
        try:
            if path.suffix == ".json":
                ingest.stage_records(connection, json.loads(path.read_text(encoding="utf-8")), spec)
            elif path.suffix == ".xlsx":
                ingest.stage_xlsx(connection, path, spec)
            else:
                ingest.stage_csv(connection, path, spec)
        except ingest.FileProblem as problem:
            fail_batch(batch, LoadStatus.REJECTED, str(problem), code=problem.code)
            return batch
        if ctx:
            ctx.progress(1, 3, "校验并入库")
        result = ingest.merge(
            connection,
            spec,
            batch_id=batch.pk,
            lenient=batch.mode == LoadMode.LENIENT,
            dry_run=batch.dry_run,
            first_row_number=FIRST_RECORD_NUMBER if path.suffix == ".json" else 2,
        )
        if ctx:
            ctx.progress(2, 3, "生成报告")
        _finish(batch, result)
    finally:
        ingest.release(connection)
        if own:
            connection.close()
    if ctx:
        ctx.progress(3, 3, "完成")
    return batch


INTERRUPTED_MESSAGE = "导入过程被中断（进程意外退出），分析库未作任何改动，请重新提交该批数据"


def recover_interrupted() -> dict[str, list[int]]:
    """Put right the batches a killed process left ``running`` (run when a worker starts;
    idempotent). The store decides: a batch it committed becomes loaded with the counts and
    touched periods the store recorded, and its recompute is queued; a batch it does not hold
    goes back to its job's queue, or fails with a message saying the run was interrupted."""
    outcome: dict[str, list[int]] = {"loaded": [], "requeued": [], "failed": []}
    if not LoadBatch.objects.filter(status=LoadStatus.RUNNING).exists():
        return outcome  # the usual case: no need to open the store
    with store.open_store() as con:
        # Holding the store: a batch still running now belongs to no live process (run_load
        # holds the store for as long as its batch is running).
        for batch in LoadBatch.objects.select_related("dataset").filter(status=LoadStatus.RUNNING):
            spec = spec_for(batch.dataset, batch.schema_version)
            committed = ingest.committed_load(con, spec, batch.pk)
            if committed is not None:
                _recover_committed(batch, committed)
                outcome["loaded"].append(batch.pk)
            elif _requeue(batch):
                outcome["requeued"].append(batch.pk)
            else:
                with transaction.atomic():
                    fail_batch(batch, LoadStatus.FAILED, INTERRUPTED_MESSAGE, code="interrupted")
                outcome["failed"].append(batch.pk)
    return outcome


@transaction.atomic
def _recover_committed(batch: LoadBatch, committed: ingest.LoadResult) -> None:
    # The validation report of the dead run is lost; errors found at submission stay.
    committed.error_count = batch.error_count
    committed.errors = []
    _finish(batch, committed, keep_errors=True)
    lost = "，隔离区明细未能重建" if committed.rejected else ""
    batch.message += f"（进程中断后按分析库的入库记录恢复{lost}）"
    batch.save(update_fields=["message"])


def _requeue(batch: LoadBatch) -> bool:
    """Back to the queue when the batch's job has an attempt left (a command-line import has
    no job: its user reruns the command, or resubmits the failed batch)."""
    if batch.job_id is None:
        return False
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=batch.job_id).first()
        if job is None or job.status not in ACTIVE_JOB_STATUSES:
            return False
        if job.status == JobStatus.RUNNING:
            if job.attempts >= job.max_attempts:
                Job.objects.filter(pk=job.pk).update(
                    status=JobStatus.FAILED,
                    error=INTERRUPTED_MESSAGE,
                    worker="",
                    finished_at=timezone.now(),
                )
                return False
            Job.objects.filter(pk=job.pk).update(
                status=JobStatus.QUEUED, worker="", run_after=timezone.now()
            )
        LoadBatch.objects.filter(pk=batch.pk).update(
            status=LoadStatus.QUEUED, message="处理过程被中断，已重新排队"
        )
        record_event(
            "records.requeued", actor=None, obj=batch, after={"batch": batch.pk, "job": job.pk}
        )
    return True


@transaction.atomic
def _finish(batch: LoadBatch, result: ingest.LoadResult, *, keep_errors: bool = False) -> None:
    batch.rows_total = result.total
    batch.imported = result.imported
    batch.updated = result.updated
    batch.ignored = result.ignored
    batch.rejected = result.rejected
    batch.error_count = result.error_count
    batch.touched = [list(pair) for pair in result.touched]
    batch.finished_at = timezone.now()
    if not keep_errors:
        LoadError.objects.filter(batch=batch).delete()
        _store_errors(batch, result.errors)
    if result.committed:
        batch.status = LoadStatus.LOADED
        batch.message = (
            f"已入库：新增 {result.imported}，更新 {result.updated}，未变化 {result.ignored}"
            + (f"，{result.rejected} 行进入隔离区" if result.rejected else "")
        )
        QuarantineRow.objects.filter(batch=batch).delete()
        QuarantineRow.objects.bulk_create(
            [
                QuarantineRow(batch=batch, dataset=batch.dataset, row=row, data=data, errors=errors)
                for row, data, errors in result.quarantined
            ],
            batch_size=1000,
        )
        from sizhen.indicators.ingestion.compute import schedule_recompute

        schedule_recompute(batch)
    elif batch.dry_run and not (result.error_count and batch.mode == LoadMode.STRICT):
        batch.status = LoadStatus.VALIDATED
        batch.message = (
            f"试运行：将新增 {result.imported}，更新 {result.updated}，未变化 {result.ignored}，"
            f"错误 {result.error_count}"
        )
    else:
        batch.status = LoadStatus.REJECTED
        batch.message = (
            f"校验未通过：{result.error_count} 个错误，整批拒收（严格模式），分析库未作任何改动"
        )
    batch.save()
    record_event(
        "records.loaded" if batch.status == LoadStatus.LOADED else f"records.{batch.status}",
        actor=None,
        obj=batch,
        after=batch_summary(batch),
    )


def _sender_region_path(batch: LoadBatch) -> str | None:
    """A department may only send records of its own region subtree (a city department: the
    whole city). Loads by the system itself (demo, command line) are not restricted."""
    if batch.department_id is None:
        return None
    return batch.department.region.path  # type: ignore[union-attr]


def fail_batch(batch: LoadBatch, status: str, message: str, *, code: str = "file") -> None:
    batch.status = status
    batch.message = message
    batch.error_count = 1
    batch.finished_at = timezone.now()
    batch.save()
    LoadError.objects.create(batch=batch, row=0, field="", code=code, message=message[:300])
    record_event(
        f"records.{status}", actor=None, obj=batch, after=batch_summary(batch), message=message
    )


def _store_errors(batch: LoadBatch, errors: list[tuple[int, str, str, str, str]]) -> None:
    LoadError.objects.bulk_create(
        [
            LoadError(
                batch=batch,
                row=row,
                field=field_name,
                code=code,
                message=(message or "")[:300],
                value=(value or "")[:200],
            )
            for row, field_name, code, message, value in errors
        ],
        batch_size=2000,
    )


def batch_summary(batch: LoadBatch) -> dict[str, Any]:
    return {
        "batch": batch.pk,
        "dataset": batch.dataset.code,
        "status": batch.status,
        "rows": batch.rows_total,
        "imported": batch.imported,
        "updated": batch.updated,
        "ignored": batch.ignored,
        "rejected": batch.rejected,
        "errors": batch.error_count,
    }


@transaction.atomic
def resubmit_quarantine(
    *, actor: Actor, rows: list[QuarantineRow], corrections: dict[int, dict[str, Any]]
) -> tuple[LoadBatch, bool]:
    """Corrected quarantined rows go through the same validation path as a new API batch."""
    if not rows:
        raise ValueError("没有选择要重新提交的记录")
    if any(row.status != QuarantineStatus.OPEN for row in rows):
        raise ValueError("只能重新提交待处理的隔离记录")
    dataset = rows[0].dataset
    if any(row.dataset_id != dataset.pk for row in rows):
        raise ValueError("一次只能重新提交同一数据集的隔离记录")
    records = []
    for row in rows:
        data = dict(row.data)
        data.update(corrections.get(row.pk, {}))
        records.append(data)
    batch, created = submit_records(
        actor=actor, dataset=dataset, records=records, mode=LoadMode.STRICT
    )
    if created:
        # An identical earlier batch keeps the channel it came in by.
        batch.channel = LoadChannel.QUARANTINE
        batch.save(update_fields=["channel"])
    if batch.status != LoadStatus.REJECTED:
        QuarantineRow.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=QuarantineStatus.RESUBMITTED, resubmitted_batch=batch
        )
    return batch, created
