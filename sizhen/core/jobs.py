"""Background jobs with no extra server: a database-backed queue, a worker command and a
scheduler for periodic jobs (see docs/decisions/0002-job-runner.md).

A job is a plain function registered with ``@job("app.name")`` taking ``(ctx, **kwargs)``;
kwargs are ids and plain values (JSON). ``enqueue`` writes the row inside the caller's
transaction, so the worker sees it exactly when the change commits. With a ``key``, enqueueing
is idempotent: while a job with that key is queued or running, the same row is returned.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import jsonable
from sizhen.core.models import ACTIVE_JOB_STATUSES, Job, JobSchedule, JobStatus

logger = logging.getLogger(__name__)

JobFunction = Callable[..., Any]

#: A running job's heartbeat is refreshed this often, so ``recover_stale`` (30 minutes by
#: default) only ever requeues jobs whose worker really stopped.
HEARTBEAT_SECONDS = 60.0


@dataclass(frozen=True)
class RegisteredJob:
    name: str
    label: str
    function: JobFunction
    max_attempts: int


@dataclass(frozen=True)
class Schedule:
    """Run ``job_name`` every ``every``; slots are aligned to multiples of ``every`` since epoch."""

    job_name: str
    every: dt.timedelta
    kwargs: dict[str, Any] | None = None


REGISTRY: dict[str, RegisteredJob] = {}
SCHEDULES: dict[str, Schedule] = {}
#: Topic → the jobs enqueued when it is published: an app reacts to what a lower app announces
#: without that app importing it (reports proposes letters when monitoring raises alerts).
SUBSCRIPTIONS: dict[str, list[str]] = {}
#: Run once when a worker starts, before it takes jobs: apps register here what they must put
#: right after a crash (core does not know the apps; they append themselves).
STARTUP_HOOKS: list[Callable[[], Any]] = []


def job(
    name: str, *, label: str = "", max_attempts: int = 3
) -> Callable[[JobFunction], JobFunction]:
    def decorate(function: JobFunction) -> JobFunction:
        REGISTRY[name] = RegisteredJob(name, label or name, function, max_attempts)
        return function

    return decorate


def schedule(job_name: str, *, every: dt.timedelta, kwargs: dict[str, Any] | None = None) -> None:
    SCHEDULES[job_name] = Schedule(job_name, every, kwargs)


def subscribe(topic: str, job_name: str) -> None:
    """Enqueue ``job_name`` whenever ``topic`` is published (register at import, like jobs)."""
    names = SUBSCRIPTIONS.setdefault(topic, [])
    if job_name not in names:
        names.append(job_name)


def publish(topic: str, **kwargs: Any) -> list[Job]:
    """Enqueue every job subscribed to ``topic`` with ``kwargs`` (ids and plain values), in the
    caller's transaction: the subscribers run only if the announced change commits."""
    return [enqueue(name, **kwargs) for name in SUBSCRIPTIONS.get(topic, [])]


def on_worker_start(function: Callable[[], Any]) -> Callable[[], Any]:
    """Register ``function`` to run when a worker starts (it must be idempotent)."""
    if function not in STARTUP_HOOKS:
        STARTUP_HOOKS.append(function)
    return function


def run_startup_hooks() -> None:
    """A failing hook is logged and does not keep the worker from running jobs."""
    for hook in STARTUP_HOOKS:
        try:
            hook()
        except Exception:
            logger.exception("worker start-up hook %s failed", getattr(hook, "__name__", hook))


