"""Explainable anomaly detection (异常检测) for indicator values: pure functions, no database.

Every detector returns ``Finding`` objects that carry the value, the expected range, the method,
the statistic, a four-colour severity (四色预警) and a Chinese sentence a leader can read. The
methods and their defaults follow docs/alerts-detection.md (robust statistics only: medians and
MADs, so one bad month cannot hide itself by inflating a standard deviation).
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from sizhen.core.periods import Frequency, Period

Kind = Literal[
    "cross_sectional_extreme",
    "abnormal_change",
    "level_shift",
    "goalpost_breach",
    "benchmark_lag",
    "stale_source",
    "overdue_filling",
    "overdue_cases",
]
Severity = Literal["red", "orange", "yellow", "blue"]
#: The indicator frequency a series runs at ("month", "quarter", "year").
Freq = Frequency

MAD_TO_SD = 1.4826  # 1 / Phi^-1(3/4): MAD * this estimates the SD under normality
MEAN_AD_TO_SD = 1.2533  # sqrt(pi/2): Iglewicz-Hoaglin fallback when more than half the values tie
MODIFIED_Z_THRESHOLD = 3.5  # Iglewicz & Hoaglin (1993)
HAMPEL_THRESHOLD = 3.0  # Pearson's 3-sigma edit rule, as in sktime/pracma Hampel defaults
STL_THRESHOLD = 3.5
IQR_FENCE = 1.5  # Tukey's fences
GOALPOST_THRESHOLD = 0.5  # half of the target-to-worst gap consumed
BENCHMARK_LAG_SHARE = 0.1  # behind the best benchmark city by more than 10 % of its value
# An exactly constant history has MAD = 0; without a floor every rounding change would be
# "infinitely" anomalous. The floor is a fraction of the series' typical absolute level.
MIN_SCALE_FRACTION = 0.001
MIN_CROSS_SECTION = 5
MIN_CHANGE_HISTORY = 6

# Lunar New Year's day falls in January or February; the Spring Festival (春节) dip follows it.
# Only the month matters here. Years outside the table are analysed without the realignment.
SPRING_FESTIVAL_MONTH: dict[int, int] = {
    2010: 2, 2011: 2, 2012: 1, 2013: 2, 2014: 1, 2015: 2, 2016: 2, 2017: 1, 2018: 2,
    2019: 2, 2020: 1, 2021: 2, 2022: 2, 2023: 1, 2024: 2, 2025: 1, 2026: 2, 2027: 2,
    2028: 1, 2029: 2, 2030: 2, 2031: 1, 2032: 2, 2033: 1, 2034: 2, 2035: 2,
}  # fmt: skip

METHOD_LABELS: dict[str, str] = {
    "modified_z": "修正Z分数",
    "funnel": "漏斗图检验（按办件数）",
    "iqr_log": "对数四分位距法",
    "yoy_same_month": "同月同比变化",
    "stl_residual": "STL 稳健残差",
    "hampel_change": "环比变化 Hampel 检验",
    "level_shift": "水平突变检验",
    "level_shift_cases": "按办件数加权的水平突变检验",
    "goalpost": "目标值与最差值",
    "benchmark": "标杆城市对比",
    "staleness": "数据时效",
    "overdue": "填报时限",
    "overdue_cases": "办件承诺时限",
}
SEVERITY_LABELS: dict[str, str] = {
    "red": "红色",
    "orange": "橙色",
    "yellow": "黄色",
    "blue": "蓝色",
}
_SEASON_LENGTH: dict[str, int] = {"month": 12, "quarter": 4, "year": 1}
_MAD_SMALL_SAMPLE: dict[int, float] = {
    2: 1.196, 3: 1.495, 4: 1.363, 5: 1.206, 6: 1.200, 7: 1.140, 8: 1.129, 9: 1.107,
}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One explainable alert candidate (预警线索)."""

    kind: Kind
    region: Hashable
    period: datetime.date | None
    value: float
    expected: float | None
    lower: float | None
    upper: float | None
    method: str
    score: float
    severity: Severity
    points: list[tuple[datetime.date, float]] = field(default_factory=list)
    explanation: str = ""


def severity(statistic: float, threshold: float) -> Severity:
    """Four-colour code from the size of the statistic relative to its threshold."""
    if threshold <= 0:
        raise ValueError("threshold must be positive")
    ratio = abs(statistic) / threshold
    if ratio >= 2:
        return "red"
    if ratio >= 1.5:
        return "orange"
    if ratio >= 1:
        return "yellow"
    return "blue"


# --- helpers -------------------------------------------------------------------------------


def small_sample_factor(n: int) -> float:
    """Croux & Rousseeuw (1992) finite-sample correction of the MAD (1 for large n)."""
    if n < 2:
        return 1.0
    return _MAD_SMALL_SAMPLE.get(n, n / (n - 0.8))


