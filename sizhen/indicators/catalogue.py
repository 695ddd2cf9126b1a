"""The indicator catalogue (指标体系): the default catalogue, edits with revisions, evaluation
cycles (评价周期), goalposts (前沿值与最差值) and benchmark-city values (标杆值).

Writes are services (keyword-only ``actor``, atomic, one audit event each); reads are the
``get_*``/``list_*`` selectors below. The cleaned default catalogue is ``data/catalogue.csv``;
docs/catalogue.md explains how each ambiguous cell of the reference was resolved.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizhen.core.access import VIEW
from sizhen.core.audit import changed, record_event
from sizhen.core.imports import run_import
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, build_workbook, template_workbook
from sizhen.indicators.choices import Direction, Frequency, SourceKind, Weighting
from sizhen.indicators.models import (
    Benchmark,
    EvaluationCycle,
    Goalpost,
    Indicator,
    IndicatorRevision,
)
from sizhen.organisations.models import Department

CATALOGUE_CSV = Path(__file__).resolve().parent / "data" / "catalogue.csv"
CSV_COLUMNS = (
    "code",
    "name",
    "name_en",
    "parent",
    "unit",
    "direction",
    "frequency",
    "source_kind",
    "lead_department_name",
    "responsible_department_names",
    "best",
    "worst",
    "weight",
    "definition",
    "goalpost_note",
)
NAME_SEPARATOR = "、"
#: The reason written on revisions made by the loader; any other reason means a person edited.
FILL_REASON = "加载默认目录：补充牵头部门或责任部门"
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "unit",
        "direction",
        "frequency",
        "source_kind",
        "lead_department",
        "responsible_departments",
        "weight",
        "definition",
        "is_active",
        "sort_order",
    }
)
_CODE = re.compile(r"^BE(\d{2}(\.\d{2})?)?$")
_CYCLE_CODE = re.compile(r"^(\d{4})(?:-(\d{4}))?$")
_MONTH = re.compile(r"^(\d{4})\s*(?:-|/|年)\s*(\d{1,2})\s*月?$")


class CatalogueError(ValueError):
    """The catalogue file or a cycle code is unusable; the message says why, in Chinese."""


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name: str
    name_en: str
    parent: str
    unit: str
    direction: str
    frequency: str
    source_kind: str
    lead_department_name: str
    responsible_department_names: tuple[str, ...]
    best: float | None
    worst: float | None
    weight: float
    definition: str
    goalpost_note: str
    is_leaf: bool


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_catalogue(path: Path | None = None) -> list[CatalogueEntry]:
    """The cleaned catalogue, checked row by row; raises CatalogueError listing every problem."""
    with open(path or CATALOGUE_CSV, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = set(CSV_COLUMNS) - set(rows[0] if rows else ())
    if missing:
        raise CatalogueError("目录文件为空或缺少列：" + "、".join(sorted(missing)))
    problems: list[str] = []
    parents = {row["parent"].strip() for row in rows}
    seen: set[str] = set()
    entries: list[CatalogueEntry] = []
    for line, row in enumerate(rows, start=2):
        code, parent = row["code"].strip(), row["parent"].strip()
        where = f"第 {line} 行（{code or '无编码'}）"
        if not _CODE.match(code) or code in seen:
            problems.append(f"{where}：编码无效或重复")
        is_root_row = not seen
        if (not parent) != is_root_row or (parent and parent not in seen):
            problems.append(f"{where}：上级指标须为之前出现的指标（仅第一行为顶级）")
        seen.add(code)
        is_leaf = code not in parents
        try:
            best, worst = _number(row["best"]), _number(row["worst"])
            weight = _number(row["weight"])
        except ValueError:
            problems.append(f"{where}：最优值、最差值或权重不是数字")
            continue
        if row["direction"] not in Direction.values or row["frequency"] not in Frequency.values:
            problems.append(f"{where}：方向或频度无效")
        if row["source_kind"] not in SourceKind.values:
            problems.append(f"{where}：数据来源无效")
        if (row["source_kind"] == SourceKind.COMPOSITE) == is_leaf:
            problems.append(f"{where}：末级指标不能是“下级指标合成”，上级指标必须是")
        if not row["name"].strip() or not row["unit"].strip():
            problems.append(f"{where}：名称和单位不能为空")
        if weight is None or weight < 0:
            problems.append(f"{where}：权重应为非负数")
        if is_leaf:
            problem = goalpost_problem(row["direction"], best, worst)
            if problem:
                problems.append(f"{where}：{problem}")
        entries.append(
            CatalogueEntry(
                code=code,
                name=row["name"].strip(),
                name_en=row["name_en"].strip(),
                parent=parent,
                unit=row["unit"].strip(),
                direction=row["direction"],
                frequency=row["frequency"],
                source_kind=row["source_kind"],
                lead_department_name=row["lead_department_name"].strip(),
                responsible_department_names=tuple(
                    n.strip()
                    for n in row["responsible_department_names"].split(NAME_SEPARATOR)
                    if n.strip()
                ),
                best=best,
                worst=worst,
                weight=weight or 0.0,
                definition=row["definition"].strip(),
                goalpost_note=row["goalpost_note"].strip()[:200],
                is_leaf=is_leaf,
            )
        )
    if problems:
        raise CatalogueError("；".join(problems))
    return entries


def goalpost_problem(direction: str, best: float | None, worst: float | None) -> str:
    """Why best/worst cannot score a leaf with this direction ("" when they can)."""
    if best is None or worst is None:
        return "末级指标须有最优值和最差值"
    if best == worst:
        return "最优值与最差值不能相同"
    if direction == Direction.LOWER_IS_BETTER and best > worst:
        return "负向指标（越低越好）的最优值应小于最差值"
    if direction == Direction.HIGHER_IS_BETTER and best < worst:
        return "正向指标（越高越好）的最优值应大于最差值"
    return ""


# --- cycles ---------------------------------------------------------------------------------


def default_cycle_code(today: dt.date | None = None) -> str:
    """The current cycle, or three years ending this year: goalposts stay frozen across a cycle
    (as Doing Business froze its frontiers), and local action plans run in three-year terms."""
    current = get_current_cycle()
    if current is not None:
        return current.code
    year = (today or timezone.localdate()).year
    return f"{year - 2}-{year}"


def cycle_bounds(code: str) -> tuple[dt.date, dt.date]:
    match = _CYCLE_CODE.match(code.strip())
    first = int(match.group(1)) if match else 0
    last = int(match.group(2) or first) if match else 0
    if not match or not 2000 <= first <= last <= 2100:
        raise CatalogueError(f"评价周期编码“{code}”无效：应为 YYYY 或 YYYY-YYYY，如 2024-2026")
    return dt.date(first, 1, 1), dt.date(last, 12, 31)


def _cycle_name(start: dt.date, end: dt.date) -> str:
    years = f"{start.year}" if start.year == end.year else f"{start.year}–{end.year}"
    return f"{years} 年评价周期"


def get_current_cycle() -> EvaluationCycle | None:
    return EvaluationCycle.objects.filter(is_current=True).order_by("-starts_on").first()


def list_cycles() -> list[EvaluationCycle]:
    return list(EvaluationCycle.objects.all())


def _copy_goalposts(cycle: EvaluationCycle, source: EvaluationCycle | None) -> int:
    """Start a cycle from the previous cycle's goalposts, or the default catalogue's."""
    leaves = leaf_codes()
    rows: dict[int, Goalpost] = {}
    if source is not None:
        for g in source.goalposts.filter(indicator__code__in=leaves):
            rows[g.indicator_id] = Goalpost(
                indicator_id=g.indicator_id,
                cycle=cycle,
                best=g.best,
                worst=g.worst,
                target=g.target,
                note=g.note,
            )
    defaults = {e.code: e for e in read_catalogue() if e.is_leaf}
    for indicator in Indicator.objects.filter(code__in=leaves).exclude(pk__in=list(rows)):
        entry = defaults.get(indicator.code)
        if entry is not None and entry.best is not None and entry.worst is not None:
            rows[indicator.pk] = Goalpost(
                indicator=indicator,
                cycle=cycle,
                best=entry.best,
                worst=entry.worst,
                note=entry.goalpost_note,
            )
    Goalpost.objects.bulk_create(rows.values())
    return len(rows)


@transaction.atomic
def create_cycle(
    *,
    actor: Any,
    code: str,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    weighting: str = Weighting.EQUAL,
    make_current: bool = False,
) -> EvaluationCycle:
    """A new evaluation cycle; its goalposts start as a copy of the current cycle's."""
    code = code.strip()
    if EvaluationCycle.objects.filter(code=code).exists():
        raise ValidationError({"code": f"周期编码“{code}”已存在"})
    if ends_on < starts_on:
        raise ValidationError({"ends_on": "结束日期不能早于开始日期"})
    source = get_current_cycle()
    if make_current or source is None:
        EvaluationCycle.objects.filter(is_current=True).update(is_current=False)
    cycle = EvaluationCycle(
        code=code,
        name=name.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        weighting=weighting,
        is_current=make_current or source is None,
    )
    cycle.full_clean()
    cycle.save()
    copied = _copy_goalposts(cycle, source)
    record_event(
        "evaluation_cycle.create",
        actor=actor,
        obj=cycle,
        after={
            "code": code,
            "is_current": cycle.is_current,
            "goalposts": copied,
            "copied_from": source.code if source else None,
        },
    )
    return cycle


