"""A process killed during a 1-million-row import leaves no partial data; re-running completes.

The batch record follows the store: a worker starting after the kill (``recover_interrupted``,
a start-up hook) makes a batch the store committed ``loaded`` with its counts and touched
periods and queues its recompute, and a batch the store does not hold stops being ``running``;
a re-run of a committed batch records what it touched and queues the recompute too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from django.conf import settings
from django.db import connection

from sizhen.core import jobs
from sizhen.core.models import Job, JobStatus
from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets, spec_for
from sizhen.indicators.ingestion.models import Dataset, LoadBatch

ROOT = Path(settings.BASE_DIR)
ROWS = 1_000_000
#: Enough rows for the batch-record tests, which are about the record, not the scale.
SMALL = 20_000


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _write_cases(path: Path, rows: int) -> None:
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'K' || i AS case_id, 'I1' AS item_code, '设立登记' AS item_name,
        CASE WHEN i % 2 = 0 THEN '449901' ELSE '449902' END AS region_code,
        CASE WHEN i % 2 = 0 THEN 'DH-SCJG' ELSE 'XS-SCJG' END AS department_code,
        '企业' AS applicant_type, '网上' AS channel,
        strftime(TIMESTAMP '2025-03-03 09:00:00' + INTERVAL (i % 200) DAY, '%Y-%m-%d %H:%M:%S') AS submitted_at,
        strftime(TIMESTAMP '2025-03-03 10:00:00' + INTERVAL (i % 200) DAY, '%Y-%m-%d %H:%M:%S') AS accepted_at,
        strftime(TIMESTAMP '2025-03-05 16:00:00' + INTERVAL (i % 200) DAY, '%Y-%m-%d %H:%M:%S') AS completed_at,
        20 AS statutory_limit, 5 AS promised_limit, 0 AS visits, '办结' AS status
        FROM range({rows}) t(i)) TO '{path}' (HEADER)"""
    )
    con.close()


def _command(csv: Path, store: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "SIZHEN_ANALYTICS_DIR": str(store),
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_records", "gov_service_cases", str(csv), "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _stored_rows(store: Path) -> int:
    path = store / "records.duckdb"
    if not path.exists():
        return 0
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'records_gov_service_cases'"
        ).fetchall()[0][0]
        if not tables:
            return 0
        return int(con.execute("SELECT count(*) FROM records_gov_service_cases").fetchall()[0][0])
    finally:
        con.close()


def _crashed_import(tmp_path: Path, rows: int, hook: str, exit_code: int) -> tuple[Path, Path]:
    """An import_records run that the test hook ``hook`` makes die with ``exit_code``."""
    ensure_builtin_datasets()
    csv = tmp_path / "cases.csv"
    _write_cases(csv, rows)
    store = tmp_path / "analytics"
    crashed = _command(csv, store, **{hook: "1"})
    _out, err = crashed.communicate(timeout=600)
    assert crashed.returncode == exit_code, err.decode()[-2000:]
    return csv, store


def _rerun(csv: Path, store: Path) -> bytes:
    rerun = _command(csv, store)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()[-2000:]
    return out


@pytest.mark.django_db(transaction=True)
def test_crash_inside_the_commit_leaves_nothing_and_rerun_completes(city, tmp_path):
    csv, store = _crashed_import(tmp_path, ROWS, "SIZHEN_TEST_CRASH_BEFORE_COMMIT", 17)
    assert _stored_rows(store) == 0
    batch = LoadBatch.objects.get()
    assert batch.status == LoadStatus.RUNNING  # the report was never written

    _rerun(csv, store)
    assert _stored_rows(store) == ROWS
    batch.refresh_from_db()
    assert (batch.status, batch.imported) == (LoadStatus.LOADED, ROWS)
    assert LoadBatch.objects.count() == 1  # the re-run finished the same batch


@pytest.mark.django_db(transaction=True)
def test_sigkill_at_any_moment_leaves_all_or_nothing(city, tmp_path, settings):
    ensure_builtin_datasets()
    csv = tmp_path / "million.csv"
    _write_cases(csv, ROWS)
    store = tmp_path / "analytics"
    process = _command(csv, store)
    # Kill it while it works: once the store file exists the load is under way.
    deadline = time.monotonic() + 120
    while not (store / "records.duckdb").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    stored = _stored_rows(store)
    assert stored in (0, ROWS)

    _worker_starts(settings, store)
    batch = LoadBatch.objects.get()
    if stored == ROWS:
        _assert_loaded_with_recompute(batch, store, ROWS)
    else:
        # Not committed: no job to go back to (a command-line import), so it failed, saying
        # why; or the kill came before the batch was even taken.
        assert (batch.status, batch.message) in (
            (LoadStatus.FAILED, loads.INTERRUPTED_MESSAGE),
            (LoadStatus.QUEUED, ""),
        )
    assert _stored_rows(store) == stored

    _rerun(csv, store)
    assert _stored_rows(store) == ROWS


def _worker_starts(settings, store: Path) -> None:
    settings.SIZHEN_ANALYTICS_DIR = store
    jobs.run_startup_hooks()


def _stored_touched(store: Path) -> list[list[str]]:
    """(region, month) of every period field of the stored rows: what a first load touches."""
    spec = spec_for(Dataset.objects.get(code="gov_service_cases"))
    con = duckdb.connect(str(store / "records.duckdb"), read_only=True)
    try:
        months = " UNION ".join(
            f"SELECT region_code, strftime({field}, '%Y-%m') FROM records_gov_service_cases "
            f"WHERE {field} IS NOT NULL"
            for field in spec.period_fields
        )
        return [[r, m] for r, m in con.execute(f"{months} ORDER BY 1, 2").fetchall()]
    finally:
        con.close()


