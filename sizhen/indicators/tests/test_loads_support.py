"""Shared helpers of the data-load tests (no tests here): records and files of the built-in
government-service dataset, the analytical store in a temporary folder, a snapshot of
everything a load can change, and the URLs of the data pages and API.

The lead engineer mounts the pages at /monitoring/data/ and the API router in config/api.py;
until both are there, ``data_urls`` serves them from a URL configuration of its own, and it
does nothing once they are."""

from __future__ import annotations

import csv
import io
import types
from collections.abc import Sequence
from typing import Any

import pytest
from django.urls import NoReverseMatch, Resolver404, include, path, resolve, reverse
from openpyxl import Workbook, load_workbook

from sizhen.core.models import AuditEvent, Job
from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
from sizhen.indicators.ingestion.engine.store import open_store
from sizhen.indicators.ingestion.models import Dataset, LoadBatch, LoadError, QuarantineRow

DATASET = "gov_service_cases"
FIELDS = [
    "case_id",
    "item_code",
    "item_name",
    "region_code",
    "department_code",
    "applicant_type",
    "channel",
    "submitted_at",
    "accepted_at",
    "completed_at",
    "statutory_limit",
    "promised_limit",
    "visits",
    "status",
]
HEADER = [
    "办件编号",
    "事项编码",
    "事项名称",
    "区划代码",
    "实施机构编码",
    "申请人类型",
    "办件来源",
    "申请时间",
    "受理时间",
    "办结时间",
    "法定时限",
    "承诺时限",
    "跑动次数",
    "办件状态",
]


def record(case_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid 办件 (government-service case) of 东湖区, as a source system pushes it."""
    values: dict[str, Any] = {
        "case_id": case_id,
        "item_code": "I1",
        "item_name": "设立登记",
        "region_code": "449901",
        "department_code": "DH-SCJG",
        "applicant_type": "企业",
        "channel": "网上",
        "submitted_at": "2025-10-09 08:00:00",
        "accepted_at": "2025-10-09 09:00:00",
        "completed_at": "2025-10-10 16:00:00",
        "statutory_limit": 20,
        "promised_limit": 5,
        "visits": 0,
        "status": "办结",
    }
    values.update(overrides)
    return values


def rows_of(records: Sequence[dict[str, Any]], fields: Sequence[str] = FIELDS) -> list[list[Any]]:
    return [["" if r.get(f) is None else r.get(f) for f in fields] for r in records]


def csv_bytes(
    records: Sequence[dict[str, Any]], *, encoding: str = "utf-8", drop: Sequence[str] = ()
) -> bytes:
    """A CSV file with Chinese column names; ``drop`` leaves columns out."""
    kept = [(f, h) for f, h in zip(FIELDS, HEADER, strict=True) if f not in drop]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([h for _, h in kept])
    writer.writerows(rows_of(records, [f for f, _ in kept]))
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_xlsx(content: bytes, sheet: int = 0) -> list[tuple[Any, ...]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    try:
        return [tuple(r) for r in workbook.worksheets[sheet].iter_rows(values_only=True)]
    finally:
        workbook.close()


def store_rows() -> list[tuple[Any, ...]]:
    """(case id, region, batch) of every 办件 in the analytical store, read as the worker does."""
    with open_store() as con:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
            [f"records_{DATASET}"],
        ).fetchall()[0][0]
        if not exists:
            return []
        return [
            tuple(r)
            for r in con.execute(
                "SELECT case_id, region_code, _batch_id FROM records_gov_service_cases "
                "ORDER BY case_id"
            ).fetchall()
        ]


def app_state() -> dict[str, Any]:
    """Everything a load writes in the app database (audit events excluded)."""
    return {
        "batches": sorted(
            LoadBatch.objects.values_list(
                "pk", "status", "imported", "updated", "ignored", "rejected", "error_count"
            )
        ),
        "errors": LoadError.objects.count(),
        "quarantine": sorted(QuarantineRow.objects.values_list("pk", "status")),
        "jobs": Job.objects.count(),
        "datasets": sorted(Dataset.objects.values_list("code", "current_version")),
    }


def audit_count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


@pytest.fixture
def store_dir(settings: Any, tmp_path: Any) -> Any:
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    return settings.SIZHEN_ANALYTICS_DIR


@pytest.fixture
def datasets(city: Any, store_dir: Any) -> dict[str, Dataset]:
    return {d.code: d for d in ensure_builtin_datasets()}


_FALLBACK: dict[str, Any] = {}


def _mounted() -> tuple[bool, bool]:
    try:
        reverse("indicator_data:dataset_list")
        pages = True
    except NoReverseMatch:
        pages = False
    try:
        resolve("/api/v1/batches/1")
        api = True
    except Resolver404:
        api = False
    return pages, api


@pytest.fixture
def data_urls(settings: Any) -> None:
    pages, api = _mounted()
    if pages and api:
        return
    if "urlconf" not in _FALLBACK:
        from ninja import NinjaAPI

        from config import urls as root
        from sizhen.accounts.api import API_AUTH
        from sizhen.indicators import urls as indicators_urls
        from sizhen.indicators.ingestion.api import router

        patterns: list[Any] = []
        if not pages:
            patterns.append(path("monitoring/data/", include(indicators_urls.data_urls)))
        if not api:
            test_api = NinjaAPI(
                title="records (tests)",
                version="tests",
                auth=API_AUTH,
                urls_namespace="records_tests",
            )
            test_api.add_router("/", router)
            patterns.append(path("api/v1/", test_api.urls))
        module = types.ModuleType("sizhen_indicators_loads_test_urls")
        module.urlpatterns = [*patterns, *root.urlpatterns]  # type: ignore[attr-defined]
        _FALLBACK["urlconf"] = module
    settings.ROOT_URLCONF = _FALLBACK["urlconf"]
