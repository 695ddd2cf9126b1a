"""Indicator definitions as data (指标口径): which dataset, which rows, which measure, by which
period and region field. ``compile.py`` turns each into one Ibis expression.

measure kinds: count; sum / mean / median / percentile of a field; ratio of two aggregates
(count or sum, each with its own filter), optionally as a complement (1 − num/den) and scaled.
Filters: [field, op, value] with op in == != in not_in < <= > >= is_null not_null; a value of
{"field": name} compares two columns. Derived fields: {"name": ["workdays", start, end]} is the
number of working days in (start, end] through the calendar table; {"name": ["days", start, end]}
the calendar days between the two dates. A ``scale`` on any measure multiplies its value
(e.g. 1/365 for years from days, 1e-8 for 亿元 from 元).
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
        "indicator": "BE15.04",
        "name": "平均跑动次数",
        "dataset": "gov_service_cases",
        "period_field": "completed_at",
        "frequency": "month",
        "filter": GOV_COMPLETED,
        "measure": {"kind": "mean", "field": "visits"},
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


def _mean(
    indicator: str,
    name: str,
    dataset: str,
    period_field: str,
    field: str,
    *,
    frequency: str = "month",
    filter: list[list[Any]] | None = None,
    derive: dict[str, list[str]] | None = None,
    scale: float | None = None,
) -> Definition:
    measure: dict[str, Any] = {"kind": "mean", "field": field}
    if scale is not None:
        measure["scale"] = scale
    definition: Definition = {
        "indicator": indicator,
        "name": name,
        "dataset": dataset,
        "period_field": period_field,
        "frequency": frequency,
        "filter": filter or [],
        "measure": measure,
    }
    if derive:
        definition["derive"] = derive
    return definition


def _share(
    indicator: str,
    name: str,
    dataset: str,
    period_field: str,
    *,
    numerator: list[list[Any]],
    frequency: str = "month",
    filter: list[list[Any]] | None = None,
) -> Definition:
    """Percentage of the filtered rows that also meet ``numerator`` (count over count)."""
    return {
        "indicator": indicator,
        "name": name,
        "dataset": dataset,
        "period_field": period_field,
        "frequency": frequency,
        "filter": filter or [],
        "measure": {
            "kind": "ratio",
            "numerator": {"kind": "count", "filter": numerator},
            "denominator": {"kind": "count"},
            "scale": 100,
        },
    }


def _sum_ratio(
    indicator: str,
    name: str,
    dataset: str,
    period_field: str,
    numerator: str,
    denominator: str,
    *,
    frequency: str,
    filter: list[list[Any]] | None = None,
) -> Definition:
    """Sum over sum as a percentage: ratio of sums at every level, never a mean of ratios."""
    return {
        "indicator": indicator,
        "name": name,
        "dataset": dataset,
        "period_field": period_field,
        "frequency": frequency,
        "filter": [*(filter or []), [denominator, ">", 0]],
        "measure": {
            "kind": "ratio",
            "numerator": {"kind": "sum", "field": numerator},
            "denominator": {"kind": "sum", "field": denominator},
            "scale": 100,
        },
    }


# 获得电力 / 用水用气 (BE03, BE04): connections completed in the month, per utility.
CONNECTED: list[list[Any]] = [["connected_at", "not_null", None]]
CONNECTION_DAYS = {"connection_days": ["workdays", "applied_at", "connected_at"]}


def _utility(utility: list[str]) -> list[list[Any]]:
    # Non-residential connections only: the indicator measures what a business goes through.
    return [*CONNECTED, ["utility", "in", utility], ["customer_type", "!=", "居民"]]


DEFINITIONS += [
    _mean(
        "BE03.01",
        "获得电力环节",
        "utility_connections",
        "connected_at",
        "procedures",
        filter=_utility(["电力"]),
    ),
    _mean(
        "BE03.02",
        "获得电力时间（工作日）",
        "utility_connections",
        "connected_at",
        "connection_days",
        filter=_utility(["电力"]),
        derive=CONNECTION_DAYS,
    ),
    _mean(
        "BE03.03",
        "获得电力费用（元）",
        "utility_connections",
        "connected_at",
        "cost",
        filter=_utility(["电力"]),
    ),
    _mean(
        "BE04.01",
        "用水报装环节",
        "utility_connections",
        "connected_at",
        "procedures",
        filter=_utility(["用水"]),
    ),
    _mean(
        "BE04.02",
        "用水报装时间（工作日）",
        "utility_connections",
        "connected_at",
        "connection_days",
        filter=_utility(["用水"]),
        derive=CONNECTION_DAYS,
    ),
    _mean(
        "BE04.03",
        "用气报装环节",
        "utility_connections",
        "connected_at",
        "procedures",
        filter=_utility(["用气"]),
    ),
    _mean(
        "BE04.04",
        "用气报装时间（工作日）",
        "utility_connections",
        "connected_at",
        "connection_days",
        filter=_utility(["用气"]),
        derive=CONNECTION_DAYS,
    ),
    _mean(
        "BE04.05",
        "用水用气报装费用（元）",
        "utility_connections",
        "connected_at",
        "cost",
        filter=_utility(["用水", "用气"]),
    ),
]

# 办理建筑许可 (BE02): projects whose completion was filed (竣工验收备案) in the period; the
# time runs in working days from the first application, as the 工程建设项目审批 rules count it.
BUILT: list[list[Any]] = [["completed_at", "not_null", None]]
DEFINITIONS += [
    _mean(
        "BE02.01",
        "办理建筑许可环节",
        "construction_permits",
        "completed_at",
        "procedures",
        frequency="quarter",
        filter=BUILT,
    ),
    _mean(
        "BE02.02",
        "办理建筑许可时间（工作日）",
        "construction_permits",
        "completed_at",
        "permit_days",
        frequency="quarter",
        filter=BUILT,
        derive={"permit_days": ["workdays", "applied_at", "completed_at"]},
    ),
    _sum_ratio(
        "BE02.03",
        "办理建筑许可费用（占工程造价 %）",
        "construction_permits",
        "completed_at",
        "fees",
        "construction_value",
        frequency="year",
        filter=BUILT,
    ),
]

# 登记财产 (BE05): transfers between parties (转移登记), the case the indicator measures.
TRANSFERRED: list[list[Any]] = [
    ["completed_at", "not_null", None],
    ["registration_type", "==", "转移登记"],
]
DEFINITIONS += [
    _mean(
        "BE05.01",
        "登记财产环节",
        "property_registrations",
        "completed_at",
        "procedures",
        frequency="quarter",
        filter=TRANSFERRED,
    ),
    _mean(
        "BE05.02",
        "登记财产时间（工作日）",
        "property_registrations",
        "completed_at",
        "registration_days",
        frequency="quarter",
        filter=TRANSFERRED,
        derive={"registration_days": ["workdays", "applied_at", "completed_at"]},
    ),
    _sum_ratio(
        "BE05.03",
        "登记财产费用（占不动产价值 %）",
        "property_registrations",
        "completed_at",
        "fees",
        "property_value",
        frequency="year",
        filter=TRANSFERRED,
    ),
]

# 纳税 (BE08.05): filings through the electronic tax bureau or its mobile app.
DEFINITIONS += [
    _share(
        "BE08.05",
        "网上综合办税率",
        "tax_filings",
        "filed_at",
        numerator=[["channel", "in", ["电子税务局", "移动端"]]],
    ),
]

# 执行合同 (BE10) and 办理破产 (BE11) from the courts' case records; court time limits are
# counted in calendar days (民事诉讼法), so durations here are calendar days.
CONCLUDED: list[list[Any]] = [["concluded_at", "not_null", None]]
COURT_DAYS = {"court_days": ["days", "filed_at", "concluded_at"]}
DEFINITIONS += [
    _mean(
        "BE10.01",
        "解决商业纠纷时间（天）",
        "court_cases",
        "concluded_at",
        "court_days",
        frequency="quarter",
        filter=[*CONCLUDED, ["case_kind", "==", "商事一审"]],
        derive=COURT_DAYS,
    ),
    _share(
        "BE10.04",
        "实际执结率",
        "court_cases",
        "concluded_at",
        frequency="quarter",
        filter=[*CONCLUDED, ["case_kind", "==", "执行"]],
        numerator=[["outcome", "in", ["执行完毕", "和解履行"]]],
    ),
    _mean(
        "BE11.01",
        "收回债务所需时间（年）",
        "court_cases",
        "concluded_at",
        "court_days",
        frequency="year",
        filter=[*CONCLUDED, ["case_kind", "==", "破产"]],
        derive=COURT_DAYS,
        scale=1 / 365,
    ),
    _sum_ratio(
        "BE11.03",
        "回收率（分/元）",
        "court_cases",
        "concluded_at",
        "recovered_amount",
        "claim_amount",
        frequency="year",
        filter=[*CONCLUDED, ["case_kind", "==", "破产"]],
    ),
]

# 劳动力市场监管 (BE12): mediation success among closed disputes; inspection cases accepted in
# the quarter that are closed.
DEFINITIONS += [
    _share(
        "BE12.01",
        "劳动人事争议调解成功率",
        "labour_cases",
        "closed_at",
        frequency="quarter",
        filter=[
            ["closed_at", "not_null", None],
            ["case_kind", "==", "争议调解仲裁"],
            ["outcome", "not_in", ["不予受理"]],
        ],
        numerator=[["outcome", "==", "调解成功"]],
    ),
    _share(
        "BE12.03",
        "劳动保障监察结案率",
        "labour_cases",
        "accepted_at",
        frequency="quarter",
        filter=[["case_kind", "==", "劳动保障监察"]],
        numerator=[["closed_at", "not_null", None]],
    ),
]

# 政府采购 (BE13): projects whose result was announced in the quarter.
PUBLISHED: list[list[Any]] = [["result_published_at", "not_null", None]]
SIGNED: list[list[Any]] = [*PUBLISHED, ["contract_signed_at", "not_null", None]]
DEFINITIONS += [
    _share(
        "BE13.01",
        "政府采购全流程电子化率",
        "procurement",
        "result_published_at",
        frequency="quarter",
        filter=PUBLISHED,
        numerator=[["electronic", "==", "是"]],
    ),
    _mean(
        "BE13.02",
        "采购结果公告平均时长（天）",
        "procurement",
        "result_published_at",
        "publication_days",
        frequency="quarter",
        filter=[*PUBLISHED, ["evaluated_at", "not_null", None]],
        derive={"publication_days": ["days", "evaluated_at", "result_published_at"]},
    ),
    _mean(
        "BE13.03",
        "中标至合同签订时长（天）",
        "procurement",
        "result_published_at",
        "signing_days",
        frequency="quarter",
        filter=SIGNED,
        derive={"signing_days": ["days", "result_published_at", "contract_signed_at"]},
    ),
    _sum_ratio(
        "BE13.04",
        "履约保证金平均比例",
        "procurement",
        "result_published_at",
        "performance_bond",
        "contract_amount",
        frequency="quarter",
        filter=SIGNED,
    ),
    _sum_ratio(
        "BE13.05",
        "合同预付款平均比例",
        "procurement",
        "result_published_at",
        "advance_payment",
        "contract_amount",
        frequency="quarter",
        filter=SIGNED,
    ),
]

# 招标投标 (BE14): projects awarded in the month.
AWARDED: list[list[Any]] = [["awarded_at", "not_null", None]]
DEFINITIONS += [
    _share(
        "BE14.01",
        "全程电子化招标项目占比",
        "bidding",
        "awarded_at",
        filter=AWARDED,
        numerator=[["paperless", "==", "是"]],
    ),
    _share(
        "BE14.02",
        "电子保函应用率",
        "bidding",
        "awarded_at",
        filter=[*AWARDED, ["deposit_mode", "in", ["现金", "保函", "电子保函"]]],
        numerator=[["deposit_mode", "==", "电子保函"]],
    ),
    _share(
        "BE14.03",
        "外地企业中标率",
        "bidding",
        "awarded_at",
        filter=[*AWARDED, ["winner_is_local", "not_null", None]],
        numerator=[["winner_is_local", "==", "否"]],
    ),
    _mean(
        "BE14.05",
        "交易效率（公告至中标通知天数）",
        "bidding",
        "awarded_at",
        "award_days",
        filter=AWARDED,
        derive={"award_days": ["days", "announced_at", "awarded_at"]},
    ),
]

# 知识产权 (BE16.04): pledge financing registered in the year, in 亿元.
DEFINITIONS += [
    {
        "indicator": "BE16.04",
        "name": "知识产权质押融资额（亿元）",
        "dataset": "ip_pledges",
        "period_field": "registered_at",
        "frequency": "year",
        "filter": [],
        "measure": {"kind": "sum", "field": "amount", "scale": 1e-8},
    },
]

# 市场监管 (BE17): joint random inspections, published penalty decisions, good credit grades.
DEFINITIONS += [
    _share(
        "BE17.02",
        "跨部门联合双随机抽查占比",
        "market_supervision",
        "concluded_at",
        frequency="quarter",
        filter=[["record_kind", "==", "双随机抽查"]],
        numerator=[["joint", "==", "是"]],
    ),
    _share(
        "BE17.03",
        "企业公共信用评价优良率",
        "market_supervision",
        "concluded_at",
        frequency="quarter",
        filter=[["record_kind", "==", "信用评价"]],
        numerator=[["grade", "in", ["A", "B"]]],
    ),
    _share(
        "BE17.04",
        "行政处罚案件公开率",
        "market_supervision",
        "concluded_at",
        frequency="quarter",
        filter=[["record_kind", "==", "行政处罚"]],
        numerator=[["published", "==", "是"]],
    ),
]

DEFINITIONS_BY_INDICATOR = {d["indicator"]: d for d in DEFINITIONS}
