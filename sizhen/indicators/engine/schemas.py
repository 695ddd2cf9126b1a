"""Built-in source dataset schemas (数据集). Admins define further datasets as data
(``Dataset`` + ``DatasetVersion`` rows) without code; these four ship with the platform.

Field types: string, integer, decimal, datetime, date. ``allowed`` lists the accepted values
(Chinese labels as source systems send them); ``aliases`` are further accepted header names.
"""

from __future__ import annotations

from typing import Any

F = dict[str, Any]


def field(
    name: str,
    label: str,
    type: str = "string",
    *,
    required: bool = False,
    allowed: list[str] | None = None,
    aliases: list[str] | None = None,
    minimum: float | None = None,
    max_length: int | None = None,
) -> F:
    spec: F = {"name": name, "label": label, "type": type, "required": required}
    if allowed:
        spec["allowed"] = allowed
    if aliases:
        spec["aliases"] = aliases
    if minimum is not None:
        spec["minimum"] = minimum
    if max_length is not None:
        spec["max_length"] = max_length
    return spec


#: The longest value a string field takes unless its spec says ``max_length``: source codes
#: and names are short, and a 2 KB "name" is a broken export, not data.
DEFAULT_STRING_MAX_LENGTH = 200


def max_length_of(spec: F) -> int | None:
    if spec["type"] != "string":
        return None
    return int(spec.get("max_length") or DEFAULT_STRING_MAX_LENGTH)


GOV_SERVICE_CASES: dict[str, Any] = {
    "code": "gov_service_cases",
    "name": "政务服务办件",
    "description": "政务服务事项办件记录（一网通办平台、电子监察系统推送）。办件编号唯一，重复推送以最新版本替换。",
    "key": "case_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["completed_at", "accepted_at"],
    "fields": [
        field("case_id", "办件编号", required=True, aliases=["instance_code", "办件流水号"]),
        field("item_code", "事项编码", required=True, aliases=["approve_code"]),
        field("item_name", "事项名称", required=True, aliases=["approve_name"]),
        field("region_code", "区划代码", required=True, aliases=["area_code"]),
        field("department_code", "实施机构编码", required=True, aliases=["org_code"]),
        field("applicant_type", "申请人类型", required=True, allowed=["个人", "企业"]),
        field(
            "channel",
            "办件来源",
            required=True,
            allowed=["窗口", "网上", "移动端", "自助终端"],
            aliases=["instance_source"],
        ),
        field("submitted_at", "申请时间", "datetime", required=True, aliases=["submit_time"]),
        field("accepted_at", "受理时间", "datetime", required=True, aliases=["accept_time"]),
        field("completed_at", "办结时间", "datetime", aliases=["end_time"]),
        field(
            "statutory_limit",
            "法定时限",
            "integer",
            required=True,
            minimum=0,
            aliases=["time_limit"],
        ),
        field(
            "promised_limit",
            "承诺时限",
            "integer",
            required=True,
            minimum=0,
            aliases=["promises_limit"],
        ),
        field("visits", "跑动次数", "integer", required=True, minimum=0, aliases=["apply_times"]),
        field(
            "status",
            "办件状态",
            required=True,
            allowed=["受理", "办结", "不予受理", "补正", "作废"],
            aliases=["project_state"],
        ),
    ],
}

ENTERPRISE_STARTUP: dict[str, Any] = {
    "code": "enterprise_startup",
    "name": "企业开办",
    "description": "企业开办“一网通办”记录：每户企业一行，含申请提交与全部环节办结时间、环节数、费用。",
    "key": "serial_no",
    "region_field": "region_code",
    "department_field": "",
    "period_fields": ["completed_at"],
    "fields": [
        field("serial_no", "业务流水号", required=True),
        field("uscc", "统一社会信用代码", required=True),
        field("enterprise_name", "企业名称", required=True),
        field("region_code", "区划代码", required=True),
        field("channel", "办理渠道", required=True, allowed=["全程网办", "窗口", "混合"]),
        field("submitted_at", "申请提交时间", "datetime", required=True),
        field("completed_at", "全部办结时间", "datetime"),
        field("procedures", "环节数", "integer", required=True, minimum=0),
        field("cost", "费用（元）", "decimal", required=True, minimum=0),
    ],
}

BIDDING: dict[str, Any] = {
    "code": "bidding",
    "name": "招标投标",
    "description": "公共资源交易平台招标项目：公告、开标、中标、合同签订与保证金。",
    "key": "project_id",
    "region_field": "region_code",
    "department_field": "",
    "period_fields": ["awarded_at"],
    "fields": [
        field("project_id", "项目编号", required=True),
        field("project_name", "项目名称", required=True),
        field("region_code", "区划代码", required=True),
        field("category", "项目类别", required=True, allowed=["工程", "货物", "服务"]),
        field("announced_at", "公告时间", "datetime", required=True),
        field("awarded_at", "中标通知时间", "datetime"),
        field("contract_signed_at", "合同签订时间", "datetime"),
        field("paperless", "全程电子化", required=True, allowed=["是", "否"]),
        field("remote_evaluation", "远程异地评标", required=True, allowed=["是", "否"]),
        field("winner_is_local", "中标人为本地企业", allowed=["是", "否"]),
        field("deposit_mode", "保证金形式", allowed=["现金", "保函", "电子保函", "免收"]),
        field("budget", "预算金额（元）", "decimal", minimum=0),
    ],
}

UTILITY_CONNECTIONS: dict[str, Any] = {
    "code": "utility_connections",
    "name": "获得电力/用水用气",
    "description": "供电、供水、供气报装记录：申请、接通时间、环节数、费用。",
    "key": "application_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["connected_at"],
    "fields": [
        field("application_id", "报装编号", required=True),
        field("utility", "类别", required=True, allowed=["电力", "用水", "用气"]),
        field("region_code", "区划代码", required=True),
        field("department_code", "供应单位编码", required=True),
        field(
            "customer_type", "用户类型", required=True, allowed=["低压", "高压", "居民", "非居民"]
        ),
        field("applied_at", "申请时间", "datetime", required=True),
        field("connected_at", "接通时间", "datetime"),
        field("procedures", "环节数", "integer", required=True, minimum=0),
        field("cost", "费用（元）", "decimal", required=True, minimum=0),
    ],
}

BUILTIN_DATASETS = [GOV_SERVICE_CASES, ENTERPRISE_STARTUP, BIDDING, UTILITY_CONNECTIONS]
BUILTIN_BY_CODE = {d["code"]: d for d in BUILTIN_DATASETS}

TYPES = ("string", "integer", "decimal", "datetime", "date")
