from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow.compute as pc
import pytest

from sizhen.indicators.ingestion import demo_records
from sizhen.indicators.ingestion.demo_records import RegionInfo


@pytest.fixture
def regions():
    return [
        RegionInfo("449901", ("D1",), 0.8),
        RegionInfo("449902", ("D2",), 1.0),
        RegionInfo("449903", ("D3",), 1.1),
        RegionInfo("P449951", ("D4",), 1.2),
    ]


@pytest.mark.django_db
def test_generation_is_deterministic_and_valid(regions):
    first = demo_records.gov_service_cases(regions, 5000)
    second = demo_records.gov_service_cases(regions, 5000)
    assert first.equals(second)
    assert first.num_rows == 5000
    assert len(set(first.column("case_id").to_pylist())) == 5000
    accepted = first.column("accepted_at").to_pylist()
    completed = first.column("completed_at").to_pylist()
    assert all(c == "" or c[:10] >= a[:10] for a, c in zip(accepted, completed, strict=True))


@pytest.mark.django_db
def test_spring_festival_dip_year_end_surge_and_planted_collapse(regions):
    table = demo_records.gov_service_cases(regions, 60_000)
    months = np.array([a[:7] for a in table.column("accepted_at").to_pylist()])
    assert (months == "2025-02").sum() < 0.75 * (months == "2025-03").sum()
    assert (months == "2024-12").sum() > 1.15 * (months == "2024-11").sum()
    # The second district's handling time triples in 2026-03.
    accepted = table.column("accepted_at").to_pylist()
    completed = table.column("completed_at").to_pylist()
    region = table.column("region_code").to_pylist()

    def mean_days(code: str, month: str) -> float:
        spans = [
            (dt.date.fromisoformat(c[:10]) - dt.date.fromisoformat(a[:10])).days
            for a, c, r in zip(accepted, completed, region, strict=True)
            if r == code and a.startswith(month) and c
        ]
        return sum(spans) / len(spans)

    assert mean_days("449902", "2026-03") > 2 * mean_days("449902", "2026-01")
    assert pc.sum(pc.equal(table.column("status"), "办结")).as_py() > 0.9 * table.num_rows
