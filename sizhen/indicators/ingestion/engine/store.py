"""The analytical store: one embedded DuckDB file holding the full transaction records.

Only the worker process writes it (pages read precomputed values from the app database). A
connection is opened per job and closed after, so management commands can run between jobs;
DuckDB's file lock turns a second writer into a clear error rather than corruption.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from django.conf import settings

from sizhen.core.workcalendar import get_calendar

SQL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "datetime": "TIMESTAMP",
    "date": "DATE",
}
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CALENDAR_FIRST = dt.date(2015, 1, 1)
CALENDAR_LAST = dt.date(2035, 12, 31)


class StoreBusy(RuntimeError):
    pass


def ident(name: str) -> str:
    """A safe SQL identifier: dataset and field names are data, so they are checked, then quoted."""
    if not _IDENT.match(name):
        raise ValueError(f"invalid identifier {name!r}")
    return f'"{name}"'


def store_path() -> Path:
    directory = Path(settings.SIZHEN_ANALYTICS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "records.duckdb"


def connect(
    path: Path | str | None = None, *, wait_seconds: float = 30.0
) -> duckdb.DuckDBPyConnection:
    target = str(path or store_path())
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(target)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise StoreBusy("分析库正被另一进程写入（通常是后台任务进程），请稍后重试") from exc
            time.sleep(0.5)
    con.execute(f"SET threads = {int(settings.SIZHEN_DUCKDB_THREADS)}")
    con.execute(f"SET memory_limit = '{settings.SIZHEN_DUCKDB_MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    ensure_base_tables(con)
    return con


@contextlib.contextmanager
def open_store(path: Path | str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


def ensure_base_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS loads (
            batch_id BIGINT PRIMARY KEY, dataset VARCHAR, committed_at TIMESTAMP,
            imported BIGINT, updated BIGINT, ignored BIGINT
        );
        -- What the batch rejected and touched, committed with its rows: a batch whose report
        -- was never written (the process died after the commit) is recovered from here.
        ALTER TABLE loads ADD COLUMN IF NOT EXISTS rejected BIGINT;
        ALTER TABLE loads ADD COLUMN IF NOT EXISTS touched VARCHAR;
        CREATE TABLE IF NOT EXISTS dim_region (
            code VARCHAR PRIMARY KEY, name VARCHAR, parent_code VARCHAR, path VARCHAR,
            depth INTEGER
        );
        CREATE TABLE IF NOT EXISTS dim_region_ancestor (region_code VARCHAR, ancestor_code VARCHAR);
        CREATE TABLE IF NOT EXISTS dim_department (code VARCHAR PRIMARY KEY, region_code VARCHAR);
        CREATE TABLE IF NOT EXISTS dim_department_ancestor (
            department_code VARCHAR, ancestor_code VARCHAR
        );
        CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
        CREATE TABLE IF NOT EXISTS dim_calendar (
            date DATE PRIMARY KEY, is_workday BOOLEAN, workday_index INTEGER, provisional BOOLEAN
        );
        """
    )


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows and rows[0][0])


def records_table(dataset_code: str) -> str:
    return ident(f"records_{dataset_code}")


def ensure_records_table(
    con: duckdb.DuckDBPyConnection, dataset_code: str, fields: list[dict[str, Any]]
) -> None:
    """Create the records table, or add columns a newer schema version introduced."""
    table = records_table(dataset_code)
    existing = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [f"records_{dataset_code}"],
        ).fetchall()
    }
    if not existing:
        columns = ", ".join(f"{ident(f['name'])} {SQL_TYPES[f['type']]}" for f in fields)
        con.execute(
            f"CREATE TABLE {table} ({columns}, _batch_id BIGINT, _row_hash UBIGINT, "
            "_loaded_at TIMESTAMP)"
        )
        return
    for f in fields:
        if f["name"] not in existing:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {ident(f['name'])} {SQL_TYPES[f['type']]}")


def sync_dimensions(con: duckdb.DuckDBPyConnection, *, calendar: bool = True) -> None:
    """Copy regions (with the ancestor bridge used for roll-ups), departments and the
    working-day calendar from the app database."""
    from sizhen.organisations.models import Department, Region

    regions = list(
        Region.objects.select_related("parent").values_list(
            "code", "name", "parent__code", "path", "depth"
        )
    )
    departments = list(Department.objects.values_list("code", "region__code", "superior__code"))
    region_table = pa.table(
        {
            "code": [r[0] for r in regions],
            "name": [r[1] for r in regions],
            "parent_code": [r[2] for r in regions],
            "path": [r[3] for r in regions],
            "depth": pa.array([r[4] for r in regions], pa.int32()),
        }
    )
    department_table = pa.table(
        {"code": [d[0] for d in departments], "region_code": [d[1] for d in departments]}
    )
    # Each department with itself and the city department leading its line (a department
    # figure rolls up to the line as a region's rolls up the tree).
    lines = [(d[0], d[0]) for d in departments] + [(d[0], d[2]) for d in departments if d[2]]
    line_table = pa.table(
        {"department_code": [a for a, _ in lines], "ancestor_code": [b for _, b in lines]}
    )
    con.register("_regions", region_table)
    con.register("_departments", department_table)
    con.register("_department_lines", line_table)
    con.execute("BEGIN")
    con.execute("DELETE FROM dim_region; INSERT INTO dim_region SELECT * FROM _regions")
    con.execute("DELETE FROM dim_department; INSERT INTO dim_department SELECT * FROM _departments")
    con.execute(
        """DELETE FROM dim_department_ancestor;
        INSERT INTO dim_department_ancestor SELECT * FROM _department_lines"""
    )
    # Every region paired with itself and each ancestor: grouping records by ancestor rolls a
    # measure up the whole tree in one query (ratio of sums and exact medians at every level).
    con.execute(
        """DELETE FROM dim_region_ancestor;
        INSERT INTO dim_region_ancestor
        SELECT r.code, a.code FROM dim_region r JOIN dim_region a ON starts_with(r.path, a.path)"""
    )
    if calendar:
        _sync_calendar(con)
    con.execute("COMMIT")
    con.unregister("_regions")
    con.unregister("_departments")
    con.unregister("_department_lines")


def _calendar_table() -> pa.Table:
    days = get_calendar().days(CALENDAR_FIRST, CALENDAR_LAST)
    index = 0
    dates, workdays, indexes, provisional = [], [], [], []
    for info in days:
        if info.is_workday:
            index += 1
        dates.append(info.date)
        workdays.append(info.is_workday)
        indexes.append(index)
        provisional.append(info.provisional)
    return pa.table(
        {
            "date": pa.array(dates, pa.date32()),
            "is_workday": workdays,
            "workday_index": pa.array(indexes, pa.int32()),
            "provisional": provisional,
        }
    )


def _sync_calendar(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild dim_calendar only when the working-day calendar changed since the last sync."""
    fingerprint = get_calendar().fingerprint
    stored = con.execute("SELECT value FROM meta WHERE key = 'calendar'").fetchall()
    if fingerprint and stored and stored[0][0] == fingerprint:
        return
    con.register("_calendar", _calendar_table())
    con.execute("DELETE FROM dim_calendar; INSERT INTO dim_calendar SELECT * FROM _calendar")
    con.execute("INSERT OR REPLACE INTO meta VALUES ('calendar', ?)", [fingerprint])
    con.unregister("_calendar")
