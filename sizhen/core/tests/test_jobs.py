"""The database-backed job queue: outbox semantics, idempotency, claiming, retries, schedules."""

from __future__ import annotations

import datetime as dt
import io
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from sizhen.core import jobs
from sizhen.core.jobs import JobContext
from sizhen.core.models import Job, JobSchedule, JobStatus

CALLS: list[dict[str, Any]] = []


def echo(ctx: JobContext, **kwargs: Any) -> dict[str, Any]:
    CALLS.append(kwargs)
    return {"echo": kwargs, "when": dt.date(2025, 10, 11)}


def counted(ctx: JobContext, total: int) -> int:
    for done in range(1, total + 1):
        ctx.progress(done, total, f"第 {done} 批")
    return total


def broken(ctx: JobContext) -> None:
    raise RuntimeError("源系统不可用")


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test jobs exist only while a test runs; the app's own schedules are set aside."""
    CALLS.clear()
    monkeypatch.setitem(
        jobs.REGISTRY, "test.echo", jobs.RegisteredJob("test.echo", "回显", echo, 3)
    )
    monkeypatch.setitem(
        jobs.REGISTRY, "test.counted", jobs.RegisteredJob("test.counted", "计数", counted, 3)
    )
    monkeypatch.setitem(
        jobs.REGISTRY, "test.broken", jobs.RegisteredJob("test.broken", "失败", broken, 3)
    )
    monkeypatch.setattr(jobs, "SCHEDULES", {})


@pytest.mark.django_db
class TestEnqueue:
    def test_enqueue_in_a_rolled_back_transaction_leaves_no_job(self) -> None:
        class Abort(Exception):
            pass

        with pytest.raises(Abort), transaction.atomic():
            jobs.enqueue("test.echo", value=1)
            assert Job.objects.count() == 1
            raise Abort
        assert Job.objects.count() == 0
        assert jobs.run_pending() == 0
        assert CALLS == []

    def test_unknown_job_is_refused(self) -> None:
        with pytest.raises(KeyError):
            jobs.enqueue("test.nothing")
        assert Job.objects.count() == 0

    def test_idempotency_key_returns_the_active_job(self, personas: dict[str, Any]) -> None:
        first = jobs.enqueue("test.echo", key="recompute:2025-09", value=1)
        second = jobs.enqueue("test.echo", key="recompute:2025-09", value=2)
        assert second.pk == first.pk
        assert Job.objects.get().kwargs == {"value": 1}
        claimed = jobs.claim_next("w1")
        assert claimed is not None and claimed.pk == first.pk
        # Still active while running.
        assert jobs.enqueue("test.echo", key="recompute:2025-09", value=3).pk == first.pk
        jobs.run_job(claimed)
        # Finished: the key is free again.
        third = jobs.enqueue("test.echo", key="recompute:2025-09", value=4)
        assert third.pk != first.pk
        assert Job.objects.count() == 2

    def test_created_by_only_for_a_user(self, personas: dict[str, Any]) -> None:
        class MachineActor:
            is_authenticated = True
            pk = 99

        job = jobs.enqueue("test.echo", created_by=personas["coordinator"])
        assert job.created_by_id == personas["coordinator"].pk
        assert jobs.enqueue("test.echo", created_by=MachineActor()).created_by_id is None
        assert jobs.enqueue("test.echo", created_by=None).created_by_id is None


@pytest.mark.django_db
class TestRunning:
    def test_run_pending_runs_due_jobs_in_order(self) -> None:
        jobs.enqueue("test.echo", value=1)
        jobs.enqueue("test.echo", value=2)
        later = jobs.enqueue("test.echo", value=3, run_after=timezone.now() + dt.timedelta(hours=1))
        assert jobs.run_pending(worker="w1") == 2
        assert CALLS == [{"value": 1}, {"value": 2}]
        done = Job.objects.filter(status=JobStatus.SUCCEEDED).order_by("id")
        assert [j.result for j in done] == [
            {"echo": {"value": 1}, "when": "2025-10-11"},
            {"echo": {"value": 2}, "when": "2025-10-11"},
        ]
        assert all(j.worker == "w1" and j.attempts == 1 and j.finished_at for j in done)
        assert Job.objects.get(pk=later.pk).status == JobStatus.QUEUED

    def test_progress_is_recorded(self) -> None:
        job = jobs.enqueue("test.counted", total=4)
        jobs.run_pending()
        job.refresh_from_db()
        assert (job.status, job.progress_done, job.progress_total, job.progress_message) == (
            JobStatus.SUCCEEDED,
            4,
            4,
            "第 4 批",
        )
        assert job.percent == 100
        assert job.result == 4
        assert job.heartbeat_at is not None

    def test_retries_with_backoff_then_fails(self) -> None:
        job = jobs.enqueue("test.broken")
        for attempt, backoff in ((1, 10), (2, 40)):
            before = timezone.now()
            assert jobs.run_pending() == 1
            after = timezone.now()
            job.refresh_from_db()
            assert (job.status, job.attempts) == (JobStatus.QUEUED, attempt)
            assert "源系统不可用" in job.error
            delay = dt.timedelta(seconds=backoff)
            assert before + delay <= job.run_after <= after + delay
            # Not due yet: nothing runs until the back-off has passed.
            assert jobs.run_pending() == 0
            Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
        assert jobs.run_pending() == 1
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
        assert job.finished_at is not None
        assert jobs.run_pending() == 0

    def test_unregistered_job_fails(self) -> None:
        Job.objects.create(name="test.vanished")
        assert jobs.run_pending() == 1
        assert Job.objects.get().status == JobStatus.FAILED
        assert Job.objects.get().error == "未注册的任务 test.vanished"

    def test_a_recovered_job_is_not_finished_by_its_old_worker(self) -> None:
        job = jobs.enqueue("test.echo", value=1)
        first = jobs.claim_next("w-old")
        assert first is not None
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
        assert jobs.recover_stale() == 1
        second = jobs.claim_next("w-new")
        assert second is not None and second.attempts == 2
        jobs.run_job(first)  # the old worker comes back to life and finishes late
        assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
        jobs.run_job(second)
        assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED

    def test_recover_stale(self) -> None:
        stale = jobs.enqueue("test.echo", value=1)
        fresh = jobs.enqueue("test.echo", value=2)
        exhausted = jobs.enqueue("test.echo", value=3)
        for _ in range(3):
            jobs.claim_next("w1")
        hour_ago = timezone.now() - dt.timedelta(hours=1)
        Job.objects.filter(pk=stale.pk).update(heartbeat_at=hour_ago)
        Job.objects.filter(pk=exhausted.pk).update(heartbeat_at=hour_ago, attempts=3)
        assert jobs.recover_stale(dt.timedelta(minutes=30)) == 2
        statuses = dict(Job.objects.values_list("pk", "status"))
        assert statuses == {
            stale.pk: JobStatus.QUEUED,
            fresh.pk: JobStatus.RUNNING,
            exhausted.pk: JobStatus.FAILED,
        }
        assert Job.objects.get(pk=stale.pk).worker == ""
        assert Job.objects.get(pk=exhausted.pk).error == "工作进程中断，且已达到最大尝试次数"
        assert jobs.run_pending() == 1
        assert CALLS == [{"value": 1}]


