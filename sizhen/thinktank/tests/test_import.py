"""The policy import (政策导入): Chinese or English headers, all or nothing, row-level errors,
the template, and the command."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from sizhen.core.models import AuditEvent
from sizhen.thinktank.imports import import_policies, import_template
from sizhen.thinktank.models import Policy
from sizhen.thinktank.selectors import search_policies

CHINESE = ["标题", "文号", "发文机关", "层级", "发布日期", "生效日期", "失效日期", "正文",
           "适用行业", "适用规模", "适用区划", "关联指标", "标签"]  # fmt: skip
ENGLISH = ["title", "doc_number", "issuer", "level", "published_on", "effective_on", "expires_on",
           "body", "industries", "sizes", "regions", "indicators", "tags"]  # fmt: skip


def workbook(header: list[str], rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def good_row(title: str = "示范市支持小型微型企业发展若干措施", **change: Any) -> list[Any]:
    values = {
        "title": title,
        "doc_number": "示政办发〔2025〕12号",
        "issuer": "示范市人民政府办公室",
        "level": "市级",
        "published_on": dt.date(2025, 3, 18),
        "effective_on": "2025-04-01",
        "expires_on": "2027年12月31日",
        "body": "对增值税期末留抵退税给予支持。",
        "industries": "C、I65",
        "sizes": "小型、微型",
        "regions": "449901",
        "indicators": "",
        "tags": "小微企业，融资",
    }
    values.update(change)
    return list(values.values())


def test_a_clean_file_with_chinese_headers_is_imported_and_published(
    personas: dict[str, Any], city: dict[str, Any]
) -> None:
    data = workbook(
        CHINESE, [good_row(), good_row("第二项政策", doc_number="示政办发〔2025〕13号")]
    )
    report = import_policies(data, actor=personas["coordinator"], publish=True)
    assert (report.ok, report.total, report.created) == (True, 2, 2)
    policy = Policy.objects.get(doc_number="示政办发〔2025〕12号")
    assert (policy.status, policy.level, policy.industries, policy.sizes, policy.tags) == (
        "in_force", "city", ["C", "I65"], ["small", "micro"], ["小微企业", "融资"],
    )  # fmt: skip
    assert (policy.effective_on, policy.expires_on) == (dt.date(2025, 4, 1), dt.date(2027, 12, 31))
    assert list(policy.regions.values_list("code", flat=True)) == ["449901"]
    assert AuditEvent.objects.filter(action="policy.import").count() == 1
    assert AuditEvent.objects.filter(action="policy.publish").count() == 2
    assert [h.policy.title for h in search_policies(None, "留抵退税").hits] == [
        "第二项政策",
        "示范市支持小型微型企业发展若干措施",
    ]


def test_english_headers_are_read_as_well(personas: dict[str, Any], city: dict[str, Any]) -> None:
    report = import_policies(workbook(ENGLISH, [good_row()]), actor=personas["coordinator"])
    assert (report.ok, report.created) == (True, 1)


def test_one_bad_row_stores_nothing_and_reports_each_error(
    personas: dict[str, Any], city: dict[str, Any]
) -> None:
    rows = [
        good_row(),
        good_row("坏日期", doc_number="x2", published_on="2025-13-45", level="乡镇"),
        good_row("坏代码", doc_number="x3", industries="C39、99", sizes="特大", regions="000000"),
    ]
    report = import_policies(workbook(CHINESE, rows), actor=personas["coordinator"])
    assert not report.ok
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (3, "层级", "unknown_level"),
        (3, "发布日期", "invalid_date"),
        (4, "适用行业", "invalid_industry"),
        (4, "适用规模", "unknown_size"),
        (4, "适用区划", "unknown_region"),
    ]
    assert Policy.objects.count() == 0
    assert not AuditEvent.objects.filter(action="policy.import").exists()
    assert search_policies(personas["coordinator"], "留抵退税").total == 0


def test_a_repeated_document_number_is_an_error(
    personas: dict[str, Any], city: dict[str, Any]
) -> None:
    report = import_policies(
        workbook(CHINESE, [good_row(), good_row()]), actor=personas["coordinator"]
    )
    assert [(e.row, e.code) for e in report.errors] == [(3, "duplicate")]
    assert Policy.objects.count() == 0


def test_only_the_office_imports(personas: dict[str, Any], city: dict[str, Any]) -> None:
    report = import_policies(workbook(CHINESE, [good_row()]), actor=personas["district_a"])
    assert report.fatal == "只有营商办可以导入政策"
    assert Policy.objects.count() == 0


def test_the_template_has_every_column_and_its_example_row_is_refused(
    personas: dict[str, Any], city: dict[str, Any]
) -> None:
    content = import_template()
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [c.value for c in sheet[1]] == CHINESE
    report = import_policies(content, actor=personas["coordinator"])
    assert [e.code for e in report.errors] == ["example_row"]


def test_the_command_answers_json_and_fails_strictly(
    tmp_path: Any, city: dict[str, Any], capsys: Any
) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook(CHINESE, [good_row(published_on="昨天")]))
    with pytest.raises(CommandError):
        call_command("import_policies", str(bad), "--json")
    answer = json.loads(capsys.readouterr().out)
    assert [e["code"] for e in answer["errors"]] == ["invalid_date"]
    assert Policy.objects.count() == 0
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook(ENGLISH, [good_row()]))
    call_command("import_policies", str(good), "--json")
    answer = json.loads(capsys.readouterr().out)
    assert (answer["total"], answer["created"], answer["errors"]) == (1, 1, [])
    # Without --publish-as the system imports drafts for the office to check and publish.
    assert list(Policy.objects.values_list("status", flat=True)) == ["draft"]