def robust_scale(values: np.ndarray, *, floor: float = 0.0) -> float:
    """Robust SD: 1.4826·MAD, else 1.2533·mean absolute deviation, never below ``floor``."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return floor
    med = float(np.median(values))
    scale = MAD_TO_SD * float(np.median(np.abs(values - med)))
    if scale == 0.0:
        scale = MEAN_AD_TO_SD * float(np.mean(np.abs(values - med)))
    return max(scale, floor)


def prediction_scale(history: np.ndarray, *, floor: float = 0.0) -> float:
    """Spread for judging a NEW value against a short history of ``m`` values.

    The MAD of a handful of values is biased low and noisy, so a plain 3σ rule over-alarms on
    short histories (measured: one false alarm in five checks with 4 past changes). The MAD is
    corrected for its sample size and widened by √(1 + 1/m), the usual prediction-interval term.
    """
    m = len(history)
    base = robust_scale(history) * small_sample_factor(m) * np.sqrt(1.0 + 1.0 / max(m, 1))
    return max(float(base), floor)


#: Values beyond this many robust SDs are pulled in before a winsorised SD is computed.
WINSOR_LIMIT = 2.5
#: Variance of a standard normal winsorised at ±2.5 (1 − 2·(2.5·φ(2.5) − (2.5² − 1)·Φ(−2.5))).
WINSOR_VARIANCE = 0.9573


def winsorised_sd(block: np.ndarray) -> np.ndarray:
    """Row-wise SD of the values winsorised at median ± 2.5 robust SDs (Huber 1981), NaN-aware:
    nearly as efficient as the plain SD on normal data, so limits can follow Student's t with
    the sample's degrees of freedom (a MAD of a dozen values is so noisy that a 3σ rule on it
    raised one false alarm in thirty), yet one festival month or one wild value cannot inflate
    it."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no spread
        centre = np.nanmedian(block, axis=1)
        deviation = np.abs(block - centre[:, None])
        mad = np.nanmedian(deviation, axis=1)
        scale = np.where(mad > 0, MAD_TO_SD * mad, MEAN_AD_TO_SD * np.nanmean(deviation, axis=1))
        reach = (WINSOR_LIMIT * scale)[:, None]
        clipped = np.clip(block, centre[:, None] - reach, centre[:, None] + reach)
        sd = np.nanstd(clipped, axis=1, ddof=1)
    return np.nan_to_num(sd / np.sqrt(WINSOR_VARIANCE))


def t_limit(threshold: float | np.ndarray, freedom: int | np.ndarray) -> np.ndarray:
    """The Student-t quantile with ``freedom`` degrees of freedom of the same tail probability
    as ``threshold`` standard normal deviations: the rule's threshold when the spread is
    estimated from a handful of values."""
    return np.asarray(stats.t.ppf(stats.norm.cdf(threshold), np.maximum(freedom, 1)))


def _scale_floor(values: np.ndarray) -> float:
    """Smallest spread allowed: a fraction of the typical level, and never zero."""
    finite = np.abs(values[np.isfinite(values)])
    level = float(np.median(finite)) if finite.size else 0.0
    return max(MIN_SCALE_FRACTION * level, 1e-9)


def _format_number(value: float) -> str:
    magnitude = abs(value)
    decimals = 1 if magnitude >= 10 else 2 if magnitude >= 1 else 3
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _subject(period: datetime.date | None, freq: Freq, region_name: str, indicator: str) -> str:
    label = Period.containing(period, freq).label if period else ""
    return " ".join(p for p in (label, region_name, indicator) if p)


def _as_date(stamp: object) -> datetime.date:
    return pd.Timestamp(stamp).date()


def _direction_word(deviation: float) -> str:
    return "显著偏高" if deviation > 0 else "显著偏低"


#: The domain of an indicator's values (lowest, highest; None: open), ``Indicator.value_bounds``.
Bounds = tuple[float | None, float | None]
UNBOUNDED: Bounds = (None, None)


def clip(value: float, bounds: Bounds) -> float:
    """A statistic's expected value or range end moved into the values' domain: a rate's normal
    range never reaches past 100 %, a count's never below 0."""
    low, high = bounds
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


def _is_rate(unit: str) -> bool:
    return unit.strip() == "%"


# --- cross-sectional -----------------------------------------------------------------------