@pytest.mark.django_db
class TestSchedules:
    def test_one_job_per_slot_even_when_called_twice(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(
            jobs.SCHEDULES, "test.echo", jobs.Schedule("test.echo", dt.timedelta(minutes=10))
        )
        now = dt.datetime(2025, 10, 11, 8, 3, tzinfo=dt.UTC)
        assert len(jobs.enqueue_due_schedules(now)) == 1
        assert jobs.enqueue_due_schedules(now) == []
        assert jobs.enqueue_due_schedules(now + dt.timedelta(minutes=5)) == []  # same slot
        assert Job.objects.count() == 1
        assert JobSchedule.objects.get(name="test.echo").last_slot == dt.datetime(
            2025, 10, 11, 8, 0, tzinfo=dt.UTC
        )
        jobs.run_pending()
        assert len(jobs.enqueue_due_schedules(now + dt.timedelta(minutes=7))) == 1  # next slot
        assert Job.objects.count() == 2
        assert Job.objects.filter(key="schedule:test.echo").count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_enqueue_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        jobs.SCHEDULES, "test.echo", jobs.Schedule("test.echo", dt.timedelta(minutes=10))
    )
    now = dt.datetime(2025, 10, 11, 8, 3, tzinfo=dt.UTC)
    barrier = threading.Barrier(3)
    created: list[int] = []

    def tick() -> None:
        try:
            barrier.wait(timeout=30)
            created.append(len(jobs.enqueue_due_schedules(now)))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(created) == [0, 0, 1]
    assert Job.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_workers_never_claim_the_same_job() -> None:
    for value in range(6):
        jobs.enqueue("test.echo", value=value)
    barrier = threading.Barrier(3)
    claimed: dict[str, list[int]] = {}

    def work(name: str) -> None:
        mine: list[int] = []
        try:
            barrier.wait(timeout=30)
            while (job := jobs.claim_next(name)) is not None:
                mine.append(job.pk)
        finally:
            claimed[name] = mine
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    taken = [pk for pks in claimed.values() for pk in pks]
    assert sorted(taken) == sorted(Job.objects.values_list("pk", flat=True))
    assert len(taken) == len(set(taken)) == 6
    assert Job.objects.filter(status=JobStatus.RUNNING, attempts=1).count() == 6
    workers = dict(Job.objects.values_list("pk", "worker"))
    assert all(workers[pk] == name for name, pks in claimed.items() for pk in pks)


@pytest.mark.django_db
def test_run_worker_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        jobs.SCHEDULES,
        "test.echo",
        jobs.Schedule("test.echo", dt.timedelta(hours=1), {"source": "schedule"}),
    )
    jobs.enqueue("test.counted", total=2)
    out = io.StringIO()
    call_command("run_worker", "--once", stdout=out)
    assert out.getvalue() == "已运行 2 个任务\n"
    assert CALLS == [{"source": "schedule"}]
    assert Job.objects.filter(status=JobStatus.SUCCEEDED).count() == 2
    out = io.StringIO()
    call_command("run_worker", "--once", stdout=out)
    assert out.getvalue() == "已运行 0 个任务\n"


@pytest.mark.django_db
class TestPublish:
    def test_publish_enqueues_each_subscriber_once_and_only_on_commit(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(jobs, "SUBSCRIPTIONS", {})
        jobs.subscribe("test.happened", "test.echo")
        jobs.subscribe("test.happened", "test.echo")  # registering twice subscribes once
        jobs.subscribe("test.happened", "test.counted")

        class Abort(Exception):
            pass

        with pytest.raises(Abort), transaction.atomic():
            jobs.publish("test.happened", total=2)
            raise Abort
        assert Job.objects.count() == 0

        published = jobs.publish("test.happened", total=2)

        assert [(j.name, j.kwargs) for j in published] == [
            ("test.echo", {"total": 2}),
            ("test.counted", {"total": 2}),
        ]
        assert jobs.publish("test.nobody_listens", total=1) == []
        assert Job.objects.count() == 2
