"""Bringing catalogue data in from files: the default catalogue (idempotent; a person's edits
win) and benchmark-city values (标杆值) from XLSX."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from sizhen.core.access import VIEW, Actor
from sizhen.core.audit import record_event
from sizhen.core.imports import run_import
from sizhen.core.periods import Period
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, template_workbook
from sizhen.indicators.catalogue.defaults import read_catalogue
from sizhen.indicators.catalogue.models import (
    Benchmark,
    EvaluationCycle,
    Goalpost,
    Indicator,
)
from sizhen.indicators.catalogue.services import (
    cycle_bounds,
    cycle_name,
    default_cycle_code,
    indicator_snapshot,
    write_revision,
)
from sizhen.organisations.models import Department

#: The reason written on revisions made by the loader; any other reason means a person edited.
FILL_REASON = "加载默认目录：补充牵头部门或责任部门"


# --- the default catalogue ------------------------------------------------------------------


@dataclass
class CatalogueLoadReport:
    cycle: str = ""
    cycle_created: bool = False
    created: list[str] = field(default_factory=list)
    kept: int = 0
    filled: list[str] = field(default_factory=list)
    goalposts_created: int = 0
    #: department name -> codes of the indicators that name it, when no city department has it
    missing_departments: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "cycle_created": self.cycle_created,
            "created": len(self.created),
            "kept": self.kept,
            "filled": self.filled,
            "goalposts_created": self.goalposts_created,
            "missing_departments": self.missing_departments,
        }

    @property
    def changed_anything(self) -> bool:
        return bool(self.cycle_created or self.created or self.filled or self.goalposts_created)


def city_departments(names: Iterable[str]) -> dict[str, Department]:
    """City-level departments (those of the top region) by name."""
    return {
        d.name: d
        for d in Department.objects.filter(region__parent__isnull=True, name__in=set(names))
    }


def _edited_by_person(indicator: Indicator) -> bool:
    return indicator.revisions.exclude(reason=FILL_REASON).exists()


@transaction.atomic
def load_default_catalogue(
    cycle_code: str | None = None, *, actor: Actor | None, path: Path | None = None
) -> CatalogueLoadReport:
    """Load the default catalogue (18 national first-level indicators and their leaves).

    Idempotent: existing indicators and goalposts are never overwritten (a person's edits win);
    missing nodes and the cycle's missing goalposts are created; a department that did not exist
    at an earlier load is filled in on indicators nobody has edited since (with a revision)."""
    entries = read_catalogue(path)
    report = CatalogueLoadReport()
    code = (cycle_code or default_cycle_code()).strip()
    cycle = EvaluationCycle.objects.filter(code=code).first()
    if cycle is None:
        starts_on, ends_on = cycle_bounds(code)
        cycle = EvaluationCycle.objects.create(
            code=code,
            name=cycle_name(starts_on, ends_on),
            starts_on=starts_on,
            ends_on=ends_on,
            is_current=not EvaluationCycle.objects.filter(is_current=True).exists(),
        )
        report.cycle_created = True
    report.cycle = cycle.code
    names = {e.lead_department_name for e in entries} | {
        n for e in entries for n in e.responsible_department_names
    }
    departments = city_departments(names)
    for entry in entries:
        for name in (entry.lead_department_name, *entry.responsible_department_names):
            if name and name not in departments:
                report.missing_departments.setdefault(name, []).append(entry.code)
    existing = {
        i.code: i
        for i in Indicator.objects.select_for_update().filter(code__in=[e.code for e in entries])
    }
    goalposts = set(cycle.goalposts.values_list("indicator__code", flat=True))
    for order, entry in enumerate(entries, start=1):
        lead = departments.get(entry.lead_department_name)
        responsible = [
            departments[n] for n in entry.responsible_department_names if n in departments
        ]
        indicator = existing.get(entry.code)
        if indicator is None:
            parent = existing.get(entry.parent) if entry.parent else None
            indicator = Indicator.objects.create(
                code=entry.code,
                name=entry.name,
                name_en=entry.name_en,
                parent=parent,
                level=parent.level + 1 if parent else 0,
                unit=entry.unit,
                direction=entry.direction,
                frequency=entry.frequency,
                source_kind=entry.source_kind,
                lead_department=lead,
                weight=entry.weight,
                definition=entry.definition,
                sort_order=order * 10,
            )
            indicator.responsible_departments.set(responsible)
            existing[entry.code] = indicator
            report.created.append(entry.code)
        else:
            report.kept += 1
            _fill_departments(indicator, lead, responsible, actor=actor, report=report)
        if entry.is_leaf and entry.code not in goalposts and entry.best is not None:
            Goalpost.objects.create(
                indicator=indicator,
                cycle=cycle,
                best=entry.best,
                worst=entry.worst if entry.worst is not None else 0.0,
                note=entry.goalpost_note,
            )
            report.goalposts_created += 1
    record_event(
        "indicator.catalogue_load",
        actor=actor,
        object_type="indicators.indicator",
        after=report.as_dict(),
        message=f"加载默认指标目录：新增 {len(report.created)} 个指标，"
        f"新增 {report.goalposts_created} 组目标值（{cycle.code}）",
    )
    return report


def _fill_departments(
    indicator: Indicator,
    lead: Department | None,
    responsible: list[Department],
    *,
    actor: Actor | None,
    report: CatalogueLoadReport,
) -> None:
    current = set(indicator.responsible_departments.values_list("pk", flat=True))
    add_lead = indicator.lead_department_id is None and lead is not None
    add_responsible = [d for d in responsible if d.pk not in current]
    if not (add_lead or add_responsible) or _edited_by_person(indicator):
        return
    before = indicator_snapshot(indicator)
    if add_lead:
        indicator.lead_department = lead
    indicator.responsible_departments.add(*add_responsible)
    write_revision(indicator, before, reason=FILL_REASON, actor=actor)
    report.filled.append(indicator.code)


BENCHMARK_COLUMNS = (
    Column(
        "indicator_code",
        "指标编码",
        required=True,
        help="如 BE01.02，见指标体系",
        aliases=("指标代码",),
    ),
    Column("city", "标杆城市", required=True, help="城市名称，不超过 40 字，如 深圳市"),
    Column("period", "期间", required=True, help="年月，如 2025-06；季度、年度数据填该期第一个月"),
    Column("value", "数值", required=True, help="按指标单位填写的数字，如 0.5"),
    Column("source", "来源", help="数据出处，不超过 200 字", width=30),
)


@dataclass(frozen=True)
class _BenchmarkRow:
    indicator: Indicator
    city: str
    period: dt.date
    value: float
    source: str


def _validate_benchmark_row(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> _BenchmarkRow | None:
    errors_before = len(report.errors)
    code = str(record.get("indicator_code") or "").strip()
    indicator = ctx["indicators"].get(code)
    if indicator is None:
        report.add(
            number,
            "指标编码",
            "unknown_indicator",
            f"指标编码“{code}”不存在" if code else "请填写指标编码",
        )
    city = str(record.get("city") or "").strip()
    if not city or len(city) > 40:
        report.add(number, "标杆城市", "invalid_city", "请填写标杆城市（不超过 40 字）")
    period = None
    try:
        period = Period.parse(record.get("period"), "month", loose=True).start
    except ValueError as exc:
        report.add(number, "期间", "invalid_period", str(exc))
    value = None
    raw = record.get("value")
    try:
        value = float(str(raw).strip().replace(",", "")) if raw not in (None, "") else None
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        report.add(
            number, "数值", "invalid_value", f"数值“{raw if raw is not None else ''}”不是数字"
        )
    source = str(record.get("source") or "").strip()
    if len(source) > 200:
        report.add(number, "来源", "too_long", "来源不超过 200 字")
    if len(report.errors) > errors_before:
        return None
    return _BenchmarkRow(indicator, city, period, value, source)  # type: ignore[arg-type]


def _save_benchmark_rows(rows: list[_BenchmarkRow], report: ImportReport, actor: Actor) -> None:
    existing = {
        (b.indicator_id, b.city, b.period): b
        for b in Benchmark.objects.filter(indicator__in={r.indicator for r in rows})
    }
    to_create, to_update = [], []
    for row in rows:
        current = existing.get((row.indicator.pk, row.city, row.period))
        if current is None:
            to_create.append(
                Benchmark(
                    indicator=row.indicator,
                    city=row.city,
                    period=row.period,
                    value=row.value,
                    source=row.source,
                )
            )
        elif (current.value, current.source) != (row.value, row.source):
            current.value, current.source = row.value, row.source
            to_update.append(current)
        else:
            report.unchanged += 1
    Benchmark.objects.bulk_create(to_create)
    Benchmark.objects.bulk_update(to_update, ["value", "source"])
    report.created, report.updated = len(to_create), len(to_update)


BENCHMARK_SPEC = ImportSpec(
    columns=BENCHMARK_COLUMNS,
    validate=_validate_benchmark_row,
    save=_save_benchmark_rows,
    unique_key=lambda r: (r.indicator.code, r.city, r.period.strftime("%Y-%m")),
    unique_label="指标编码、标杆城市与期间",
)


def import_benchmarks(data: bytes, *, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Create or update benchmark values from XLSX, all or nothing, keyed by
    (indicator, city, period)."""
    indicators = {i.code: i for i in Indicator.objects.visible_to(actor, VIEW)}
    return run_import(
        BENCHMARK_SPEC,
        data,
        actor=actor,
        action="benchmark.import",
        dry_run=dry_run,
        context={"indicators": indicators},
    )


def benchmark_template() -> bytes:
    example = ["BE01.02", "示例：深圳市", "2025-06", 0.5, "示例：某年度营商环境评价报告"]
    return template_workbook(
        BENCHMARK_COLUMNS,
        example,
        "同一指标、城市和期间已有标杆值时按文件更新；任何一行有错误时整个文件都不导入。请删除示例行后再导入。",
    )