@transaction.atomic
def set_current_cycle(cycle: EvaluationCycle, *, actor: Any) -> EvaluationCycle:
    previous = get_current_cycle()
    EvaluationCycle.objects.filter(is_current=True).exclude(pk=cycle.pk).update(is_current=False)
    EvaluationCycle.objects.filter(pk=cycle.pk).update(is_current=True)
    cycle.is_current = True
    record_event(
        "evaluation_cycle.set_current",
        actor=actor,
        obj=cycle,
        before={"current": previous.code if previous else None},
        after={"current": cycle.code},
    )
    return cycle


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
    cycle_code: str | None = None, *, actor: Any, path: Path | None = None
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
            name=_cycle_name(starts_on, ends_on),
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
    actor: Any,
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
    _write_revision(indicator, before, reason=FILL_REASON, actor=actor)
    report.filled.append(indicator.code)


# --- edits and revisions --------------------------------------------------------------------


def _department_ref(d: Department | None) -> dict[str, str] | None:
    return {"code": d.code, "name": d.name} if d is not None else None


def indicator_snapshot(indicator: Indicator) -> dict[str, Any]:
    """Everything that defines an indicator, as stored on a revision."""
    return {
        "code": indicator.code,
        "name": indicator.name,
        "name_en": indicator.name_en,
        "parent": indicator.parent.code if indicator.parent_id else None,  # type: ignore[union-attr]
        "unit": indicator.unit,
        "direction": indicator.direction,
        "frequency": indicator.frequency,
        "source_kind": indicator.source_kind,
        "lead_department": _department_ref(indicator.lead_department),
        "responsible_departments": [
            _department_ref(d) for d in indicator.responsible_departments.order_by("code")
        ],
        "weight": indicator.weight,
        "definition": indicator.definition,
        "sort_order": indicator.sort_order,
        "is_active": indicator.is_active,
        "version": indicator.version,
        "goalposts": {
            g.cycle.code: {"best": g.best, "worst": g.worst, "target": g.target, "note": g.note}
            for g in indicator.goalposts.select_related("cycle").order_by("cycle__starts_on")
        },
    }