def _recomputes(batch: LoadBatch) -> list[Job]:
    return list(Job.objects.filter(name="indicators.recompute", kwargs={"batch_id": batch.pk}))


def _assert_loaded_with_recompute(batch: LoadBatch, store: Path, rows: int) -> None:
    batch.refresh_from_db()
    assert (batch.status, batch.rows_total, batch.imported, batch.updated, batch.ignored) == (
        LoadStatus.LOADED,
        rows,
        rows,
        0,
        0,
    )
    touched = _stored_touched(store)
    assert len(touched) == 14  # 2 regions x 2025-03 .. 2025-09
    assert batch.touched == touched
    assert [(j.status, j.kwargs) for j in _recomputes(batch)] == [
        (JobStatus.QUEUED, {"batch_id": batch.pk})
    ]


def _crash_after_commit(tmp_path: Path) -> tuple[Path, Path, LoadBatch]:
    csv, store = _crashed_import(tmp_path, SMALL, "SIZHEN_TEST_CRASH_AFTER_COMMIT", 18)
    assert _stored_rows(store) == SMALL  # the store committed ...
    batch = LoadBatch.objects.get()
    assert (batch.status, batch.imported, batch.touched) == (LoadStatus.RUNNING, 0, None)
    assert _recomputes(batch) == []  # ... and nothing else happened
    return csv, store, batch


@pytest.mark.django_db(transaction=True)
def test_kill_after_the_store_committed_is_recovered_when_a_worker_starts(city, tmp_path, settings):
    _csv, store, batch = _crash_after_commit(tmp_path)

    _worker_starts(settings, store)
    _assert_loaded_with_recompute(batch, store, SMALL)
    assert batch.message.endswith("（进程中断后按分析库的入库记录恢复）")
    assert _stored_rows(store) == SMALL

    # Idempotent: a second start changes nothing and queues no second recompute.
    before = (batch.status, batch.message, batch.touched, batch.finished_at)
    _worker_starts(settings, store)
    batch.refresh_from_db()
    assert (batch.status, batch.message, batch.touched, batch.finished_at) == before
    assert len(_recomputes(batch)) == 1


@pytest.mark.django_db(transaction=True)
def test_rerun_of_a_batch_the_store_committed_records_what_it_touched(city, tmp_path):
    csv, store, batch = _crash_after_commit(tmp_path)

    out = _rerun(csv, store)
    assert b'"already_loaded": true' in out
    _assert_loaded_with_recompute(batch, store, SMALL)
    assert _stored_rows(store) == SMALL  # reported, not loaded twice
    assert LoadBatch.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_kill_before_the_commit_fails_the_batch_when_a_worker_starts(city, tmp_path, settings):
    csv, store = _crashed_import(tmp_path, SMALL, "SIZHEN_TEST_CRASH_BEFORE_COMMIT", 17)
    batch = LoadBatch.objects.get()
    assert batch.status == LoadStatus.RUNNING

    _worker_starts(settings, store)
    batch.refresh_from_db()
    assert (batch.status, batch.message, batch.imported, batch.touched) == (
        LoadStatus.FAILED,
        loads.INTERRUPTED_MESSAGE,
        0,
        None,
    )
    assert list(batch.errors.values_list("code", flat=True)) == ["interrupted"]
    assert _recomputes(batch) == []
    assert _stored_rows(store) == 0
    _worker_starts(settings, store)
    assert list(batch.errors.values_list("code", flat=True)) == ["interrupted"]

    # Resubmitting loads it as a new batch.
    _rerun(csv, store)
    assert _stored_rows(store) == SMALL
    assert LoadBatch.objects.filter(status=LoadStatus.LOADED).count() == 1


def _worker_job_left_running(tmp_path: Path, *, attempts: int) -> tuple[LoadBatch, Job]:
    """A queued load whose worker took the job and died before the store committed."""
    ensure_builtin_datasets()
    csv = tmp_path / "cases.csv"
    _write_cases(csv, 500)
    batch, _created = loads.submit_file(
        actor=None,
        dataset=Dataset.objects.get(code="gov_service_cases"),
        source=csv,
        file_name="cases.csv",
    )
    job = jobs.claim_next("dead-worker:1")
    assert job is not None and job.pk == batch.job_id
    Job.objects.filter(pk=job.pk).update(attempts=attempts)
    LoadBatch.objects.filter(pk=batch.pk).update(status=LoadStatus.RUNNING)
    return batch, job


@pytest.mark.django_db(transaction=True)
def test_a_worker_job_killed_before_the_commit_goes_back_to_the_queue(city, tmp_path, store_dir):
    batch, job = _worker_job_left_running(tmp_path, attempts=1)

    jobs.run_startup_hooks()
    batch.refresh_from_db()
    job.refresh_from_db()
    assert (batch.status, job.status, job.worker) == (LoadStatus.QUEUED, JobStatus.QUEUED, "")

    assert jobs.run_pending() == 2  # the load, then its recompute
    batch.refresh_from_db()
    assert (batch.status, batch.imported) == (LoadStatus.LOADED, 500)
    assert [j.status for j in _recomputes(batch)] == [JobStatus.SUCCEEDED]


@pytest.mark.django_db(transaction=True)
def test_a_worker_job_out_of_attempts_fails_with_its_batch(city, tmp_path, store_dir):
    batch, job = _worker_job_left_running(tmp_path, attempts=2)

    jobs.run_startup_hooks()
    batch.refresh_from_db()
    job.refresh_from_db()
    assert (batch.status, batch.message) == (LoadStatus.FAILED, loads.INTERRUPTED_MESSAGE)
    assert (job.status, job.error) == (JobStatus.FAILED, loads.INTERRUPTED_MESSAGE)
    assert jobs.run_pending() == 0
