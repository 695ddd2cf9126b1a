"""The series rule of the alert scan (异常波动, 水平突变): one vectorised function for one
series or a hundred thousand, so the scan's two execution modes (per indicator, and the bulk
read of a province-sized catalogue) judge every series by the same statistics. Pure numpy and
pandas, no database; docs/alerts-detection.md ("The series rule") describes it.

For the checked month ``at`` of every series that has a value then, on the
``HISTORY_MONTHS`` months before it (Spring Festival realigned as in ``detection``):

- a level shift when the last ``shift_points`` months all lie beyond median ± threshold·σ of
  the 12 months before them, on the same side, and the month before them does not (so a step
  is reported once, in the month it becomes certain); on same-month differences once the
  series is long enough for a season, so quarter-end and year-end surges are not steps;
- otherwise an abnormal change: the checked month's same-month year-on-year change (or, with
  fewer than ``MIN_CHANGE_HISTORY`` past year-on-year changes, its change from the previous
  reported month) against the latest ``window`` past changes: median ± threshold·σ, σ
  corrected for the sample size and widened by √(1 + 1/m).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Hashable

import numpy as np
import pandas as pd

from sizhen.core.periods import Period
from sizhen.monitoring import detection
from sizhen.monitoring.detection import (
    HAMPEL_THRESHOLD,
    METHOD_LABELS,
    MIN_CHANGE_HISTORY,
    MIN_SCALE_FRACTION,
    SPRING_FESTIVAL_MONTH,
    STL_THRESHOLD,
    Finding,
    severity,
    small_sample_factor,
    spring_festival_order,
)

#: Months of history before the checked month that the rule looks at (four years: enough for
#: 36 months of same-month changes and the seasonal level-shift window).
HISTORY_MONTHS = 48
#: Series this long (months from the first value to the checked one) are held to the long
#: threshold (the rule's ``stl_threshold``).
LONG_SERIES_MONTHS = 36
#: Months before a step whose spread judges it.
SHIFT_WINDOW = 12
SEASON = 12

COLUMNS = [
    "series_id",
    "period",
    "kind",
    "method",
    "value",
    "expected",
    "lower",
    "upper",
    "score",
    "threshold",
    "severity",
    "seasonal",
    "points",
]


def _centre_scale(block: np.ndarray, floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise median and robust SD (1.4826·MAD, else 1.2533·mean absolute deviation when
    more than half the values tie), NaN-aware, never below ``floor``."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no verdict
        centre = np.nanmedian(block, axis=1)
        deviation = np.abs(block - centre[:, None])
        mad = np.nanmedian(deviation, axis=1)
        mean_ad = np.nanmean(deviation, axis=1)
    scale = np.where(mad > 0, detection.MAD_TO_SD * mad, detection.MEAN_AD_TO_SD * mean_ad)
    return centre, np.fmax(np.nan_to_num(scale), floor)


def _latest(finite: np.ndarray, window: int | None) -> np.ndarray:
    """Mask of the latest ``window`` finite cells of each row (all of them for None)."""
    if window is None:
        return finite
    from_right = np.cumsum(finite[:, ::-1], axis=1)[:, ::-1]
    return finite & (from_right <= window)


def check_series(
    frame: pd.DataFrame,
    at: object = None,
    *,
    spring_festival: bool = True,
    long_threshold: float = STL_THRESHOLD,
    short_threshold: float = HAMPEL_THRESHOLD,
    hampel_threshold: float = HAMPEL_THRESHOLD,
    window: int | None = None,
    shift_threshold: float = HAMPEL_THRESHOLD,
    shift_points: int = 3,
) -> pd.DataFrame:
    """Findings of the series rule at month ``at`` (default: the frame's last month) for every
    series of ``frame`` (columns series_id, period, value; monthly) with a value at ``at``.

    Thresholds: ``long_threshold`` for the year-on-year rule on series of
    ``LONG_SERIES_MONTHS`` or more, ``short_threshold`` below, ``hampel_threshold`` for the
    month-on-month rule; ``window`` the latest past changes the baseline uses;
    ``shift_threshold`` and ``shift_points`` (k ≥ 3) for the level shift. One row per finding
    with the COLUMNS above; ``points`` are the (date, value) pairs of the months looked at.
    """
    if shift_points < 3:
        raise ValueError("a persistent shift needs k ≥ 3 points")
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    periods = pd.DatetimeIndex(frame["period"])
    end = periods.max() if at is None else pd.Timestamp(at)
    start = end - pd.DateOffset(months=HISTORY_MONTHS)
    inside = (periods >= start) & (periods <= end)
    if inside.any():
        # Months before the January of the first year with a value are empty in every
        # series: leaving them out changes no statistic (the festival swap is per year).
        start = max(start, pd.Timestamp(periods[inside].min().year, 1, 1))
    calendar = pd.date_range(start, end, freq="MS")
    wide = (
        frame[inside]
        .pivot(index="series_id", columns="period", values="value")
        .reindex(columns=calendar)
    )
    x = wide.to_numpy(dtype=float)
    keep = np.isfinite(x[:, -1])  # only series with a value in the checked month are judged
    x, ids = x[keep], wide.index.to_numpy()[keep]
    if not len(ids):
        return pd.DataFrame(columns=COLUMNS)
    n = len(calendar)
    finite = np.isfinite(x)
    length = n - np.argmax(finite, axis=1)  # months from the first value to the checked one
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmedian(np.abs(x), axis=1)
    floor = np.fmax(MIN_SCALE_FRACTION * level, 1e-9)

    shift = _level_shift(x, calendar, length, floor, spring_festival, shift_threshold, shift_points)
    change = _change(
        x,
        calendar,
        length,
        floor,
        spring_festival,
        (long_threshold, short_threshold, hampel_threshold),
        window,
    )
    rows: list[dict[str, object]] = []
    days = [stamp.date() for stamp in calendar]
    for s in np.flatnonzero(shift["found"]):
        rows.append(_row(ids[s], shift, int(s), "level_shift", "level_shift", shift_threshold))
        rows[-1]["points"] = _points(days, x[s])
    flagged = change["found"] & ~shift["found"]  # a step is reported as such, not as a change
    for s in np.flatnonzero(flagged):
        method = str(change["method"][s])
        rows.append(_row(ids[s], change, int(s), "abnormal_change", method, None))
        rows[-1]["points"] = _points(days, x[s])
    return pd.DataFrame(rows, columns=COLUMNS)


def _points(days: list[dt.date], values: np.ndarray) -> list[tuple[dt.date, float]]:
    return [(days[j], float(values[j])) for j in np.flatnonzero(np.isfinite(values))]


def _row(
    series_id: object,
    result: dict[str, np.ndarray],
    s: int,
    kind: str,
    method: str,
    limit: float | None,
) -> dict[str, object]:
    threshold = float(result["threshold"][s]) if limit is None else limit
    score, expected, half = (float(result[k][s]) for k in ("score", "expected", "half"))
    return {
        "series_id": series_id,
        "period": result["period"][s],
        "kind": kind,
        "method": method,
        "value": float(result["value"][s]),
        "expected": expected,
        "lower": expected - half,
        "upper": expected + half,
        "score": score,
        "threshold": threshold,
        "severity": severity(score, threshold),
        "seasonal": bool(result["seasonal"][s]),
    }


def _level_shift(
    x: np.ndarray,
    calendar: pd.DatetimeIndex,
    length: np.ndarray,
    floor: np.ndarray,
    spring_festival: bool,
    threshold: float,
    k: int,
) -> dict[str, np.ndarray]:
    """A step whose k months end at the checked month (see the module docstring)."""
    n_series, n = x.shape
    order = spring_festival_order(calendar) if spring_festival else np.arange(n)
    values = x[:, order]
    seasonal = length >= SEASON + SHIFT_WINDOW + k
    base = np.zeros_like(values)
    base[:, SEASON:] = np.where(seasonal[:, None], values[:, :-SEASON], 0.0)
    base[:, :SEASON] = np.where(seasonal[:, None], np.nan, 0.0)
    tested = values - base
    found = np.zeros(n_series, dtype=bool)
    out = {
        "found": found,
        "seasonal": seasonal,
        "period": np.full(n_series, calendar[order[n - k]]),
        "value": np.median(values[:, n - k :], axis=1),
        "expected": np.zeros(n_series),
        "half": np.zeros(n_series),
        "score": np.zeros(n_series),
        "threshold": np.full(n_series, threshold),
    }
    if n < SHIFT_WINDOW + k + 1:
        return out
    before = tested[:, n - k - SHIFT_WINDOW : n - k]
    run = tested[:, n - k :]
    complete = np.all(np.isfinite(before), axis=1) & np.all(np.isfinite(run), axis=1)
    centre, scale = _centre_scale(before, floor)
    with np.errstate(all="ignore"):
        z = (run - centre[:, None]) / scale[:, None]
        previous = (tested[:, n - k - 1] - centre) / scale
    up = np.all(z > threshold, axis=1) & ~(previous > threshold)
    down = np.all(z < -threshold, axis=1) & ~(previous < -threshold)
    found |= complete & (up | down)
    out["score"] = np.where(up, np.min(z, axis=1), np.max(z, axis=1))
    out["expected"] = np.median(base[:, n - k :], axis=1) + centre
    out["half"] = threshold * scale
    return out


def _change(
    x: np.ndarray,
    calendar: pd.DatetimeIndex,
    length: np.ndarray,
    floor: np.ndarray,
    spring_festival: bool,
    thresholds: tuple[float, float, float],
    window: int | None,
) -> dict[str, np.ndarray]:
    """The checked month's change against the past changes (see the module docstring)."""
    n_series, n = x.shape
    end = calendar[-1]
    if spring_festival and end.month == 1 and SPRING_FESTIVAL_MONTH.get(end.year) == 1:
        # An early-festival January: reserve the February slot so January is compared with
        # earlier festival months (detection._with_festival_placeholder).
        calendar = calendar.append(pd.DatetimeIndex([end + pd.offsets.MonthBegin(1)]))
        x = np.hstack([x, np.full((n_series, 1), np.nan)])
    order = spring_festival_order(calendar) if spring_festival else np.arange(len(calendar))
    values = x[:, order]
    at = int(np.flatnonzero(order == n - 1)[0])  # where the checked month sits after realigning
    previous_year = np.full_like(values, np.nan)
    previous_year[:, SEASON:] = values[:, :-SEASON]
    # month-on-month against the previous reported month, skipping gaps and the reserved slot
    reported = np.where(np.isfinite(values), np.arange(values.shape[1]), -1)
    last_reported = np.maximum.accumulate(reported, axis=1)[:, :-1]
    previous_month = np.full_like(values, np.nan)
    previous_month[:, 1:] = np.where(
        last_reported >= 0, np.take_along_axis(values, np.maximum(last_reported, 0), axis=1), np.nan
    )
    yearly = values - previous_year
    use_year = np.sum(np.isfinite(yearly[:, :at]), axis=1) >= MIN_CHANGE_HISTORY
    previous = np.where(use_year[:, None], previous_year, previous_month)
    changes = values - previous
    history = changes[:, :at]
    used = _latest(np.isfinite(history), window)
    count = used.sum(axis=1)
    centre, raw = _centre_scale(np.where(used, history, np.nan), np.zeros(n_series))
    correction = np.array([small_sample_factor(m) for m in range(history.shape[1] + 1)])[count]
    scale = np.fmax(raw * correction * np.sqrt(1.0 + 1.0 / np.maximum(count, 1)), floor)
    long_limit, year_limit, month_limit = thresholds
    limit = np.where(
        use_year, np.where(length >= LONG_SERIES_MONTHS, long_limit, year_limit), month_limit
    )
    with np.errstate(all="ignore"):
        score = (changes[:, at] - centre) / scale
    found = (count >= MIN_CHANGE_HISTORY) & np.isfinite(score) & (np.abs(score) > limit)
    return {
        "found": found,
        "seasonal": use_year,
        "method": np.where(use_year, "yoy_same_month", "hampel_change"),
        "period": np.full(n_series, calendar[order[at]]),
        "value": values[:, at],
        "expected": previous[:, at] + centre,
        "half": limit * scale,
        "score": np.nan_to_num(score),
        "threshold": limit,
    }


def series_finding(
    row: object,
    *,
    region: Hashable,
    region_name: str,
    indicator_name: str,
    shift_points: int = 3,
    bounds: detection.Bounds = detection.UNBOUNDED,
) -> Finding:
    """The explained finding of one row of ``check_series``: the same sentence whichever
    execution mode of the scan judged it. The expected value and range are moved into the
    values' domain (``bounds``): a rate's range ends at 100, a count's starts at 0."""
    get = row.__getitem__ if isinstance(row, dict) else lambda name: getattr(row, name)
    period = pd.Timestamp(get("period")).date()
    value = float(get("value"))
    expected = detection.clip(float(get("expected")), bounds)
    lower = detection.clip(float(get("lower")), bounds)
    upper = detection.clip(float(get("upper")), bounds)
    score = float(get("score"))
    threshold, method = float(get("threshold")), str(get("method"))
    fmt = detection._format_number
    label = METHOD_LABELS[method]
    if get("kind") == "level_shift":
        movement = "上移" if score > 0 else "下移"
        basis = "按此前同比变化推算" if get("seasonal") else f"此前 {SHIFT_WINDOW} 期"
        subject = detection._subject(None, "month", region_name, indicator_name)
        explanation = (
            f"{subject} 自 {Period.containing(period).label} 起连续 {shift_points} 期"
            f"水平整体{movement}（中位数 {fmt(value)}），均超出{basis}的正常范围 "
            f"{fmt(lower)}–{fmt(upper)}（{label}：最小偏离 {fmt(abs(score))} 倍稳健标准差，"
            f"阈值 {fmt(threshold)}），建议以此期为新基线"
        )
    else:
        basis = "上年同月推算" if method == "yoy_same_month" else "上月推算"
        subject = detection._subject(period, "month", region_name, indicator_name)
        explanation = (
            f"{subject} {fmt(value)}，较{basis}预期 {fmt(lower)}–{fmt(upper)} "
            f"{detection._direction_word(value - expected)}（{label}：偏离 "
            f"{fmt(abs(score))} 倍稳健标准差，阈值 {fmt(threshold)}）"
        )
    return Finding(
        kind=get("kind"),
        region=region,
        period=period,
        value=value,
        expected=expected,
        lower=lower,
        upper=upper,
        method=method,
        score=score,
        severity=get("severity"),
        points=list(get("points")),
        explanation=explanation,
    )


__all__ = ["COLUMNS", "HISTORY_MONTHS", "check_series", "series_finding"]
