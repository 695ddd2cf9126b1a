"""Rows open beyond their limit, read through a timeliness definition (BE15.03 按时办结率):
which rows are in progress, how the duration is counted and what is on time come from the
definition, and an open late row is counted late by the indicator once it finishes."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import ibis
import pytest

from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.engine.compile import (
    DefinitionError,
    compile_definition,
    compile_open_late,
)
from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS_BY_INDICATOR
from sizhen.indicators.ingestion.engine.schemas import GOV_SERVICE_CASES
from sizhen.indicators.ingestion.selectors import OpenLateRecord, list_open_late_records

ON_TIME = DEFINITIONS_BY_INDICATOR["BE15.03"]
COLUMNS = [f["name"] for f in GOV_SERVICE_CASES["fields"]]
AS_OF = dt.date(2026, 10, 31)


def _insert(con: Any, cases: list[tuple[str, str, str | None, int | None, str]]) -> None:
    store.sync_dimensions(con)
    store.ensure_records_table(con, "gov_service_cases", GOV_SERVICE_CASES["fields"])
    for case_id, accepted, completed, promised, status in cases:
        row = {name: None for name in COLUMNS}
        row.update(
            case_id=case_id,
            item_code="X",
            item_name="企业设立登记",
            region_code="449901",
            department_code="SZ-SCJG",
            accepted_at=f"{accepted} 10:00:00",
            completed_at=f"{completed} 16:00:00" if completed else None,
            promised_limit=promised,
            status=status,
        )
        con.execute(
            f"INSERT INTO {store.records_table('gov_service_cases')} ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})",
            [row[c] for c in COLUMNS],
        )


# Working days in (2026-10-12, 2026-10-31] are 14 (10-10 is a make-up working day before).
CASES = [
    ("A", "2026-10-12", None, 3, "受理"),  # open, 11 over
    ("B", "2026-10-12", "2026-11-03", 5, "办结"),  # finished after as_of: open then, 9 over
    ("C", "2026-10-12", "2026-10-20", 3, "办结"),  # finished before as_of
    ("D", "2026-10-12", None, 3, "补正"),  # clock stopped
    ("E", "2026-10-12", None, 20, "受理"),  # open within its limit
    ("F", "2026-11-02", None, 0, "受理"),  # accepted after as_of
    ("G", "2026-10-12", None, None, "受理"),  # no limit: not judged
]


@pytest.mark.django_db
def test_open_late_rows_follow_the_definition(city: Any, store_dir: Any) -> None:
    with store.open_store() as con:
        _insert(con, CASES)
        table = compile_open_late(ibis.duckdb.from_connection(con), ON_TIME, as_of=AS_OF)
        rows = table.select("case_id", "handling_days", "overdue").order_by("case_id")
        assert rows.to_pyarrow().to_pylist() == [
            {"case_id": "A", "handling_days": 14, "overdue": 11},
            {"case_id": "B", "handling_days": 14, "overdue": 9},
        ]


@pytest.mark.django_db
def test_an_open_late_row_is_late_in_the_indicator_once_finished(city: Any, store_dir: Any) -> None:
    with store.open_store() as con:
        _insert(con, [("A", "2026-10-12", "2026-10-31", 3, "办结")])
        backend = ibis.duckdb.from_connection(con)
        value = compile_definition(backend, ON_TIME).to_pyarrow().to_pylist()
    assert [(v["region"], v["numerator"], v["denominator"]) for v in value] == [
        ("449900", 0.0, 1.0),
        ("449901", 0.0, 1.0),
    ]


@pytest.mark.django_db
def test_the_selector_reads_the_store_and_answers_none_when_it_cannot(
    city: Any, store_dir: Any
) -> None:
    assert list_open_late_records("BE15.03", AS_OF, fields=["case_id"]) is None
    assert not store.store_path().exists()
    with store.open_store() as con:
        store.sync_dimensions(con)
    assert list_open_late_records("BE15.03", AS_OF, fields=["case_id"]) is None  # no records
    with store.open_store() as con:
        _insert(con, CASES)
    rows = list_open_late_records("BE15.03", AS_OF, fields=["case_id", "department_code"])
    assert sorted(rows or [], key=lambda r: r.fields["case_id"]) == [
        OpenLateRecord({"case_id": "A", "department_code": "SZ-SCJG"}, 11),
        OpenLateRecord({"case_id": "B", "department_code": "SZ-SCJG"}, 9),
    ]
    beyond = dt.date(2040, 1, 31)  # past the calendar table
    assert list_open_late_records("BE15.03", beyond, fields=["case_id"]) is None


def test_only_timeliness_definitions_with_open_rows_compile() -> None:
    without_open = {k: v for k, v in ON_TIME.items() if k != "open"}
    not_a_limit = copy.deepcopy(ON_TIME)
    not_a_limit["measure"]["numerator"]["filter"] = [["visits", "==", 0]]
    for definition in (without_open, not_a_limit, DEFINITIONS_BY_INDICATOR["BE15.06"]):
        with pytest.raises(DefinitionError, match="is not a timeliness definition"):
            compile_open_late(None, definition, as_of=AS_OF)
