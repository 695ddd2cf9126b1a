"""Aggregate imports (汇总数据导入): values that departments already hold (统计口径的汇总数)
imported from an XLSX template, all or nothing, as ``IndicatorValue(source_kind="aggregate")``;
and ``publish_values``, the same checks and writes for figures another module computes and
publishes under its own source kind (the surveys' satisfaction index, ``survey``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from sizhen.core.access import Actor, role_of
from sizhen.core.audit import record_event
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
    #: The sample behind the value (``IndicatorValue.observations``); None: not compared, 1
    #: on creation (an imported total).
    observations: int | None = None


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


def _indicator(ctx: _AggregateContext, code: str) -> Indicator | None:
    if code not in ctx.indicators:
        ctx.indicators[code] = Indicator.objects.filter(code=code).first()
    return ctx.indicators[code]


def _region(ctx: _AggregateContext, code: str) -> Region | None:
    if code not in ctx.regions:
        ctx.regions[code] = Region.objects.filter(code=code).first()
    return ctx.regions[code]


def _indicator_problem(
    ctx: _AggregateContext, code: str, indicator: Indicator | None
) -> tuple[str, str] | None:
    """Why values of the indicator cannot be imported by the context's actor (code, message)."""
    if indicator is None:
        return "unknown_indicator", f"指标编码“{code}”不存在"
    if not indicator.is_active:
        return "inactive_indicator", f"指标 {code} 已停用"
    if _has_children(ctx, indicator):
        return "not_leaf", f"指标 {code} 不是末级指标，其数值由下级指标合成"
    if (
        ctx.actor is not None
        and role_of(ctx.actor) == Role.LEAD_DEPARTMENT
        and indicator.lead_department_id != ctx.actor.department_id
    ):
        return "not_lead", f"您不是指标 {code} 的牵头部门，不能导入其数值"
    return None


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
        indicator = _indicator(ctx, code)
        refusal = _indicator_problem(ctx, code, indicator)
        if refusal is not None:
            add("指标编码", *refusal)
    region_code = str(record.get("region_code") or "").strip()
    region = None
    if not region_code:
        add("区划代码", "required", "请填写区划代码")
    else:
        region = _region(ctx, region_code)
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
    written = _save_values(rows, SourceKind.AGGREGATE)
    report.created += written.created
    report.updated += written.updated
    report.unchanged += written.unchanged


