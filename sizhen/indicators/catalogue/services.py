"""Writes of the indicator catalogue (指标体系): evaluation cycles (评价周期), edits with
revisions, goalposts (前沿值与最差值) and benchmark-city values (标杆值).

Services take a keyword-only ``actor``, run atomically and write one audit event each; reads are
in ``selectors``, the default catalogue and the benchmark import in ``imports``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import changed, record_event
from sizhen.indicators.catalogue.changes import values_changed
from sizhen.indicators.catalogue.choices import SourceKind, Weighting
from sizhen.indicators.catalogue.defaults import CatalogueError, goalpost_problem, read_catalogue
from sizhen.indicators.catalogue.models import (
    Benchmark,
    EvaluationCycle,
    Goalpost,
    Indicator,
    IndicatorRevision,
)
from sizhen.indicators.catalogue.selectors import get_current_cycle, leaf_codes
from sizhen.organisations.models import Department

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
_CYCLE_CODE = re.compile(r"^(\d{4})(?:-(\d{4}))?$")


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


def cycle_name(start: dt.date, end: dt.date) -> str:
    years = f"{start.year}" if start.year == end.year else f"{start.year}–{end.year}"
    return f"{years} 年评价周期"


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
    values_changed()
    return len(rows)


@transaction.atomic
def create_cycle(
    *,
    actor: Actor,
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
def set_current_cycle(cycle: EvaluationCycle, *, actor: Actor) -> EvaluationCycle:
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


def write_revision(
    indicator: Indicator, before: dict[str, Any], *, reason: str, actor: Actor | None
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
def update_indicator(
    indicator: Indicator, *, actor: Actor, reason: str, **fields: Any
) -> Indicator:
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
    write_revision(locked, before, reason=reason.strip(), actor=actor)
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
    actor: Actor,
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
    write_revision(locked, before, reason=reason.strip(), actor=actor)
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
    actor: Actor,
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
def update_benchmark(benchmark: Benchmark, *, actor: Actor, **fields: Any) -> Benchmark:
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
def delete_benchmark(benchmark: Benchmark, *, actor: Actor) -> None:
    state = _benchmark_state(benchmark)
    record_event("benchmark.delete", actor=actor, obj=benchmark, before=state)
    benchmark.delete()
