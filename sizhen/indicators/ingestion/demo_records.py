"""Deterministic demo records for the demo city (示范市): three years of every built-in dataset
with Spring Festival dips, year-end surges, stable district differences and a few planted
problems (for the alerting). Loaded through the normal ingestion path.

The districts differ by a stable quality factor (``QUALITY``; below 1 is better: shorter times,
higher rates): 东湖区 leads, 青石市 lags, and 南湾区 slides from 2025-07 until a rectification item
(整改事项) closed in March 2026 turns it round (``TURNAROUND``: the demo's rectification step
closes that item on ``TURNAROUND_CLOSED_ON``). The demo's aggregate, filled and benchmark values
follow the same factor (``region_quality``).

Every region has at least one record of each measured kind in every month, so every record-based
leaf has a value for every region and period even with a small load; the newest records are
dated on the window's last day, so each dataset's freshness reaches the end of the window.

Planted problems (documented so alert tests can look for them):
- the second district's on-time completion collapses in 2026-03 (handling times triple);
- the third district (南湾区) has a level shift from 2025-07: handling times +35 % until the
  turnaround, then better than before;
- the first park's online share drops to a fraction in 2026-06 (a spike of window cases).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sizhen.core.periods import Period
from sizhen.core.workcalendar import get_calendar

#: The 36 months of the demo: 2023-12 to 2026-11, the last complete month before the demo's
#: "today" (2026-12), so the newest month of the dashboards is a complete one.
FIRST_MONTH = dt.date(2023, 12, 1)
MONTHS = 36
#: The last day of the window: records end on it, nothing finishes after it.
LAST_DAY = "2026-11-30"

#: Stable per-region quality (multiplies times, lowers rates when above 1).
QUALITY = {
    "449901": 0.72,  # 东湖区 leads
    "449902": 0.95,  # 西山区
    "449903": 1.0,  # 南湾区: slides, then improves after the rectification (below)
    "449904": 1.08,  # 北苑区
    "449921": 1.05,  # 松岭县
    "449922": 1.15,  # 桐溪县
    "449981": 0.88,  # 云湖市
    "449982": 1.35,  # 青石市 lags
    "P449951": 0.8,  # 高新区
    "P449952": 0.9,  # 经济技术开发区
    "P449953": 1.1,  # 临港产业园
    "P449954": 0.98,  # 综合保税区
    "P449955": 1.2,  # 文旅度假区
}
CITY_QUALITY = 1.0
LEADER, LAGGARD, IMPROVER = "449901", "449982", "449903"
#: The improver's slide starts here (the level shift the alerting finds) ...
SLIDE_FROM = dt.date(2025, 7, 1)
SLIDE = 1.35
#: ... and ends when its rectification item is closed off (on TURNAROUND_CLOSED_ON): from the
#: next month its quality is this much better than its usual level.
TURNAROUND_CLOSED_ON = dt.date(2026, 3, 27)
TURNAROUND = dt.date(2026, 4, 1)
TURNED = 0.72


def region_quality(code: str, month: dt.date) -> float:
    """The quality factor of a region in a month (the city's is the average district's)."""
    quality = QUALITY.get(code, CITY_QUALITY)
    if code == IMPROVER:
        if SLIDE_FROM <= month < TURNAROUND:
            quality *= SLIDE
        elif month >= TURNAROUND:
            quality *= TURNED
    return quality


# Relative monthly volume: Spring Festival (Jan/Feb by lunar date) dips, December surges.
SEASON = {
    1: 0.95,
    2: 0.62,
    3: 1.05,
    4: 1.0,
    5: 0.97,
    6: 1.02,
    7: 1.0,
    8: 0.98,
    9: 1.04,
    10: 0.85,
    11: 1.05,
    12: 1.3,
}
ITEMS = [
    ("SCJG-001", "企业设立登记", 20, 3),
    ("SCJG-002", "企业变更登记", 15, 3),
    ("SCJG-003", "食品经营许可", 20, 5),
    ("ZJ-001", "建筑工程施工许可", 20, 7),
    ("ZJ-002", "竣工联合验收", 30, 10),
    ("ZRZY-001", "不动产登记", 30, 5),
    ("SW-001", "发票领用", 10, 1),
    ("RS-001", "社保登记", 15, 2),
    ("ST-001", "环评审批", 60, 20),
    ("JT-001", "道路运输经营许可", 20, 8),
]
#: The department line (code suffix) handling each item code's prefix.
ITEM_LINES = {
    "SCJG": "SCJG",
    "ZJ": "ZJJ",
    "ZRZY": "ZRZY",
    "SW": "SW",
    "RS": "RSJ",
    "ST": "STHJ",
    "JT": "ZWFW",
}
CHANNELS = np.array(["窗口", "网上", "移动端", "自助终端"])


@dataclass(frozen=True)
class RegionInfo:
    code: str
    departments: tuple[str, ...]
    quality: float  # 0.7 (good) … 1.35 (slow): multiplies handling time

    def department(self, suffix: str, *fallbacks: str) -> str:
        """The region's department with the code suffix (e.g. "ZJJ"), else the first of the
        fallback suffixes it has, else its first one."""
        for wanted in (suffix, *fallbacks):
            for code in self.departments:
                if code.endswith(f"-{wanted}"):
                    return code
        return self.departments[0] if self.departments else ""


def month_starts() -> list[dt.date]:
    first = Period(FIRST_MONTH)
    return [first.shift(i).start for i in range(MONTHS)]


def _month_weights() -> np.ndarray:
    weights = np.array([SEASON[m.month] for m in month_starts()])
    trend = np.linspace(0.9, 1.15, MONTHS)  # volumes grow over three years
    weights = weights * trend
    return weights / weights.sum()


@dataclass(frozen=True)
class _Calendar:
    working: np.ndarray  # working dates, datetime64[D]
    month_first: np.ndarray  # index of each window month's first working day in ``working``
    month_after: np.ndarray  # index just after each month's last working day


#: The calendar of a whole demo load, shared by its generators (building it takes a while).
_shared_calendar: list[_Calendar] = []


def _calendar() -> _Calendar:
    if _shared_calendar:
        return _shared_calendar[0]
    # From well before the window (projects and bankruptcies started years before they end)
    # to a little after it (cases accepted in the last month finish after it).
    days = get_calendar().days(FIRST_MONTH - dt.timedelta(days=1500), dt.date(2027, 3, 31))
    working = np.array([d.date for d in days if d.is_workday], dtype="datetime64[D]")
    firsts = np.array([np.datetime64(m) for m in month_starts()], dtype="datetime64[D]")
    afters = np.append(firsts[1:], np.datetime64(_last_day()) + 1)
    return _Calendar(working, np.searchsorted(working, firsts), np.searchsorted(working, afters))


def _last_day() -> dt.date:
    return dt.date.fromisoformat(LAST_DAY)


def _quality(regions: list[RegionInfo]) -> np.ndarray:
    """regions × months: each region's base quality with its turn of the story."""
    months = month_starts()
    return np.array(
        [[r.quality * region_quality(r.code, m) / QUALITY.get(r.code, 1.0) for m in months]
         for r in regions]
    )  # fmt: skip


