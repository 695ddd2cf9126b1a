"""Ledger import from XLSX (整改清单导入): every row is validated first and nothing is written
unless the whole file is clean (``sizhen.core.imports.run_import``: one transaction, one audit
event). Each row creates one item; repeated problems are flagged as on registration."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.imports import run_import
from sizhen.core.permissions import has_capability
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, template_workbook
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Department, Region
from sizhen.rectification.choices import Source
from sizhen.rectification.services import _new_item

_SPLIT = re.compile(r"[、,，;；\s]+")
_EXAMPLE_TITLE = "示例：某区企业开办环节多、时间长"

COLUMNS: tuple[Column, ...] = (
    Column("title", "问题", required=True, help="问题的简要表述，最多 200 字", width=36),
    Column("description", "问题描述", help="问题的具体情况", width=40),
    Column("source", "问题来源", required=True, help="、".join(Source.labels) + " 之一"),
    Column("source_ref", "来源编号", help="如评估报告条目号、预警编号，最多 60 字"),
    Column("region_code", "区划代码", required=True, help="问题所在的县市区、园区或本市的区划代码"),
    Column("lead_department_code", "牵头部门编码", required=True, help="部门编码"),
    Column(
        "responsible_codes",
        "责任部门编码",
        help="多个部门用顿号或逗号分隔",
        aliases=("责任部门",),
        width=28,
    ),
    Column("measures", "整改措施", required=True, width=40),
    Column("deadline", "整改时限", required=True, help="年-月-日，如 2026-12-31"),
    Column("indicator_codes", "关联指标编码", help="多个指标用顿号或逗号分隔"),
    Column("year", "年度", help="问题所属年度，如 2026；不填为今年"),
)

NOTES = (
    "第一行为列名，请勿修改；第二行为示例，导入前请删除。标红的列为必填。"
    "每一行登记一个整改事项；任何一行有错误时整个文件都不会导入，请按错误报告修改后重新上传。"
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _validate(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> dict[str, Any] | None:
    labels = {c.key: c.label for c in COLUMNS}
    failed = False

    def error(key: str, code: str, message: str) -> None:
        nonlocal failed
        failed = True
        report.add(number, labels[key], code, message)

    title = _text(record.get("title"))
    if not title:
        error("title", "required", "请填写问题")
    elif len(title) > 200:
        error("title", "too_long", f"问题最多 200 字，当前 {len(title)} 字")
    elif title == _EXAMPLE_TITLE:
        error("title", "example_row", "这是模板中的示例行，请删除后再导入")
    source_text = _text(record.get("source"))
    source = next((s.value for s in Source if source_text in (s.label, s.value)), None)
    if source is None:
        error(
            "source",
            "unknown_source",
            f"问题来源应为 {'、'.join(Source.labels)} 之一（当前值：{source_text or '空'}）",
        )
    region_code = _text(record.get("region_code"))
    region = ctx["regions"].get(region_code)
    if region is None:
        error("region_code", "unknown_region", f"区划代码 {region_code or '（空）'} 不存在")
    lead_code = _text(record.get("lead_department_code"))
    lead = ctx["departments"].get(lead_code)
    if lead is None:
        error(
            "lead_department_code",
            "unknown_department",
            f"部门编码 {lead_code or '（空）'} 不存在或已停用",
        )
    responsible = []
    for code in _SPLIT.split(_text(record.get("responsible_codes"))):
        if not code:
            continue
        department = ctx["departments"].get(code)
        if department is None:
            error("responsible_codes", "unknown_department", f"责任部门编码 {code} 不存在或已停用")
        else:
            responsible.append(department)
    indicators = []
    for code in _SPLIT.split(_text(record.get("indicator_codes"))):
        if not code:
            continue
        indicator = ctx["indicators"].get(code)
        if indicator is None:
            error("indicator_codes", "unknown_indicator", f"指标编码 {code} 不存在")
        else:
            indicators.append(indicator)
    measures = _text(record.get("measures"))
    if not measures:
        error("measures", "required", "请填写整改措施")
    deadline = None
    try:
        deadline = _date(record.get("deadline"))
    except ValueError:
        error(
            "deadline",
            "invalid_date",
            f"整改时限应为日期，如 2026-12-31（当前值：{_text(record.get('deadline')) or '空'}）",
        )
    year_text = _text(record.get("year"))
    year = timezone.localdate().year
    if year_text:
        try:
            year = int(year_text)
            if not 2000 <= year <= 2100:
                raise ValueError(year_text)
        except ValueError:
            error("year", "invalid_year", f"年度应为 2000–2100 之间的年份（当前值：{year_text}）")
    source_ref = _text(record.get("source_ref"))
    if len(source_ref) > 60:
        error("source_ref", "too_long", "来源编号最多 60 字")
    if failed:
        return None
    return {
        "title": title,
        "description": _text(record.get("description")),
        "source": source,
        "source_ref": source_ref,
        "region": region,
        "lead_department": lead,
        "responsible_departments": responsible,
        "measures": measures,
        "deadline": deadline,
        "indicators": indicators,
        "year": year,
        "_row": number,
    }


def _save(rows: list[dict[str, Any]], report: ImportReport, actor: Actor) -> None:
    # Earlier years first, so that a file holding several years flags its own repetitions.
    for row in sorted(rows, key=lambda r: (r["year"], r["_row"])):
        values = {k: v for k, v in row.items() if k != "_row"}
        _new_item(actor=actor, **values)
    report.created = len(rows)


SPEC = ImportSpec(columns=COLUMNS, validate=_validate, save=_save)


def import_items(data: bytes, *, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Import ledger items from an XLSX file (all or nothing)."""
    if not has_capability(actor, "rectification.register"):
        report = ImportReport()
        report.fatal = "只有营商办可以导入整改清单"
        return report
    context = {
        "regions": {r.code: r for r in Region.objects.filter(is_active=True)},
        "departments": {d.code: d for d in Department.objects.filter(is_active=True)},
        "indicators": {i.code: i for i in Indicator.objects.all()},
    }
    report = run_import(
        SPEC, data, actor=actor, action="rectification.import", dry_run=dry_run, context=context
    )
    if dry_run and report.ok:
        report.created = report.total
    return report


def import_template() -> bytes:
    example = [
        _EXAMPLE_TITLE,
        "评估反馈：企业开办平均 5 天，高于标杆城市",
        Source.EVALUATION.label,
        "评估 2026-03",
        Region.objects.filter(parent__isnull=True).values_list("code", flat=True).first() or "",
        Department.objects.values_list("code", flat=True).first() or "",
        "",
        "推行一网通办，压缩至 1 个工作日",
        f"{timezone.localdate().year}-12-31",
        "",
        timezone.localdate().year,
    ]
    return template_workbook(COLUMNS, example, NOTES)
