"""A process killed during a 1-million-row import leaves no partial data; re-running completes."""

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

from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
from sizhen.indicators.ingestion.models import LoadBatch

ROOT = Path(settings.BASE_DIR)
ROWS = 1_000_000


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


@pytest.mark.django_db(transaction=True)
def test_crash_inside_the_commit_leaves_nothing_and_rerun_completes(city, tmp_path):
    ensure_builtin_datasets()
    csv = tmp_path / "million.csv"
    _write_cases(csv, ROWS)
    store = tmp_path / "analytics"

    crashed = _command(csv, store, SIZHEN_TEST_CRASH_BEFORE_COMMIT="1")
    _out, err = crashed.communicate(timeout=600)
    assert crashed.returncode == 17, err.decode()[-2000:]
    assert _stored_rows(store) == 0
    batch = LoadBatch.objects.get()
    assert batch.status == LoadStatus.RUNNING  # the report was never written

    rerun = _command(csv, store)
    _out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()[-2000:]
    assert _stored_rows(store) == ROWS
    batch.refresh_from_db()
    assert (batch.status, batch.imported) == (LoadStatus.LOADED, ROWS)
    assert LoadBatch.objects.count() == 1  # the re-run finished the same batch


@pytest.mark.django_db(transaction=True)
def test_sigkill_at_any_moment_leaves_all_or_nothing(city, tmp_path):
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
    assert _stored_rows(store) in (0, ROWS)

    rerun = _command(csv, store)
    _out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()[-2000:]
    assert _stored_rows(store) == ROWS
