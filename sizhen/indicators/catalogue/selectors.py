"""Reads of the indicator catalogue (``get_*``/``list_*``): cycles, the catalogue tree and its
export, and an indicator's values at a region before and after a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F
from django.urls import reverse

from sizhen.core.access import VIEW, Actor, role_of
from sizhen.core.numbers import fixed
from sizhen.core.periods import Period
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.workqueue import KeyFigure
from sizhen.core.xlsx import build_workbook
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.completeness import latest_complete_period
from sizhen.indicators.catalogue.defaults import NAME_SEPARATOR
from sizhen.indicators.catalogue.models import (
    DepartmentIndicatorValue,
    EvaluationCycle,
    Goalpost,
    Indicator,
    IndicatorValue,
)
from sizhen.organisations.models import Region

#: When a region has values of several source kinds for one period, the first one counts (the
#: same order as the indicator pages).
SOURCE_PREFERENCE: tuple[str, ...] = (
    SourceKind.RECORDS,
    SourceKind.FILLING,
    SourceKind.AGGREGATE,
    SourceKind.SURVEY,
    SourceKind.COMPOSITE,
)


def get_current_cycle() -> EvaluationCycle | None:
    return EvaluationCycle.objects.filter(is_current=True).order_by("-starts_on").first()


def list_cycles() -> list[EvaluationCycle]:
    return list(EvaluationCycle.objects.all())


def leaf_codes() -> set[str]:
    parents = set(Indicator.objects.exclude(parent=None).values_list("parent__code", flat=True))
    return set(Indicator.objects.exclude(code__in=parents).values_list("code", flat=True))


@dataclass
class CatalogueRow:
    indicator: Indicator
    depth: int
    is_leaf: bool
    goalpost: Goalpost | None


def list_catalogue(actor: Actor, cycle: EvaluationCycle | None = None) -> list[CatalogueRow]:
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


def catalogue_workbook(actor: Actor) -> tuple[bytes, int]:
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
            r.indicator.get_direction_display(),
            r.indicator.get_frequency_display(),
            r.indicator.get_source_kind_display(),
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


def source_rank(kind: str) -> int:
    """Where a source kind stands in ``SOURCE_PREFERENCE`` (unknown kinds last)."""
    return SOURCE_PREFERENCE.index(kind) if kind in SOURCE_PREFERENCE else len(SOURCE_PREFERENCE)


def list_region_series(indicator: Indicator, region_id: int) -> dict[dt.date, float]:
    """The indicator's precomputed values at one region, one per period (the source kind
    first in ``SOURCE_PREFERENCE``), oldest period first; periods without a value are left
    out."""
    chosen: dict[dt.date, tuple[int, float]] = {}
    for period, kind, value in IndicatorValue.objects.filter(
        indicator=indicator, region_id=region_id
    ).values_list("period", "source_kind", "value"):
        if value is None:
            continue
        rank = source_rank(kind)
        if period not in chosen or rank < chosen[period][0]:
            chosen[period] = (rank, value)
    return {period: chosen[period][1] for period in sorted(chosen)}


@dataclass(frozen=True)
class BeforeAfter:
    """An indicator's value at a region in the last period before a date and in the latest
    period from it on (None: no value there)."""

    before_period: dt.date | None
    before: float | None
    after_period: dt.date | None
    after: float | None


def get_before_after(indicator: Indicator, region_id: int, since: dt.date) -> BeforeAfter:
    """The value before ``since`` and the latest since, as the effect of a measure taken then
    is read (e.g. a rectification item's verification, 整改效果核验)."""
    series = list_region_series(indicator, region_id)
    before = [p for p in series if p < since]
    after = [p for p in series if p >= since]
    return BeforeAfter(
        before_period=before[-1] if before else None,
        before=series[before[-1]] if before else None,
        after_period=after[-1] if after else None,
        after=series[after[-1]] if after else None,
    )


# --- the home page's key figures (sizhen/core/workqueue.py) --------------------------------

#: The overall index (营商环境总分) at the root of the catalogue.
ROOT_CODE = "BE"


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    """The overall index of the actor's area (the city; a district officer's district) for its
    newest complete period, with the district's rank among the city's districts."""
    role = role_of(actor)
    if role not in (Role.LEADER, Role.COORDINATOR, Role.DISTRICT_OFFICER):
        return []
    root = Indicator.objects.visible_to(actor).filter(code=ROOT_CODE).first()
    regions = Region.objects.visible_to(actor)
    own_region: int | None = getattr(actor, "region_id", None)
    region = (
        (regions.filter(pk=own_region).first() if own_region is not None else None)
        if role == Role.DISTRICT_OFFICER
        else regions.filter(parent__isnull=True).order_by("path").first()
    )
    if root is None or region is None:
        return []
    headline = latest_complete_period(root, region, today=today)
    value = (
        IndicatorValue.objects.visible_to(actor)
        .filter(indicator=root, region=region, period=headline.period, score__isnull=False)
        .order_by("source_kind")
        .first()
        if headline.period
        else None
    )
    url = reverse("dashboards:cockpit") if has_capability(actor, "cockpit.view") else ""
    if value is None:
        return [KeyFigure("indicators.index", f"{region.name}营商环境总分", "—", url=url)]
    label = Period.containing(value.period, root.frequency).label
    rank = f" · 排名 {value.rank}/{value.rank_total}" if value.rank and region.parent_id else ""
    return [
        KeyFigure(
            "indicators.index",
            f"{region.name}营商环境总分",
            fixed(value.score, 2),
            root.unit,
            note=f"{label}{rank}",
            url=url,
        )
    ]


def department_figure(
    actor: Actor, indicator_code: str, department_code: str, month: str
) -> DepartmentIndicatorValue | None:
    """One department's figure the actor may see (None when it does not exist for them): what
    a task or a letter about that department states."""
    try:
        period = Period.parse(month).start
    except ValueError:
        return None
    return (
        DepartmentIndicatorValue.objects.visible_to(actor)
        .filter(indicator__code=indicator_code, department__code=department_code, period=period)
        .select_related("indicator", "department", "department__region")
        .first()
    )


def department_figure_text(figure: DepartmentIndicatorValue) -> str:
    """ "2026-10 东湖区市场监督管理局 按时办结率 92.50%，在 9 个县市区部门中排第 8 名"."""
    indicator, department = figure.indicator, figure.department
    tier = "市级部门（全市条线）" if department.region.parent_id is None else "县市区部门"
    rank = (
        f"，在 {figure.rank_total} 个{tier}中排第 {figure.rank} 名"
        if figure.rank and figure.rank_total
        else ""
    )
    label = Period.containing(figure.period, indicator.frequency).label
    return (
        f"{label} {department.name} {indicator.name} {fixed(figure.value, 2)}{indicator.unit}"
        f"（样本 {figure.observations} 件）{rank}"
    )


def departments_of_region(
    indicator: Indicator, region: Region, period: dt.date | None, actor: Actor | None = None
) -> list[DepartmentIndicatorValue]:
    """The figures of the departments that sit in ``region`` (the city's: their whole lines),
    best rank first: which departments are behind a region's figure. With ``actor``, only the
    rows they may see; without, for documents stating a region's figure (a letter)."""
    if period is None:
        return []
    rows = (
        DepartmentIndicatorValue.objects.visible_to(actor)
        if actor is not None
        else DepartmentIndicatorValue.objects.all()
    )
    return list(
        rows.filter(indicator=indicator, period=period, department__region=region)
        .select_related("department", "department__region")
        .order_by(F("rank").asc(nulls_last=True), "department__code")
    )
