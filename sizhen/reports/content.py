"""The figures a reminder letter (提醒函) states, gathered into the JSON snapshot kept with it
(``gather_content``): the region's value, score and rank, its peers, the city, the benchmark
cities with their scores, the trend over the last periods, and who writes to whom."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from statistics import fmean
from typing import Any

from django.core.exceptions import ValidationError

from sizhen.core.access import Actor
from sizhen.core.periods import Period
from sizhen.indicators.catalogue.models import Benchmark, Indicator, IndicatorValue
from sizhen.indicators.catalogue.selectors import departments_of_region
from sizhen.indicators.scoring.services import score_outside_values
from sizhen.organisations.choices import DepartmentType
from sizhen.organisations.models import Department, Region

#: The chart shows this many periods up to the letter's.
TREND_PERIODS = 12


def root_of(region: Region) -> Region:
    node = region
    while node.parent_id is not None:
        node = node.parent  # type: ignore[assignment]
    return node


def _latest_by_region(rows: Iterable[IndicatorValue]) -> dict[tuple[int, dt.date], IndicatorValue]:
    """One value per region and period; when several sources hold one, the latest computation
    wins (``rows`` ordered by computation time)."""
    return {(row.region_id, row.period): row for row in rows}


def _values(indicator: Indicator, period: dt.date) -> dict[int, IndicatorValue]:
    rows = IndicatorValue.objects.filter(indicator=indicator, period=period).order_by(
        "computed_at", "pk"
    )
    found = _latest_by_region(rows.select_related("region"))
    return {region_id: row for (region_id, _), row in found.items()}


def _series(indicator: Indicator, region: Region, root: Region, period: dt.date) -> dict[str, Any]:
    """The region's, the city's and each benchmark city's values over the last periods."""
    last = Period.containing(period, indicator.frequency)
    periods = [last.shift(step - TREND_PERIODS + 1) for step in range(TREND_PERIODS)]
    starts = [p.start for p in periods]
    rows = IndicatorValue.objects.filter(
        indicator=indicator, region__in=[region, root], period__in=starts
    ).order_by("computed_at", "pk")
    values = {key: row.value for key, row in _latest_by_region(rows).items()}
    cities: dict[str, dict[dt.date, float]] = {}
    for city, day, value in Benchmark.objects.filter(
        indicator=indicator, period__in=starts
    ).values_list("city", "period", "value"):
        cities.setdefault(city, {})[day] = value
    return {
        "labels": [p.label for p in periods],
        "region": [values.get((region.pk, day)) for day in starts],
        "city": [values.get((root.pk, day)) for day in starts],
        "benchmarks": {
            city: [by_day.get(day) for day in starts] for city, by_day in sorted(cities.items())
        },
    }


def honorific(region: Region) -> str:
    """How a letter addresses a region: 贵区, 贵县, 贵市 (a county-level city)."""
    for ending in ("区", "县", "市", "旗"):
        if region.name.endswith(ending):
            return f"贵{ending}"
    return "贵单位"


def department_title(department: Department, root: Region) -> str:
    """A department as the city's letters name it: 市发展和改革委员会 for a city department,
    a district's own department by its full name."""
    name = department.name
    if department.region_id == root.pk and not name.startswith(root.name):
        return f"市{name}"
    return name


def organ_name(department: Department | None, root: Region) -> str:
    """The issuing office's full name for the red mark (发文机关标志): 示范市营商环境建设局."""
    if department is None:
        return f"{root.name}营商环境主管部门"
    name = department.name
    return name if name.startswith(root.name) else f"{root.name}{name}"


def _issuing_department(actor: Actor | None, root: Region) -> Department | None:
    """The actor's department, or for the system the city's coordinating office (营商办)."""
    department = getattr(actor, "department", None)
    if department is not None:
        return department  # type: ignore[no-any-return]
    return (
        Department.objects.filter(region=root, type=DepartmentType.OFFICE, is_active=True)
        .order_by("sort_order", "code")
        .first()
    )


def gather_content(
    *, indicator: Indicator, region: Region, period: dt.date, actor: Actor | None
) -> dict[str, Any]:
    """The figures a letter states, as a JSON-ready snapshot kept with the letter."""
    values = _values(indicator, period)
    own = values.get(region.pk)
    if own is None or own.value is None:
        raise ValidationError({"region": "该区划在所选期间没有该指标的数值，无法生成提醒函"})
    root = root_of(region)
    is_district = region.pk != root.pk
    peers = [v for v in values.values() if v.region.parent_id == region.parent_id]
    peers.sort(key=lambda v: (v.rank is None, v.rank or 0, v.region.code))
    peer_scores = [v.score for v in peers if v.score is not None]
    city = values.get(root.pk)
    benchmarks = list(Benchmark.objects.filter(indicator=indicator, period=period).order_by("city"))
    scores = score_outside_values(
        indicator,
        period,
        {"全市": city.value if city else None, **{b.city: b.value for b in benchmarks}},
    )
    parent = region.parent
    issuing = _issuing_department(actor, root)
    return {
        "indicator": {"code": indicator.code, "name": indicator.name, "unit": indicator.unit},
        "region": region.name,
        "region_code": region.code,
        "is_district": is_district,
        "addressee": region.name,
        "honorific": honorific(region) if is_district else "全市",
        "period": period.isoformat(),
        "period_label": Period.containing(period, indicator.frequency).label_zh,
        "value": own.value,
        "score": own.score,
        "rank": own.rank,
        "rank_total": own.rank_total,
        "city_value": city.value if city is not None else None,
        "city_score": city.score if city is not None and city.score is not None else scores["全市"],
        "peer_area": "全市" if parent is None or parent.pk == root.pk else parent.name,
        # The city's own figure has no peers to be averaged with.
        "peer_mean_score": round(fmean(peer_scores), 4) if peer_scores and is_district else None,
        "districts": [
            {
                "region": v.region.name,
                "value": v.value,
                "score": v.score,
                "rank": v.rank,
                "is_addressed": v.region_id == region.pk,
            }
            for v in peers
        ]
        if is_district
        else [],
        "benchmarks": [
            {"city": b.city, "value": b.value, "score": scores[b.city]} for b in benchmarks
        ],
        # The departments behind the figure (their own records; the city's, their lines).
        "departments": [
            {
                "department": d.department.name,
                "value": d.value,
                "rank": d.rank,
                "rank_total": d.rank_total,
                "observations": d.observations,
            }
            for d in departments_of_region(indicator, region, period)
        ],
        "series": _series(indicator, region, root, period),
        "organ": organ_name(issuing, root),
        "issuer": department_title(issuing, root) if issuing else "营商环境主管部门",
    }
