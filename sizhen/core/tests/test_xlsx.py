"""XLSX export, templates and all-or-nothing imports."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import uuid
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from sizhen.core.imports import run_import
from sizhen.core.models import AuditEvent
from sizhen.core.xlsx import (
    Column,
    ImportReport,
    ImportSpec,
    build_workbook,
    read_xlsx_rows,
    template_workbook,
    xlsx_response,
)
from tests.workflow_testapp.models import Ticket


def read_back(content: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))


class TestExport:
    def test_formula_injection_is_neutralised(self) -> None:
        dangerous = ["=1+1", "+1+1", "-1+cmd", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")']
        content = build_workbook([("数据", ["值"], [[v] for v in dangerous])])
        values = [row[0] for row in read_back(content)[1:]]
        assert values == [
            "'=1+1",
            "'+1+1",
            "'-1+cmd",
            "'@SUM(A1)",
            "'\t=1",
            "'\r=1",
            '\'=HYPERLINK("x")',
        ]
        sheet = load_workbook(io.BytesIO(content)).worksheets[0]
        assert {sheet.cell(row=r, column=1).data_type for r in range(2, 9)} == {"s"}

    def test_plain_values_are_kept(self) -> None:
        when = dt.datetime(2025, 10, 11, 1, 30, tzinfo=dt.UTC)
        rows = [
            ["-12.5", "+86", "普通文本", "a=b", 42, 1.5, decimal.Decimal("2.25"), None, True],
            [
                when,
                dt.date(2025, 10, 11),
                uuid.UUID(int=1),
                {"k": "v"},
                "x\x00y\x1f",
                "",
                0,
                -3,
                False,
            ],
        ]
        content = build_workbook(
            [
                (
                    "一个很长很长很长很长很长很长很长很长很长很长很长很长的标题",
                    list("ABCDEFGHI"),
                    rows,
                )
            ]
        )
        wb = load_workbook(io.BytesIO(content))
        assert wb.sheetnames == ["一个很长很长很长很长很长很长很长很长很长很长很长很长的标题"[:31]]
        first, second = read_back(content)[1:]
        assert first == ("-12.5", "+86", "普通文本", "a=b", 42, 1.5, 2.25, None, True)
        # Aware datetimes are written in local time (Asia/Shanghai), without a zone.
        assert second[0] == dt.datetime(2025, 10, 11, 9, 30)
        assert second[1] == dt.datetime(2025, 10, 11, 0, 0)
        assert second[2:] == (
            "00000000-0000-0000-0000-000000000001",
            "{'k': 'v'}",
            "xy",
            None,
            0,
            -3,
            False,
        )

    def test_response_headers(self) -> None:
        response = xlsx_response(build_workbook([("数据", ["值"], [])]), "审计日志")
        stamp = timezone.localtime().strftime("%Y%m%d")
        assert response["Content-Type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert response["Content-Disposition"].startswith(
            "attachment; filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97-" + stamp
        )
        assert read_back(response.content) == [("值",)]


COLUMNS = [
    Column("title", "标题", required=True, help="工单标题", aliases=("名称",)),
    Column("answer", "答复"),
]


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def validate(number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]) -> Any:
    title = record.get("title")
    if not title:
        report.add(number, "标题", "required", "标题不能为空")
        return None
    if len(str(title)) > 100:
        report.add(number, "标题", "too_long", "标题不能超过 100 字")
        return None
    return {"title": str(title), "answer": record.get("answer") or ""}


def save(items: list[Any], report: ImportReport, actor: Any) -> None:
    for item in items:
        Ticket.objects.create(**item)
        report.created += 1


SPEC = ImportSpec(
    columns=COLUMNS,
    validate=validate,
    save=save,
    unique_key=lambda i: i["title"],
    unique_label="标题",
)


class TestReading:
    def test_headers_by_label_key_or_alias(self) -> None:
        rows = list(
            read_xlsx_rows(
                xlsx([["名称*", " answer "], [" 甲 ", "好"], [None, None], ["乙"]]), COLUMNS
            )
        )
        assert rows == [(2, {"title": "甲", "answer": "好"}), (4, {"title": "乙", "answer": None})]

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"not a zip", "文件不是有效的 Excel（.xlsx）文件，或文件已损坏"),
            (xlsx([]), "文件为空：第一行应为列名"),
            (xlsx([["答复"], ["x"]]), "缺少必填列：标题（请使用下载的模板）"),
            (xlsx([["标题", "名称"], ["x", "y"]]), "列“名称”重复出现"),
        ],
    )
    def test_unreadable_files(self, content: bytes, message: str) -> None:
        from sizhen.core.xlsx import ImportFileError

        with pytest.raises(ImportFileError, match=f"^{message}$"):
            list(read_xlsx_rows(content, COLUMNS))

    def test_row_limit(self) -> None:
        from sizhen.core.xlsx import ImportFileError

        with pytest.raises(ImportFileError, match="文件超过 2 行，请分批导入"):
            list(read_xlsx_rows(xlsx([["标题"], ["a"], ["b"], ["c"]]), COLUMNS, max_rows=2))

    def test_template(self) -> None:
        wb = load_workbook(io.BytesIO(template_workbook(COLUMNS, ["示例工单", ""], notes="说明")))
        assert wb.sheetnames == ["数据", "填写说明"]
        assert list(wb["数据"].values) == [("标题", "答复"), ("示例工单", None)]
        assert list(wb["填写说明"].values)[:3] == [
            ("列名", "是否必填", "说明"),
            ("标题", "必填", "工单标题"),
            ("答复", "选填", None),
        ]


@pytest.mark.django_db
class TestImport:
    def test_clean_file_is_written_with_one_event(self, personas: dict[str, Any]) -> None:
        report = run_import(
            SPEC,
            xlsx([["标题", "答复"], ["甲", "好"], ["乙", None]]),
            actor=personas["coordinator"],
            action="ticket.import",
        )
        assert report.ok
        assert (report.total, report.created) == (2, 2)
        assert sorted(Ticket.objects.values_list("title", "answer")) == [("乙", ""), ("甲", "好")]
        event = AuditEvent.objects.get(action="ticket.import")
        assert event.after == {"total": 2, "created": 2, "updated": 0}
        assert event.message == "导入 2 行：新增 2，更新 0"

    def test_any_error_writes_nothing(self, personas: dict[str, Any]) -> None:
        content = xlsx(
            [["标题", "答复"], ["甲", None], [None, "无标题"], ["甲", "重复"], ["x" * 101]]
        )
        report = run_import(SPEC, content, actor=personas["coordinator"], action="ticket.import")
        assert not report.ok
        assert [(e.row, e.column, e.code) for e in report.errors] == [
            (3, "标题", "required"),
            (4, "标题", "duplicate"),
            (5, "标题", "too_long"),
        ]
        assert report.errors[1].message == "与第 2 行重复（标题：甲）"
        assert Ticket.objects.count() == 0
        assert AuditEvent.objects.filter(action="ticket.import").count() == 0
        values = read_back(report.error_workbook())
        assert values[0] == ("行号", "列", "说明", "错误代码")
        assert values[1] == (3, "标题", "标题不能为空", "required")

    def test_dry_run_and_fatal(self, personas: dict[str, Any]) -> None:
        actor = personas["coordinator"]
        report = run_import(SPEC, xlsx([["标题"], ["甲"]]), actor=actor, action="t", dry_run=True)
        assert (report.ok, report.total, Ticket.objects.count()) == (True, 1, 0)
        report = run_import(SPEC, xlsx([["标题"]]), actor=actor, action="t")
        assert report.fatal == "文件中没有数据行"
        report = run_import(SPEC, b"garbage", actor=actor, action="t")
        assert report.fatal.startswith("文件不是有效的 Excel")
        assert read_back(report.error_workbook())[1] == (0, None, report.fatal, "fatal")
        assert Ticket.objects.count() == 0
        assert AuditEvent.objects.filter(action="t").count() == 0
