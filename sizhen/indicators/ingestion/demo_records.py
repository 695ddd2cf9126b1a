"""Deterministic demo records for the demo city (示范市): three years of every built-in dataset
with Spring Festival dips, year-end surges, district differences and a few planted problems
(for the alerting in the next module). Loaded through the normal ingestion path.

Planted problems (documented so alert tests can look for them):
- the second district's on-time completion collapses in 2026-03 (handling times triple);
- the third district has a level shift from 2025-07: handling times +60 % from then on;
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

from sizhen.core.workcalendar import get_calendar

FIRST_MONTH = dt.date(2023, 11, 1)
MONTHS = 36
#: The demo's "today": records end with the last complete month before it.
LAST_DAY = "2026-10-31"
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
CHANNELS = np.array(["窗口", "网上", "移动端", "自助终端"])


@dataclass(frozen=True)
class RegionInfo:
    code: str
    departments: tuple[str, ...]
    quality: float  # 0.8 (good) … 1.2 (slow): multiplies handling time


def _calendar_arrays(first: dt.date, last: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    days = get_calendar().days(first, last)
    dates = np.array([d.date for d in days], dtype="datetime64[D]")
    workday = np.array([d.is_workday for d in days])
    index = np.cumsum(workday)
    return dates, workday, index


def month_starts() -> list[dt.date]:
    out = []
    year, month = FIRST_MONTH.year, FIRST_MONTH.month
    for _ in range(MONTHS):
        out.append(dt.date(year, month, 1))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def _month_weights() -> np.ndarray:
    weights = np.array([SEASON[m.month] for m in month_starts()])
    trend = np.linspace(0.9, 1.15, MONTHS)  # volumes grow over three years
    weights = weights * trend
    return weights / weights.sum()


def gov_service_cases(regions: list[RegionInfo], n: int, seed: int = 20261122) -> pa.Table:
    rng = np.random.default_rng(seed)
    dates, workday, _windex = _calendar_arrays(
        FIRST_MONTH - dt.timedelta(days=10), dt.date(2027, 3, 31)
    )
    working_dates = dates[workday]
    months = month_starts()
    month_of = rng.choice(MONTHS, size=n, p=_month_weights())
    region_weights = np.linspace(1.6, 0.5, len(regions))
    region_of = rng.choice(len(regions), size=n, p=region_weights / region_weights.sum())
    # Accepted on a working day inside the month.
    month_first = np.array([np.datetime64(m) for m in months], dtype="datetime64[D]")
    start_index = np.searchsorted(working_dates, month_first)
    end_index = np.searchsorted(working_dates, np.append(month_first[1:], month_first[-1] + 31))
    span = np.maximum(end_index - start_index, 1)
    accepted_pos = start_index[month_of] + (rng.random(n) * span[month_of]).astype(int)
    accepted = working_dates[accepted_pos]
    item_of = rng.integers(0, len(ITEMS), size=n)
    statutory = np.array([i[2] for i in ITEMS])[item_of]
    promised = np.array([i[3] for i in ITEMS])[item_of]
    quality = np.array([r.quality for r in regions])[region_of]
    # Planted problems.
    month_dates = np.array(months, dtype="datetime64[D]")[month_of]
    if len(regions) > 1:
        collapse = (region_of == 1) & (month_dates == np.datetime64("2026-03-01"))
        quality = np.where(collapse, quality * 3.0, quality)
    if len(regions) > 2:
        shift = (region_of == 2) & (month_dates >= np.datetime64("2025-07-01"))
        quality = np.where(shift, quality * 1.6, quality)
    # Most cases finish well inside the promised limit (on-time rates of 95-100 %, as the
    # seed cities report); the planted problems push some districts far past it.
    handling = np.floor(rng.gamma(8.0, promised * 0.06 * quality + 0.05)).astype(int)
    completed_pos = np.searchsorted(working_dates, accepted) + handling
    completed_pos = np.minimum(completed_pos, len(working_dates) - 1)
    completed = working_dates[completed_pos]
    open_case = completed > np.datetime64(LAST_DAY)
    channel_p = np.array([0.35, 0.45, 0.17, 0.03])
    channel = CHANNELS[rng.choice(4, size=n, p=channel_p)]
    if regions and len(regions) > 3:
        park_drop = (region_of == len(regions) - 1) & (month_dates == np.datetime64("2026-06-01"))
        channel = np.where(park_drop & (rng.random(n) < 0.8), "窗口", channel)
    visits = np.where(
        channel == "窗口", rng.integers(1, 3, size=n), (rng.random(n) < 0.1).astype(int)
    )
    status = np.where(open_case, "受理", np.where(rng.random(n) < 0.01, "不予受理", "办结"))
    completed_text = np.where(
        status == "办结",
        np.char.add(completed.astype(str), " 16:30:00"),
        "",
    )
    accepted_text = np.char.add(accepted.astype(str), " 10:00:00")
    submitted_text = np.char.add(accepted.astype(str), " 09:00:00")
    departments = [rng.choice(r.departments) if r.departments else "" for r in regions]
    dept_of = np.array(departments)[region_of]
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
            "submitted_at": submitted_text,
            "accepted_at": accepted_text,
            "completed_at": completed_text,
            "statutory_limit": statutory,
            "promised_limit": promised,
            "visits": visits,
            "status": status,
        }
    )


def enterprise_startup(regions: list[RegionInfo], n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    dates, workday, _ = _calendar_arrays(FIRST_MONTH - dt.timedelta(days=10), dt.date(2027, 3, 31))
    working_dates = dates[workday]
    months = month_starts()
    month_of = rng.choice(MONTHS, size=n, p=_month_weights())
    region_of = rng.integers(0, len(regions), size=n)
    month_first = np.array([np.datetime64(m) for m in months], dtype="datetime64[D]")
    start_index = np.searchsorted(working_dates, month_first)
    submitted_pos = start_index[month_of] + rng.integers(0, 18, size=n)
    submitted_pos = np.minimum(submitted_pos, len(working_dates) - 1)
    quality = np.array([r.quality for r in regions])[region_of]
    days = np.floor(rng.gamma(1.5, 0.8 * quality)).astype(int)
    completed = working_dates[np.minimum(submitted_pos + days, len(working_dates) - 1)]
    submitted = working_dates[submitted_pos]
    # Nothing is finished after the demo's last month: those start-ups are still open.
    completed_text = np.where(
        completed > np.datetime64(LAST_DAY), "", np.char.add(completed.astype(str), " 17:00:00")
    )
    channel = np.where(
        rng.random(n) < 0.82, "全程网办", np.where(rng.random(n) < 0.5, "窗口", "混合")
    )
    return pa.table(
        {
            "serial_no": [f"KB{i:08d}" for i in range(n)],
            "uscc": [f"DEMO{i:014d}" for i in range(n)],
            "enterprise_name": [f"示范企业{i:06d}有限公司" for i in range(n)],
            "region_code": np.array([r.code for r in regions])[region_of],
            "channel": channel,
            "submitted_at": np.char.add(submitted.astype(str), " 09:30:00"),
            "completed_at": completed_text,
            "procedures": np.where(channel == "全程网办", 1, rng.integers(2, 5, size=n)),
            "cost": np.where(rng.random(n) < 0.9, 0.0, np.round(rng.uniform(50, 300, size=n), 2)),
        }
    )


def utility_connections(
    regions: list[RegionInfo], utilities: list[str], n: int, seed: int = 11
) -> pa.Table:
    rng = np.random.default_rng(seed)
    dates, workday, _ = _calendar_arrays(FIRST_MONTH - dt.timedelta(days=10), dt.date(2027, 3, 31))
    working_dates = dates[workday]
    months = month_starts()
    month_of = rng.choice(MONTHS, size=n, p=_month_weights())
    month_first = np.array([np.datetime64(m) for m in months], dtype="datetime64[D]")
    start_index = np.searchsorted(working_dates, month_first)
    applied_pos = np.minimum(
        start_index[month_of] + rng.integers(0, 18, size=n), len(working_dates) - 1
    )
    kind = np.array(["电力", "用水", "用气"])[rng.choice(3, size=n, p=[0.5, 0.3, 0.2])]
    dept = (
        np.array(utilities + [utilities[-1]] * (3 - len(utilities)))[
            np.select([kind == "电力", kind == "用水"], [0, 1], 2)
        ]
        if utilities
        else np.array([""] * n)
    )
    days = np.floor(rng.gamma(2.0, 2.5, size=n)).astype(int) + 1
    connected = working_dates[np.minimum(applied_pos + days, len(working_dates) - 1)]
    connected_text = np.where(
        connected > np.datetime64(LAST_DAY), "", np.char.add(connected.astype(str), " 15:00:00")
    )
    return pa.table(
        {
            "application_id": [f"BZ{i:08d}" for i in range(n)],
            "utility": kind,
            "region_code": np.array([r.code for r in regions])[
                rng.integers(0, len(regions), size=n)
            ],
            "department_code": dept,
            "customer_type": np.array(["低压", "高压", "非居民"])[rng.integers(0, 3, size=n)],
            "applied_at": np.char.add(working_dates[applied_pos].astype(str), " 10:00:00"),
            "connected_at": connected_text,
            "procedures": rng.integers(1, 4, size=n),
            "cost": np.where(
                rng.random(n) < 0.85, 0.0, np.round(rng.uniform(100, 5000, size=n), 2)
            ),
        }
    )


def bidding(regions: list[RegionInfo], n: int, seed: int = 13) -> pa.Table:
    rng = np.random.default_rng(seed)
    months = month_starts()
    month_of = rng.choice(MONTHS, size=n, p=_month_weights())
    base = np.array([np.datetime64(m) for m in months], dtype="datetime64[D]")[month_of]
    announced = base + rng.integers(0, 27, size=n)
    awarded = announced + 20 + rng.integers(3, 25, size=n)
    signed = awarded + rng.integers(2, 30, size=n)
    return pa.table(
        {
            "project_id": [f"ZB{i:07d}" for i in range(n)],
            "project_name": [f"示范项目{i:06d}" for i in range(n)],
            "region_code": np.array([r.code for r in regions])[
                rng.integers(0, len(regions), size=n)
            ],
            "category": np.array(["工程", "货物", "服务"])[rng.integers(0, 3, size=n)],
            "announced_at": np.char.add(announced.astype(str), " 09:00:00"),
            "awarded_at": np.where(
                awarded > np.datetime64(LAST_DAY), "", np.char.add(awarded.astype(str), " 09:00:00")
            ),
            "contract_signed_at": np.where(
                signed > np.datetime64(LAST_DAY), "", np.char.add(signed.astype(str), " 09:00:00")
            ),
            "paperless": np.where(rng.random(n) < 0.9, "是", "否"),
            "remote_evaluation": np.where(rng.random(n) < 0.4, "是", "否"),
            "winner_is_local": np.where(rng.random(n) < 0.7, "是", "否"),
            "deposit_mode": np.array(["现金", "保函", "电子保函", "免收"])[
                rng.integers(0, 4, size=n)
            ],
            "budget": np.round(rng.lognormal(13, 1.2, size=n), 2),
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
    for index, region in enumerate(regions):
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
        out.append(RegionInfo(region.code, departments, 0.8 + 0.4 * ((index * 7) % 13) / 12))
    return out


def load_demo_records(n_cases: int = 300_000, *, compute_values: bool = True) -> dict[str, Any]:
    """Generate and load every dataset through the ingestion path, then compute the values."""
    from sizhen.indicators.ingestion import loads
    from sizhen.indicators.ingestion.choices import LoadStatus
    from sizhen.indicators.ingestion.compute import compute
    from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
    from sizhen.indicators.ingestion.engine import store
    from sizhen.indicators.ingestion.models import Dataset
    from sizhen.organisations.choices import DepartmentType
    from sizhen.organisations.models import Department

    ensure_builtin_datasets()
    regions = demo_regions()
    if not regions:
        raise ValueError("演示城市尚未建立，请先运行 manage.py demo")
    utilities = list(
        Department.objects.filter(type=DepartmentType.UTILITY)
        .order_by("code")
        .values_list("code", flat=True)[:3]
    )
    tables = {
        "gov_service_cases": gov_service_cases(regions, n_cases),
        "enterprise_startup": enterprise_startup(regions, max(1000, n_cases // 15)),
        "utility_connections": utility_connections(regions, utilities, max(500, n_cases // 40)),
        "bidding": bidding(regions, max(300, n_cases // 100)),
    }
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
