"""Alerts respect the domain of the values: a rate's expected range lies within 0–100, a count's
never below 0; a rate's distance from its target or benchmark reads in percentage points; an
alert whose value counts something else (overdue cases under 按时办结率) shows that unit."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
import pytest

from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.monitoring.detection import benchmark_lag, cross_sectional, goalpost_breach
from sizhen.monitoring.models import Alert
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.series import check_series, series_finding
from sizhen.organisations import services as org
from sizhen.organisations.choices import RegionLevel

JUNE = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 7, 15, 10, 0, tzinfo=dt.UTC)
RATE = (0.0, 100.0)
COUNT = (0.0, None)


def test_indicator_domains_follow_the_unit_and_what_the_percentage_is():
    def bounds(name: str, unit: str) -> tuple[float | None, float | None]:
        return Indicator(code="X", name=name, unit=unit).value_bounds

    assert bounds("按时办结率", "%") == RATE
    assert bounds("企业诉求满意率", " % ") == RATE
    assert bounds("普惠小微贷款余额增速", "%") == (None, None)
    assert bounds("科技型中小企业增长率", "%") == (None, None)
    assert bounds("外贸依存度", "%") == COUNT
    assert bounds("办结量", "件") == COUNT
    assert bounds("平均办理时间", "工作日") == COUNT
    assert bounds("某指数", "") == (None, None)


def test_series_finding_clips_a_rates_range_to_100_and_a_counts_to_0():
    row = {
        "period": pd.Timestamp("2025-06-01"),
        "kind": "abnormal_change",
        "method": "hampel_change",
        "value": 90.0,
        "expected": 99.0,
        "lower": 96.5,
        "upper": 101.5,
        "score": -12.0,
        "threshold": 3.0,
        "severity": "red",
        "seasonal": False,
        "points": [],
    }
    rate = series_finding(
        row, region=1, region_name="东湖区", indicator_name="按时办结率", bounds=RATE
    )
    assert (rate.expected, rate.lower, rate.upper) == (99.0, 96.5, 100.0)
    assert rate.explanation.startswith("2025-06 东湖区 按时办结率 90，较上月推算预期 96.5–100 ")
    count = series_finding(
        {**row, "value": 9.0, "expected": 1.0, "lower": -2.0, "upper": 4.0, "score": 8.0},
        region=1,
        region_name="东湖区",
        indicator_name="超期件数",
        bounds=COUNT,
    )
    assert (count.expected, count.lower, count.upper) == (1.0, 0.0, 4.0)
    assert "较上月推算预期 0–4 显著偏高" in count.explanation
    # Without bounds (a growth rate) the range is the statistic's.
    free = series_finding(row, region=1, region_name="东湖区", indicator_name="增速")
    assert (free.lower, free.upper) == (96.5, 101.5)


def test_cross_section_of_a_count_never_expects_below_0():
    values = dict(enumerate([1.0, 2.0, 1.0, 2.0, 1.0, 30.0, 2.0]))
    (finding,) = cross_sectional(values, period=JUNE, indicator_name="平均跑动次数", bounds=COUNT)
    assert finding.region == 5
    assert (finding.expected, finding.lower) == (2.0, 0.0)
    assert finding.upper == pytest.approx(2 + 3.5 * 1.4826)
    assert "较各地区正常范围 0–7.19（中位数 2）显著偏高" in finding.explanation


def test_a_rate_far_below_target_reads_in_percentage_points():
    """The issue's 满意率 of 0 read "已用去目标至最差值差距的 500%"; it reads in points now."""
    finding = goalpost_breach(
        0.0, best=100, worst=70, target=90, direction="higher_is_better",
        region_name="西山区", period=JUNE, indicator_name="企业诉求满意率", unit="%",
    )  # fmt: skip
    assert finding is not None
    assert finding.severity == "red" and finding.score == pytest.approx(4.5)
    assert finding.explanation == (
        "2025-06 西山区 企业诉求满意率 0，未达目标值且劣于最差值（合格区间 90–100，最差值 70；"
        "目标值与最差值：较目标值低 90 个百分点）"
    )
    lag = benchmark_lag(
        80.0, {"深圳": 96.0}, "higher_is_better",
        region_name="示范市", period=JUNE, indicator_name="全程网办率", unit="%",
    )  # fmt: skip
    assert lag is not None
    assert lag.explanation == (
        "2025-06 示范市 全程网办率 80，落后于标杆城市深圳（96）16 个百分点"
        "（标杆城市对比：差距超过标杆值的 10% 即预警）"
    )