class JobContext:
    """Handed to a running job: report progress the jobs page shows."""

    def __init__(self, job: Job):
        self.job = job

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        updates: dict[str, Any] = {"progress_done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            updates["progress_total"] = total
        if message:
            updates["progress_message"] = message[:300]
        Job.objects.filter(pk=self.job.pk).update(**updates)


def job_fields(
    name: str,
    *,
    key: str | None = None,
    label: str = "",
    run_after: dt.datetime | None = None,
    created_by: Actor | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The field values of a new queued job (unknown names are refused)."""
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    registered = REGISTRY[name]
    return {
        "name": name,
        "label": label or registered.label,
        "key": key,
        "kwargs": kwargs,
        "max_attempts": registered.max_attempts,
        "run_after": run_after or timezone.now(),
        # An API token's machine client is an actor but not a user row.
        "created_by": created_by
        if isinstance(created_by, get_user_model()) and created_by.is_authenticated
        else None,
    }


def enqueue(
    name: str,
    *,
    key: str | None = None,
    label: str = "",
    run_after: dt.datetime | None = None,
    created_by: Actor | None = None,
    **kwargs: Any,
) -> Job:
    fields = job_fields(
        name, key=key, label=label, run_after=run_after, created_by=created_by, **kwargs
    )
    if key is not None:
        existing = Job.objects.filter(key=key, status__in=ACTIVE_JOB_STATUSES).first()
        if existing is not None:
            return existing
    if key is None:
        return Job.objects.create(**fields)
    try:
        with transaction.atomic():
            return Job.objects.create(**fields)
    except IntegrityError:
        # Another process enqueued the same key between our check and insert.
        return Job.objects.get(key=key, status__in=ACTIVE_JOB_STATUSES)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_next(worker: str) -> Job | None:
    """Take the oldest due job; a conditional update makes two workers never take the same."""
    now = timezone.now()
    candidates = list(
        Job.objects.filter(status=JobStatus.QUEUED, run_after__lte=now)
        .order_by("run_after", "id")
        .values_list("pk", flat=True)[:10]
    )
    for pk in candidates:
        taken = Job.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            worker=worker,
            attempts=F("attempts") + 1,
        )
        if taken:
            return Job.objects.get(pk=pk)
    return None


class _Heartbeat(threading.Thread):
    """Keeps ``heartbeat_at`` fresh while a job runs, whether or not it reports progress."""

    def __init__(self, job: Job):
        super().__init__(name=f"job-heartbeat-{job.pk}", daemon=True)
        self.job_pk = job.pk
        self.attempts = job.attempts
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                try:
                    Job.objects.filter(
                        pk=self.job_pk, status=JobStatus.RUNNING, attempts=self.attempts
                    ).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    # SQLite: the job itself may hold the write lock; the next beat retries.
                    logger.warning("heartbeat of job %s skipped", self.job_pk, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def run_job(job: Job) -> Job:
    registered = REGISTRY.get(job.name)
    if registered is None:
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=f"未注册的任务 {job.name}", finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    ctx = JobContext(job)
    # Only this claim may finish the job: if it was recovered as stale and claimed again,
    # attempts moved on and this run's outcome is no longer the job's.
    mine = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)
    heartbeat = _Heartbeat(job)
    heartbeat.start()
    try:
        result = registered.function(ctx, **job.kwargs)
    except Exception:
        heartbeat.stop()
        error = traceback.format_exc()
        logger.exception("job %s failed", job)
        if job.attempts < job.max_attempts:
            # Back off: 10 s, 40 s, 90 s ...
            delay = dt.timedelta(seconds=10 * job.attempts * job.attempts)
            mine.update(status=JobStatus.QUEUED, error=error, run_after=timezone.now() + delay)
        else:
            mine.update(status=JobStatus.FAILED, error=error, finished_at=timezone.now())
    else:
        heartbeat.stop()
        mine.update(
            status=JobStatus.SUCCEEDED,
            result=_json_result(result),
            error="",
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


def _json_result(value: Any) -> Any:
    value = jsonable(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def enqueue_due_schedules(now: dt.datetime | None = None) -> list[Job]:
    """Enqueue each periodic job whose current slot has not been enqueued yet."""
    now = now or timezone.now()
    created = []
    for sched in SCHEDULES.values():
        seconds = int(sched.every.total_seconds())
        slot_epoch = int(now.timestamp()) // seconds * seconds
        slot = dt.datetime.fromtimestamp(slot_epoch, tz=dt.UTC)
        JobSchedule.objects.get_or_create(name=sched.job_name)
        advanced = JobSchedule.objects.filter(name=sched.job_name).filter(
            last_slot__isnull=True
        ).update(last_slot=slot) or JobSchedule.objects.filter(
            name=sched.job_name, last_slot__lt=slot
        ).update(last_slot=slot)
        if advanced:
            created.append(
                enqueue(sched.job_name, key=f"schedule:{sched.job_name}", **(sched.kwargs or {}))
            )
    return created


def recover_stale(older_than: dt.timedelta = dt.timedelta(minutes=30)) -> int:
    """Requeue running jobs whose worker stopped sending heartbeats (a crashed worker); a job
    that has used all its attempts fails instead, so a job that kills its worker every time
    does not loop forever."""
    now = timezone.now()
    stale = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=now - older_than)
    failed = stale.filter(attempts__gte=F("max_attempts")).update(
        status=JobStatus.FAILED,
        error="工作进程中断，且已达到最大尝试次数",
        worker="",
        finished_at=now,
    )
    requeued = stale.filter(attempts__lt=F("max_attempts")).update(
        status=JobStatus.QUEUED, worker="", run_after=now
    )
    return failed + requeued


def run_pending(
    *,
    worker: str | None = None,
    limit: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Run due jobs until none is left (or ``limit``, or ``stop()`` says so between jobs)."""
    worker = worker or worker_name()
    ran = 0
    while (limit is None or ran < limit) and not (stop and stop()):
        job = claim_next(worker)
        if job is None:
            break
        run_job(job)
        ran += 1
    return ran


def work_forever(*, poll_seconds: float = 1.0, stop: Callable[[], bool] | None = None) -> None:
    worker = worker_name()
    logger.info("worker %s started", worker)
    run_startup_hooks()
    last_recover = 0.0
    while not (stop and stop()):
        if time.monotonic() - last_recover > 60:
            recover_stale()
            last_recover = time.monotonic()
        enqueue_due_schedules()
        if run_pending(worker=worker, stop=stop) == 0:
            time.sleep(poll_seconds)
