"""Built-in source dataset schemas (数据集). Admins define further datasets as data
(``Dataset`` + ``DatasetVersion`` rows) without code; these ship with the platform, one per
source system that holds an indicator's transactions (docs/catalogue.md says which leaf each feeds).

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
    "department_field": "department_code",
    "period_fields": ["completed_at"],
    "fields": [
        field("serial_no", "业务流水号", required=True),
        field("uscc", "统一社会信用代码", required=True),
        field("enterprise_name", "企业名称", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "登记机关编码"),
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
    "department_field": "department_code",
    "period_fields": ["awarded_at"],
    "fields": [
        field("project_id", "项目编号", required=True),
        field("project_name", "项目名称", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "监管部门编码"),
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

CONSTRUCTION_PERMITS: dict[str, Any] = {
    "code": "construction_permits",
    "name": "工程建设项目审批",
    "description": "工程建设项目审批管理系统记录：每个项目一行，从立项用地规划许可申请到竣工验收备案的"
    "环节数、工作日、费用和质量安全检查次数。",
    "key": "project_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["completed_at"],
    "fields": [
        field("project_id", "项目代码", required=True, aliases=["项目编号"]),
        field("project_name", "项目名称", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "牵头审批部门编码", required=True),
        field(
            "project_type",
            "项目类型",
            required=True,
            allowed=["社会投资低风险", "社会投资一般", "政府投资", "带方案出让"],
        ),
        field("applied_at", "首次申请时间", "datetime", required=True),
        field("permitted_at", "施工许可核发时间", "datetime"),
        field("completed_at", "竣工验收备案时间", "datetime"),
        field("procedures", "审批环节数", "integer", required=True, minimum=0),
        field("inspections", "质量安全检查次数", "integer", required=True, minimum=0),
        field("fees", "审批相关费用（元）", "decimal", required=True, minimum=0),
        field("construction_value", "工程造价（元）", "decimal", required=True, minimum=0),
    ],
}

PROPERTY_REGISTRATIONS: dict[str, Any] = {
    "code": "property_registrations",
    "name": "不动产登记",
    "description": "不动产登记信息平台办件：登记类型、申请与登簿时间、环节数、税费和不动产价值。",
    "key": "registration_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["completed_at"],
    "fields": [
        field("registration_id", "登记业务号", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "登记机构编码", required=True),
        field(
            "registration_type",
            "登记类型",
            required=True,
            allowed=["转移登记", "抵押登记", "首次登记", "变更登记"],
        ),
        field("applicant_type", "申请人类型", required=True, allowed=["企业", "个人"]),
        field("channel", "申请渠道", required=True, allowed=["网上", "窗口", "银行网点"]),
        field("applied_at", "申请时间", "datetime", required=True),
        field("completed_at", "登簿时间", "datetime"),
        field("procedures", "环节数", "integer", required=True, minimum=0),
        field("fees", "税费（元）", "decimal", required=True, minimum=0),
        field("property_value", "不动产价值（元）", "decimal", required=True, minimum=0),
    ],
}

TAX_FILINGS: dict[str, Any] = {
    "code": "tax_filings",
    "name": "纳税申报",
    "description": "税务部门共享的申报记录：纳税人类型、税种、申报渠道和申报时间（不含税额）。",
    "key": "filing_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["filed_at"],
    "fields": [
        field("filing_id", "申报序号", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "主管税务机关编码", required=True),
        field("taxpayer_type", "纳税人类型", required=True, allowed=["企业", "个体工商户"]),
        field(
            "tax_type",
            "税种",
            required=True,
            allowed=["增值税", "企业所得税", "个人所得税", "社会保险费", "其他"],
        ),
        field(
            "channel",
            "申报渠道",
            required=True,
            allowed=["电子税务局", "移动端", "自助办税终端", "办税服务厅"],
        ),
        field("filed_at", "申报时间", "datetime", required=True),
    ],
}

COURT_CASES: dict[str, Any] = {
    "code": "court_cases",
    "name": "法院案件",
    "description": "法院审判流程管理系统共享的涉企案件：商事一审、执行和破产案件的立案、结案时间、"
    "结案方式与标的金额。",
    "key": "case_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["concluded_at"],
    "fields": [
        field("case_id", "案号", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "法院编码", required=True),
        field("case_kind", "案件类型", required=True, allowed=["商事一审", "执行", "破产"]),
        field("filed_at", "立案时间", "datetime", required=True),
        field("concluded_at", "结案时间", "datetime"),
        field(
            "outcome",
            "结案方式",
            allowed=[
                "判决",
                "调解",
                "撤诉",
                "驳回",
                "执行完毕",
                "和解履行",
                "终结本次执行",
                "破产清算",
                "重整",
                "和解",
            ],
        ),
        field("claim_amount", "标的金额/申报债权（元）", "decimal", minimum=0),
        field("recovered_amount", "实际到位/清偿金额（元）", "decimal", minimum=0),
    ],
}

LABOUR_CASES: dict[str, Any] = {
    "code": "labour_cases",
    "name": "劳动争议与劳动保障监察",
    "description": "人社部门劳动人事争议调解仲裁和劳动保障监察案件：受理、结案时间和结案方式。",
    "key": "case_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["closed_at", "accepted_at"],
    "fields": [
        field("case_id", "案件编号", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "受理机构编码", required=True),
        field("case_kind", "案件类型", required=True, allowed=["争议调解仲裁", "劳动保障监察"]),
        field("accepted_at", "受理时间", "datetime", required=True),
        field("closed_at", "结案时间", "datetime"),
        field(
            "outcome",
            "结案方式",
            allowed=[
                "调解成功",
                "仲裁裁决",
                "撤回",
                "不予受理",
                "责令改正",
                "行政处罚",
                "撤销立案",
            ],
        ),
    ],
}

PROCUREMENT: dict[str, Any] = {
    "code": "procurement",
    "name": "政府采购",
    "description": "政府采购云平台项目：采购公告、评审、结果公告、合同签订时间，电子化情况，履约"
    "保证金与预付款金额。",
    "key": "procurement_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["result_published_at"],
    "fields": [
        field("procurement_id", "采购项目编号", required=True),
        field("project_name", "项目名称", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "采购人编码", required=True),
        field(
            "method",
            "采购方式",
            required=True,
            allowed=["公开招标", "竞争性磋商", "竞争性谈判", "询价", "单一来源", "框架协议"],
        ),
        field("electronic", "全流程电子化", required=True, allowed=["是", "否"]),
        field("announced_at", "采购公告时间", "datetime", required=True),
        field("evaluated_at", "评审结束时间", "datetime"),
        field("result_published_at", "结果公告时间", "datetime"),
        field("contract_signed_at", "合同签订时间", "datetime"),
        field("contract_amount", "合同金额（元）", "decimal", minimum=0),
        field("performance_bond", "履约保证金（元）", "decimal", minimum=0),
        field("advance_payment", "预付款（元）", "decimal", minimum=0),
    ],
}

IP_PLEDGES: dict[str, Any] = {
    "code": "ip_pledges",
    "name": "知识产权质押登记",
    "description": "知识产权质押登记记录（专利、商标、版权）：登记时间与融资金额。",
    "key": "pledge_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["registered_at"],
    "fields": [
        field("pledge_id", "登记号", required=True),
        field("region_code", "出质人区划代码", required=True),
        field("department_code", "登记受理部门编码"),
        field("ip_type", "质押物类型", required=True, allowed=["专利", "商标", "版权", "组合"]),
        field("registered_at", "登记时间", "datetime", required=True),
        field("amount", "融资金额（元）", "decimal", required=True, minimum=0),
    ],
}

MARKET_SUPERVISION: dict[str, Any] = {
    "code": "market_supervision",
    "name": "市场监管与信用",
    "description": "国家企业信用信息公示系统和“双随机、一公开”监管平台的记录：抽查任务、行政处罚"
    "决定（是否公示）和企业公共信用综合评价等级。",
    "key": "record_id",
    "region_field": "region_code",
    "department_field": "department_code",
    "period_fields": ["concluded_at"],
    "fields": [
        field("record_id", "记录编号", required=True),
        field("region_code", "区划代码", required=True),
        field("department_code", "实施部门编码", required=True),
        field(
            "record_kind", "记录类型", required=True, allowed=["双随机抽查", "行政处罚", "信用评价"]
        ),
        field("concluded_at", "完成/决定/评价时间", "datetime", required=True),
        field("joint", "跨部门联合", allowed=["是", "否"]),
        field("published", "已公示", allowed=["是", "否"]),
        field("grade", "信用等级", allowed=["A", "B", "C", "D"]),
    ],
}

BUILTIN_DATASETS = [
    GOV_SERVICE_CASES,
    ENTERPRISE_STARTUP,
    BIDDING,
    UTILITY_CONNECTIONS,
    CONSTRUCTION_PERMITS,
    PROPERTY_REGISTRATIONS,
    TAX_FILINGS,
    COURT_CASES,
    LABOUR_CASES,
    PROCUREMENT,
    IP_PLEDGES,
    MARKET_SUPERVISION,
]
BUILTIN_BY_CODE = {d["code"]: d for d in BUILTIN_DATASETS}

TYPES = ("string", "integer", "decimal", "datetime", "date")
