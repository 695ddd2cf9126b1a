"""Helpers for the organisations tests: in-memory XLSX files and a snapshot of every
organisations row, so that a denied or failed request can assert that nothing changed."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from sizhen.core.models import AuditEvent
from sizhen.organisations.models import Department, Enterprise, Region

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ENTERPRISE_HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所属区划代码",
    "行业代码",
    "规模",
    "地址",
    "联系人",
    "联系电话",
    "成立日期",
    "存续",
]


@pytest.fixture(autouse=True)
def _staging_in_tmp(settings: Any, tmp_path: Any) -> None:
    # Staged import files must not land in the repository's data directory.
    settings.SIZHEN_IMPORT_STAGING_DIR = tmp_path / "import-staging"


def xlsx_bytes(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "导入.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def org_state() -> tuple[list[tuple[Any, ...]], ...]:
    """Every field of every region, department and enterprise."""
    return tuple(
        [tuple(row.values()) for row in model.objects.order_by("pk").values()]
        for model in (Region, Department, Enterprise)
    )


def audit_count(action: str | None = None) -> int:
    qs = AuditEvent.objects.all()
    return qs.filter(action=action).count() if action else qs.count()