def cross_sectional(
    values: Mapping[Hashable, float],
    *,
    skewed: bool = False,
    period: datetime.date | None = None,
    freq: Freq = "month",
    indicator_name: str = "",
    region_names: Mapping[Hashable, str] | None = None,
    threshold: float | None = None,
    bounds: Bounds = UNBOUNDED,
    cases: Mapping[Hashable, float] | None = None,
    share: bool = False,
) -> list[Finding]:
    """Districts far from their peers in one period (横向比较).

    Modified z-score |0.6745·(x − median)/MAD| > 3.5; with ``skewed`` Tukey fences
    (Q1 − 1.5·IQR, Q3 + 1.5·IQR) on the log1p scale; with the ``cases`` behind each value (a
    mean or a rate, ``share`` in %) a funnel plot (``_funnel``). Fewer than 5 regions: no
    verdict.
    """
    clean = {
        k: float(v)
        for k, v in values.items()
        if v is not None and np.isfinite(v) and (cases is None or (cases.get(k) or 0) > 0)
    }
    if len(clean) < MIN_CROSS_SECTION:
        return []
    names = region_names or {}
    keys = list(clean)
    x = np.array([clean[k] for k in keys])
    points = [(period, v) for v in x] if period is not None else []
    findings: list[Finding] = []
    if cases is not None:
        centre, limit, lower, upper, beyond = _funnel(keys, x, cases, share, threshold, bounds)
        for key, xi, score in beyond:
            text = (
                f"偏离 {_format_number(abs(score))} 倍（含抽样误差），阈值 {_format_number(limit)}"
            )
            findings.append(
                _cross_finding(
                    key, period, xi, centre, lower, upper, "funnel", score, limit, points, freq,
                    names.get(key, str(key)), indicator_name, stat_text=text,
                )
            )  # fmt: skip
        return findings
    if skewed:
        if np.any(x < 0):
            raise ValueError("skewed cross-sections must be non-negative (log1p scale)")
        limit = IQR_FENCE if threshold is None else threshold
        y = np.log1p(x)
        q1, q3 = (float(q) for q in np.percentile(y, [25, 75]))
        iqr = q3 - q1
        low_fence, high_fence = q1 - limit * iqr, q3 + limit * iqr
        spread = max(iqr, MIN_SCALE_FRACTION * max(abs(q1), abs(q3), 1e-9))
        expected = clip(float(np.expm1(np.median(y))), bounds)
        lower = clip(float(np.expm1(low_fence)), bounds)
        upper = clip(float(np.expm1(high_fence)), bounds)
        for key, xi, yi in zip(keys, x, y, strict=True):
            if low_fence <= yi <= high_fence:
                continue
            excess = (yi - q3) / spread if yi > high_fence else (q1 - yi) / spread
            findings.append(
                _cross_finding(
                    key, period, float(xi), expected, lower, upper, "iqr_log", float(excess),
                    limit, points, freq, names.get(key, str(key)), indicator_name,
                    stat_text=f"超出四分位距 {_format_number(float(excess))} 倍",
                )
            )  # fmt: skip
        return findings
    limit = MODIFIED_Z_THRESHOLD if threshold is None else threshold
    med = float(np.median(x))
    scale = robust_scale(x, floor=MIN_SCALE_FRACTION * float(np.median(np.abs(x))))
    if scale == 0.0:  # every region reports exactly zero
        return []
    lower, upper = clip(med - limit * scale, bounds), clip(med + limit * scale, bounds)
    for key, xi in zip(keys, x, strict=True):
        score = (float(xi) - med) / scale
        if abs(score) <= limit:
            continue
        findings.append(
            _cross_finding(
                key, period, float(xi), med, lower, upper, "modified_z", score, limit, points,
                freq, names.get(key, str(key)), indicator_name,
                stat_text=f"修正Z分数 {_format_number(score)}，阈值 {_format_number(limit)}",
            )
        )  # fmt: skip
    return findings


def _funnel(
    keys: list[Hashable],
    x: np.ndarray,
    cases: Mapping[Hashable, float],
    share: bool,
    threshold: float | None,
    bounds: Bounds,
) -> tuple[float, float, float, float, list[tuple[Hashable, float, float]]]:
    """Peers far from each other in one period, for means and rates over counted cases
    (funnel plot, Spiegelhalter 2005): each region's distance from the peers' median against
    its own sampling noise (a rate in %: binomial, 100·√(p(1 − p)/n); a mean: none known)
    plus the spread between regions beyond that noise (τ², from the winsorised SD of the
    distances), z = (x − median)/√(s² + τ²). The threshold is the rule's (a normal quantile)
    turned into the Student-t quantile of the same tail probability with m − 2 degrees of
    freedom: with ten districts the modified z-score's 3.5 called one ordinary district in
    sixty "extreme". Returns the median, the limit, the normal range and (key, value, z) of
    the regions beyond it."""
    n = np.array([float(cases[k]) for k in keys])
    centre = float(np.median(x))
    sampling = np.zeros_like(x)
    if share:
        p = min(max(centre / 100.0, 0.5 / n.mean()), 1 - 0.5 / n.mean())
        sampling = 100.0**2 * p * (1 - p) / n
    total = float(winsorised_sd((x - centre)[None, :])[0]) ** 2
    between = max(total - float(sampling.mean()), 0.0)
    floor = max(MIN_SCALE_FRACTION * abs(centre), 1e-9)
    sd = np.fmax(np.sqrt(sampling + between), floor)
    limit = float(t_limit(MODIFIED_Z_THRESHOLD if threshold is None else threshold, len(x) - 2))
    typical = float(np.fmax(np.sqrt(np.median(sampling) + between), floor))
    lower, upper = clip(centre - limit * typical, bounds), clip(centre + limit * typical, bounds)
    beyond = [
        (key, float(xi), (float(xi) - centre) / float(si))
        for key, xi, si in zip(keys, x, sd, strict=True)
        if abs(float(xi) - centre) / float(si) > limit
    ]
    return centre, limit, lower, upper, beyond


