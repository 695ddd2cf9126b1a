"""Scoring: distance to frontier, weighted means up the tree, entropy weights, sibling ranks and
simulated evaluation, on hand-computed numbers."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from sizhen.indicators.catalogue.choices import SourceKind, Weighting
from sizhen.indicators.catalogue.models import EvaluationCycle, Goalpost, Indicator, IndicatorValue
from sizhen.indicators.scoring.formulas import (
    competition_ranks,
    dtf_score,
    entropy_weights,
    weighted_mean,
)
from sizhen.indicators.scoring.services import score_periods
from sizhen.indicators.scoring.simulation import simulate
from sizhen.organisations import services as org
from sizhen.organisations.choices import RegionLevel

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
Q1 = JAN
LN2, LN3 = math.log(2), math.log(3)


# -- formulas ----------------------------------------------------------------------------------


def test_dtf_lower_is_better_matches_doing_business_example():
    # Getting electricity procedures, best 3, worst 9: 100 * (9 - 4) / (9 - 3) = 83.33...
    assert dtf_score(4, 3, 9, "lower_is_better") == pytest.approx(500 / 6, abs=1e-12)
    assert dtf_score(9, 3, 9, "lower_is_better") == 0.0
    assert dtf_score(3, 3, 9, "lower_is_better") == 100.0


def test_dtf_higher_is_better():
    # 100 * (7 - 0) / (10 - 0) = 70; 100 * (65 - 50) / (100 - 50) = 30
    assert dtf_score(7, 10, 0, "higher_is_better") == 70.0
    assert dtf_score(65, 100, 50, "higher_is_better") == 30.0


def test_dtf_is_clipped_to_0_100():
    assert dtf_score(2, 3, 9, "lower_is_better") == 100.0  # better than the frontier: 116.7
    assert dtf_score(10, 3, 9, "lower_is_better") == 0.0  # worse than the worst: -16.7
    assert dtf_score(12, 10, 0, "higher_is_better") == 100.0
    assert dtf_score(-1, 10, 0, "higher_is_better") == 0.0


def test_dtf_is_none_without_value_or_when_best_equals_worst():
    assert dtf_score(None, 3, 9, "lower_is_better") is None
    assert dtf_score(float("nan"), 3, 9, "lower_is_better") is None
    assert dtf_score(5, 7, 7, "higher_is_better") is None
    with pytest.raises(ValueError, match="未知的指标方向"):
        dtf_score(5, 10, 0, "sideways")


def test_entropy_weights_hand_computed():
    # Column 1: 40, 20, 20 -> p = 1/2, 1/4, 1/4
    #   e1 = -(1/2 ln 1/2 + 2 * 1/4 ln 1/4) / ln 3 = 1.5 ln 2 / ln 3 = 0.946394630357186
    # Column 2: 60, 20, 20 -> p = 0.6, 0.2, 0.2
    #   e2 = -(0.6 ln 0.6 + 0.4 ln 0.2) / ln 3 = 0.8649735207179272
    # d = (0.05360536964281404, 0.1350264792820728), sum 0.18863184892488684
    # w = (0.28417984528243523, 0.7158201547175648)
    e1 = 1.5 * LN2 / LN3
    e2 = -(0.6 * math.log(0.6) + 0.4 * math.log(0.2)) / LN3
    w1 = (1 - e1) / ((1 - e1) + (1 - e2))
    assert w1 == pytest.approx(0.28417984528243523, abs=1e-12)
    weights = entropy_weights([[40, 60], [20, 20], [20, 20]])
    assert weights[0] == pytest.approx(0.28417984528243523, abs=1e-9)
    assert weights[1] == pytest.approx(0.7158201547175648, abs=1e-9)


def test_entropy_weights_zero_constant_and_degenerate_cases():
    # A zero becomes 1e-4, so column 1 (0, 100) has p = (1e-6, 1 - 1e-6) and e1 = 1.38e-5:
    # nearly all the information; column 2 (50, 50) has e2 = 1 and weight 0.
    weights = entropy_weights([[0, 50], [100, 50]])
    assert weights == [pytest.approx(1.0, abs=1e-9), pytest.approx(0.0, abs=1e-9)]
    assert entropy_weights([[30, 70, 10]]) == [1 / 3, 1 / 3, 1 / 3]  # one region
    assert entropy_weights([[30, 70], [30, 70]]) == [0.5, 0.5]  # nothing varies
    assert entropy_weights([]) == []


def test_weighted_mean_renormalises_over_present_scores():
    # (3 * 80 + 1 * 50) / (3 + 1) = 72.5; the missing child's weight 5 drops out
    assert weighted_mean([80, None, 50], [3, 5, 1]) == 72.5
    assert weighted_mean([None, None], [1, 1]) is None
    assert weighted_mean([80, 40], [0, 0]) == 60.0  # zero weights fall back to equal


def test_competition_ranks_share_the_lower_number():
    assert competition_ranks({1: 90.0, 2: 80.0, 3: 80.0, 4: 70.0}) == {1: 1, 2: 2, 3: 2, 4: 4}


# -- a three-level tree over three districts and the city --------------------------------------


def _value(indicator, region, period, value, kind=SourceKind.RECORDS, frequency="month"):
    return IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        period=period,
        frequency=frequency,
        source_kind=kind,
        value=value,
    )


def _snapshot() -> list[dict[str, Any]]:
    return list(IndicatorValue.objects.order_by("pk").values())


def _row(code, region, period, kind=SourceKind.COMPOSITE):
    return IndicatorValue.objects.get(
        indicator__code=code, region=region, period=period, source_kind=kind
    )


def _scores(code, period, kind=SourceKind.COMPOSITE):
    return {
        v.region.code: (v.score, v.rank, v.rank_total)
        for v in IndicatorValue.objects.filter(
            indicator__code=code, period=period, source_kind=kind
        ).select_related("region")
    }


@pytest.fixture
def tree(city: dict[str, Any]) -> dict[str, Any]:
    """BE (monthly) -> BE01, BE02 (monthly) -> BE01.01 days (monthly, lower is better, best 1,
    worst 11: score 10 * (11 - x)), BE01.02 satisfaction (quarterly, best 100, worst 50:
    score 2 * (x - 50)), BE02.01 rate (monthly, best 100, worst 0: score x)."""
    south = org.create_region(
        actor=None, code="449903", name="南湖区", level=RegionLevel.DISTRICT, parent=city["root"]
    )
    be = Indicator.objects.create(code="BE", name="营商环境总指数", direction="higher_is_better")
    be01 = Indicator.objects.create(
        code="BE01", name="开办企业", parent=be, level=1, direction="higher_is_better"
    )
    be02 = Indicator.objects.create(
        code="BE02", name="政务服务", parent=be, level=1, direction="higher_is_better"
    )
    days = Indicator.objects.create(
        code="BE01.01", name="开办时间", parent=be01, level=2, direction="lower_is_better"
    )
    satisfaction = Indicator.objects.create(
        code="BE01.02",
        name="开办满意度",
        parent=be01,
        level=2,
        direction="higher_is_better",
        frequency="quarter",
        source_kind=SourceKind.FILLING,
    )
    rate = Indicator.objects.create(
        code="BE02.01",
        name="全程网办率",
        parent=be02,
        level=2,
        direction="higher_is_better",
        source_kind=SourceKind.RECORDS,
    )
    cycle = EvaluationCycle.objects.create(
        code="2026",
        name="2026年度",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        is_current=True,
    )
    Goalpost.objects.create(indicator=days, cycle=cycle, best=1, worst=11)
    Goalpost.objects.create(indicator=satisfaction, cycle=cycle, best=100, worst=50)
    Goalpost.objects.create(indicator=rate, cycle=cycle, best=100, worst=0)
    c, a, b, d = city["root"], city["district_a"], city["district_b"], south
    # BE01.01 days -> score 10 * (11 - x); D's 13 days in January clips to 0
    for region, jan, feb in ((a, 3, 2), (b, 5, 5), (d, 13, 6), (c, 4, 4)):
        _value(days, region, JAN, jan)
        _value(days, region, FEB, feb)
    # BE01.02 Q1 -> score 2 * (x - 50): A 80, B 40, D 110 -> 120 clipped to 100, C 60
    for region, q1 in ((a, 90), (b, 70), (d, 110), (c, 80)):
        _value(satisfaction, region, Q1, q1, kind=SourceKind.FILLING, frequency="quarter")
    # BE02.01 -> score x
    for region, jan, feb in ((a, 50, 60), (b, 70, 60), (d, 40, 80), (c, 60, 65)):
        _value(rate, region, JAN, jan)
        _value(rate, region, FEB, feb)
    # A survey figure for the same leaf is scored and ranked on its own and does not feed BE02.
    _value(rate, a, JAN, 10, kind=SourceKind.SURVEY)
    return {"C": c, "A": a, "B": b, "D": d, "cycle": cycle, "be01": be01}


@pytest.mark.django_db
def test_three_level_tree_scores_and_ranks(tree):
    report = score_periods({JAN, FEB})

    # Leaves, ranked among the three districts; the city is not ranked.
    assert _scores("BE01.01", JAN, SourceKind.RECORDS) == {
        "449901": (80.0, 1, 3),
        "449902": (60.0, 2, 3),
        "449903": (0.0, 3, 3),
        "449900": (70.0, None, None),
    }
    assert _scores("BE01.02", Q1, SourceKind.FILLING) == {
        "449901": (80.0, 2, 3),
        "449902": (40.0, 3, 3),
        "449903": (100.0, 1, 3),
        "449900": (60.0, None, None),
    }
    assert _scores("BE02.01", JAN, SourceKind.SURVEY) == {"449901": (10.0, 1, 1)}
    # January: BE01 = (BE01.01 + BE01.02 of Q1) / 2: A (80+80)/2 = 80, B (60+40)/2 = 50,
    # D (0+100)/2 = 50 (tie with B: both rank 2), C (70+60)/2 = 65.
    assert _scores("BE01", JAN) == {
        "449901": (80.0, 1, 3),
        "449902": (50.0, 2, 3),
        "449903": (50.0, 2, 3),
        "449900": (65.0, None, None),
    }
    # BE02 = BE02.01 from records (A's survey 10 is not used): A 50, B 70, D 40, C 60
    assert _scores("BE02", JAN) == {
        "449901": (50.0, 2, 3),
        "449902": (70.0, 1, 3),
        "449903": (40.0, 3, 3),
        "449900": (60.0, None, None),
    }
    # BE = (BE01 + BE02) / 2: A 65, B 60, D 45, C 62.5
    assert _scores("BE", JAN) == {
        "449901": (65.0, 1, 3),
        "449902": (60.0, 2, 3),
        "449903": (45.0, 3, 3),
        "449900": (62.5, None, None),
    }
    # February uses the same Q1 satisfaction: BE01 A (90+80)/2 = 85, B (60+40)/2 = 50,
    # D (50+100)/2 = 75, C (70+60)/2 = 65; BE02 A 60, B 60, D 80, C 65;
    # BE A 72.5, B 55, D 77.5, C 65.
    assert _scores("BE01", FEB) == {
        "449901": (85.0, 1, 3),
        "449902": (50.0, 3, 3),
        "449903": (75.0, 2, 3),
        "449900": (65.0, None, None),
    }
    assert _scores("BE02", FEB) == {
        "449901": (60.0, 2, 3),
        "449902": (60.0, 2, 3),
        "449903": (80.0, 1, 3),
        "449900": (65.0, None, None),
    }
    assert _scores("BE", FEB) == {
        "449901": (72.5, 2, 3),
        "449902": (55.0, 3, 3),
        "449903": (77.5, 1, 3),
        "449900": (65.0, None, None),
    }
    composite = _row("BE", tree["C"], JAN)
    assert (composite.value, composite.frequency, composite.observations) == (62.5, "month", 2)
    # March has only the quarterly figure: no monthly composite is opened by it alone.
    assert not IndicatorValue.objects.filter(period=MAR).exists()
    # 3 parents x 4 regions x 2 months; 12 monthly leaf rows x 2 + 4 quarterly + 1 survey
    assert IndicatorValue.objects.filter(source_kind=SourceKind.COMPOSITE).count() == 24
    assert report.as_dict() == {"leaf_rows": 21, "created": 24, "updated": 0, "deleted": 0}


@pytest.mark.django_db
def test_recomputing_gives_identical_rows(tree):
    score_periods({JAN, FEB})
    first = _snapshot()
    report = score_periods({JAN, FEB})
    assert _snapshot() == first
    assert report.as_dict() == {"leaf_rows": 21, "created": 0, "updated": 0, "deleted": 0}


@pytest.mark.django_db
def test_only_the_requested_periods_are_written(tree):
    score_periods({FEB})
    # February composites use the Q1 satisfaction score computed in memory ...
    assert _row("BE01", tree["A"], FEB).score == 85.0
    assert _row("BE", tree["D"], FEB).rank == 1
    # ... but January rows, and the quarterly rows dated 1 January, are left as they were.
    assert _row("BE01.01", tree["A"], JAN, SourceKind.RECORDS).score is None
    assert _row("BE01.02", tree["A"], Q1, SourceKind.FILLING).score is None
    assert not IndicatorValue.objects.filter(source_kind=SourceKind.COMPOSITE, period=JAN).exists()


@pytest.mark.django_db
def test_composites_whose_children_lost_their_scores_are_deleted(tree):
    score_periods({JAN, FEB})
    IndicatorValue.objects.filter(
        region=tree["D"], period=FEB, indicator__code__in=["BE01.01", "BE02.01"]
    ).delete()
    report = score_periods({FEB})
    # D keeps only its quarterly satisfaction, which does not open a monthly BE01 on its own.
    assert not IndicatorValue.objects.filter(
        region=tree["D"], period=FEB, source_kind=SourceKind.COMPOSITE
    ).exists()
    assert report.deleted == 3
    assert _scores("BE", FEB) == {
        "449901": (72.5, 1, 2),
        "449902": (55.0, 2, 2),
        "449900": (65.0, None, None),
    }


@pytest.mark.django_db
def test_expert_weights_renormalised_over_children_with_a_score(tree):
    EvaluationCycle.objects.filter(pk=tree["cycle"].pk).update(weighting=Weighting.EXPERT)
    Indicator.objects.filter(code="BE01").update(weight=3)
    IndicatorValue.objects.filter(region=tree["D"], period=JAN, indicator__code="BE02.01").delete()
    score_periods({JAN})
    # BE = (3 * BE01 + 1 * BE02) / 4: A (240+50)/4 = 72.5, B (150+70)/4 = 55,
    # C (195+60)/4 = 63.75; D has no BE02, so BE = BE01 = 50.
    assert _scores("BE", JAN) == {
        "449901": (72.5, 1, 3),
        "449902": (55.0, 2, 3),
        "449903": (50.0, 3, 3),
        "449900": (63.75, None, None),
    }


@pytest.mark.django_db
def test_equal_weighting_ignores_catalogue_weights(tree):
    Indicator.objects.filter(code="BE01").update(weight=3)
    score_periods({JAN})
    assert _row("BE", tree["A"], JAN).score == 65.0  # (80 + 50) / 2


@pytest.mark.django_db
def test_equal_weighting_leaves_out_weight_zero_leaves(tree):
    # An informational leaf (weight 0, like 办结量) is scored on its own but never averaged in.
    volume = Indicator.objects.create(
        code="BE02.02",
        name="办结量",
        parent=Indicator.objects.get(code="BE02"),
        level=2,
        direction="higher_is_better",
        weight=0,
    )
    Goalpost.objects.create(indicator=volume, cycle=tree["cycle"], best=100, worst=0)
    _value(volume, tree["A"], JAN, 0)
    score_periods({JAN})
    assert _row("BE02.02", tree["A"], JAN, kind=SourceKind.RECORDS).score == 0.0
    assert _row("BE02", tree["A"], JAN).score == 50.0  # BE02.01 alone, not (50 + 0) / 2


@pytest.mark.django_db
def test_entropy_weighting_across_the_districts(city):
    south = org.create_region(
        actor=None, code="449903", name="南湖区", level=RegionLevel.DISTRICT, parent=city["root"]
    )
    root = Indicator.objects.create(code="E", name="熵权示例", direction="higher_is_better")
    first = Indicator.objects.create(
        code="E.1", name="一", parent=root, level=1, direction="higher_is_better"
    )
    second = Indicator.objects.create(
        code="E.2", name="二", parent=root, level=1, direction="higher_is_better"
    )
    cycle = EvaluationCycle.objects.create(
        code="E2026",
        name="熵权周期",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        weighting=Weighting.ENTROPY,
    )
    for indicator in (first, second):
        Goalpost.objects.create(indicator=indicator, cycle=cycle, best=100, worst=0)
    rows = (("district_a", 40, 60), ("district_b", 20, 20), ("root", 30, 50))
    for name, one, two in rows:
        _value(first, city[name], JAN, one)
        _value(second, city[name], JAN, two)
    _value(first, south, JAN, 20)
    _value(second, south, JAN, 20)
    score_periods({JAN})
    # Districts: the matrix of test_entropy_weights_hand_computed, w = (0.28418, 0.71582).
    # A = 40 w1 + 60 w2 = 54.3164030943513; B = D = 20. The city, alone on its level, uses the
    # districts' weights: 30 w1 + 50 w2 = 44.316403094351294.
    scores = _scores("E", JAN)
    assert scores["449901"][0] == pytest.approx(54.3164030943513, abs=1e-9)
    assert scores["449900"][0] == pytest.approx(44.316403094351294, abs=1e-9)
    assert {k: v[1:] for k, v in scores.items()} == {
        "449901": (1, 3),
        "449902": (2, 3),
        "449903": (2, 3),
        "449900": (None, None),
    }
    assert (scores["449902"][0], scores["449903"][0]) == (20.0, 20.0)


@pytest.mark.django_db
def test_goalposts_of_the_cycle_containing_the_period_else_current(tree):
    earlier = EvaluationCycle.objects.create(
        code="2025", name="2025年度", starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 12, 31)
    )
    rate = Indicator.objects.get(code="BE02.01")
    Goalpost.objects.create(indicator=rate, cycle=earlier, best=100, worst=50)
    days = Indicator.objects.get(code="BE01.01")
    june25, june26, jan27 = dt.date(2025, 6, 1), dt.date(2026, 6, 1), dt.date(2027, 1, 1)
    for period in (june25, june26, jan27):
        _value(rate, tree["A"], period, 75)
    _value(days, tree["A"], june25, 3)  # no goalpost in 2025
    score_periods({june25, june26, jan27})
    # 2025: 2 * (75 - 50) = 50; 2026: 75; 2027 has no cycle, so the current (2026) applies: 75
    assert _row("BE02.01", tree["A"], june25, SourceKind.RECORDS).score == 50.0
    assert _row("BE02.01", tree["A"], june26, SourceKind.RECORDS).score == 75.0
    assert _row("BE02.01", tree["A"], jan27, SourceKind.RECORDS).score == 75.0
    assert _row("BE01.01", tree["A"], june25, SourceKind.RECORDS).score is None
    assert _row("BE", tree["A"], june25).score == 50.0  # BE01 has no score: BE = BE02
    # A fixed cycle applies its goalposts to every period.
    score_periods({june26}, cycle=earlier)
    assert _row("BE02.01", tree["A"], june26, SourceKind.RECORDS).score == 50.0


@pytest.mark.django_db
def test_monthly_child_of_a_quarterly_parent_counts_with_its_mean(city):
    quarterly = Indicator.objects.create(
        code="Q", name="季度合成", direction="higher_is_better", frequency="quarter"
    )
    monthly = Indicator.objects.create(
        code="Q.1", name="月度", parent=quarterly, level=1, direction="higher_is_better"
    )
    cycle = EvaluationCycle.objects.create(
        code="Q2026", name="季度周期", starts_on=JAN, ends_on=dt.date(2026, 12, 31)
    )
    Goalpost.objects.create(indicator=monthly, cycle=cycle, best=100, worst=0)
    _value(monthly, city["district_a"], JAN, 80)
    _value(monthly, city["district_a"], FEB, 60)
    # Scoring February alone rewrites the Q1 composite: (80 + 60) / 2 = 70, March missing.
    score_periods({FEB})
    row = _row("Q", city["district_a"], Q1)
    assert (row.score, row.frequency, row.rank, row.rank_total) == (70.0, "quarter", 1, 1)


@pytest.mark.django_db
def test_an_inactive_indicator_takes_no_part(tree):
    Indicator.objects.filter(code="BE01.02").update(is_active=False)
    score_periods({JAN})
    # BE01 = BE01.01 alone: A 80, B 60, D 0
    assert _row("BE01", tree["A"], JAN).score == 80.0
    assert _row("BE01", tree["D"], JAN).score == 0.0
    assert _row("BE01.02", tree["A"], Q1, SourceKind.FILLING).score is None


# -- simulated evaluation ------------------------------------------------------------------


@pytest.mark.django_db
def test_simulate_changes_nothing_and_returns_the_new_rank(tree):
    score_periods({JAN, FEB})
    before = _snapshot()
    result = simulate(tree["D"], JAN, {"BE01.01": 1})
    assert _snapshot() == before
    indicators = result["indicators"]
    assert (result["region"], result["overall"], list(indicators)) == (
        "449903",
        "BE",
        ["BE", "BE01", "BE01.01", "BE01.02", "BE02", "BE02.01"],
    )
    # D's days 13 -> 1: BE01.01 0 -> 100, BE01 (100 + 100)/2 = 100, BE (100 + 40)/2 = 70,
    # which passes A (65) and B (60): rank 3 -> 1.
    assert indicators["BE01.01"] == {
        "period": JAN,
        "baseline_value": 13.0,
        "baseline_score": 0.0,
        "baseline_rank": 3,
        "baseline_rank_total": 3,
        "value": 1.0,
        "score": 100.0,
        "rank": 1,
        "rank_total": 3,
    }
    assert (indicators["BE01"]["baseline_score"], indicators["BE01"]["baseline_rank"]) == (50, 2)
    assert (indicators["BE01"]["score"], indicators["BE01"]["rank"]) == (100.0, 1)
    assert indicators["BE"] == {
        "period": JAN,
        "baseline_value": 45.0,
        "baseline_score": 45.0,
        "baseline_rank": 3,
        "baseline_rank_total": 3,
        "value": 70.0,
        "score": 70.0,
        "rank": 1,
        "rank_total": 3,
    }
    assert (indicators["BE02"]["score"], indicators["BE02"]["rank"]) == (40.0, 3)


@pytest.mark.django_db
def test_simulate_a_quarterly_leaf_within_the_quarter(tree):
    score_periods({JAN, FEB})
    before = _snapshot()
    result = simulate(tree["A"], FEB, {"BE01.02": 50})
    assert _snapshot() == before
    indicators = result["indicators"]
    # A's Q1 satisfaction 90 -> 50: score 0, last of (D 100, B 40, A 0); BE01 Feb (90 + 0)/2
    # = 45 behind B 50 and D 75; BE Feb (45 + 60)/2 = 52.5 behind D 77.5 and B 55.
    assert indicators["BE01.02"]["period"] == Q1
    assert (indicators["BE01.02"]["score"], indicators["BE01.02"]["rank"]) == (0.0, 3)
    assert (indicators["BE01"]["score"], indicators["BE01"]["rank"]) == (45.0, 3)
    assert (indicators["BE"]["score"], indicators["BE"]["rank"]) == (52.5, 3)
    assert (indicators["BE"]["baseline_score"], indicators["BE"]["baseline_rank"]) == (72.5, 2)


@pytest.mark.django_db
def test_simulate_the_city_has_no_rank(tree):
    result = simulate(tree["C"], JAN, {"BE02.01": 80})
    # BE02 = 80; BE = (65 + 80) / 2 = 72.5
    assert result["indicators"]["BE"]["score"] == 72.5
    assert result["indicators"]["BE"]["baseline_score"] == 62.5
    assert (result["indicators"]["BE"]["rank"], result["indicators"]["BE"]["rank_total"]) == (
        None,
        None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("what_if", "message"),
    [
        ({"BE01": 5}, "以下编码无效：BE01"),
        ({"XX.99": 5, "BE01.01": 2}, "以下编码无效：XX.99"),
        ({"BE01.01": float("nan")}, "BE01.01 的模拟值必须是有限的数字"),
    ],
)
def test_simulate_refuses_bad_input_and_changes_nothing(tree, what_if, message):
    score_periods({JAN})
    before = _snapshot()
    with pytest.raises(ValueError, match=message):
        simulate(tree["A"], JAN, what_if)
    assert _snapshot() == before
