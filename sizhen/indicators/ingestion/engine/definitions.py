"""Indicator definitions as data (指标口径): which dataset, which rows, which measure, by which
period and region field. ``compile.py`` turns each into one Ibis expression.

measure kinds: count; sum / mean / median / percentile of a field; ratio of two aggregates
(count or sum, each with its own filter), optionally as a complement (1 − num/den) and scaled.
Filters: [field, op, value] with op in == != in not_in < <= > >= is_null not_null; a value of
{"field": name} compares two columns. Derived fields: {"name": ["workdays", start, end]} is the
number of working days in (start, end] through the calendar table.
"""

from __future__ import annotations

from typing import Any

Definition = dict[str, Any]

ONLINE_CHANNELS = ["网上", "移动端"]

GOV_COMPLETED = [["status", "==", "办结"], ["completed_at", "not_null", None]]
HANDLING_DAYS = {"handling_days": ["workdays", "accepted_at", "completed_at"]}

DEFINITIONS: list[Definition] = [
    {
        "indicator": "BE15.06",
        "name": "办结量",
        "dataset": "gov_service_cases",
        "period_field": "completed_at",
        "frequency": "month",
        "filter": GOV_COMPLETED,
        "measure": {"kind": "count"},
    },
    {
        "indicator": "BE15.03",
        "name": "按时办结率",
        "dataset": "gov_service_cases",
        "period_field": "completed_at",
        "frequency": "month",
        "derive": HANDLING_DAYS,
        "filter": GOV_COMPLETED,
        "measure": {
            "kind": "ratio",
            "numerator": {
                "kind": "count",
                "filter": [["handling_days", "<=", {"field": "promised_limit"}]],
            },
            "denominator": {"kind": "count"},
            "scale": 100,
        },
    },
    {
        "indicator": "BE15.07",
        "name": "平均办理时间（工作日）",
        "dataset": "gov_service_cases",
        "period_field": "completed_at",
        "frequency": "month",
        "derive": HANDLING_DAYS,
        "filter": GOV_COMPLETED,
        "measure": {"kind": "mean", "field": "handling_days"},
    },
    {
        "indicator": "BE15.01",
        "name": "全程网办率",
        "dataset": "gov_service_cases",
        "period_field": "completed_at",
        "frequency": "month",
        "filter": GOV_COMPLETED,
        "measure": {
            "kind": "ratio",
            "numerator": {
                "kind": "count",
                "filter": [["channel", "in", ONLINE_CHANNELS], ["visits", "==", 0]],
            },
            "denominator": {"kind": "count"},
            "scale": 100,
        },
    },
    {
        "indicator": "BE15.02",
        "name": "承诺时限压缩率",
        "dataset": "gov_service_cases",
        "period_field": "completed_at",
        "frequency": "month",
        "filter": [*GOV_COMPLETED, ["statutory_limit", ">", 0]],
        "measure": {
            "kind": "ratio",
            "numerator": {"kind": "sum", "field": "promised_limit"},
            "denominator": {"kind": "sum", "field": "statutory_limit"},
            "complement": True,
            "scale": 100,
        },
    },
    {
        "indicator": "BE01.02",
        "name": "开办时间（平均工作日）",
        "dataset": "enterprise_startup",
        "period_field": "completed_at",
        "frequency": "month",
        "derive": {"startup_days": ["workdays", "submitted_at", "completed_at"]},
        "filter": [["completed_at", "not_null", None]],
        "measure": {"kind": "mean", "field": "startup_days"},
    },
    {
        "indicator": "BE01.05",
        "name": "开办时间中位数（工作日）",
        "dataset": "enterprise_startup",
        "period_field": "completed_at",
        "frequency": "month",
        "derive": {"startup_days": ["workdays", "submitted_at", "completed_at"]},
        "filter": [["completed_at", "not_null", None]],
        "measure": {"kind": "median", "field": "startup_days"},
    },
    {
        "indicator": "BE01.01",
        "name": "开办环节",
        "dataset": "enterprise_startup",
        "period_field": "completed_at",
        "frequency": "month",
        "filter": [["completed_at", "not_null", None]],
        "measure": {"kind": "mean", "field": "procedures"},
    },
    {
        "indicator": "BE01.03",
        "name": "开办费用（元）",
        "dataset": "enterprise_startup",
        "period_field": "completed_at",
        "frequency": "month",
        "filter": [["completed_at", "not_null", None]],
        "measure": {"kind": "mean", "field": "cost"},
    },
    {
        "indicator": "BE01.04",
        "name": "开办全程网办率",
        "dataset": "enterprise_startup",
        "period_field": "completed_at",
        "frequency": "month",
        "filter": [["completed_at", "not_null", None]],
        "measure": {
            "kind": "ratio",
            "numerator": {"kind": "count", "filter": [["channel", "==", "全程网办"]]},
            "denominator": {"kind": "count"},
            "scale": 100,
        },
    },
]

DEFINITIONS_BY_INDICATOR = {d["indicator"]: d for d in DEFINITIONS}