def _write_revision(
    indicator: Indicator, before: dict[str, Any], *, reason: str, actor: Any
) -> IndicatorRevision:
    """Keep the previous version and move the indicator to the next one."""
    revision = IndicatorRevision.objects.create(
        indicator=indicator,
        version=before["version"],
        snapshot=before,
        reason=reason[:200],
        changed_by=actor if isinstance(actor, get_user_model()) else None,
        changed_at=timezone.now(),
    )
    indicator.version = before["version"] + 1
    indicator.save()
    return revision


def _comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snapshot.items() if k != "version"}


def _is_leaf(indicator: Indicator) -> bool:
    return not Indicator.objects.filter(parent_id=indicator.pk).exists()


def _check_indicator(indicator: Indicator, responsible: list[Department] | None) -> None:
    errors: dict[str, str] = {}
    leaf = _is_leaf(indicator)
    if not indicator.name.strip():
        errors["name"] = "请填写指标名称"
    if leaf and not indicator.unit.strip():
        errors["unit"] = "末级指标须填写单位"
    if leaf and indicator.source_kind == SourceKind.COMPOSITE:
        errors["source_kind"] = "末级指标没有下级指标，不能选择“下级指标合成”"
    if not leaf and indicator.source_kind != SourceKind.COMPOSITE:
        errors["source_kind"] = "有下级指标的指标只能由下级指标合成"
    if not 0 <= indicator.weight <= 100:
        errors["weight"] = "权重应在 0 到 100 之间"
    lead = indicator.lead_department_id
    if responsible is not None and lead is not None and lead in {d.pk for d in responsible}:
        errors["responsible_departments"] = "牵头部门不必重复列为责任部门"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def update_indicator(indicator: Indicator, *, actor: Any, reason: str, **fields: Any) -> Indicator:
    """Edit an indicator (coordinator): the previous version is kept as a revision."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(sorted(unknown))}")
    if not reason.strip():
        raise ValidationError({"reason": "请填写修改说明"})
    locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
    before = indicator_snapshot(locked)
    responsible = fields.pop("responsible_departments", None)
    if responsible is not None:
        responsible = list(responsible)
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    _check_indicator(locked, responsible)
    locked.full_clean(exclude=["parent", "version"])
    locked.save()
    if responsible is not None:
        locked.responsible_departments.set(responsible)
    after = indicator_snapshot(locked)
    if _comparable(after) == _comparable(before):
        raise ValidationError("未修改任何内容")
    _write_revision(locked, before, reason=reason.strip(), actor=actor)
    old, new = changed(_comparable(before), _comparable(after))
    record_event("indicator.update", actor=actor, obj=locked, before=old, after=new, message=reason)
    return locked


def cycle_is_frozen(cycle: EvaluationCycle, today: dt.date | None = None) -> bool:
    """A cycle's goalposts are frozen once it has ended: its scores must stay reproducible."""
    return cycle.ends_on < (today or timezone.localdate())


