"""Aggregate imports (汇总数据导入): values that departments already hold (统计口径的汇总数)
imported from an XLSX template, all or nothing, as ``IndicatorValue(source_kind="aggregate")``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from sizhen.core.access import Actor, role_of
from sizhen.core.imports import run_import
from sizhen.core.periods import Period
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, template_workbook
from sizhen.indicators.catalogue.changes import values_changed
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.filling.periods import PERIOD_FORMAT, period_problem
from sizhen.indicators.filling.rules import parse_number
from sizhen.indicators.filling.services import FillingError
from sizhen.indicators.scoring.services import score_periods
from sizhen.organisations.models import Region

AGGREGATE_COLUMNS: tuple[Column, ...] = (
    Column(
        "indicator_code",
        "指标编码",
        required=True,
        help="末级指标的编码，如 BE01.01",
        aliases=("指标", "indicator"),
    ),
    Column(
        "region_code",
        "区划代码",
        required=True,
        help="市、县市区或园区的区划代码",
        aliases=("区划", "region"),
    ),
    Column(
        "period",
        "期间",
        required=True,
        help="YYYY-MM，如 2025-10；按季的指标写季度首月，按年的指标写当年 1 月",
        aliases=("月份", "period"),
    ),
    Column("value", "数值", required=True, help="数字，按指标的计量单位", aliases=("value",)),
)


@dataclass
class _AggregateRow:
    indicator: Indicator
    region: Region
    period: dt.date
    value: float


@dataclass
class _AggregateContext:
    actor: Actor | None
    indicators: dict[str, Indicator | None] = field(default_factory=dict)
    regions: dict[str, Region | None] = field(default_factory=dict)
    #: Whether each indicator met so far has children (asked once per indicator, not per row).
    parents: dict[int, bool] = field(default_factory=dict)


def _has_children(ctx: _AggregateContext, indicator: Indicator) -> bool:
    if indicator.pk not in ctx.parents:
        ctx.parents[indicator.pk] = indicator.children.exists()
    return ctx.parents[indicator.pk]


def _aggregate_validate(
    row: int, record: dict[str, Any], report: ImportReport, context: dict[str, Any]
) -> _AggregateRow | None:
    ctx: _AggregateContext = context["aggregate"]
    problems = 0

    def add(column: str, code: str, message: str) -> None:
        nonlocal problems
        problems += 1
        report.add(row, column, code, message)

    code = str(record.get("indicator_code") or "").strip()
    indicator = None
    if not code:
        add("指标编码", "required", "请填写指标编码")
    else:
        if code not in ctx.indicators:
            ctx.indicators[code] = Indicator.objects.filter(code=code).first()
        indicator = ctx.indicators[code]
        if indicator is None:
            add("指标编码", "unknown_indicator", f"指标编码“{code}”不存在")
        elif not indicator.is_active:
            add("指标编码", "inactive_indicator", f"指标 {code} 已停用")
        elif _has_children(ctx, indicator):
            add("指标编码", "not_leaf", f"指标 {code} 不是末级指标，其数值由下级指标合成")
        elif (
            ctx.actor is not None
            and role_of(ctx.actor) == Role.LEAD_DEPARTMENT
            and indicator.lead_department_id != ctx.actor.department_id
        ):
            add("指标编码", "not_lead", f"您不是指标 {code} 的牵头部门，不能导入其数值")
    region_code = str(record.get("region_code") or "").strip()
    region = None
    if not region_code:
        add("区划代码", "required", "请填写区划代码")
    else:
        if region_code not in ctx.regions:
            ctx.regions[region_code] = Region.objects.filter(code=region_code).first()
        region = ctx.regions[region_code]
        if region is None:
            add("区划代码", "unknown_region", f"区划代码“{region_code}”不存在")
        elif not region.is_active:
            add("区划代码", "inactive_region", f"区划 {region.name}（{region_code}）已停用")
    period = None
    try:
        period = Period.parse(record.get("period"), "month", loose=True).start
    except ValueError:
        add("期间", "invalid_period", PERIOD_FORMAT)
    if period is not None and indicator is not None:
        problem = period_problem(indicator, period)
        if problem:
            add("期间", "period_frequency", problem)
    raw = record.get("value")
    value = parse_number(raw)
    if raw is None or str(raw).strip() == "":
        add("数值", "required", "请填写数值")
    elif value is None:
        add("数值", "invalid_number", f"“{raw}”不是有效的数字")
    elif indicator is not None and (problem := indicator.bounds_problem(value)):
        add("数值", "out_of_range", problem)
    if problems or indicator is None or region is None or period is None or value is None:
        return None
    return _AggregateRow(indicator, region, period, value)


def _aggregate_save(rows: list[_AggregateRow], report: ImportReport, actor: Actor) -> None:
    existing = {
        (v.indicator_id, v.region_id, v.period): v
        for v in IndicatorValue.objects.filter(
            source_kind=SourceKind.AGGREGATE,
            indicator__in={r.indicator.pk for r in rows},
            period__in={r.period for r in rows},
        )
    }
    now = timezone.now()
    to_create, to_update = [], []
    for row in rows:
        current = existing.get((row.indicator.pk, row.region.pk, row.period))
        if current is None:
            to_create.append(
                IndicatorValue(
                    indicator=row.indicator,
                    region=row.region,
                    period=row.period,
                    frequency=row.indicator.frequency,
                    source_kind=SourceKind.AGGREGATE,
                    value=row.value,
                    observations=1,
                    computed_at=now,
                )
            )
        elif current.value != row.value:
            current.value = row.value
            current.computed_at = now
            to_update.append(current)
        else:
            report.unchanged += 1
    IndicatorValue.objects.bulk_create(to_create, batch_size=2000)
    IndicatorValue.objects.bulk_update(to_update, ["value", "computed_at"], batch_size=2000)
    if to_create or to_update:
        values_changed()
    score_periods({row.period for row in rows})
    report.created += len(to_create)
    report.updated += len(to_update)


def _aggregate_dry_counts(rows: list[_AggregateRow], report: ImportReport) -> None:
    """For a check run: what the import would create and update, without writing."""
    existing = {
        (v.indicator_id, v.region_id, v.period): v.value
        for v in IndicatorValue.objects.filter(
            source_kind=SourceKind.AGGREGATE,
            indicator__in={r.indicator.pk for r in rows},
            period__in={r.period for r in rows},
        )
    }
    for row in rows:
        key = (row.indicator.pk, row.region.pk, row.period)
        if key not in existing:
            report.created += 1
        elif existing[key] != row.value:
            report.updated += 1
        else:
            report.unchanged += 1


def aggregate_template() -> bytes:
    return template_workbook(
        AGGREGATE_COLUMNS,
        ["BE01.01", "449900", "2025-10", 12.5],
        notes="第 2 行是示例，请删除后填写。整个文件校验通过才会导入；任何一行有错误都不写入数据。",
    )


def import_aggregate_values(
    data: bytes, *, actor: Actor | None, dry_run: bool = False, system: bool = False
) -> ImportReport:
    """Import aggregate values (汇总数据) from the XLSX template, all or nothing.

    ``system=True`` (with ``actor=None``) is for a scheduled job of another module publishing
    its own figures, e.g. the enterprise requests' 三率: no person, so no role check, and the
    audit event names no actor. Pages never pass it."""
    if system:
        if actor is not None:
            raise FillingError("系统发布不应指定操作人")
    elif not has_capability(actor, "filling.aggregate_import"):
        raise FillingError("只有营商办、系统管理员或指标牵头部门可以导入汇总数据")
    checked: list[_AggregateRow] = []

    def validate(
        row: int, record: dict[str, Any], report: ImportReport, context: dict[str, Any]
    ) -> _AggregateRow | None:
        item = _aggregate_validate(row, record, report, context)
        if item is not None:
            checked.append(item)
        return item

    spec = ImportSpec(
        columns=AGGREGATE_COLUMNS,
        validate=validate,
        save=_aggregate_save,
        unique_key=lambda r: (r.indicator.code, r.region.code, f"{r.period:%Y-%m}"),
        unique_label="指标编码、区划代码与期间",
    )
    report = run_import(
        spec,
        data,
        actor=actor,
        action="indicator_value.import_aggregate",
        dry_run=dry_run,
        context={"aggregate": _AggregateContext(actor=actor)},
    )
    if dry_run and report.ok:
        _aggregate_dry_counts(checked, report)
    return report
