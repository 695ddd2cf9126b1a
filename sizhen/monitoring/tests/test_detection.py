import datetime

import numpy as np
import pandas as pd
import pytest

from sizhen.monitoring.detection import (
    SPRING_FESTIVAL_MONTH,
    OverdueCase,
    cross_sectional,
    goalpost_breach,
    level_shift,
    overdue_cases,
    series_anomalies,
    severity,
)
from sizhen.monitoring.series import check_series

SEASON = {3: 1.05, 6: 1.08, 9: 1.04, 12: 1.15}  # quarter-end and year-end surges
DISTRICTS = [f"区县{i:02d}" for i in range(1, 14)]


def seasonal_series(start: str = "2023-01-01", months: int = 36, seed: int = 7) -> pd.Series:
    """Monthly counts around 100 with the Spring Festival (春节) month at 0.6 of normal."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=months, freq="MS")
    values = []
    for stamp in index:
        factor = SEASON.get(stamp.month, 1.0)
        if stamp.month == SPRING_FESTIVAL_MONTH[stamp.year]:
            factor = 0.6
        values.append(100.0 * factor + rng.normal(0.0, 1.5))
    return pd.Series(values, index=index)


def flat_series(months: int, seed: int, start: str = "2025-03-01") -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=months, freq="MS")
    return pd.Series(97.0 + rng.normal(0.0, 0.5, months), index=index)


# --- severity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [(7.0, "red"), (-7.0, "red"), (5.25, "orange"), (3.5, "yellow"), (3.49, "blue"), (0, "blue")],
)
def test_severity_colour_from_ratio_to_threshold(statistic, expected):
    assert severity(statistic, 3.5) == expected


def test_severity_refuses_non_positive_threshold():
    with pytest.raises(ValueError):
        severity(1.0, 0)


# --- cross-sectional -----------------------------------------------------------------------


def test_extreme_district_among_thirteen_is_the_only_finding():
    rng = np.random.default_rng(11)
    values = dict(zip(DISTRICTS, 96.0 + rng.normal(0.0, 1.0, 13), strict=True))
    values["区县09"] = 49.4
    findings = cross_sectional(
        values,
        period=datetime.date(2026, 3, 1),
        indicator_name="按时办结率",
        region_names={"区县09": "西山区"},
    )
    assert [(f.kind, f.region, f.method) for f in findings] == [
        ("cross_sectional_extreme", "区县09", "modified_z")
    ]
    finding = findings[0]
    assert finding.value == 49.4
    assert finding.score < -3.5 * 2
    assert finding.severity == "red"
    assert finding.lower is not None and finding.upper is not None
    assert finding.lower < finding.expected < finding.upper < 100
    assert finding.explanation.startswith("2026-03 西山区 按时办结率 49.4，较各地区正常范围 ")
    assert f"{finding.lower:.1f}–{finding.upper:.1f}" in finding.explanation
    assert "显著偏低" in finding.explanation and "修正Z分数" in finding.explanation
    assert len(finding.points) == 13


def test_skewed_indicator_modified_z_over_flags_but_iqr_log_does_not():
    rng = np.random.default_rng(4)
    # enterprise registrations: log-normal across districts, big city districts far above rural
    counts = np.round(np.exp(rng.normal(5.0, 1.0, 13)))
    values = dict(zip(DISTRICTS, counts, strict=True))
    assert len(cross_sectional(values)) >= 1
    assert cross_sectional(values, skewed=True) == []


def test_skewed_indicator_still_flags_a_real_outlier_on_the_log_scale():
    rng = np.random.default_rng(4)
    counts = np.round(np.exp(rng.normal(5.0, 1.0, 13)))
    values = dict(zip(DISTRICTS, counts, strict=True))
    values["区县13"] = 60000.0
    findings = cross_sectional(values, skewed=True, indicator_name="新设企业数")
    assert [(f.region, f.method, f.kind) for f in findings] == [
        ("区县13", "iqr_log", "cross_sectional_extreme")
    ]
    assert findings[0].value == 60000.0
    assert findings[0].upper is not None and 1000 < findings[0].upper < 60000
    assert "对数四分位距法" in findings[0].explanation


def test_cross_section_needs_five_regions():
    assert cross_sectional({"a": 1.0, "b": 1.0, "c": 1.0, "d": 500.0}) == []


def test_cross_section_with_mad_zero():
    identical = dict.fromkeys(DISTRICTS, 100.0)
    assert cross_sectional(identical) == []
    assert cross_sectional(dict.fromkeys(DISTRICTS, 0.0)) == []
    one_off = dict(identical, 区县05=60.0)
    findings = cross_sectional(one_off)
    assert [(f.region, f.value) for f in findings] == [("区县05", 60.0)]


def test_skewed_cross_section_refuses_negative_values():
    with pytest.raises(ValueError):
        cross_sectional(dict(zip(DISTRICTS, range(-1, 12), strict=True)), skewed=True)


# --- single series -------------------------------------------------------------------------


def test_spike_in_last_month_of_three_year_series_found_by_stl():
    series = seasonal_series()
    series.iloc[-1] = 150.0  # December usually about 115
    findings = series_anomalies(
        series, region="449902", region_name="西山区", indicator_name="新设企业数"
    )
    assert [(f.kind, f.region, f.method, f.period) for f in findings] == [
        ("abnormal_change", "449902", "stl_residual", datetime.date(2025, 12, 1))
    ]
    finding = findings[0]
    assert finding.value == 150.0
    assert finding.expected is not None and 110 < finding.expected < 120
    assert finding.score > 3.5 * 2 and finding.severity == "red"
    assert finding.explanation.startswith("2025-12 西山区 新设企业数 150，较同月历史预期 ")
    assert f"{finding.lower:.1f}–{finding.upper:.1f}" in finding.explanation
    assert "显著偏高" in finding.explanation and "STL 稳健残差" in finding.explanation
    assert len(finding.points) == 36


def test_drop_in_short_history_found_by_same_month_yoy():
    series = seasonal_series(months=24)
    series.iloc[-1] = 80.0  # December usually about 115
    findings = series_anomalies(series, region="449901")
    assert [(f.kind, f.region, f.method, f.period) for f in findings] == [
        ("abnormal_change", "449901", "yoy_same_month", datetime.date(2024, 12, 1))
    ]
    assert findings[0].score < 0
    assert "较上年同月推算预期" in findings[0].explanation
    assert "显著偏低" in findings[0].explanation


def test_ten_month_series_uses_hampel_on_month_on_month_changes():
    series = flat_series(10, seed=5)
    series.iloc[-1] = 88.0
    findings = series_anomalies(series, region="449901")
    assert [(f.method, f.period, f.value) for f in findings] == [
        ("hampel_change", datetime.date(2025, 12, 1), 88.0)
    ]
    assert findings[0].expected is not None and 96 < findings[0].expected < 98
    clean = flat_series(10, seed=5)
    for end in range(6, 11):  # each month checked as it arrives
        assert series_anomalies(clean.iloc[:end]) == []


def test_clean_seasonal_series_with_moving_spring_festival_raises_nothing():
    series = seasonal_series(months=38)  # 2023-01 .. 2026-02; festival Jan, Feb, Jan, Feb
    # every month of 2025 and early 2026 checked as it arrives, on the YoY and the STL path
    for end in range(25, 39):
        assert series_anomalies(series.iloc[:end]) == [], series.index[end - 1]
    assert level_shift(series) is None


def test_without_festival_alignment_the_early_festival_january_is_flagged():
    # the same clean series: the alignment, not luck, is what keeps January 2025 quiet
    series = seasonal_series(months=25)
    findings = series_anomalies(series, spring_festival=False)
    assert [(f.period, f.method) for f in findings] == [
        (datetime.date(2025, 1, 1), "yoy_same_month")
    ]


def test_constant_series_no_crash_no_alarm():
    for months in (10, 24, 40):
        index = pd.date_range("2023-01-01", periods=months, freq="MS")
        constant = pd.Series(100.0, index=index)
        assert series_anomalies(constant, check_last=3) == []
        assert level_shift(constant) is None
        zeros = pd.Series(0.0, index=index)
        assert series_anomalies(zeros, check_last=3) == []


def test_constant_history_then_a_real_drop_is_flagged():
    index = pd.date_range("2024-01-01", periods=20, freq="MS")
    series = pd.Series(100.0, index=index)
    series.iloc[-1] = 60.0
    findings = series_anomalies(series)
    assert [(f.period, f.value, f.severity) for f in findings] == [
        (datetime.date(2025, 8, 1), 60.0, "red")
    ]


def test_check_last_must_be_positive():
    with pytest.raises(ValueError):
        series_anomalies(seasonal_series(), check_last=0)


# --- level shift ---------------------------------------------------------------------------


def shifted_series() -> pd.Series:
    series = seasonal_series(months=42)  # 2023-01 .. 2026-06
    series.iloc[30:] += 25.0  # policy change from 2025-07: permanently higher
    return series


def test_level_shift_found_once_with_a_stable_period():
    series = shifted_series()
    periods = set()
    for end in range(33, 43):  # re-run every month after the third shifted month arrives
        finding = level_shift(series.iloc[:end], region="449901", indicator_name="新设企业数")
        assert finding is not None
        assert (finding.kind, finding.method, finding.region) == (
            "level_shift",
            "level_shift",
            "449901",
        )
        periods.add(finding.period)
    assert periods == {datetime.date(2025, 7, 1)}
    assert level_shift(series.iloc[:32]) is None  # two shifted months are not yet persistent
    assert finding.explanation.startswith("449901 新设企业数 自 2025-07 起连续 3 期水平整体上移")
    assert f"{finding.lower:.1f}–{finding.upper:.1f}" in finding.explanation
    assert finding.value > finding.upper


def test_after_baseline_reset_the_months_after_a_shift_are_not_flagged():
    series = shifted_series()
    shift = level_shift(series)
    assert shift is not None
    for end in range(33, 43):
        assert series_anomalies(series.iloc[:end], baseline_from=shift.period) == []
    # and the reset baseline still catches a real spike after the shift
    spiked = series.copy()
    spiked.iloc[-1] += 40.0
    findings = series_anomalies(spiked, baseline_from=shift.period)
    assert [(f.kind, f.period) for f in findings] == [
        ("abnormal_change", datetime.date(2026, 6, 1))
    ]
    assert level_shift(series, baseline_from=shift.period) is None


def test_without_baseline_reset_the_shift_keeps_alarming():
    series = shifted_series()
    flagged = [end for end in range(31, 43) if series_anomalies(series.iloc[:end])]
    assert len(flagged) >= 3


# --- goalposts -----------------------------------------------------------------------------


def test_goalpost_breach_higher_is_better():
    assert (
        goalpost_breach(99.0, best=100, worst=80, target=98, direction="higher_is_better") is None
    )
    finding = goalpost_breach(
        93.0,
        best=100,
        worst=80,
        target=98,
        direction="higher_is_better",
        region="449902",
        region_name="西山区",
        period=datetime.date(2026, 3, 1),
        indicator_name="按时办结率",
    )
    assert finding is not None
    assert (finding.kind, finding.expected, finding.lower, finding.upper) == (
        "goalpost_breach",
        98.0,
        98.0,
        100.0,
    )
    assert finding.score == pytest.approx(5 / 18)
    assert finding.severity == "blue"
    assert finding.explanation.startswith(
        "2026-03 西山区 按时办结率 93，未达目标值（合格区间 98–100"
    )
    beyond = goalpost_breach(75.0, best=100, worst=80, target=98, direction="higher_is_better")
    assert beyond is not None and beyond.severity == "red"
    assert "劣于最差值" in beyond.explanation


def test_goalpost_breach_lower_is_better_without_target():
    args = {"best": 2.0, "worst": 20.0, "target": None, "direction": "lower_is_better"}
    assert goalpost_breach(19.0, **args) is None
    finding = goalpost_breach(26.0, **args)
    assert finding is not None
    assert finding.score == pytest.approx(1 + 6 / 18)
    assert (finding.severity, finding.lower, finding.upper) == ("red", 2.0, 20.0)


def test_goalpost_breach_rejects_inconsistent_goalposts():
    with pytest.raises(ValueError):
        goalpost_breach(5, best=1, worst=10, target=None, direction="higher_is_better")
    with pytest.raises(ValueError):
        goalpost_breach(5, best=10, worst=1, target=12, direction="higher_is_better")
    with pytest.raises(ValueError):
        goalpost_breach(5, best=10, worst=1, target=5, direction="sideways")


# --- many series ---------------------------------------------------------------------------


def test_check_series_finds_planted_spike_drop_and_shift_only():
    frames = []
    for number in range(40):
        series = seasonal_series(months=36, seed=100 + number)
        if number == 3:
            series.iloc[-1] = 160.0
        if number == 17:
            series.iloc[-1] = 70.0
        if number == 29:
            series.iloc[-3:] += 30.0
        frames.append(
            pd.DataFrame({"series_id": number, "period": series.index, "value": series.values})
        )
    result = check_series(pd.concat(frames, ignore_index=True))
    assert sorted(zip(result["series_id"], result["kind"], strict=True)) == [
        (3, "abnormal_change"),
        (17, "abnormal_change"),
        (29, "level_shift"),
    ]
    by_id = result.set_index("series_id")
    assert by_id.loc[3, "period"] == pd.Timestamp("2025-12-01")
    assert by_id.loc[17, "score"] < 0 and by_id.loc[3, "score"] > 0
    assert by_id.loc[29, "period"] == pd.Timestamp("2025-10-01")


def test_check_series_of_nothing_is_empty():
    empty = pd.DataFrame({"series_id": [], "period": [], "value": []})
    assert check_series(empty).empty


def test_check_series_compares_an_early_festival_january_with_earlier_festival_months():
    frames = []
    for number in range(20):
        series = seasonal_series(months=25, seed=200 + number)  # ends 2025-01, festival month
        frames.append(
            pd.DataFrame({"series_id": number, "period": series.index, "value": series.values})
        )
    frame = pd.concat(frames, ignore_index=True)
    assert check_series(frame).empty
    flagged = check_series(frame, spring_festival=False)
    assert len(flagged) == 20
    assert set(flagged["period"]) == {pd.Timestamp("2025-01-01")}


# --- thresholds from the alert rules ------------------------------------------------------


def test_series_thresholds_are_the_rule_s():
    stl = seasonal_series()
    stl.iloc[-1] = 150.0
    [found] = series_anomalies(stl)
    assert series_anomalies(stl, stl_threshold=abs(found.score) + 0.1) == []
    yoy = seasonal_series(months=24)
    yoy.iloc[-1] = 80.0
    [drop] = series_anomalies(yoy)
    assert drop.method == "yoy_same_month"
    assert series_anomalies(yoy, yoy_threshold=abs(drop.score) + 0.1) == []
    # The YoY threshold does not touch the month-on-month path, and vice versa.
    assert len(series_anomalies(yoy, hampel_threshold=50.0)) == 1
    short = flat_series(10, seed=5)
    short.iloc[-1] = 88.0
    [step] = series_anomalies(short)
    assert series_anomalies(short, hampel_threshold=abs(step.score) + 0.1) == []
    assert "阈值 4）" in series_anomalies(short, hampel_threshold=4.0)[0].explanation


def test_hampel_window_shorter_than_the_minimum_history_gives_no_verdict():
    short = flat_series(10, seed=5)
    short.iloc[-1] = 88.0
    assert len(series_anomalies(short, hampel_window=8)) == 1
    assert series_anomalies(short, hampel_window=5) == []


def test_level_shift_threshold_and_run_length_are_the_rule_s():
    series = shifted_series()
    finding = level_shift(series)
    assert finding is not None
    assert level_shift(series, threshold=abs(finding.score) + 0.1) is None
    assert "阈值 3）" in finding.explanation
    longer = level_shift(series, k=4)
    assert longer is not None and longer.period == finding.period
    assert "连续 4 期" in longer.explanation


def test_overdue_cases_lists_the_worst_and_counts_the_rest():
    cases = [OverdueCase(f"BJ{i:03d}", "发票领用", i) for i in range(1, 8)]
    finding = overdue_cases(
        cases,
        datetime.date(2026, 10, 31),
        region="449901",
        region_name="东湖区",
        department_name="税务局",
        period=datetime.date(2026, 10, 1),
        shown=2,
    )
    assert finding is not None
    assert (finding.kind, finding.value, finding.score, finding.severity) == (
        "overdue_cases",
        7.0,
        1.4,
        "yellow",
    )
    assert finding.explanation == (
        "2026-10 东湖区 税务局 有 7 件政务服务办件截至 2026-10-31 超过承诺时限仍未办结，"
        "最长超期 7 个工作日；超期最久的办件：BJ007（发票领用，超期 7 个工作日）、"
        "BJ006（发票领用，超期 6 个工作日）等 7 件"
        "（办件承诺时限：按工作日计，超期 5 个工作日为黄色，10 个工作日为红色）"
    )
    assert overdue_cases(cases, datetime.date(2026, 10, 31), minimum=8) is None
    assert overdue_cases([], datetime.date(2026, 10, 31)) is None
