"""The ledger as a Word document (整改清单 DOCX): summary figures, completion by department and
by source, and the item table. Built from what the actor may see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from sizhen.core.documents import docx_bytes, docx_table, new_docx
from sizhen.rectification.models import RectificationItem

ITEM_HEADERS = ["编号", "问题", "来源", "区划", "牵头部门", "整改时限", "状态", "备注"]
RATE_HEADERS = ["分类", "事项数", "已销号", "完成率", "反复出现", "逾期"]


def item_remark(item: RectificationItem) -> str:
    remarks = []
    if item.repeated:
        remarks.append("连续两年反复出现")
    if item.is_overdue:
        remarks.append("逾期")
    return "；".join(remarks)


def summary_sentence(summary: dict[str, Any]) -> str:
    return (
        f"整改清单共 {summary['total']} 项，已销号 {summary['closed']} 项，"
        f"完成率 {summary['rate']:.1f}%；反复出现 {summary['repeated']} 项，"
        f"逾期未完成 {summary['overdue']} 项。"
    )


def _rate_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            str(row["label"]),
            str(row["total"]),
            str(row["closed"]),
            f"{row['rate']:.1f}%",
            str(row["repeated"]),
            str(row["overdue"]),
        ]
        for row in rows
    ]


def build_ledger_docx(items: Iterable[RectificationItem], stats: dict[str, Any]) -> bytes:
    document = new_docx(font_size=10.5)
    document.add_heading("整改清单", level=1)
    document.add_paragraph(f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}")
    document.add_paragraph(summary_sentence(stats["summary"]))
    document.add_heading("按牵头部门", level=2)
    docx_table(document, RATE_HEADERS, _rate_rows(stats["by_department"]))
    document.add_heading("按问题来源", level=2)
    docx_table(document, RATE_HEADERS, _rate_rows(stats["by_source"]))
    document.add_heading("事项清单", level=2)
    docx_table(
        document,
        ITEM_HEADERS,
        (
            [
                item.number,
                item.title,
                item.get_source_display(),
                item.region.name,
                item.lead_department.name,
                f"{item.deadline:%Y-%m-%d}",
                item.get_status_display(),
                item_remark(item),
            ]
            for item in items
        ),
    )
    return docx_bytes(document)