@dataclass
class PublishReport:
    """What a write of values did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _save_values(
    rows: list[_AggregateRow],
    source_kind: str,
    replace: set[tuple[int, int, dt.date]] | None = None,
) -> PublishReport:
    """Create or update the rows' values of ``source_kind`` (an unchanged value is left alone),
    delete the values of ``replace`` (indicator, region, period) that the rows no longer hold,
    record the change for cached figures and re-score the periods touched."""
    written = PublishReport()
    replace = replace or set()
    indicator_ids = {r.indicator.pk for r in rows} | {key[0] for key in replace}
    periods = {r.period for r in rows} | {key[2] for key in replace}
    existing = {
        (v.indicator_id, v.region_id, v.period): v
        for v in IndicatorValue.objects.filter(
            source_kind=source_kind, indicator__in=indicator_ids, period__in=periods
        )
    }
    now = timezone.now()
    to_create, to_update, seen = [], [], set()
    for row in rows:
        key = (row.indicator.pk, row.region.pk, row.period)
        seen.add(key)
        current = existing.get(key)
        if current is None:
            to_create.append(
                IndicatorValue(
                    indicator=row.indicator,
                    region=row.region,
                    period=row.period,
                    frequency=row.indicator.frequency,
                    source_kind=source_kind,
                    value=row.value,
                    observations=1 if row.observations is None else row.observations,
                    computed_at=now,
                )
            )
        elif current.value != row.value or (
            row.observations is not None and current.observations != row.observations
        ):
            current.value = row.value
            if row.observations is not None:
                current.observations = row.observations
            current.computed_at = now
            to_update.append(current)
        else:
            written.unchanged += 1
    stale = [current.pk for key, current in existing.items() if key in replace and key not in seen]
    if stale:
        IndicatorValue.objects.filter(pk__in=stale).delete()
    IndicatorValue.objects.bulk_create(to_create, batch_size=2000)
    IndicatorValue.objects.bulk_update(
        to_update, ["value", "observations", "computed_at"], batch_size=2000
    )
    if to_create or to_update or stale:
        values_changed()
    score_periods(periods)
    written.created, written.updated, written.deleted = len(to_create), len(to_update), len(stale)
    return written


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
    _require_publisher(actor, system, "导入汇总数据")
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


# --- values published by other modules ---------------------------------------------------------

#: Source kinds another module publishes through ``publish_values``; records, filling and
#: composites have their own writers (the engine, the filling review, scoring).
PUBLISHED_KINDS = (SourceKind.AGGREGATE, SourceKind.SURVEY)


@dataclass(frozen=True)
class PublishedValue:
    """One figure another module publishes: a leaf's value for a region and period, and the
    size of the sample behind it."""

    indicator_code: str
    region_code: str
    period: dt.date
    value: float
    observations: int


def _require_publisher(actor: Actor | None, system: bool, what: str) -> None:
    if system:
        if actor is not None:
            raise FillingError("系统发布不应指定操作人")
    elif not has_capability(actor, "filling.aggregate_import"):
        raise FillingError(f"只有营商办、系统管理员或指标牵头部门可以{what}")


def publish_values(
    values: Sequence[PublishedValue],
    *,
    source_kind: str,
    replace: Iterable[tuple[str, str, dt.date]] = (),
    actor: Actor | None,
    system: bool = False,
) -> PublishReport:
    """Publish figures another module computed (the surveys' satisfaction index) as values of
    ``source_kind``, each checked as an aggregate import checks its rows (an active leaf, a
    region, a period of the leaf's frequency, a value in the leaf's domain). ``replace`` names
    the values (indicator code, region code, period start) the caller published before: those
    this publication no longer holds are deleted, so that publishing again replaces the
    caller's figures. All or nothing, in one transaction with one audit event; publishing the
    same figures again changes nothing. ``system=True`` (with ``actor=None``) as for
    ``import_aggregate_values``."""
    _require_publisher(actor, system, "发布指标值")
    if source_kind not in PUBLISHED_KINDS:
        raise FillingError(f"数据来源“{source_kind}”的指标值不能由其他模块发布")
    ctx = _AggregateContext(actor=actor)
    context: dict[str, Any] = {"aggregate": ctx}
    report = ImportReport()
    rows: list[_AggregateRow] = []
    for number, item in enumerate(values, start=1):
        record = {
            "indicator_code": item.indicator_code,
            "region_code": item.region_code,
            "period": f"{item.period:%Y-%m}",
            "value": item.value,
        }
        row = _aggregate_validate(number, record, report, context)
        if row is not None:
            row.observations = item.observations
            rows.append(row)
    if not report.ok:
        raise FillingError("发布失败：" + "；".join(e.message for e in report.errors[:3]))
    # Earlier values whose indicator or region has gone since are gone with it.
    stale: set[tuple[int, int, dt.date]] = set()
    for indicator_code, region_code, period in replace:
        indicator, region = _indicator(ctx, indicator_code), _region(ctx, region_code)
        if indicator is not None and region is not None:
            stale.add((indicator.pk, region.pk, period))
    with transaction.atomic():
        written = _save_values(rows, source_kind, stale)
        record_event(
            "indicator_value.publish",
            actor=actor,
            after={"source_kind": source_kind, **written.as_dict()},
            message=(
                f"发布{SourceKind(source_kind).label}指标值：新增 {written.created}，"
                f"更新 {written.updated}，删除 {written.deleted}"
            ),
        )
    return written
