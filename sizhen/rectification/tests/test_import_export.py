"""XLSX import (all or nothing, row errors), XLSX template, DOCX export read back."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from docx import Document
from openpyxl import Workbook, load_workbook

from sizhen.rectification import services
from sizhen.rectification.choices import Judgement
from sizhen.rectification.imports import COLUMNS, import_items
from sizhen.rectification.models import RectificationItem
from sizhen.rectification.tests.conftest import BY_EVIDENCE, pdf

pytestmark = pytest.mark.django_db


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append([c.label for c in COLUMNS])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _row(title: str, **over: Any) -> list[Any]:
    values = {
        "title": title,
        "description": "",
        "source": "评估反馈问题",
        "source_ref": "",
        "region_code": "449901",
        "lead_department_code": "SZ-SCJG",
        "responsible_codes": "DH-SCJG、SZ-SW",
        "measures": "整改措施",
        "deadline": "2026-12-31",
        "indicator_codes": "",
        "year": 2026,
        **over,
    }
    return [values[c.key] for c in COLUMNS]


def test_import_all_or_nothing_with_row_errors(personas: dict[str, Any]) -> None:
    data = _xlsx(
        [
            _row("东湖区企业开办慢"),
            _row("", source="随便", region_code="000000"),
            _row("不动产登记慢", deadline="明年", responsible_codes="NOPE"),
        ]
    )
    report = import_items(data, actor=personas["coordinator"])
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (3, "问题", "required"),
        (3, "问题来源", "unknown_source"),
        (3, "区划代码", "unknown_region"),
        (4, "责任部门编码", "unknown_department"),
        (4, "整改时限", "invalid_date"),
    ]
    assert RectificationItem.objects.count() == 0


def test_import_creates_and_flags_repeats(personas: dict[str, Any], city: dict[str, Any]) -> None:
    data = _xlsx(
        [
            _row("东湖区企业开办环节多", year=2025),
            _row("东湖区企业开办环节多、时间长", year=2026),
            _row("西山区物流通行证难办", region_code="449902", deadline=dt.date(2026, 6, 30)),
        ]
    )
    checked = import_items(data, actor=personas["coordinator"], dry_run=True)
    assert (checked.ok, checked.created, RectificationItem.objects.count()) == (True, 3, 0)
    report = import_items(data, actor=personas["coordinator"])
    assert (report.ok, report.created) == (True, 3)
    repeated = RectificationItem.objects.get(title="东湖区企业开办环节多、时间长")
    assert repeated.repeated is True
    assert [o.title for o in repeated.repeated_of.all()] == ["东湖区企业开办环节多"]
    assert sorted(d.code for d in repeated.responsible_departments.all()) == ["DH-SCJG", "SZ-SW"]


def test_import_refused_for_district(personas: dict[str, Any], city: dict[str, Any]) -> None:
    report = import_items(_xlsx([_row("问题")]), actor=personas["district_a"])
    assert report.fatal == "只有营商办可以导入整改清单"
    assert RectificationItem.objects.count() == 0


def test_import_page_and_template(client_for: Any, city: dict[str, Any]) -> None:
    client = client_for("coordinator")
    template = client.get(reverse("rectification:import_template"))
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == [c.label for c in COLUMNS]
    upload = io.BytesIO(_xlsx([_row("", region_code="000000")]))
    upload.name = "清单.xlsx"
    response = client.post(reverse("rectification:import"), {"file": upload, "action": "import"})
    assert response.status_code == 400
    assert "区划代码 000000 不存在" in response.content.decode()
    assert RectificationItem.objects.count() == 0
    assert client_for("district_a").get(reverse("rectification:import")).status_code == 404


def test_docx_export_reads_back(
    item: Any, personas: dict[str, Any], city: dict[str, Any], client_for: Any
) -> None:
    lead, coordinator = personas["lead_department"], personas["coordinator"]
    services.transition_item(item, "accept", actor=lead)
    services.add_evidence(item, actor=lead, upload=pdf())
    services.transition_item(item, "submit", actor=lead)
    services.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )
    services.transition_item(item, "close", actor=coordinator)
    services.create_item(
        actor=coordinator,
        title="西山区通行证办理慢",
        source="request",
        region=city["district_b"],
        lead_department=city["b_dept"],
        measures="网上办",
        deadline=timezone.localdate() + dt.timedelta(days=5),
    )
    response = client_for("coordinator").get(reverse("rectification:export_docx"))
    assert response.status_code == 200
    document = Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "整改清单共 2 项，已销号 1 项，完成率 50.0%；反复出现 0 项，逾期未完成 0 项。" in text
    items_table = document.tables[2]
    assert [c.text for c in items_table.rows[0].cells] == [
        "编号",
        "问题",
        "来源",
        "区划",
        "牵头部门",
        "整改时限",
        "状态",
        "备注",
    ]
    rows = [[c.text for c in r.cells] for r in items_table.rows[1:]]
    assert [(r[1], r[6]) for r in rows] == [
        ("东湖区企业开办环节多、时间长", "已销号"),
        ("西山区通行证办理慢", "待接收"),
    ]
    # District A's export holds only its own item.
    mine = client_for("district_a").get(reverse("rectification:export_docx"))
    rows = Document(io.BytesIO(mine.content)).tables[2].rows
    assert [r.cells[1].text for r in rows[1:]] == ["东湖区企业开办环节多、时间长"]
