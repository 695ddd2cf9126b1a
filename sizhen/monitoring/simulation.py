"""Simulated government-service case records with planted problems (埋点问题), for judging the
alert scan: the planted-problem evaluation (bench/alerts_planted.py) and its small test.
``simulate`` is pure numpy: it returns the monthly values the indicator engine would compute from the
records — mean handling working days (BE15.07 平均办理时间) and the on-time completion rate
(BE15.03 按时办结率) — with their numerators, denominators and case counts, rolled up the region
tree (a park's cases also count for the district and the city it belongs to).

Each case: a promised limit (承诺时限) drawn from a mix of items (即办件 0 days to 15 working
days); handling working days = floor(limit × u × the region's pace), u ~ Beta(3, 2), except a
late share of cases that exceed the limit by 1 + Poisson(2) working days. Seasonality: the
Spring Festival (春节) month has 60 % of the usual cases, 25 % slower handling and 1.5 times
the late share; December has 20 % more cases. A planted problem from a month on: a delay adds
``size`` working days to every case of the region (mean handling time + size); a lateness adds
``size`` points to the late share (on-time rate − size points).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sizhen.monitoring.detection import SPRING_FESTIVAL_MONTH

MEAN_HANDLING = "BE15.07"
ON_TIME_RATE = "BE15.03"
#: Promised limits in working days and the share of cases of items with that limit.
LIMITS = np.array([0, 1, 3, 5, 10, 15])
LIMIT_SHARES = np.array([0.2, 0.2, 0.25, 0.2, 0.1, 0.05])


@dataclass(frozen=True)
class SimRegion:
    code: str
    level: str  # RegionLevel value: city, district, park
    parent: str | None
    cases: float  # mean completed cases a month
    start: int  # index of the first month with cases
    pace: float = 1.0  # multiplies every case's handling time
    late: float = 0.02  # share of cases completed after the promised limit


@dataclass(frozen=True)
class Plant:
    """A planted problem: from month index ``start`` on, region ``region`` handles every case
    ``size`` working days later ("delay", indicator BE15.07) or completes ``size`` points more
    of its cases late ("lateness", indicator BE15.03)."""

    region: str
    start: int
    kind: str  # "delay" or "lateness"
    size: float

    @property
    def indicator(self) -> str:
        return MEAN_HANDLING if self.kind == "delay" else ON_TIME_RATE


@dataclass(frozen=True)
class MonthValue:
    indicator: str
    region: str
    period: dt.date
    value: float
    numerator: float
    denominator: float
    observations: int


def month_of(first: dt.date, index: int) -> dt.date:
    number = first.year * 12 + first.month - 1 + index
    return dt.date(number // 12, number % 12 + 1, 1)


def _cases(
    rng: np.random.Generator, region: SimRegion, period: dt.date, plants: list[Plant], index: int
) -> tuple[np.ndarray, np.ndarray]:
    """Handling working days and promised limits of one region's cases completed in a month."""
    festival = SPRING_FESTIVAL_MONTH.get(period.year) == period.month
    volume = region.cases * (0.6 if festival else 1.2 if period.month == 12 else 1.0)
    n = max(int(rng.poisson(volume)), 1)
    limits = rng.choice(LIMITS, size=n, p=LIMIT_SHARES)
    pace = region.pace * (1.25 if festival else 1.0)
    late_share = region.late * (1.5 if festival else 1.0)
    delay = 0.0
    for plant in plants:
        if plant.region == region.code and index >= plant.start:
            if plant.kind == "delay":
                delay += plant.size
            else:
                late_share += plant.size / 100
    days = np.floor(limits * rng.beta(3, 2, size=n) * pace)
    late = rng.random(n) < late_share
    days = np.where(late, limits + 1 + rng.poisson(2, size=n), np.minimum(days, limits))
    return days + delay, limits


def simulate(
    regions: list[SimRegion],
    months: int,
    plants: list[Plant],
    seed: int,
    first: dt.date = dt.date(2022, 1, 1),
) -> list[MonthValue]:
    """The two indicators' monthly values of every region with cases (its own or its
    descendants'), for ``months`` months from ``first``."""
    rng = np.random.default_rng(seed)
    parent = {r.code: r.parent for r in regions}
    out: list[MonthValue] = []
    for index in range(months):
        period = month_of(first, index)
        totals: dict[str, list[float]] = {}
        for region in regions:
            if region.level == "city" or index < region.start:
                continue
            days, limits = _cases(rng, region, period, plants, index)
            own = [float(days.sum()), float(np.sum(days <= limits)), float(len(days))]
            code: str | None = region.code
            while code is not None:
                total = totals.setdefault(code, [0.0, 0.0, 0.0])
                for i in range(3):
                    total[i] += own[i]
                code = parent[code]
        for code, (handling, on_time, count) in totals.items():
            n = int(count)
            out.append(
                MonthValue(MEAN_HANDLING, code, period, handling / count, handling, count, n)
            )
            out.append(
                MonthValue(ON_TIME_RATE, code, period, 100 * on_time / count, on_time, count, n)
            )
    return out


def create_indicators() -> None:
    """The two catalogue leaves the simulation feeds (BE15.03 按时办结率 in %, BE15.07 平均办理
    时间 in working days, both computed from records) under a root and a group."""
    from sizhen.indicators.catalogue.choices import Frequency, SourceKind
    from sizhen.indicators.catalogue.models import Indicator

    root = Indicator.objects.create(code="BE", name="总分", direction="higher_is_better")
    group = Indicator.objects.create(
        code="BE15", name="政务服务", parent=root, direction="higher_is_better"
    )
    for code, name, unit, direction in (
        (ON_TIME_RATE, "按时办结率", "%", "higher_is_better"),
        (MEAN_HANDLING, "平均办理时间", "工作日", "lower_is_better"),
    ):
        Indicator.objects.create(
            code=code,
            name=name,
            parent=group,
            level=2,
            unit=unit,
            direction=direction,
            frequency=Frequency.MONTH,
            source_kind=SourceKind.RECORDS,
        )


def store_values(values: list[MonthValue]) -> int:
    """Write the simulated values as record-based ``IndicatorValue`` rows (with the numerators,
    denominators and case counts the engine writes) for the regions and indicators of the
    same codes."""
    from sizhen.indicators.catalogue.choices import SourceKind
    from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
    from sizhen.organisations.models import Region

    indicators = dict(Indicator.objects.values_list("code", "pk"))
    regions = dict(Region.objects.values_list("code", "pk"))
    rows = IndicatorValue.objects.bulk_create(
        [
            IndicatorValue(
                indicator_id=indicators[v.indicator],
                region_id=regions[v.region],
                period=v.period,
                frequency="month",
                source_kind=SourceKind.RECORDS,
                value=v.value,
                numerator=v.numerator,
                denominator=v.denominator,
                observations=v.observations,
            )
            for v in values
        ],
        batch_size=2000,
    )
    return len(rows)


__all__ = [
    "MEAN_HANDLING",
    "ON_TIME_RATE",
    "MonthValue",
    "Plant",
    "SimRegion",
    "create_indicators",
    "simulate",
    "store_values",
]