@pytest.mark.django_db
def test_scan_keeps_a_rates_expected_range_within_0_to_100(city: dict[str, Any]) -> None:
    rate = Indicator.objects.create(
        code="R01", name="按时办结率", unit="%", direction="higher_is_better",
        frequency="month", source_kind="records", level=2,
    )  # fmt: skip
    regions = [city["district_a"], city["district_b"]] + [
        org.create_region(
            actor=None,
            code=f"44991{i}",
            name=f"区县{i}",
            level=RegionLevel.DISTRICT,
            parent=city["root"],
        )
        for i in range(5)
    ]
    for region, value in zip(regions, (99.0, 60.0, 99.5, 100.0, 98.5, 99.8, 99.9), strict=True):
        IndicatorValue.objects.create(
            indicator=rate, region=region, period=JUNE, frequency="month",
            source_kind="records", value=value,
        )  # fmt: skip

    scan_indicator_values(now=NOW)

    alert = Alert.objects.get(kind="cross_sectional_extreme")
    assert (alert.region, alert.value, alert.expected) == (city["district_b"], 60.0, 99.5)
    assert alert.upper == 100.0 and alert.lower == pytest.approx(99.5 - 3.5 * 1.4826 * 0.5)
    assert "较各地区正常范围 96.9–100（中位数 99.5）显著偏低" in alert.explanation
    assert alert.value_text == "60%"


@pytest.mark.django_db
def test_an_overdue_case_alert_shows_a_count_of_cases_not_a_rate(city, client_for):
    rate = Indicator.objects.create(
        code="BE15.03", name="按时办结率", unit="%", direction="higher_is_better"
    )
    alert = Alert.objects.create(
        indicator=rate, region=city["district_a"], kind="overdue_cases", period=JUNE,
        severity="red", value=162, method="overdue_cases", score=3, explanation="…",
    )  # fmt: skip
    assert (alert.value_label, alert.value_text) == ("超期办件数", "162件")
    page = client_for("coordinator").get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert '<dt>超期办件数</dt><dd data-testid="alert-value">162件</dd>' in page
    listing = client_for("coordinator").get("/monitoring/alerts/").content.decode()
    assert "162件" in listing


@pytest.mark.django_db
def test_a_count_series_near_zero_never_shows_a_negative_expected_range(
    city: dict[str, Any], client_for: Any
) -> None:
    """The walk-through's "-0.268–2.42" for a count: a series of 0s and 1s whose month jumps to
    9 has a statistical range reaching below 0; the alert's text and page start it at 0."""
    count = Indicator.objects.create(
        code="C01", name="超期办件数", unit="件", direction="lower_is_better",
        frequency="month", source_kind="records", level=2,
    )  # fmt: skip
    history = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    months = [dt.date(2024, 4, 1) + pd.DateOffset(months=i) for i in range(len(history) + 1)]
    for month, value in zip(months, [*history, 9.0], strict=True):
        IndicatorValue.objects.create(
            indicator=count, region=city["district_a"], period=month.date(),
            frequency="month", source_kind="records", value=value,
        )  # fmt: skip
    # The statistic itself reaches below 0, so the clipping is what this test sees.
    raw = check_series(
        pd.DataFrame({"series_id": 1, "period": pd.to_datetime(months), "value": [*history, 9.0]})
    )
    assert len(raw) == 1 and raw.iloc[0]["lower"] < 0

    scan_indicator_values(now=NOW)

    alert = Alert.objects.get(indicator=count)
    assert (alert.kind, alert.value, alert.lower) == ("abnormal_change", 9.0, 0.0)
    assert alert.upper is not None and alert.upper > 0
    assert "较上月推算预期 0–" in alert.explanation
    assert not re.search(r"预期 -|–-", alert.explanation)
    page = client_for("coordinator").get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert f"<dt>正常范围</dt><dd>0.00 – {alert.upper:.2f}</dd>" in page
    assert "-0." not in page.split("<dt>正常范围</dt>", 1)[1].split("</dd>", 1)[0]