@transaction.atomic
def update_goalpost(
    indicator: Indicator,
    cycle: EvaluationCycle,
    *,
    actor: Any,
    best: float,
    worst: float,
    target: float | None = None,
    note: str = "",
    reason: str,
) -> Goalpost:
    """Set a leaf's goalposts in one cycle; the indicator gets a new version."""
    locked = Indicator.objects.select_for_update().get(pk=indicator.pk)
    if not _is_leaf(locked):
        raise ValidationError("只有末级指标设置最优值和最差值；上级指标的得分由下级指标合成")
    if cycle_is_frozen(cycle):
        raise ValidationError(f"{cycle.name}已于 {cycle.ends_on} 结束，目标值已冻结，不能修改")
    if not reason.strip():
        raise ValidationError({"reason": "请填写修改说明"})
    problem = goalpost_problem(locked.direction, best, worst)
    if problem:
        raise ValidationError({"worst": problem})
    before = indicator_snapshot(locked)
    goalpost, _ = Goalpost.objects.update_or_create(
        indicator=locked,
        cycle=cycle,
        defaults={"best": best, "worst": worst, "target": target, "note": note.strip()[:200]},
    )
    after = indicator_snapshot(locked)
    if _comparable(after) == _comparable(before):
        raise ValidationError("未修改任何内容")
    _write_revision(locked, before, reason=reason.strip(), actor=actor)
    record_event(
        "indicator.goalpost_update",
        actor=actor,
        obj=locked,
        before={"cycle": cycle.code, **(before["goalposts"].get(cycle.code) or {})},
        after={"cycle": cycle.code, **after["goalposts"][cycle.code]},
        message=reason,
    )
    return goalpost


# --- benchmarks -----------------------------------------------------------------------------


