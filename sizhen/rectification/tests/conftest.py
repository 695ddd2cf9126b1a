"""Fixtures of the rectification tests: an item of 东湖区 led by the city market regulator, an
indicator with values before and after, and evidence files kept in a temporary MEDIA_ROOT."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sizhen.indicators.catalogue.choices import Direction, SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.rectification import services
from sizhen.rectification.choices import Source


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def indicator(db: Any) -> Indicator:
    return Indicator.objects.create(
        code="T01", name="企业开办时间", unit="天", direction=Direction.LOWER_IS_BETTER
    )


def month_shift(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


@pytest.fixture
def values(indicator: Indicator, city: dict[str, Any]) -> None:
    """东湖区: 5.0 days two months before this month, 3.0 days this month (better)."""
    this_month = timezone.localdate().replace(day=1)
    for period, value in ((month_shift(this_month, -2), 5.0), (this_month, 3.0)):
        IndicatorValue.objects.create(
            indicator=indicator,
            region=city["district_a"],
            period=period,
            frequency="month",
            source_kind=SourceKind.RECORDS,
            value=value,
        )


@pytest.fixture
def item(personas: dict[str, Any], city: dict[str, Any], indicator: Indicator) -> Any:
    return services.create_item(
        actor=personas["coordinator"],
        title="东湖区企业开办环节多、时间长",
        description="评估反馈：企业开办平均 5 天",
        source=Source.EVALUATION,
        region=city["district_a"],
        lead_department=city["market"],
        responsible_departments=[city["a_dept"]],
        measures="推行一网通办，压缩至 3 天",
        deadline=timezone.localdate() + dt.timedelta(days=30),
        indicators=[indicator],
    )


def to_submitted(item: Any, personas: dict[str, Any]) -> Any:
    """The item accepted by its lead department, with evidence, and submitted for close-off."""
    lead = personas["lead_department"]
    services.transition_item(item, "accept", actor=lead)
    services.add_evidence(item, actor=lead, upload=pdf())
    services.transition_item(item, "submit", actor=lead, note="已完成")
    return item


#: The reviewer's reason for "有效" when the linked indicator has no values to compare.
BY_EVIDENCE = "关联指标暂无数据，依据佐证材料核验"


def pdf(name: str = "佐证.pdf", content: bytes = b"%PDF-1.4 test") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")
