"""Overdue government-service cases (政务服务办件超期): cases still open at the end of the latest
complete month beyond their promised limit (承诺时限, working days), counted per department and
district from the records in the analytical store.

Read in the worker only, like the indicator computation. The alerts are filed under the
indicator "按时办结率" (BE15.03), and the cases are read through its definition: which cases are
in progress, how handling working days are counted and what is on time are the definition's
(``list_open_late_records``), so today's overdue open cases are exactly next month's late
completions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.selectors import (
    list_indicator_codes_for_dataset,
    list_open_late_records,
)

CASES_DATASET = "gov_service_cases"
#: 按时办结率 (on-time completion rate); see the module docstring for why this one.
CASES_INDICATOR = "BE15.03"
_FIELDS = ("case_id", "item_name", "region_code", "department_code")


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


def load_overdue_cases(as_of: dt.date) -> list[OverdueCaseRow] | None:
    """Cases open at the end of ``as_of`` for more working days than promised, by district,
    department and most overdue first; None when the store cannot answer now."""
    records = list_open_late_records(CASES_INDICATOR, as_of, fields=_FIELDS)
    if records is None:
        return None
    rows = [
        OverdueCaseRow(
            case_id=str(r.fields["case_id"]),
            item_name=str(r.fields["item_name"] or ""),
            region_code=str(r.fields["region_code"]),
            department_code=str(r.fields["department_code"] or ""),
            overdue_days=r.overdue,
        )
        for r in records
    ]
    # Cases without a department sort last in their district, as the store orders NULLs.
    return sorted(
        rows,
        key=lambda r: (
            r.region_code,
            r.department_code == "",
            r.department_code,
            -r.overdue_days,
            r.case_id,
        ),
    )
