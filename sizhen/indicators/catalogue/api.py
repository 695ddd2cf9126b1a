"""The indicator catalogue and computed values over the API, scoped like the pages: staff roles
read (an enterprise or a machine client gets 404), values only of regions the caller may see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from sizhen.core.access import Actor, get_visible_or_404
from sizhen.core.api import Limit, Offset, PageMeta, actor_of, page, require_token_scope
from sizhen.core.periods import Period
from sizhen.core.permissions import require_capability
from sizhen.indicators.catalogue.completeness import latest_complete_period
from sizhen.indicators.catalogue.models import (
    DepartmentIndicatorValue,
    Goalpost,
    Indicator,
    IndicatorValue,
)
from sizhen.indicators.catalogue.selectors import get_current_cycle
from sizhen.organisations.models import Department, Region

router = Router(tags=["指标"])

MAX_VALUES = 5000


def _require_staff(request: HttpRequest) -> Any:
    require_token_scope(request, "read")
    actor = actor_of(request)
    require_capability(actor, "staff.pages", target="指标接口")
    return actor


def _month(value: str | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return Period.parse(value.strip(), "month").start
    except ValueError:
        raise HttpError(
            400, f"参数 {name} 的格式应为 YYYY-MM（如 2025-06），收到“{value[:20]}”"
        ) from None


class DepartmentRef(Schema):
    code: str
    name: str


class GoalpostOut(Schema):
    cycle: str
    best: float
    worst: float
    target: float | None


class IndicatorOut(Schema):
    code: str
    name: str
    name_en: str
    parent_code: str | None
    level: int
    is_leaf: bool
    unit: str
    direction: str
    frequency: str
    source_kind: str
    lead_department: DepartmentRef | None
    responsible_departments: list[DepartmentRef]
    weight: float
    definition: str
    version: int
    is_active: bool
    goalpost: GoalpostOut | None


class IndicatorPage(Schema):
    meta: PageMeta
    items: list[IndicatorOut]


def _indicator(
    i: Indicator, parents: set[int], goalposts: dict[int, Goalpost], cycle_code: str
) -> dict[str, Any]:
    goalpost = goalposts.get(i.pk)
    return {
        "code": i.code,
        "name": i.name,
        "name_en": i.name_en,
        "parent_code": i.parent.code if i.parent_id else None,  # type: ignore[union-attr]
        "level": i.level,
        "is_leaf": i.pk not in parents,
        "unit": i.unit,
        "direction": i.direction,
        "frequency": i.frequency,
        "source_kind": i.source_kind,
        "lead_department": (
            {"code": i.lead_department.code, "name": i.lead_department.name}  # type: ignore[union-attr]
            if i.lead_department_id
            else None
        ),
        "responsible_departments": [
            {"code": d.code, "name": d.name} for d in i.responsible_departments.all()
        ],
        "weight": i.weight,
        "definition": i.definition,
        "version": i.version,
        "is_active": i.is_active,
        "goalpost": (
            {
                "cycle": cycle_code,
                "best": goalpost.best,
                "worst": goalpost.worst,
                "target": goalpost.target,
            }
            if goalpost
            else None
        ),
    }


def _serialise(indicators: list[Indicator]) -> list[dict[str, Any]]:
    cycle = get_current_cycle()
    ids = [i.pk for i in indicators]
    goalposts = (
        {g.indicator_id: g for g in Goalpost.objects.filter(cycle=cycle, indicator_id__in=ids)}
        if cycle
        else {}
    )
    parents = set(Indicator.objects.filter(parent_id__in=ids).values_list("parent_id", flat=True))
    return [_indicator(i, parents, goalposts, cycle.code if cycle else "") for i in indicators]


def _indicators(actor: Actor) -> Any:
    return (
        Indicator.objects.visible_to(actor)
        .select_related("parent", "lead_department")
        .prefetch_related("responsible_departments")
    )


@router.get("/indicators", response=IndicatorPage, summary="指标体系")
def list_indicators(
    request: HttpRequest,
    parent: str | None = None,
    level: Annotated[int, Field(ge=1, le=9)] | None = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Every visible indicator in catalogue order, with the current cycle's goalposts."""
    actor = _require_staff(request)
    qs = _indicators(actor).order_by("sort_order", "code")
    if parent:
        qs = qs.filter(parent__code=parent)
    if level is not None:
        qs = qs.filter(level=level)
    items, meta = page(qs, limit, offset)
    return {"meta": meta, "items": _serialise(items)}