def _cross_finding(
    key: Hashable,
    period: datetime.date | None,
    value: float,
    expected: float,
    lower: float,
    upper: float,
    method: str,
    score: float,
    limit: float,
    points: list,
    freq: Freq,
    region_name: str,
    indicator_name: str,
    *,
    stat_text: str,
) -> Finding:
    word = _direction_word(value - expected)
    explanation = (
        f"{_subject(period, freq, region_name, indicator_name)} {_format_number(value)}，"
        f"较各地区正常范围 {_format_number(lower)}–{_format_number(upper)}"
        f"（中位数 {_format_number(expected)}）{word}（{METHOD_LABELS[method]}：{stat_text}）"
    )
    return Finding(
        kind="cross_sectional_extreme",
        region=key,
        period=period,
        value=value,
        expected=expected,
        lower=lower,
        upper=upper,
        method=method,
        score=score,
        severity=severity(score, limit),
        points=list(points),
        explanation=explanation,
    )


# --- single series -------------------------------------------------------------------------


def _prepare(series: pd.Series, freq: Freq) -> pd.Series:
    if not isinstance(series.index, pd.DatetimeIndex):
        series = series.copy()
        series.index = pd.DatetimeIndex(series.index)
    series = series.sort_index().astype(float)
    rule = {"month": "MS", "quarter": "QS", "year": "YS"}[freq]
    return series.asfreq(rule) if len(series) > 1 else series


def spring_festival_order(index: pd.DatetimeIndex) -> np.ndarray:
    """Positions that move the Spring Festival month into the February slot of its year.

    The festival dip lands in January or February depending on the lunar date; swapping January
    and February in early-festival years makes the dip a stable seasonal feature (the National
    Bureau of Statistics publishes 1–2月 combined figures for the same reason).
    """
    order = np.arange(len(index))
    position = {stamp: i for i, stamp in enumerate(index)}
    for year in sorted(set(index.year)):
        if SPRING_FESTIVAL_MONTH.get(year) != 1:
            continue
        jan, feb = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 2, 1)
        if jan in position and feb in position:
            i, j = position[jan], position[feb]
            order[i], order[j] = order[j], order[i]
    return order


def _with_festival_placeholder(data: pd.Series) -> pd.Series:
    """Reserve February when the series ends in an early-festival January.

    Until February arrives the January value cannot be swapped into the festival slot; an empty
    February lets it be compared with earlier festival months rather than with normal Januaries.
    """
    if data.empty:
        return data
    last = data.index[-1]
    if last.month == 1 and SPRING_FESTIVAL_MONTH.get(last.year) == 1:
        placeholder = pd.Series([np.nan], index=pd.DatetimeIndex([last + pd.offsets.MonthBegin(1)]))
        data = pd.concat([data, placeholder])
        data.index.freq = "MS"
    return data


def _adjust_for_shift(series: pd.Series, baseline_from: datetime.date, season: int) -> pd.Series:
    """Move the history before a detected level shift onto the new level (重置基线)."""
    start = pd.Timestamp(baseline_from)
    before, after = series[series.index < start], series[series.index >= start]
    if before.dropna().empty or after.dropna().empty:
        return series
    values = series.to_numpy(dtype=float)
    cut = len(before)
    # same-month differences across the break measure the step without the seasonal pattern
    bridge = [
        values[i] - values[i - season]
        for i in range(cut, len(values))
        if season > 1 and 0 <= i - season < cut
    ]
    bridge = [d for d in bridge if np.isfinite(d)]
    fallback = float(after.median() - before.tail(12).median())
    step = float(np.median(bridge)) if bridge else fallback
    adjusted = series.copy()
    adjusted[adjusted.index < start] += step
    return adjusted


def series_anomalies(
    series: pd.Series,
    freq: Freq = "month",
    *,
    check_last: int = 1,
    baseline_from: datetime.date | None = None,
    region: Hashable = "",
    region_name: str | None = None,
    indicator_name: str = "",
    spring_festival: bool = True,
    stl_threshold: float = STL_THRESHOLD,
    yoy_threshold: float = HAMPEL_THRESHOLD,
    hampel_threshold: float = HAMPEL_THRESHOLD,
    hampel_window: int | None = None,
) -> list[Finding]:
    """Abnormal changes (异常波动) in the last ``check_last`` observations of one series.

    ≥ 3 seasons (36 months): robust STL(period=12) residuals beyond 3.5 robust SDs.
    13–35 months: same-month year-on-year change against past YoY changes (median ± 3·σ).
    Fewer (or too few YoY changes): Hampel on month-on-month changes (median ± 3·σ).
    ``baseline_from`` (a level shift's period) levels the older history onto the new level so
    the months after a break are not flagged one by one. The thresholds and ``hampel_window``
    (how many of the latest past changes form the baseline; None = all) come from the alert
    rule of the indicator.
    """
    if check_last < 1:
        raise ValueError("check_last must be at least 1")
    data = _prepare(series, freq)
    season = _SEASON_LENGTH[freq]
    if spring_festival and freq == "month":
        data = _with_festival_placeholder(data)
    if baseline_from is not None:
        data = _adjust_for_shift(data, baseline_from, season)
    if data.dropna().empty:
        return []
    index = data.index
    values = data.to_numpy(dtype=float)
    if spring_festival and freq == "month":
        order = spring_festival_order(index)
        values = values[order]
    else:
        order = np.arange(len(values))
    n = len(values)
    observed = [i for i in range(n) if np.isfinite(values[i])]
    checked = observed[-check_last:]
    floor = _scale_floor(values)
    context = _Context(
        data=data,
        order=order,
        freq=freq,
        region=region,
        region_name=str(region) if region_name is None else region_name,
        indicator_name=indicator_name,
    )
    if season > 1 and n >= 3 * season:
        stl = _stl_findings(values, checked, season, floor, context, stl_threshold)
        if stl is not None:
            return stl
    if season > 1 and n > season:
        yoy = values[season:] - values[:-season]
        first_checked = min(checked, default=n)
        history = yoy[: max(0, first_checked - season)]
        if np.count_nonzero(np.isfinite(history)) >= MIN_CHANGE_HISTORY:
            return _change_findings(
                values, checked, season, "yoy_same_month", floor, context, yoy_threshold,
                hampel_window,
            )  # fmt: skip
    return _change_findings(
        values, checked, 1, "hampel_change", floor, context, hampel_threshold, hampel_window
    )


