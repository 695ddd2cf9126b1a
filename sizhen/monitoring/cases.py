"""Overdue government-service cases (政务服务办件超期): cases still open at the end of the latest
complete month beyond their promised limit (承诺时限, working days), counted per department and
district from the records in the analytical store.

Read in the worker only, like the indicator computation: the store is opened through its own
helpers and only queried. The alerts are filed under the indicator "按时办结率" (BE15.03): its
definition compares exactly these handling working days with ``promised_limit``, and today's
overdue open cases are next month's late completions."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import duckdb

from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.selectors import list_indicator_codes_for_dataset

logger = logging.getLogger(__name__)

CASES_DATASET = "gov_service_cases"
#: 按时办结率 (on-time completion rate); see the module docstring for why this one.
CASES_INDICATOR = "BE15.03"


@dataclass(frozen=True)
class OverdueCaseRow:
    case_id: str
    item_name: str
    region_code: str
    department_code: str
    overdue_days: int


def overdue_case_indicator() -> Indicator | None:
    """BE15.03, or failing that the first catalogued indicator computed from the cases."""
    codes = [CASES_INDICATOR, *list_indicator_codes_for_dataset(CASES_DATASET)]
    found = {i.code: i for i in Indicator.objects.filter(code__in=codes, is_active=True)}
    return next((found[c] for c in codes if c in found), None)


def period_end(today: dt.date) -> dt.date:
    """The last day of the latest complete month: cases are judged "at period end"."""
    return today.replace(day=1) - dt.timedelta(days=1)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()
    return bool(rows and rows[0][0])


def read_overdue_cases(
    con: duckdb.DuckDBPyConnection, as_of: dt.date
) -> list[OverdueCaseRow] | None:
    """Cases open at the end of ``as_of`` for more working days than promised; None when the
    store cannot answer (no case records, or a calendar that does not reach ``as_of``)."""
    if not _has_table(con, f"records_{CASES_DATASET}"):
        return None
    covered = con.execute("SELECT count(*) FROM dim_calendar WHERE date = ?", [as_of]).fetchall()
    if not covered or not covered[0][0]:
        return None
    table = store.records_table(CASES_DATASET)
    # Open at period end: accepted by then and not finished by then. Cases waiting for the
    # applicant's corrections (补正) have their clock stopped; refused or void cases are closed.
    # Working days elapsed are those in (accepted, as_of], as the indicator definitions count.
    # The only interpolated name is the table, a constant checked by store.ident.
    rows = con.execute(
        f"""
        SELECT r.case_id, coalesce(r.item_name, ''), r.region_code,
               coalesce(r.department_code, ''),
               (e.workday_index - s.workday_index) - r.promised_limit AS overdue_days
        FROM {table} r
        JOIN dim_calendar s ON s.date = CAST(r.accepted_at AS DATE)
        JOIN dim_calendar e ON e.date = ?
        WHERE CAST(r.accepted_at AS DATE) <= ?
          AND (
            (r.status = '受理'
             AND (r.completed_at IS NULL OR CAST(r.completed_at AS DATE) > ?))
            OR (r.status = '办结' AND CAST(r.completed_at AS DATE) > ?)
          )
          AND r.promised_limit IS NOT NULL
          AND (e.workday_index - s.workday_index) > r.promised_limit
        ORDER BY r.region_code, r.department_code, overdue_days DESC, r.case_id
        """,  # noqa: S608
        [as_of, as_of, as_of, as_of],
    ).fetchall()
    return [
        OverdueCaseRow(
            case_id=str(case_id),
            item_name=str(item_name),
            region_code=str(region_code),
            department_code=str(department_code),
            overdue_days=int(overdue_days),
        )
        for case_id, item_name, region_code, department_code, overdue_days in rows
    ]


def load_overdue_cases(as_of: dt.date) -> list[OverdueCaseRow] | None:
    """Open the store (never creating it) and read; None when it cannot answer now."""
    if not store.store_path().exists():
        return None
    try:
        with store.open_store() as con:
            return read_overdue_cases(con, as_of)
    except store.StoreBusy:
        logger.warning("analytical store busy; overdue cases not checked in this scan")
        return None
