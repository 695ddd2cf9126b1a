"""变化归因: the change of a figure split into parts that add up to it, on hand-computed cases
(ratio by shift-share, a count by district, a composite by child indicator), and on the page."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from sizhen.dashboards.attribution import attribute
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)

pytestmark = pytest.mark.django_db


def _row(indicator, region, period, value, kind=SourceKind.RECORDS, **fields):
    return IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        period=period,
        frequency="month",
        source_kind=kind,
        value=value,
        **fields,
    )


@pytest.fixture
def leaves(city: dict[str, Any]) -> dict[str, Any]:
    top = Indicator.objects.create(code="T", name="测试总指数", direction="higher_is_better")
    rate = Indicator.objects.create(
        code="T01", name="按时办结率", parent=top, level=1, unit="%", weight=1,
        direction="higher_is_better", sort_order=1,
    )  # fmt: skip
    count = Indicator.objects.create(
        code="T02", name="办件量", parent=top, level=1, unit="件", weight=3,
        direction="higher_is_better", sort_order=2,
    )  # fmt: skip
    root, a, b = city["root"], city["district_a"], city["district_b"]
    # 按时办结率 = 100 × on time / finished. 东湖区 80 % of 100 → 90 % of 100; 西山区 60 % of
    # 50 → 70 % of 100; the city 110/150 = 73.33 % → 160/200 = 80 %.
    for region, period, num, den in (
        (a, FEB, 80, 100), (a, MAR, 90, 100), (b, FEB, 30, 50), (b, MAR, 70, 100),
        (root, FEB, 110, 150), (root, MAR, 160, 200),
    ):  # fmt: skip
        _row(rate, region, period, 100 * num / den, numerator=num, denominator=den)
    # 办件量: the city is the districts' sum; 东湖区 10 → 25, 西山区 20 → 20.
    for region, period, value in (
        (a, FEB, 10), (a, MAR, 25), (b, FEB, 20), (b, MAR, 20), (root, FEB, 30), (root, MAR, 45),
    ):  # fmt: skip
        _row(count, region, period, value)
    # The composite: scores 60 → 70 (weight 1) and 80 → 80 (weight 3): 75 → 77.5.
    for indicator, feb, mar in ((rate, 60, 70), (count, 80, 80)):
        IndicatorValue.objects.filter(indicator=indicator, region=root, period=FEB).update(
            score=feb
        )
        IndicatorValue.objects.filter(indicator=indicator, region=root, period=MAR).update(
            score=mar
        )
    for period, score in ((FEB, 75), (MAR, 77.5)):
        _row(top, root, period, score, kind=SourceKind.COMPOSITE, score=score)
    return {"top": top, "rate": rate, "count": count, **city}


def _parts(result) -> list[tuple[str, float, float | None, float | None]]:
    return [
        (
            p.label,
            round(p.contribution, 4),
            None if p.rate_effect is None else round(p.rate_effect, 4),
            None if p.mix_effect is None else round(p.mix_effect, 4),
        )
        for p in result.parts
    ]


def test_a_rate_splits_into_rate_and_mix_effects_that_add_up(leaves, personas):
    result = attribute(leaves["rate"], leaves["root"], MAR, actor=personas["leader"])
    assert result.method == "ratio"
    assert round(result.change, 4) == 6.6667
    # 东湖区: weight 2/3 → 1/2, 80 → 90; 西山区: 1/3 → 1/2, 60 → 70; city mean 76.667.
    # rate = mean weight × Δvalue; mix = Δweight × (mean value − city mean).
    assert _parts(result) == [
        ("东湖区", 4.4444, 5.8333, -1.3889),
        ("西山区", 2.2222, 4.1667, -1.9444),
    ]
    assert round(result.other, 9) == 0
    assert round(sum(p.contribution for p in result.parts) + result.other, 9) == round(
        result.change, 9
    )


def test_a_count_splits_into_each_districts_change(leaves, personas):
    result = attribute(leaves["count"], leaves["root"], MAR, actor=personas["leader"])
    assert (result.method, result.change) == ("sum", 15)
    assert _parts(result) == [("东湖区", 15.0, None, None), ("西山区", 0.0, None, None)]
    assert result.other == 0
    assert [p.label for p in result.movers()] == ["东湖区"]


def test_a_composite_splits_by_child_indicator(leaves, personas):
    result = attribute(leaves["top"], leaves["root"], MAR, actor=personas["leader"])
    assert (result.method, result.change) == ("children", 2.5)
    assert _parts(result) == [("T01 按时办结率", 2.5, None, None), ("T02 办件量", 0.0, None, None)]
    assert result.other == 0


def test_what_is_not_a_sum_is_not_split_and_says_why(leaves, personas):
    # A satisfaction score: the city's value is its own survey's, not the districts' sum.
    IndicatorValue.objects.filter(indicator=leaves["count"], region=leaves["root"]).update(value=90)
    IndicatorValue.objects.filter(
        indicator=leaves["count"], region=leaves["root"], period=MAR
    ).update(value=92)
    result = attribute(leaves["count"], leaves["root"], MAR, actor=personas["leader"])
    assert (result.method, result.parts, result.change) == ("", [], 2)
    assert result.reason == "该指标的全市数值不是各区县数值的汇总（如满意度得分），无法按区县分解。"
    none = attribute(leaves["count"], leaves["root"], dt.date(2026, 4, 1), actor=personas["leader"])
    assert none.reason == "上期或本期没有数值，无法分解变化。"


def test_records_no_district_holds_are_their_own_line(leaves, personas):
    """市本级 cases (in the city's sums, in no district's): the parts still add up."""
    IndicatorValue.objects.filter(
        indicator=leaves["rate"], region=leaves["root"], period=MAR
    ).update(numerator=180, denominator=220, value=100 * 180 / 220)
    result = attribute(leaves["rate"], leaves["root"], MAR, actor=personas["leader"])
    assert result.method == "ratio"
    total = sum(p.contribution for p in result.parts) + result.other
    assert round(total, 9) == round(100 * 180 / 220 - 100 * 110 / 150, 9)
    assert round(result.other, 4) != 0
    assert result.rows()[-1][0] == "其他（未归属或构成变化）"


def test_the_indicator_page_shows_and_exports_it(leaves, client_for):
    client = client_for("leader")
    page = client.get("/dashboards/indicators/T01/").content.decode()
    assert 'data-testid="attribution"' in page
    assert (
        "示范市按时办结率较上期上升 <strong>6.67</strong>%（73.33 → 80.00），主要来自东湖区（+4.44）、西山区（+2.22）。"
        in page
    )
    export = client.get("/dashboards/indicators/T01/?export=attribution")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("区县", "上期", "本期", "贡献", "自身变化", "结构变化"),
        ("东湖区", 80.0, 90.0, 4.44, 5.83, -1.39),
        ("西山区", 60.0, 70.0, 2.22, 4.17, -1.94),
    ]


def test_a_district_sees_its_own_parks_only(leaves, client_for, personas):
    """A district's figure splits by its own subregions (its parks), read in the officer's scope."""
    park = leaves["park"]
    for period, num, den in ((FEB, 40, 50), (MAR, 45, 50)):
        _row(leaves["rate"], park, period, 100 * num / den, numerator=num, denominator=den)
    result = attribute(leaves["rate"], leaves["district_a"], MAR, actor=personas["district_a"])
    # 高新区 holds 50 of 东湖区's 100 finished cases in both months and went 80 % → 90 %.
    assert _parts(result) == [("高新区", 5.0, 5.0, 0.0)]
    assert round(result.other, 9) == 5.0  # the rest of 东湖区 (no park) moved it as much
    assert [p.label for p in result.movers()] == ["高新区"]