@dataclass(frozen=True)
class _Context:
    data: pd.Series
    order: np.ndarray
    freq: Freq
    region: Hashable
    region_name: str
    indicator_name: str

    def period(self, i: int) -> datetime.date:
        # i indexes the realigned array; report the calendar month the value belongs to
        return _as_date(self.data.index[self.order[i]])

    def points(self) -> list[tuple[datetime.date, float]]:
        return [(_as_date(s), float(v)) for s, v in self.data.items() if np.isfinite(v)]


def _stl_forecast(history: np.ndarray, season: int, steps: int) -> float | None:
    """Robust STL fitted on ``history``, projected ``steps`` ahead (1 = the next period)."""
    from statsmodels.tsa.seasonal import STL

    result = STL(history, period=season, robust=True).fit()
    trend = np.asarray(result.trend, dtype=float)
    seasonal = np.asarray(result.seasonal, dtype=float)
    if not (np.all(np.isfinite(trend)) and np.all(np.isfinite(seasonal))):
        return None
    slope = (trend[-1] - trend[-1 - season]) / season
    slot = len(history) - season + (steps - 1) % season
    return float(trend[-1] + slope * steps + seasonal[slot])


def _stl_findings(
    values: np.ndarray,
    checked: list[int],
    season: int,
    floor: float,
    ctx: _Context,
    limit: float = STL_THRESHOLD,
) -> list[Finding] | None:
    """Out-of-sample STL check, or None when STL cannot be fitted (the caller falls back).

    Robust STL is fitted on the history before the checked points and projected forward
    (trend carried on its last-year slope, seasonal component of the same slot one cycle back).
    An in-sample fit is useless on short series: at 36 months robust STL absorbs even a 20 %
    drop in the last month into its trend and leaves a residual MAD of 0. The spread is the
    robust SD of the same forecast made one step ahead for each of the last ``season`` months
    of the history (a backtest), never below the same-month-difference noise estimate.
    """
    first = min(checked, default=len(values))
    history = values[:first]
    while len(history) and not np.isfinite(history[-1]):  # Spring Festival placeholder
        history = history[:-1]
    first = len(history)
    if len(history) < 2 * season or not np.all(np.isfinite(history)) or np.ptp(history) == 0:
        return None
    errors = []
    for end in range(max(2 * season, first - season), first):
        forecast = _stl_forecast(history[:end], season, 1)
        if forecast is None:
            return None
        errors.append(history[end] - forecast)
    yoy = history[season:] - history[:-season]
    noise = robust_scale(yoy, floor=floor) * small_sample_factor(len(yoy)) / np.sqrt(2.0)
    scale = noise * np.sqrt(1.0 + 1.0 / (len(history) // season))
    if len(errors) >= MIN_CHANGE_HISTORY:
        scale = max(scale, prediction_scale(np.asarray(errors)))
    scale = max(scale, floor)
    findings = []
    for i in checked:
        expected = _stl_forecast(history, season, i - first + 1)
        if expected is None:
            return None
        score = (values[i] - expected) / scale
        if abs(score) <= limit:
            continue
        findings.append(
            _change_finding(
                ctx, i, float(values[i]), expected, limit * scale, "stl_residual",
                float(score), limit, "同月历史",
            )
        )  # fmt: skip
    return findings


def _change_findings(
    values: np.ndarray,
    checked: list[int],
    lag: int,
    method: str,
    floor: float,
    ctx: _Context,
    limit: float = HAMPEL_THRESHOLD,
    window: int | None = None,
) -> list[Finding]:
    changes = np.full(len(values), np.nan)
    previous = np.full(len(values), np.nan)
    if lag == 1:
        # month-on-month against the previous reported month, skipping placeholders and gaps
        finite = np.flatnonzero(np.isfinite(values))
        previous[finite[1:]] = values[finite[:-1]]
    else:
        previous[lag:] = values[:-lag]
    changes = values - previous
    first = min(checked, default=len(values))
    history = changes[:first]
    history = history[np.isfinite(history)]
    if window is not None:
        history = history[-window:]
    if len(history) < MIN_CHANGE_HISTORY:
        return []
    centre = float(np.median(history))
    scale = prediction_scale(history, floor=floor)
    label = "上年同月推算" if lag > 1 else "上月推算"
    findings = []
    for i in checked:
        if not np.isfinite(changes[i]):
            continue
        score = (changes[i] - centre) / scale
        if abs(score) <= limit:
            continue
        expected = float(previous[i] + centre)
        findings.append(
            _change_finding(
                ctx, i, float(values[i]), expected, limit * scale, method,
                float(score), limit, label,
            )
        )  # fmt: skip
    return findings


def _change_finding(
    ctx: _Context,
    i: int,
    value: float,
    expected: float,
    half_width: float,
    method: str,
    score: float,
    limit: float,
    basis: str,
) -> Finding:
    period = ctx.period(i)
    lower, upper = expected - half_width, expected + half_width
    explanation = (
        f"{_subject(period, ctx.freq, ctx.region_name, ctx.indicator_name)} "
        f"{_format_number(value)}，较{basis}预期 {_format_number(lower)}–{_format_number(upper)} "
        f"{_direction_word(value - expected)}（{METHOD_LABELS[method]}：偏离 "
        f"{_format_number(abs(score))} 倍稳健标准差，阈值 {_format_number(limit)}）"
    )
    return Finding(
        kind="abnormal_change",
        region=ctx.region,
        period=period,
        value=value,
        expected=expected,
        lower=lower,
        upper=upper,
        method=method,
        score=score,
        severity=severity(score, limit),
        points=ctx.points(),
        explanation=explanation,
    )


def level_shift(
    series: pd.Series,
    freq: Freq = "month",
    *,
    k: int = 3,
    window: int = 12,
    baseline_from: datetime.date | None = None,
    region: Hashable = "",
    region_name: str | None = None,
    indicator_name: str = "",
    spring_festival: bool = True,
    threshold: float = HAMPEL_THRESHOLD,
) -> Finding | None:
    """The first persistent step (水平突变) after ``baseline_from``, reported once.

    A step starts at t when x[t..t+k−1] all lie beyond the median ± threshold·1.4826·MAD
    (threshold 3 by default) of the
    ``window`` points before t, on the same side. With a season plus ``window + k`` points the
    test runs on same-month differences x[t] − x[t−12] instead, so a quarter-end or year-end
    surge is not mistaken for a step. Scanning from the start and returning the earliest step
    keeps the finding's period stable as new months arrive, so the caller can deduplicate on it
    and pass it back as ``baseline_from``.
    """
    if k < 3:
        raise ValueError("a persistent shift needs k ≥ 3 points")
    data = _prepare(series, freq)
    if baseline_from is not None:
        data = data[data.index >= pd.Timestamp(baseline_from)]
    season = _SEASON_LENGTH[freq]
    values = data.to_numpy(dtype=float)
    order = np.arange(len(values))
    if spring_festival and freq == "month" and len(values):
        order = spring_festival_order(data.index)
        values = values[order]
    if len(values) == 0:
        return None
    floor = _scale_floor(values)
    seasonal = season > 1 and len(values) >= season + window + k
    base = np.full(len(values), np.nan)  # the comparable earlier value: same month last year
    if seasonal:
        base[season:] = values[:-season]
        tested = values - base
    else:
        base[:] = 0.0
        tested = values
    for start in range(window, len(values) - k + 1):
        before = tested[start - window : start]
        run = tested[start : start + k]
        if not (np.all(np.isfinite(before)) and np.all(np.isfinite(run))):
            continue
        centre = float(np.median(before))
        scale = robust_scale(before, floor=floor)
        scores = (run - centre) / scale
        same_side = bool(np.all(scores > threshold) or np.all(scores < -threshold))
        if not same_side:
            continue
        weakest = float(scores[np.argmin(np.abs(scores))])
        period = _as_date(data.index[order[start]])
        new_level = float(np.median(values[start : start + k]))
        expected = float(np.median(base[start : start + k])) + centre
        lower = expected - threshold * scale
        upper = expected + threshold * scale
        name = str(region) if region_name is None else region_name
        movement = "上移" if weakest > 0 else "下移"
        basis = "按此前同比变化推算" if seasonal else f"此前 {window} 期"
        explanation = (
            f"{_subject(None, freq, name, indicator_name)} 自 {Period.containing(period, freq).label} 起"
            f"连续 {k} 期水平整体{movement}"
            f"（中位数 {_format_number(new_level)}），均超出{basis}的正常范围 "
            f"{_format_number(lower)}–{_format_number(upper)}（{METHOD_LABELS['level_shift']}："
            f"最小偏离 {_format_number(abs(weakest))} 倍稳健标准差，阈值 "
            f"{_format_number(threshold)}），建议以此期为新基线"
        )
        lookback = window + (season if seasonal else 0)
        used = sorted(order[max(0, start - lookback) : start + k])
        return Finding(
            kind="level_shift",
            region=region,
            period=period,
            value=new_level,
            expected=expected,
            lower=lower,
            upper=upper,
            method="level_shift",
            score=weakest,
            severity=severity(weakest, threshold),
            points=[(_as_date(data.index[j]), float(data.iloc[j])) for j in used],
            explanation=explanation,
        )
    return None


# --- goalposts -----------------------------------------------------------------------------


def goalpost_breach(
    value: float,
    best: float,
    worst: float,
    target: float | None,
    direction: str,
    *,
    region: Hashable = "",
    region_name: str | None = None,
    period: datetime.date | None = None,
    freq: Freq = "month",
    indicator_name: str = "",
    unit: str = "",
) -> Finding | None:
    """A value worse than its target (目标值), or beyond the worst goalpost (最差值).

    ``direction`` is ``"higher_is_better"`` or ``"lower_is_better"`` (indicators.choices).
    The score is the share of the target-to-worst gap the value has used up: 0.5 is the
    threshold, so reaching the worst goalpost (1.0) is red and any breach is at least blue.
    """
    if direction not in {"higher_is_better", "lower_is_better"}:
        raise ValueError(f"unknown direction {direction!r}")
    sign = 1.0 if direction == "higher_is_better" else -1.0
    if sign * (best - worst) <= 0:
        raise ValueError("best must be better than worst for this direction")
    reference = worst if target is None else target
    if sign * (reference - worst) < 0 or sign * (best - reference) < 0:
        raise ValueError("target must lie between worst and best")
    shortfall = sign * (reference - value)
    beyond_worst = sign * (worst - value) > 0
    if shortfall <= 0 and not beyond_worst:
        return None
    gap = abs(reference - worst)
    # without a usable target gap, measure past the worst goalpost in units of the whole range
    score = shortfall / gap if gap > 0 else 1.0 + shortfall / abs(best - worst)
    lower, upper = (reference, best) if sign > 0 else (best, reference)
    name = str(region) if region_name is None else region_name
    what = "未达目标值" if target is not None else "劣于最差值"
    if target is not None and beyond_worst:
        what = "未达目标值且劣于最差值"
    if _is_rate(unit):
        # A share of the gap reads as "差距的 500%" for a rate far below target; a rate's
        # distance is read in percentage points.
        measure = (
            f"较{'目标值' if target is not None else '最差值'}{'低' if sign > 0 else '高'} "
            f"{_format_number(abs(reference - value))} 个百分点"
        )
    else:
        measure = f"已用去目标至最差值差距的 {_format_number(score * 100)}%"
    explanation = (
        f"{_subject(period, freq, name, indicator_name)} {_format_number(value)}，{what}"
        f"（合格区间 {_format_number(lower)}–{_format_number(upper)}，最差值 "
        f"{_format_number(worst)}；{METHOD_LABELS['goalpost']}：{measure}）"
    )
    return Finding(
        kind="goalpost_breach",
        region=region,
        period=period,
        value=float(value),
        expected=float(reference),
        lower=float(lower),
        upper=float(upper),
        method="goalpost",
        score=float(score),
        severity=severity(score, GOALPOST_THRESHOLD),
        points=[(period, float(value))] if period is not None else [],
        explanation=explanation,
    )


__all__: Sequence[str] = [
    "Finding",
    "cross_sectional",
    "goalpost_breach",
    "level_shift",
    "series_anomalies",
    "severity",
]


def benchmark_lag(
    value: float,
    benchmarks: Mapping[str, float],
    direction: str,
    *,
    region: Hashable = "",
    region_name: str | None = None,
    period: datetime.date | None = None,
    freq: Freq = "month",
    indicator_name: str = "",
    unit: str = "",
) -> Finding | None:
    """The city lags behind the best benchmark city (标杆城市) by more than 10 % of its value.

    The score is the lag as a share of |benchmark|; the 10 % threshold is blue-to-yellow, so a
    lag of 20 % or more is red."""
    if direction not in {"higher_is_better", "lower_is_better"}:
        raise ValueError(f"unknown direction {direction!r}")
    if not benchmarks:
        return None
    sign = 1.0 if direction == "higher_is_better" else -1.0
    best_city = max(benchmarks, key=lambda city: (sign * benchmarks[city], city))
    best = float(benchmarks[best_city])
    lag = sign * (best - value)
    base = abs(best)
    if lag <= 0:
        return None
    # against a zero benchmark any lag is infinitely large; cap it so it stays storable
    score = lag / base if base > 0 else 1e6
    if score <= BENCHMARK_LAG_SHARE:
        return None
    name = str(region) if region_name is None else region_name
    lower, upper = sorted((best, best - sign * BENCHMARK_LAG_SHARE * base))
    behind = (
        f"{_format_number(lag)} 个百分点" if _is_rate(unit) else f"{_format_number(score * 100)}%"
    )
    explanation = (
        f"{_subject(period, freq, name, indicator_name)} {_format_number(value)}，落后于标杆城市"
        f"{best_city}（{_format_number(best)}）{behind}"
        f"（{METHOD_LABELS['benchmark']}：差距超过标杆值的 10% 即预警）"
    )
    return Finding(
        kind="benchmark_lag",
        region=region,
        period=period,
        value=float(value),
        expected=best,
        lower=float(lower),
        upper=float(upper),
        method="benchmark",
        score=float(score),
        severity=severity(score, BENCHMARK_LAG_SHARE),
        points=[(period, float(value))] if period is not None else [],
        explanation=explanation,
    )


def stale_source(
    dataset_name: str,
    lag_days: int | None,
    stale_after_days: int,
    *,
    region: Hashable = "",
    last_load: datetime.date | None = None,
) -> Finding | None:
    """A data source not refreshed within its allowed lag (数据源陈旧); ``lag_days`` None means
    it never loaded. The score is the lag over the allowance, so twice the allowance is red."""
    allowance = max(stale_after_days, 1)
    if lag_days is not None and lag_days <= stale_after_days:
        return None
    if lag_days is None:
        score = 2.0
        explanation = (
            f"数据源“{dataset_name}”已配置接入但从未成功入库"
            f"（{METHOD_LABELS['staleness']}：超过 {stale_after_days} 天未更新即视为陈旧）"
        )
    else:
        score = lag_days / allowance
        since = f"，最近入库 {last_load.isoformat()}" if last_load is not None else ""
        explanation = (
            f"数据源“{dataset_name}”已 {lag_days} 天未更新{since}"
            f"（{METHOD_LABELS['staleness']}：超过 {stale_after_days} 天未更新即视为陈旧）"
        )
    return Finding(
        kind="stale_source",
        region=region,
        period=None,
        value=float(lag_days if lag_days is not None else -1),
        expected=float(stale_after_days),
        lower=0.0,
        upper=float(stale_after_days),
        method="staleness",
        score=float(score),
        severity=severity(score, 1.0),
        explanation=explanation,
    )


def overdue_filling(
    days_overdue: int,
    deadline: datetime.date,
    *,
    region: Hashable = "",
    region_name: str | None = None,
    period: datetime.date | None = None,
    freq: Freq = "month",
    indicator_name: str = "",
    department_name: str = "",
) -> Finding | None:
    """A filling task (填报任务) still unsubmitted after its deadline. The score is days
    overdue in weeks: one week is yellow, two weeks red, a day or two blue."""
    if days_overdue <= 0:
        return None
    score = days_overdue / 7
    name = str(region) if region_name is None else region_name
    filler = f"，填报部门 {department_name}" if department_name else ""
    explanation = (
        f"{_subject(period, freq, name, indicator_name)} 填报已逾期 {days_overdue} 天"
        f"（截止日期 {deadline.isoformat()}{filler}）"
    )
    return Finding(
        kind="overdue_filling",
        region=region,
        period=period,
        value=float(days_overdue),
        expected=0.0,
        lower=None,
        upper=0.0,
        method="overdue",
        score=float(score),
        severity=severity(score, 1.0),
        explanation=explanation,
    )


@dataclass(frozen=True)
class OverdueCase:
    """One government-service case (政务服务办件) open past its promised limit: only the case's
    reference number and item, never the applicant."""

    case_id: str
    item_name: str
    overdue_days: int


#: An overdue case's lateness in working days that counts as one unit of the score (a week).
OVERDUE_CASE_WEEK = 5


def overdue_cases(
    cases: Sequence[OverdueCase],
    as_of: datetime.date,
    *,
    minimum: int = 1,
    region: Hashable = "",
    region_name: str | None = None,
    department_name: str = "",
    period: datetime.date | None = None,
    freq: Freq = "month",
    indicator_name: str = "",
    shown: int = 5,
) -> Finding | None:
    """Cases of one department in one district still open at ``as_of`` beyond their promised
    limit (办件超期). The value is the count; the score is the worst lateness in working weeks,
    so a case a week late is yellow, two weeks red, a day or two blue."""
    if len(cases) < max(minimum, 1):
        return None
    worst = sorted(cases, key=lambda c: (-c.overdue_days, c.case_id))
    score = worst[0].overdue_days / OVERDUE_CASE_WEEK
    name = str(region) if region_name is None else region_name
    who = f"{department_name} " if department_name else ""
    listed = "、".join(
        f"{c.case_id}（{c.item_name}，超期 {c.overdue_days} 个工作日）" for c in worst[:shown]
    )
    more = f"等 {len(cases)} 件" if len(cases) > shown else ""
    label = Period.containing(period, freq).label if period else ""
    explanation = (
        (
            f"{label} {name} {who}有 {len(cases)} 件政务服务办件"
            f"截至 {as_of.isoformat()} 超过承诺时限仍未办结，最长超期 {worst[0].overdue_days} 个工作日；"
            f"超期最久的办件：{listed}{more}"
            f"（{METHOD_LABELS['overdue_cases']}：按工作日计，超期 {OVERDUE_CASE_WEEK} 个工作日为黄色，"
            f"{2 * OVERDUE_CASE_WEEK} 个工作日为红色）"
        )
        .replace("  ", " ")
        .strip()
    )
    return Finding(
        kind="overdue_cases",
        region=region,
        period=period,
        value=float(len(cases)),
        expected=0.0,
        lower=None,
        upper=0.0,
        method="overdue_cases",
        score=float(score),
        severity=severity(score, 1.0),
        explanation=explanation,
    )