def _cells(
    rng: np.random.Generator,
    regions: list[RegionInfo],
    n: int,
    *,
    minimum: int = 1,
    region_weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Region and month (indices) of ``n`` rows: ``minimum`` in every region and month first,
    so that every region has data every month, the rest by season and region size."""
    count = len(regions)
    base_region = np.repeat(np.arange(count), MONTHS * minimum)
    base_month = np.tile(np.repeat(np.arange(MONTHS), minimum), count)
    extra = max(0, n - len(base_region))
    weights = np.ones(count) if region_weights is None else region_weights
    region_of = rng.choice(count, size=extra, p=weights / weights.sum())
    month_of = rng.choice(MONTHS, size=extra, p=_month_weights())
    return np.concatenate([base_region, region_of]), np.concatenate([base_month, month_of])


def _day_in_month(rng: np.random.Generator, month_of: np.ndarray) -> np.ndarray:
    """A working day inside each row's month (positions in the calendar); the first row of
    the last month falls on the window's last working day, so the data reach its end."""
    cal = _calendar()
    span = np.maximum(cal.month_after - cal.month_first, 1)
    pos = cal.month_first[month_of] + (rng.random(len(month_of)) * span[month_of]).astype(int)
    last = np.flatnonzero(month_of == MONTHS - 1)
    if len(last):
        pos[last[0]] = cal.month_after[-1] - 1
    return pos


def _text(dates: np.ndarray, time: str) -> np.ndarray:
    return np.char.add(dates.astype(str), f" {time}")


def _optional(dates: np.ndarray, keep: np.ndarray, time: str) -> np.ndarray:
    return np.where(keep, _text(dates, time), "")


def _yes(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, "是", "否")


def _share(base: float, quality: np.ndarray, slope: float, low: float = 0.02) -> np.ndarray:
    """A probability that falls as quality worsens (quality 1 gives ``base``)."""
    return np.clip(base - slope * (quality - 1.0), low, 0.995)


def gov_service_cases(regions: list[RegionInfo], n: int, seed: int = 20261122) -> pa.Table:
    rng = np.random.default_rng(seed)
    cal = _calendar()
    working_dates = cal.working
    months = month_starts()
    region_of, month_of = _cells(
        rng, regions, n, region_weights=np.linspace(1.6, 0.5, len(regions))
    )
    n = len(region_of)
    accepted_pos = _day_in_month(rng, month_of)
    accepted = working_dates[accepted_pos]
    item_of = rng.integers(0, len(ITEMS), size=n)
    statutory = np.array([i[2] for i in ITEMS])[item_of]
    promised = np.array([i[3] for i in ITEMS])[item_of]
    quality = _quality(regions)[region_of, month_of]
    # Planted problem: the second district's handling times triple in 2026-03.
    month_dates = np.array(months, dtype="datetime64[D]")[month_of]
    if len(regions) > 1:
        collapse = (region_of == 1) & (month_dates == np.datetime64("2026-03-01"))
        quality = np.where(collapse, quality * 3.0, quality)
    # Most cases finish well inside the promised limit (on-time rates of 95-100 %, as the
    # seed cities report); the planted problems push some districts far past it.
    handling = np.floor(rng.gamma(8.0, promised * 0.06 * quality + 0.05)).astype(int)
    # The first case of each region and month is a same-day one: every region has completed
    # cases every month even in a small load.
    base = np.arange(n) < len(regions) * MONTHS
    handling = np.where(base, 0, handling)
    completed_pos = np.minimum(accepted_pos + handling, len(working_dates) - 1)
    completed = working_dates[completed_pos]
    open_case = completed > np.datetime64(LAST_DAY)
    # Better-run districts move more of their cases online.
    window = _share(0.35, quality, 0.5, low=0.08)
    draw = rng.random(n)
    web, mobile = (1 - window) * 0.45 / 0.65, (1 - window) * 0.17 / 0.65
    channel = np.select(
        [draw < window, draw < window + web, draw < window + web + mobile],
        [CHANNELS[0], CHANNELS[1], CHANNELS[2]],
        CHANNELS[3],
    )
    if regions and len(regions) > 3:
        park_drop = (region_of == len(regions) - 1) & (month_dates == np.datetime64("2026-06-01"))
        channel = np.where(park_drop & (rng.random(n) < 0.8), "窗口", channel)
    visits = np.where(
        channel == "窗口", rng.integers(1, 3, size=n), (rng.random(n) < 0.1 * quality).astype(int)
    )
    status = np.where(
        open_case, "受理", np.where((rng.random(n) < 0.01) & ~base, "不予受理", "办结")
    )
    completed_text = np.where(status == "办结", _text(completed, "16:30:00"), "")
    # Each item is handled by the department of its line in the case's region (a park's
    # enterprise service centre, or the district's 政务服务中心, where it has none).
    by_item = np.array(
        [
            [r.department(ITEM_LINES[item[0].split("-")[0]], "ZWFW", "QFZX") for item in ITEMS]
            for r in regions
        ]
    )
    dept_of = by_item[region_of, item_of]
    codes = np.array([r.code for r in regions])[region_of]
    return pa.table(
        {
            "case_id": [f"BJ{seed % 1000:03d}{i:09d}" for i in range(n)],
            "item_code": np.array([i[0] for i in ITEMS])[item_of],
            "item_name": np.array([i[1] for i in ITEMS])[item_of],
            "region_code": codes,
            "department_code": dept_of,
            "applicant_type": np.where(rng.random(n) < 0.7, "企业", "个人"),
            "channel": channel,
            "submitted_at": _text(accepted, "09:00:00"),
            "accepted_at": _text(accepted, "10:00:00"),
            "completed_at": completed_text,
            "statutory_limit": statutory,
            "promised_limit": promised,
            "visits": visits,
            "status": status,
        }
    )


def enterprise_startup(regions: list[RegionInfo], n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    working_dates = _calendar().working
    region_of, month_of = _cells(rng, regions, n)
    n = len(region_of)
    completed_pos = _day_in_month(rng, month_of)
    quality = _quality(regions)[region_of, month_of]
    days = np.floor(rng.gamma(1.5, 0.8 * quality)).astype(int)
    completed = working_dates[completed_pos]
    submitted = working_dates[completed_pos - days]
    online = rng.random(n) < _share(0.82, quality, 0.35)
    channel = np.where(online, "全程网办", np.where(rng.random(n) < 0.5, "窗口", "混合"))
    cost = np.where(
        rng.random(n) < _share(0.9, quality, 0.3), 0.0, np.round(rng.uniform(50, 300, size=n), 2)
    )
    return pa.table(
        {
            "serial_no": [f"KB{i:08d}" for i in range(n)],
            "uscc": [f"DEMO{i:014d}" for i in range(n)],
            "enterprise_name": [f"示范企业{i:06d}有限公司" for i in range(n)],
            "region_code": np.array([r.code for r in regions])[region_of],
            "department_code": _departments(regions, region_of, "SCJG", "QFZX"),
            "channel": channel,
            "submitted_at": _text(submitted, "09:30:00"),
            "completed_at": _text(completed, "17:00:00"),
            "procedures": np.where(channel == "全程网办", 1, rng.integers(2, 5, size=n)),
            "cost": cost,
        }
    )


UTILITIES = np.array(["电力", "用水", "用气"])


def utility_connections(
    regions: list[RegionInfo], utilities: list[str], n: int, seed: int = 11
) -> pa.Table:
    rng = np.random.default_rng(seed)
    working_dates = _calendar().working
    # Every region has a connection of each utility every month.
    region_of, month_of = _cells(rng, regions, n, minimum=3)
    n = len(region_of)
    base = len(regions) * MONTHS * 3
    kind_of = np.concatenate(
        [np.tile(np.arange(3), base // 3), rng.choice(3, size=n - base, p=[0.5, 0.3, 0.2])]
    )
    kind = UTILITIES[kind_of]
    dept = (
        np.array(utilities + [utilities[-1]] * (3 - len(utilities)))[kind_of]
        if utilities
        else np.array([""] * n)
    )
    quality = _quality(regions)[region_of, month_of]
    connected_pos = _day_in_month(rng, month_of)
    days = np.floor(rng.gamma(2.0, 2.5 * quality)).astype(int) + 1
    connected = working_dates[connected_pos]
    applied = working_dates[connected_pos - days]
    procedures = np.clip(np.round(rng.normal(1.4 + 1.5 * (quality - 0.7), 0.5)), 1, 5)
    return pa.table(
        {
            "application_id": [f"BZ{i:08d}" for i in range(n)],
            "utility": kind,
            "region_code": np.array([r.code for r in regions])[region_of],
            "department_code": dept,
            "customer_type": np.array(["低压", "高压", "非居民"])[rng.integers(0, 3, size=n)],
            "applied_at": _text(applied, "10:00:00"),
            "connected_at": _text(connected, "15:00:00"),
            "procedures": procedures.astype(int),
            "cost": np.where(
                rng.random(n) < _share(0.85, quality, 0.4),
                0.0,
                np.round(rng.uniform(100, 5000, size=n), 2),
            ),
        }
    )


def bidding(regions: list[RegionInfo], n: int, seed: int = 13) -> pa.Table:
    rng = np.random.default_rng(seed)
    working_dates = _calendar().working
    region_of, month_of = _cells(rng, regions, n)
    n = len(region_of)
    quality = _quality(regions)[region_of, month_of]
    awarded = working_dates[_day_in_month(rng, month_of)]
    announced = awarded - (20 + np.floor(rng.uniform(3, 25, size=n) * quality)).astype(int)
    signed = awarded + rng.integers(2, 30, size=n)
    waived = rng.integers(0, 3, size=n)
    # The first project of each region and month takes a deposit (免收 ones are not counted).
    waived = np.where(np.arange(n) < len(regions) * MONTHS, waived % 2, waived)
    deposit = np.where(
        rng.random(n) < _share(0.5, quality, 0.8),
        "电子保函",
        np.array(["现金", "保函", "免收"])[waived],
    )
    return pa.table(
        {
            "project_id": [f"ZB{i:07d}" for i in range(n)],
            "project_name": [f"示范项目{i:06d}" for i in range(n)],
            "region_code": np.array([r.code for r in regions])[region_of],
            "department_code": _departments(regions, region_of, "FGJ", "JFJ"),
            "category": np.array(["工程", "货物", "服务"])[rng.integers(0, 3, size=n)],
            "announced_at": _text(announced, "09:00:00"),
            "awarded_at": _text(awarded, "09:00:00"),
            "contract_signed_at": _optional(signed, signed <= np.datetime64(LAST_DAY), "09:00:00"),
            "paperless": _yes(rng.random(n) < _share(0.9, quality, 0.3)),
            "remote_evaluation": _yes(rng.random(n) < 0.4),
            "winner_is_local": _yes(rng.random(n) >= _share(0.3, quality, 0.4)),
            "deposit_mode": deposit,
            "budget": np.round(rng.lognormal(13, 1.2, size=n), 2),
        }
    )


def _kinds(
    rng: np.random.Generator, n: int, base: int, kinds: list[str], p: list[float]
) -> np.ndarray:
    """The kind of each row: the first ``base`` rows (the per-month minimum, ``len(kinds)`` a
    region and month) cycle through every kind, the rest are drawn with ``p``."""
    values = np.array(kinds)
    return np.concatenate(
        [np.tile(values, base // len(kinds)), values[rng.choice(len(kinds), size=n - base, p=p)]]
    )


def _codes(regions: list[RegionInfo], region_of: np.ndarray) -> np.ndarray:
    return np.array([r.code for r in regions])[region_of]


def _departments(
    regions: list[RegionInfo], region_of: np.ndarray, suffix: str, *fallbacks: str
) -> np.ndarray:
    return np.array([r.department(suffix, *fallbacks) for r in regions])[region_of]


def construction_permits(regions: list[RegionInfo], n: int, seed: int = 17) -> pa.Table:
    """Projects whose completion was filed (竣工验收备案) in the month, from the first
    application on: 7–15 approval steps and 50–130 working days, slower where quality is worse."""
    rng = np.random.default_rng(seed)
    working = _calendar().working
    region_of, month_of = _cells(rng, regions, n)
    n = len(region_of)
    quality = _quality(regions)[region_of, month_of]
    completed_pos = _day_in_month(rng, month_of)
    days = np.round(rng.gamma(9.0, 8.0 * quality)).astype(int) + 10
    permitted_pos = completed_pos - np.round(days * rng.uniform(0.35, 0.6, size=n)).astype(int)
    value = np.round(rng.lognormal(16.5, 0.9, size=n), 2)
    fee_rate = np.clip(rng.normal(0.012 * quality, 0.003), 0.001, 0.05)
    return pa.table(
        {
            "project_id": [f"GJ{i:08d}" for i in range(n)],
            "project_name": [f"示范建设项目{i:06d}" for i in range(n)],
            "region_code": _codes(regions, region_of),
            "department_code": _departments(regions, region_of, "ZJJ"),
            "project_type": np.array(["社会投资低风险", "社会投资一般", "政府投资", "带方案出让"])[
                rng.choice(4, size=n, p=[0.35, 0.35, 0.2, 0.1])
            ],
            "applied_at": _text(working[completed_pos - days], "09:00:00"),
            "permitted_at": _text(working[permitted_pos], "15:00:00"),
            "completed_at": _text(working[completed_pos], "16:00:00"),
            "procedures": np.clip(np.round(rng.normal(6 + 6 * quality, 1.5)), 5, 25).astype(int),
            "inspections": rng.integers(2, 8, size=n),
            "fees": np.round(value * fee_rate, 2),
            "construction_value": value,
        }
    )


def property_registrations(regions: list[RegionInfo], n: int, seed: int = 19) -> pa.Table:
    rng = np.random.default_rng(seed)
    working = _calendar().working
    region_of, month_of = _cells(rng, regions, n)
    n = len(region_of)
    base = len(regions) * MONTHS
    quality = _quality(regions)[region_of, month_of]
    completed_pos = _day_in_month(rng, month_of)
    days = np.floor(rng.gamma(2.0, 1.2 * quality)).astype(int) + 1
    kind = _kinds(rng, n, base, ["转移登记"], [1.0])
    others = np.array(["抵押登记", "首次登记", "变更登记"])[rng.integers(0, 3, size=n)]
    kind = np.where((np.arange(n) >= base) & (rng.random(n) < 0.4), others, kind)
    value = np.round(rng.lognormal(14.0, 0.7, size=n), 2)
    # Deed tax (契税) of 3 % and a little more where the service is worse.
    fees = np.round(value * np.clip(rng.normal(0.03 + 0.01 * quality, 0.004), 0.01, 0.08), 2)
    return pa.table(
        {
            "registration_id": [f"BDC{i:08d}" for i in range(n)],
            "region_code": _codes(regions, region_of),
            "department_code": _departments(regions, region_of, "ZRZY"),
            "registration_type": kind,
            "applicant_type": np.where(rng.random(n) < 0.3, "企业", "个人"),
            "channel": np.array(["网上", "窗口", "银行网点"])[
                rng.choice(3, size=n, p=[0.55, 0.35, 0.1])
            ],
            "applied_at": _text(working[completed_pos - days], "09:30:00"),
            "completed_at": _text(working[completed_pos], "16:00:00"),
            "procedures": np.clip(np.round(rng.normal(1.5 + 2.5 * quality, 0.6)), 1, 10).astype(
                int
            ),
            "fees": fees,
            "property_value": value,
        }
    )


def tax_filings(regions: list[RegionInfo], n: int, seed: int = 23) -> pa.Table:
    rng = np.random.default_rng(seed)
    working = _calendar().working
    region_of, month_of = _cells(
        rng, regions, n, region_weights=np.linspace(1.6, 0.5, len(regions))
    )
    n = len(region_of)
    quality = _quality(regions)[region_of, month_of]
    online = rng.random(n) < _share(0.88, quality, 0.35)
    channel = np.where(
        online,
        np.where(rng.random(n) < 0.7, "电子税务局", "移动端"),
        np.where(rng.random(n) < 0.4, "自助办税终端", "办税服务厅"),
    )
    return pa.table(
        {
            "filing_id": [f"SB{i:09d}" for i in range(n)],
            "region_code": _codes(regions, region_of),
            "department_code": _departments(regions, region_of, "SW"),
            "taxpayer_type": np.where(rng.random(n) < 0.65, "企业", "个体工商户"),
            "tax_type": np.array(["增值税", "企业所得税", "个人所得税", "社会保险费", "其他"])[
                rng.choice(5, size=n, p=[0.35, 0.15, 0.25, 0.2, 0.05])
            ],
            "channel": channel,
            "filed_at": _text(working[_day_in_month(rng, month_of)], "14:00:00"),
        }
    )


def court_cases(regions: list[RegionInfo], court: str, n: int, seed: int = 29) -> pa.Table:
    """Cases concluded in the month (calendar-day durations, as the courts count them): every
    region concludes a commercial first instance, an enforcement and a bankruptcy each month."""
    rng = np.random.default_rng(seed)
    working = _calendar().working
    region_of, month_of = _cells(rng, regions, n, minimum=3)
    n = len(region_of)
    base = len(regions) * MONTHS * 3
    kind = _kinds(rng, n, base, ["商事一审", "执行", "破产"], [0.6, 0.37, 0.03])
    quality = _quality(regions)[region_of, month_of]
    concluded = working[_day_in_month(rng, month_of)]
    days = (
        np.select(
            [kind == "商事一审", kind == "执行"],
            [rng.gamma(6.0, 30.0 * quality), rng.gamma(4.0, 25.0 * quality)],
            rng.gamma(5.0, 130.0 * quality),
        ).astype(int)
        + 20
    )
    executed = rng.random(n) < _share(0.55, quality, 0.6, low=0.1)
    outcome = np.select(
        [kind == "商事一审", kind == "执行"],
        [
            np.array(["判决", "调解", "撤诉", "驳回"])[
                rng.choice(4, size=n, p=[0.5, 0.3, 0.15, 0.05])
            ],
            np.where(
                executed,
                np.where(rng.random(n) < 0.7, "执行完毕", "和解履行"),
                "终结本次执行",
            ),
        ],
        np.array(["破产清算", "重整", "和解"])[rng.choice(3, size=n, p=[0.7, 0.2, 0.1])],
    )
    claim = np.round(rng.lognormal(13.5, 1.0, size=n), 2)
    recovery = np.clip(rng.normal(0.42 - 0.25 * (quality - 1.0), 0.08), 0.02, 0.9)
    bankrupt = kind == "破产"
    return pa.table(
        {
            "case_id": [f"（{2020 + i % 7}）示{i:07d}号" for i in range(n)],
            "region_code": _codes(regions, region_of),
            "department_code": np.full(n, court),
            "case_kind": kind,
            "filed_at": _text(concluded - days, "09:00:00"),
            "concluded_at": _text(concluded, "16:00:00"),
            "outcome": outcome,
            "claim_amount": claim,
            "recovered_amount": np.where(
                bankrupt, np.round(claim * recovery, 2), np.round(claim * 0.8, 2)
            ),
        }
    )


def labour_cases(regions: list[RegionInfo], n: int, seed: int = 31) -> pa.Table:
    """Disputes closed in the month, and labour inspections accepted in the month (most closed
    within a few weeks; the newest are still open)."""
    rng = np.random.default_rng(seed)
    working = _calendar().working
    region_of, month_of = _cells(rng, regions, n, minimum=2)
    n = len(region_of)
    base = len(regions) * MONTHS * 2
    kind = _kinds(rng, n, base, ["争议调解仲裁", "劳动保障监察"], [0.7, 0.3])
    quality = _quality(regions)[region_of, month_of]
    day = working[_day_in_month(rng, month_of)]
    days = np.floor(rng.gamma(3.0, 8.0 * quality)).astype(int) + 3
    dispute = kind == "争议调解仲裁"
    # A dispute is dated by its closing, an inspection by its acceptance.
    accepted = np.where(dispute, day - days, day)
    closed = np.where(dispute, day, day + days)
    inspected = rng.random(n) < _share(0.96, quality, 0.2, low=0.5)
    is_closed = np.where(dispute, True, inspected & (closed <= np.datetime64(LAST_DAY)))
    mediated = rng.random(n) < _share(0.68, quality, 0.5, low=0.2)
    ending = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    # The first dispute of each region and month is accepted (不予受理 ones are not counted).
    ending = np.where(np.arange(n) < base, ending % 2, ending)
    outcome = np.where(
        dispute,
        np.where(mediated, "调解成功", np.array(["仲裁裁决", "撤回", "不予受理"])[ending]),
        np.where(
            is_closed,
            np.array(["责令改正", "行政处罚", "撤销立案"])[
                rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
            ],
            "",
        ),
    )
    return pa.table(
        {
            "case_id": [f"LD{i:08d}" for i in range(n)],
            "region_code": _codes(regions, region_of),
            "department_code": _departments(regions, region_of, "RSJ"),
            "case_kind": kind,
            "accepted_at": _text(accepted, "10:00:00"),
            "closed_at": _optional(closed, is_closed, "16:00:00"),
            "outcome": outcome,
        }
    )


def procurement(regions: list[RegionInfo], n: int, seed: int = 37) -> pa.Table:
    rng = np.random.default_rng(seed)
    working = _calendar().working
    region_of, month_of = _cells(rng, regions, n)
    n = len(region_of)
    quality = _quality(regions)[region_of, month_of]
    published_pos = _day_in_month(rng, month_of)
    published = working[published_pos]
    evaluated = published - (1 + np.floor(rng.gamma(2.0, 1.5 * quality))).astype(int)
    announced = evaluated - rng.integers(20, 35, size=n)
    signed = published + (2 + np.floor(rng.gamma(2.0, 3.0 * quality))).astype(int)
    # The first project of each region and month signs at once, so every quarter has signed
    # contracts (the 履约保证金 and 预付款 ratios count only those).
    signed = np.where(np.arange(n) < len(regions) * MONTHS, published + 2, signed)
    is_signed = signed <= np.datetime64(LAST_DAY)
    amount = np.round(rng.lognormal(13.0, 1.0, size=n), 2)
    bond = np.clip(rng.normal(0.02 + 0.03 * (quality - 0.7), 0.01), 0.0, 0.1)
    advance = np.clip(rng.normal(0.3 - 0.15 * (quality - 0.7), 0.06), 0.0, 0.5)
    return pa.table(
        {
            "procurement_id": [f"CG{i:08d}" for i in range(n)],
            "project_name": [f"示范采购项目{i:06d}" for i in range(n)],
            "region_code": _codes(regions, region_of),
            "department_code": _departments(regions, region_of, "FGJ"),
            "method": np.array(
                ["公开招标", "竞争性磋商", "竞争性谈判", "询价", "单一来源", "框架协议"]
            )[rng.choice(6, size=n, p=[0.45, 0.25, 0.1, 0.1, 0.05, 0.05])],
            "electronic": _yes(rng.random(n) < _share(0.9, quality, 0.4)),
            "announced_at": _text(announced, "09:00:00"),
            "evaluated_at": _text(evaluated, "17:00:00"),
            "result_published_at": _text(published, "10:00:00"),
            "contract_signed_at": _optional(signed, is_signed, "15:00:00"),
            "contract_amount": amount,
            "performance_bond": np.round(amount * bond, 2),
            "advance_payment": np.round(amount * advance, 2),
        }
    )


#: Pledge financing of the whole city in a month (元), about 30 亿元 a year.
PLEDGES_A_MONTH = 2.5e8


def ip_pledges(regions: list[RegionInfo], n: int, seed: int = 41) -> pa.Table:
    rng = np.random.default_rng(seed)
    working = _calendar().working
    region_of, month_of = _cells(rng, regions, n)
    n = len(region_of)
    quality = _quality(regions)[region_of, month_of]
    # The city's total does not depend on how many pledges are generated.
    raw = rng.lognormal(0.0, 0.8, size=n) / quality
    amount = np.round(raw / raw.sum() * PLEDGES_A_MONTH * MONTHS, 2)
    return pa.table(
        {
            "pledge_id": [f"ZY{i:08d}" for i in range(n)],
            "region_code": _codes(regions, region_of),
            "department_code": _departments(regions, region_of, "SCJG", "QFZX"),
            "ip_type": np.array(["专利", "商标", "版权", "组合"])[
                rng.choice(4, size=n, p=[0.55, 0.25, 0.05, 0.15])
            ],
            "registered_at": _text(working[_day_in_month(rng, month_of)], "11:00:00"),
            "amount": amount,
        }
    )


def market_supervision(regions: list[RegionInfo], n: int, seed: int = 43) -> pa.Table:
    rng = np.random.default_rng(seed)
    working = _calendar().working
    region_of, month_of = _cells(rng, regions, n, minimum=3)
    n = len(region_of)
    base = len(regions) * MONTHS * 3
    kind = _kinds(rng, n, base, ["双随机抽查", "行政处罚", "信用评价"], [0.5, 0.2, 0.3])
    quality = _quality(regions)[region_of, month_of]
    good = rng.random(n) < _share(0.82, quality, 0.4)
    return pa.table(
        {
            "record_id": [f"JG{i:08d}" for i in range(n)],
            "region_code": _codes(regions, region_of),
            "department_code": _departments(regions, region_of, "SCJG"),
            "record_kind": kind,
            "concluded_at": _text(working[_day_in_month(rng, month_of)], "16:00:00"),
            "joint": np.where(
                kind == "双随机抽查", _yes(rng.random(n) < _share(0.4, quality, 0.4)), ""
            ),
            "published": np.where(
                kind == "行政处罚", _yes(rng.random(n) < _share(0.93, quality, 0.25)), ""
            ),
            "grade": np.where(
                kind == "信用评价",
                np.where(
                    good,
                    np.where(rng.random(n) < 0.4, "A", "B"),
                    np.where(rng.random(n) < 0.8, "C", "D"),
                ),
                "",
            ),
        }
    )


def write_csv(table: pa.Table, path: Path) -> Path:
    pacsv.write_csv(table, path)
    return path


def demo_regions() -> list[RegionInfo]:
    from sizhen.organisations.choices import DepartmentType
    from sizhen.organisations.models import Department, Region

    regions = list(
        Region.objects.filter(parent__isnull=False, depth=1).order_by("sort_order", "code")
    )
    regions += list(Region.objects.filter(depth=2).order_by("code"))
    out = []
    for region in regions:
        departments = tuple(
            Department.objects.filter(
                region=region, type=DepartmentType.DISTRICT_DEPARTMENT
            ).values_list("code", flat=True)
        )
        if not departments:
            departments = tuple(
                Department.objects.filter(region__parent__isnull=True).values_list(
                    "code", flat=True
                )[:5]
            )
        out.append(RegionInfo(region.code, departments, QUALITY.get(region.code, CITY_QUALITY)))
    return out


def demo_tables(n_cases: int) -> dict[str, pa.Table]:
    """Every built-in dataset for the demo regions, sized by the number of 政务服务 cases."""
    from sizhen.organisations.choices import DepartmentType
    from sizhen.organisations.models import Department

    regions = demo_regions()
    if not regions:
        raise ValueError("演示城市尚未建立，请先运行 manage.py demo")
    # The utility of each kind (电力, 用水, 用气) by its name; the first ones by code otherwise.
    by_name = dict(
        Department.objects.filter(type=DepartmentType.UTILITY).values_list("name", "code")
    )
    fallback = sorted(by_name.values())[:3]
    utilities = [
        next((code for name, code in by_name.items() if word in name), None)
        or (fallback[i] if i < len(fallback) else "")
        for i, word in enumerate(("供电", "水务", "燃气"))
    ]
    utilities = [code for code in utilities if code]
    court = (
        Department.objects.filter(type=DepartmentType.JUDICIAL, name__contains="法院")
        .values_list("code", flat=True)
        .first()
    ) or regions[0].department("")
    _shared_calendar.append(_calendar())
    try:
        return {
            "gov_service_cases": gov_service_cases(regions, n_cases),
            "enterprise_startup": enterprise_startup(regions, max(1000, n_cases // 15)),
            "utility_connections": utility_connections(regions, utilities, max(500, n_cases // 40)),
            "bidding": bidding(regions, max(300, n_cases // 100)),
            "construction_permits": construction_permits(regions, n_cases // 200),
            "property_registrations": property_registrations(regions, n_cases // 30),
            "tax_filings": tax_filings(regions, n_cases // 10),
            "court_cases": court_cases(regions, court, n_cases // 100),
            "labour_cases": labour_cases(regions, n_cases // 60),
            "procurement": procurement(regions, n_cases // 100),
            "ip_pledges": ip_pledges(regions, n_cases // 300),
            "market_supervision": market_supervision(regions, n_cases // 30),
        }
    finally:
        _shared_calendar.clear()


def load_demo_records(n_cases: int = 300_000, *, compute_values: bool = True) -> dict[str, Any]:
    """Generate and load every dataset through the ingestion path, then compute the values."""
    from sizhen.indicators.ingestion import loads
    from sizhen.indicators.ingestion.choices import LoadStatus
    from sizhen.indicators.ingestion.compute import compute
    from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
    from sizhen.indicators.ingestion.engine import store
    from sizhen.indicators.ingestion.models import Dataset

    ensure_builtin_datasets()
    tables = demo_tables(n_cases)
    summary: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, store.open_store() as con:
        for code, table in tables.items():
            path = write_csv(table, Path(tmp) / f"{code}.csv")
            batch, _ = loads.submit_file(
                actor=None,
                dataset=Dataset.objects.get(code=code),
                source=path,
                file_name=f"demo-{code}.csv",
                enqueue_job=False,
            )
            batch = loads.run_load(batch.pk, con=con)
            if batch.status != LoadStatus.LOADED:
                raise RuntimeError(f"演示数据 {code} 导入失败：{batch.message}")
            summary[code] = batch.imported + batch.updated + batch.ignored
        if compute_values:
            summary["values"] = compute(con=con).values
    return summary
