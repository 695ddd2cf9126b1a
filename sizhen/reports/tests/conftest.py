from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from sizhen.indicators.catalogue.choices import Direction, Frequency, SourceKind
from sizhen.indicators.catalogue.models import Benchmark, Indicator, IndicatorValue

PERIOD = dt.date(2026, 2, 1)
TODAY = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    """Letters issued on Monday 2 March 2026 (a plain working week in the official calendar)."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def lagging(city: dict[str, Any]) -> dict[str, Any]:
    """开办企业时间 with 东湖区 lagging behind 西山区, the city figure and one benchmark."""
    indicator = Indicator.objects.create(
        code="A01",
        name="开办企业时间",
        unit="天",
        direction=Direction.LOWER_IS_BETTER,
        frequency=Frequency.MONTH,
        lead_department=city["market"],
    )
    rows = [
        (city["district_a"], 12.5, 60.0, 2),
        (city["district_b"], 8.0, 90.0, 1),
        (city["root"], 10.25, None, None),
    ]
    for region, value, score, rank in rows:
        IndicatorValue.objects.create(
            indicator=indicator,
            region=region,
            period=PERIOD,
            frequency=Frequency.MONTH,
            source_kind=SourceKind.RECORDS,
            value=value,
            score=score,
            rank=rank,
            rank_total=2 if rank else None,
        )
    Benchmark.objects.create(indicator=indicator, city="深圳市", period=PERIOD, value=1.5)
    return {"indicator": indicator, "region": city["district_a"]}