def parse_month(value: Any) -> dt.date:
    """The first day of a month written as YYYY-MM (also YYYY/MM, YYYY年MM月) or a date cell."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.replace(day=1)
    match = _MONTH.match(str(value or "").strip())
    if match and 1 <= int(match.group(2)) <= 12 and 1900 <= int(match.group(1)) <= 2100:
        return dt.date(int(match.group(1)), int(match.group(2)), 1)
    raise ValueError(f"期间“{value}”格式不正确，应为年月，如 2025-06")


def _check_benchmark(benchmark: Benchmark) -> None:
    benchmark.city = benchmark.city.strip()
    if not benchmark.city:
        raise ValidationError({"city": "请填写标杆城市"})
    if not math.isfinite(benchmark.value):
        raise ValidationError({"value": "数值应为有限的数字"})
    benchmark.period = benchmark.period.replace(day=1)
    clash = Benchmark.objects.filter(
        indicator_id=benchmark.indicator_id, city=benchmark.city, period=benchmark.period
    ).exclude(pk=benchmark.pk)
    if clash.exists():
        raise ValidationError(
            {"city": f"该指标 {benchmark.period:%Y-%m} 已有“{benchmark.city}”的标杆值，请直接修改"}
        )
    benchmark.full_clean()


def _benchmark_state(b: Benchmark) -> dict[str, Any]:
    return {
        "indicator": b.indicator.code,
        "city": b.city,
        "period": b.period.strftime("%Y-%m"),
        "value": b.value,
        "source": b.source,
    }


@transaction.atomic
def create_benchmark(
    *,
    actor: Any,
    indicator: Indicator,
    city: str,
    period: dt.date,
    value: float,
    source: str = "",
) -> Benchmark:
    benchmark = Benchmark(
        indicator=indicator, city=city, period=period, value=value, source=source.strip()
    )
    _check_benchmark(benchmark)
    benchmark.save()
    record_event("benchmark.create", actor=actor, obj=benchmark, after=_benchmark_state(benchmark))
    return benchmark


@transaction.atomic
def update_benchmark(benchmark: Benchmark, *, actor: Any, **fields: Any) -> Benchmark:
    locked = Benchmark.objects.select_for_update().select_related("indicator").get(pk=benchmark.pk)
    before = _benchmark_state(locked)
    for name, value in fields.items():
        if name not in {"indicator", "city", "period", "value", "source"}:
            raise ValidationError(f"不能修改字段 {name}")
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    _check_benchmark(locked)
    locked.save()
    old, new = changed(before, _benchmark_state(locked))
    record_event("benchmark.update", actor=actor, obj=locked, before=old, after=new)
    return locked


@transaction.atomic
def delete_benchmark(benchmark: Benchmark, *, actor: Any) -> None:
    state = _benchmark_state(benchmark)
    record_event("benchmark.delete", actor=actor, obj=benchmark, before=state)
    benchmark.delete()


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
        period = parse_month(record.get("period"))
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


def _save_benchmark_rows(rows: list[_BenchmarkRow], report: ImportReport, actor: Any) -> None:
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


def import_benchmarks(data: bytes, *, actor: Any, dry_run: bool = False) -> ImportReport:
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


# --- selectors ------------------------------------------------------------------------------


def leaf_codes() -> set[str]:
    parents = set(Indicator.objects.exclude(parent=None).values_list("parent__code", flat=True))
    return set(Indicator.objects.exclude(code__in=parents).values_list("code", flat=True))


@dataclass
class CatalogueRow:
    indicator: Indicator
    depth: int
    is_leaf: bool
    goalpost: Goalpost | None


def list_catalogue(actor: Any, cycle: EvaluationCycle | None = None) -> list[CatalogueRow]:
    """The visible indicators in tree order (depth first), with the cycle's goalposts."""
    indicators = list(
        Indicator.objects.visible_to(actor, VIEW)
        .select_related("parent", "lead_department")
        .prefetch_related("responsible_departments")
    )
    goalposts = {g.indicator_id: g for g in Goalpost.objects.filter(cycle=cycle)} if cycle else {}
    children: dict[int | None, list[Indicator]] = {}
    for indicator in indicators:
        children.setdefault(indicator.parent_id, []).append(indicator)
    known = {i.pk for i in indicators}
    rows: list[CatalogueRow] = []

    def walk(node: Indicator, depth: int) -> None:
        kids = children.get(node.pk, [])
        rows.append(CatalogueRow(node, depth, not kids, goalposts.get(node.pk)))
        for kid in kids:
            walk(kid, depth + 1)

    for indicator in indicators:
        if indicator.parent_id is None or indicator.parent_id not in known:
            walk(indicator, 0)
    return rows


CATALOGUE_EXPORT_HEADERS = (
    "指标编码",
    "指标名称",
    "英文名称",
    "上级指标",
    "层级",
    "单位",
    "方向",
    "频度",
    "数据来源",
    "牵头部门",
    "责任部门",
    "权重",
    "最优值",
    "最差值",
    "目标值",
    "取值依据",
    "评价周期",
    "版本",
    "启用",
    "指标定义",
)


def catalogue_workbook(actor: Any) -> tuple[bytes, int]:
    """The visible catalogue as XLSX (one row per indicator) and the number of rows."""
    cycle = get_current_cycle()
    rows = list_catalogue(actor, cycle)
    data = [
        [
            r.indicator.code,
            r.indicator.name,
            r.indicator.name_en,
            r.indicator.parent.code if r.indicator.parent_id else "",  # type: ignore[union-attr]
            r.indicator.level,
            r.indicator.unit,
            r.indicator.get_direction_display(),  # type: ignore[attr-defined]
            r.indicator.get_frequency_display(),  # type: ignore[attr-defined]
            r.indicator.get_source_kind_display(),  # type: ignore[attr-defined]
            r.indicator.lead_department.name if r.indicator.lead_department_id else "",  # type: ignore[union-attr]
            NAME_SEPARATOR.join(d.name for d in r.indicator.responsible_departments.all()),
            r.indicator.weight,
            r.goalpost.best if r.goalpost else None,
            r.goalpost.worst if r.goalpost else None,
            r.goalpost.target if r.goalpost else None,
            r.goalpost.note if r.goalpost else "",
            cycle.code if cycle and r.goalpost else "",
            r.indicator.version,
            "是" if r.indicator.is_active else "否",
            r.indicator.definition,
        ]
        for r in rows
    ]
    return build_workbook([("指标体系", CATALOGUE_EXPORT_HEADERS, data)]), len(data)
