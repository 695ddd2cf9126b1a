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
    "run",
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
    cases = share = None
    if "cases" in frame.columns:
        cases = (
            frame[inside]
            .pivot(index="series_id", columns="period", values="cases")
            .reindex(index=ids, columns=calendar)
            .to_numpy(dtype=float)
        )
        if "share" in frame.columns:
            share = frame.groupby("series_id")["share"].first().reindex(ids).fillna(False)
            share = share.to_numpy(dtype=bool)
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
    if cases is not None:
        weighted = _case_level_shift(
            x, cases, share, calendar, floor, shift_threshold, shift_points
        )
        use = weighted.pop("judged")
        for name, column in weighted.items():
            shift[name] = np.where(use, column, shift[name])
    change = _change(
        x,
        calendar,
        length,
        floor,
        spring_festival,
        (long_threshold, short_threshold, hampel_threshold),
        window,
        cases,
        share,
    )
    rows: list[dict[str, object]] = []
    days = [stamp.date() for stamp in calendar]
    for s in np.flatnonzero(shift["found"]):
        method = str(shift["method"][s])
        rows.append(_row(ids[s], shift, int(s), "level_shift", method, None))
        rows[-1]["points"] = _points(days, x[s])
        rows[-1]["run"] = int(shift["run"][s])
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
    first = max(n - k, 0)  # a calendar shorter than the run (the first months) finds nothing
    out = {
        "found": found,
        "seasonal": seasonal,
        "period": np.full(n_series, calendar[order[first]]),
        "value": np.median(values[:, first:], axis=1),
        "expected": np.zeros(n_series),
        "half": np.zeros(n_series),
        "score": np.zeros(n_series),
        "threshold": np.full(n_series, threshold),
        "method": np.full(n_series, "level_shift", dtype=object),
        "run": np.full(n_series, k),
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


def _case_level_shift(
    x: np.ndarray,
    cases: np.ndarray,
    share: np.ndarray | None,
    calendar: pd.DatetimeIndex,
    floor: np.ndarray,
    threshold: float,
    k: int,
) -> dict[str, np.ndarray]:
    """A step in a series of means or rates over counted cases (办件数), judged on the cases
    rather than on the months: the case-weighted mean of the latest run of k to 2k months
    against the case-weighted mean of the 12 months before it, z = difference / (s·√(1/N_run +
    1/N_before)), where s² is the robust variance of the months' deviations scaled by their
    case counts, (x − mean)·√n (Spiegelhalter 2005, funnel plots with overdispersion; for a
    rate in % never below the binomial p(1 − p)). Every month of the run lies on the same side
    (one spike does not make a step); the step is reported in the first month any run passes
    (none ending a month earlier did), with the period of the run's first month. ``judged``
    marks the series with case counts for the 12 + 2k months, which this test decides."""
    n_series, n = x.shape
    longest = 2 * k
    # The spread comes from 12 months: the rule's threshold (a normal quantile) becomes the
    # Student-t quantile of the same tail probability, with the 12 − 2 degrees of freedom of
    # the baseline's mean and spread.
    limit = float(detection.t_limit(threshold, SHIFT_WINDOW - 2))
    judged = np.zeros(n_series, dtype=bool)
    out: dict[str, np.ndarray] = {
        "judged": judged,
        "found": np.zeros(n_series, dtype=bool),
        "seasonal": np.zeros(n_series, dtype=bool),
        "period": np.full(n_series, calendar[-1]),
        "value": np.zeros(n_series),
        "expected": np.zeros(n_series),
        "half": np.zeros(n_series),
        "score": np.zeros(n_series),
        "method": np.full(n_series, "level_shift_cases", dtype=object),
        "run": np.full(n_series, k),
        "threshold": np.full(n_series, limit),
    }
    if n < SHIFT_WINDOW + k + 1:
        return out
    weight = np.where(np.isfinite(x) & (cases > 0), cases, 0.0)
    judged |= np.all(weight[:, n - SHIFT_WINDOW - k :] > 0, axis=1)
    best = {name: np.zeros(n_series) for name in ("z", "value", "expected", "half", "start")}
    best["z"][:] = 0.0
    passed_before = np.zeros(n_series, dtype=bool)
    for end in (n - 1, n - 2):
        for run in range(k, longest + 1):
            start = end - run + 1
            first = calendar[start]
            if start - SHIFT_WINDOW < 0 or SPRING_FESTIVAL_MONTH.get(first.year) == first.month:
                # a Spring Festival month is a seasonal outlier, not where a step starts
                continue
            z, value, expected, half = _weighted_step(x, weight, share, floor, start, end, limit)
            passes = np.abs(z) > limit
            if end == n - 2:
                passed_before |= passes
                continue
            better = passes & (np.abs(z) > np.abs(best["z"]))
            for name, column in (
                ("z", z), ("value", value), ("expected", expected), ("half", half),
                ("start", np.full(n_series, start)),
            ):  # fmt: skip
                best[name] = np.where(better, column, best[name])
    found = judged & (best["z"] != 0) & ~passed_before
    start = best["start"].astype(int)
    out.update(
        found=found,
        period=np.array([calendar[i] for i in start]),
        value=best["value"],
        expected=best["expected"],
        half=best["half"],
        score=best["z"],
        run=n - start,
    )
    return out


#: How far past the baseline (in SDs of its own noise) the first month of a step's run lies.
FIRST_MONTH_SD = 2.0


def _weighted_step(
    x: np.ndarray,
    weight: np.ndarray,
    share: np.ndarray | None,
    floor: np.ndarray,
    start: int,
    end: int,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """z, run mean, baseline mean and half-width of one candidate run (see above)."""
    before = slice(start - SHIFT_WINDOW, start)
    run = slice(start, end + 1)
    values = np.nan_to_num(x)
    complete = np.all(weight[:, before] > 0, axis=1) & np.all(weight[:, run] > 0, axis=1)
    with np.errstate(all="ignore"):
        n_before = weight[:, before].sum(axis=1)
        n_run = weight[:, run].sum(axis=1)
        expected = (values[:, before] * weight[:, before]).sum(axis=1) / n_before
        value = (values[:, run] * weight[:, run]).sum(axis=1) / n_run
        deviation = (values[:, before] - expected[:, None]) * np.sqrt(weight[:, before])
        spread = detection.winsorised_sd(deviation)
        if share is not None:
            p = np.clip(expected / 100.0, 0.5 / n_before, 1 - 0.5 / n_before)
            binomial = 100.0 * np.sqrt(p * (1 - p))
            spread = np.where(share, np.fmax(spread, binomial), spread)
        half_unit = np.sqrt(1.0 / n_run + 1.0 / n_before)
        sd = np.fmax(spread * half_unit, floor)
        z = (value - expected) / sd
        side = np.sign(values[:, run] - expected[:, None])
        same_side = np.all(side == np.sign(z)[:, None], axis=1)
        # The run starts where the step does: its first month on its own at least one SD of
        # its own noise past the baseline (else a run of k months that has only k − 1 shifted
        # ones is reported a month early).
        first = (values[:, start] - expected) / np.fmax(
            spread * np.sqrt(1.0 / weight[:, start] + 1.0 / n_before), floor
        )
        starts_here = first * np.sign(z) >= FIRST_MONTH_SD
    z = np.where(complete & same_side & starts_here & np.isfinite(z), z, 0.0)
    return z, value, expected, threshold * sd


def _change(
    x: np.ndarray,
    calendar: pd.DatetimeIndex,
    length: np.ndarray,
    floor: np.ndarray,
    spring_festival: bool,
    thresholds: tuple[float, float, float],
    window: int | None,
    cases: np.ndarray | None = None,
    share: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The checked month's change against the past changes (see the module docstring)."""
    n_series, n = x.shape
    end = calendar[-1]
    if cases is None:
        cases = np.full_like(x, np.nan)
    if spring_festival and end.month == 1 and SPRING_FESTIVAL_MONTH.get(end.year) == 1:
        # An early-festival January: reserve the February slot so January is compared with
        # earlier festival months (detection._with_festival_placeholder).
        calendar = calendar.append(pd.DatetimeIndex([end + pd.offsets.MonthBegin(1)]))
        x = np.hstack([x, np.full((n_series, 1), np.nan)])
        cases = np.hstack([cases, np.full((n_series, 1), np.nan)])
    order = spring_festival_order(calendar) if spring_festival else np.arange(len(calendar))
    values = x[:, order]
    counted = np.where(np.isfinite(values), cases[:, order], np.nan)
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
    weighted = np.all(np.isfinite(counted[:, : at + 1]) | ~np.isfinite(values[:, : at + 1]), axis=1)
    weighted &= np.isfinite(counted[:, at]) & np.any(np.isfinite(cases), axis=1)
    if weighted.any():
        scale, limit, verdict = _counted_change_scale(
            history, used, count, values, counted, at, previous, use_year, share, calendar,
            order, scale, limit, weighted, floor,
        )  # fmt: skip
    else:
        verdict = np.ones(n_series, dtype=bool)
    with np.errstate(all="ignore"):
        score = (changes[:, at] - centre) / scale
    found = (count >= MIN_CHANGE_HISTORY) & np.isfinite(score) & (np.abs(score) > limit)
    found &= verdict
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


def _counted_change_scale(
    history: np.ndarray,
    used: np.ndarray,
    count: np.ndarray,
    values: np.ndarray,
    counted: np.ndarray,
    at: int,
    previous: np.ndarray,
    use_year: np.ndarray,
    share: np.ndarray | None,
    calendar: pd.DatetimeIndex,
    order: np.ndarray,
    scale: np.ndarray,
    limit: np.ndarray,
    weighted: np.ndarray,
    floor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the series of means or rates over counted cases (``weighted``): the spread of the
    past changes as a winsorised SD (not a MAD of a handful of changes, whose heavy tails made
    one check in thirty a false alarm), the threshold as the Student-t quantile of the same
    tail probability with m − 1 degrees of freedom, a rate's spread never below the binomial
    noise of the two months compared, and no verdict month-on-month on a Spring Festival
    month or the month after it (a series without a past year cannot tell the festival from a
    problem; a step is still the level-shift test's)."""
    n_series = len(values)
    sd = detection.winsorised_sd(np.where(used, history, np.nan))
    new_scale = np.fmax(sd * np.sqrt(1.0 + 1.0 / np.maximum(count, 1)), floor)
    freedom = np.maximum(count - 1, 1)
    new_limit = detection.t_limit(limit, freedom)
    if share is not None:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pooled = np.nanmedian(np.where(np.isfinite(counted), values, np.nan), axis=1) / 100
            typical = np.nanmedian(counted, axis=1)
        p = np.clip(pooled, 0.5 / typical, 1 - 0.5 / typical)
        before = np.where(use_year, _shifted(counted, SEASON)[:, at], _previous_count(counted, at))
        binomial = 100 * np.sqrt(p * (1 - p) * (1 / counted[:, at] + 1 / before))
        new_scale = np.where(share & np.isfinite(binomial), np.fmax(new_scale, binomial), new_scale)
    # After the realignment the festival month sits in the February slot, so the month after
    # it is always March.
    month = calendar[order[at]]
    festival = SPRING_FESTIVAL_MONTH.get(month.year)
    verdict = np.ones(n_series, dtype=bool)
    if festival is not None and month.month in (festival, 3):
        verdict = ~weighted | use_year
    return (
        np.where(weighted, new_scale, scale),
        np.where(weighted, new_limit, limit),
        verdict,
    )


def _shifted(block: np.ndarray, by: int) -> np.ndarray:
    out = np.full_like(block, np.nan)
    if block.shape[1] > by:
        out[:, by:] = block[:, :-by]
    return out


def _previous_count(counted: np.ndarray, at: int) -> np.ndarray:
    """Case count of the latest reported month before ``at``."""
    if at == 0:
        return np.full(len(counted), np.nan)
    earlier = counted[:, :at]
    finite = np.isfinite(earlier)
    last = np.where(
        finite.any(axis=1), earlier.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1), 0
    )
    return np.where(finite.any(axis=1), earlier[np.arange(len(earlier)), last], np.nan)


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
        level, statistic, reach = "中位数", "最小偏离 {} 倍稳健标准差", "均超出"
        if method == "level_shift_cases":
            # the run's case-weighted mean against the baseline's, in standard errors
            shift_points = int(get("run"))
            basis = f"此前 {SHIFT_WINDOW} 期按办件数加权"
            level, statistic, reach = "按办件数加权均值", "偏离 {} 倍标准误", "超出"
        subject = detection._subject(None, "month", region_name, indicator_name)
        explanation = (
            f"{subject} 自 {Period.containing(period).label} 起连续 {shift_points} 期"
            f"水平整体{movement}（{level} {fmt(value)}），{reach}{basis}的正常范围 "
            f"{fmt(lower)}–{fmt(upper)}（{label}：{statistic.format(fmt(abs(score)))}，"
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