@router.get("/indicators/{code}", response=IndicatorOut, summary="指标")
def get_indicator(request: HttpRequest, code: str) -> dict[str, Any]:
    actor = _require_staff(request)
    return _serialise([get_visible_or_404(_indicators(actor), actor, code=code)])[0]


class ValueOut(Schema):
    region_code: str
    region_name: str
    period: str
    frequency: str
    value: float | None
    score: float | None
    rank: int | None
    rank_total: int | None
    source_kind: str


class ValuePage(Schema):
    indicator: str
    meta: PageMeta
    items: list[ValueOut]


@router.get("/indicators/{code}/values", response=ValuePage, summary="指标值")
def list_indicator_values(
    request: HttpRequest,
    code: str,
    region: str | None = None,
    from_: str | None = Query(None, alias="from", description="起始月份 YYYY-MM（含）"),
    to: str | None = Query(None, description="截止月份 YYYY-MM（含）"),
    source_kind: str | None = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Values of one indicator by region and period (the period's first month as YYYY-MM),
    only for regions the caller may see."""
    actor = _require_staff(request)
    start, end = _month(from_, "from"), _month(to, "to")
    if start and end and start > end:
        raise HttpError(400, "参数 from 不能晚于 to")
    indicator = get_visible_or_404(Indicator, actor, code=code)
    qs = (
        IndicatorValue.objects.visible_to(actor)
        .filter(indicator=indicator)
        .select_related("region")
        .order_by("period", "region__path", "source_kind")
    )
    if region:
        qs = qs.filter(region=get_visible_or_404(Region, actor, code=region))
    if start:
        qs = qs.filter(period__gte=start)
    if end:
        qs = qs.filter(period__lte=end)
    if source_kind:
        qs = qs.filter(source_kind=source_kind)
    items, meta = page(qs, limit, offset, max_limit=MAX_VALUES)
    return {
        "indicator": indicator.code,
        "meta": meta,
        "items": [
            {
                "region_code": v.region.code,
                "region_name": v.region.name,
                "period": v.period.strftime("%Y-%m"),
                "frequency": v.frequency,
                "value": v.value,
                "score": v.score,
                "rank": v.rank,
                "rank_total": v.rank_total,
                "source_kind": v.source_kind,
            }
            for v in items
        ],
    }


class DepartmentValueOut(Schema):
    department_code: str
    department_name: str
    #: "city": a city department's whole line; "district": a district department's own.
    tier: str
    region_code: str
    period: str
    value: float | None
    observations: int
    rank: int | None
    rank_total: int | None


class DepartmentValuePage(Schema):
    indicator: str
    meta: PageMeta
    items: list[DepartmentValueOut]


@router.get(
    "/indicators/{code}/departments", response=DepartmentValuePage, summary="指标分部门数值"
)
def list_department_values(
    request: HttpRequest,
    code: str,
    department: str | None = None,
    from_: str | None = Query(None, alias="from", description="起始月份 YYYY-MM（含）"),
    to: str | None = Query(None, description="截止月份 YYYY-MM（含）"),
    limit: Limit = 500,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Figures of one record-based indicator by department and period, ranked within each
    tier; only the departments the caller may see (a department its own and, for a city
    department, its line's; a district its region's)."""
    actor = _require_staff(request)
    start, end = _month(from_, "from"), _month(to, "to")
    if start and end and start > end:
        raise HttpError(400, "参数 from 不能晚于 to")
    indicator = get_visible_or_404(Indicator, actor, code=code)
    qs = (
        DepartmentIndicatorValue.objects.visible_to(actor)
        .filter(indicator=indicator)
        .select_related("department", "department__region")
        .order_by("period", "department__region__path", "department__code")
    )
    if department:
        qs = qs.filter(department=get_visible_or_404(Department, actor, code=department))
    if start:
        qs = qs.filter(period__gte=start)
    if end:
        qs = qs.filter(period__lte=end)
    items, meta = page(qs, limit, offset, max_limit=MAX_VALUES)
    return {
        "indicator": indicator.code,
        "meta": meta,
        "items": [
            {
                "department_code": v.department.code,
                "department_name": v.department.name,
                "tier": "city" if v.department.region.parent_id is None else "district",
                "region_code": v.department.region.code,
                "period": v.period.strftime("%Y-%m"),
                "value": v.value,
                "observations": v.observations,
                "rank": v.rank,
                "rank_total": v.rank_total,
            }
            for v in items
        ],
    }


class LatestValueOut(Schema):
    period: str
    value: float | None
    score: float | None
    rank: int | None
    rank_total: int | None
    source_kind: str
    #: Children with a score out of the children (composites only), e.g. "覆盖 1/18".
    coverage: str


class LatestOut(Schema):
    indicator: str
    region_code: str
    region_name: str
    latest: LatestValueOut | None
    provisional: list[LatestValueOut]


#: Which value of a period a headline shows when several source kinds hold one: the kind the
#: catalogue declares, then this order.
KIND_ORDER = ("records", "aggregate", "filling", "survey", "composite")


def _headline_value(rows: list[IndicatorValue], declared: str) -> IndicatorValue | None:
    order = (declared, *KIND_ORDER)
    ranked = sorted(rows, key=lambda v: order.index(v.source_kind) if v.source_kind in order else 9)
    return ranked[0] if ranked else None


@router.get("/indicators/{code}/latest", response=LatestOut, summary="指标最近完整期间的数值")
def latest_indicator_value(
    request: HttpRequest, code: str, region: str | None = None
) -> dict[str, Any]:
    """The value of the newest complete period (its sources have all reported: see
    docs/indicators.md) at the region (default: the city), and the newer provisional (暂定)
    periods with their coverage, which are never the latest."""
    actor = _require_staff(request)
    indicator = get_visible_or_404(Indicator, actor, code=code)
    city = Region.objects.filter(parent__isnull=True).order_by("path").first()
    place = get_visible_or_404(Region, actor, code=region) if region else city
    if place is None:
        raise HttpError(404, "尚无区划")
    headline = latest_complete_period(indicator, place)
    wanted = [s.period for s in headline.provisional]
    if headline.period is not None:
        wanted.append(headline.period)
    rows: dict[dt.date, list[IndicatorValue]] = {}
    for value in IndicatorValue.objects.visible_to(actor).filter(
        indicator=indicator, region=place, period__in=wanted, value__isnull=False
    ):
        rows.setdefault(value.period, []).append(value)

    def out(period: dt.date, coverage: str) -> dict[str, Any] | None:
        value = _headline_value(rows.get(period, []), indicator.source_kind)
        if value is None:
            return None
        return {
            "period": period.strftime("%Y-%m"),
            "value": value.value,
            "score": value.score,
            "rank": value.rank,
            "rank_total": value.rank_total,
            "source_kind": value.source_kind,
            "coverage": coverage,
        }

    latest = None
    if headline.period is not None:
        state = headline.states.get(headline.period)
        latest = out(headline.period, state.coverage_text if state else "")
    provisional = [out(s.period, s.coverage_text) for s in headline.provisional]
    return {
        "indicator": indicator.code,
        "region_code": place.code,
        "region_name": place.name,
        "latest": latest,
        "provisional": [p for p in provisional if p is not None],
    }
