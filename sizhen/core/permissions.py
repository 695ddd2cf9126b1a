"""The registry of named capabilities: which roles may do what, in one place.

A capability is a name (``"task.review"``), a Chinese label and the roles that hold it.
Workflow transitions (``Transition(roles=capability_roles(...))``), services
(``require_capability``/``has_capability``), views and templates (``{% if user|can:"..." %}``)
all ask the registry, so the transition table, the pages and the services cannot disagree about
who may act. Two rules that happen to name the same roles today but mean different things (the
office reviewing tasks, the coordinator alone editing the dispatch catalogue) are two
capabilities, so that one can change without the other.

To add a capability: add a ``Capability`` to ``CAPABILITIES`` below (name ``area.verb``, a label
in Chinese, roles from ``sizhen.core.roles``), then ask for it by name; an unknown name raises
``KeyError`` at the first call, so a typo fails in tests, not silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from sizhen.core.access import Actor, require_role, role_of
from sizhen.core.roles import CITY_WIDE_ROLES, STAFF_ROLES, Role

#: The coordinating office (营商办) and the system administrators who stand in for it.
_OFFICE = frozenset({Role.COORDINATOR, Role.SYSADMIN})
_DEPARTMENTS = frozenset({Role.LEAD_DEPARTMENT, Role.RESPONSIBLE_DEPARTMENT})


@dataclass(frozen=True)
class Capability:
    name: str
    label: str
    roles: frozenset[str]


CAPABILITIES: tuple[Capability, ...] = (
    # --- platform -------------------------------------------------------------------------------
    Capability("staff.pages", "访问工作人员页面", STAFF_ROLES),
    Capability("staff.api", "调用业务接口", STAFF_ROLES | {Role.MACHINE}),
    Capability("calendar.view", "查看工作日历", frozenset({Role.SYSADMIN, Role.COORDINATOR})),
    Capability("calendar.edit", "维护工作日历", frozenset({Role.SYSADMIN})),
    Capability("audit.view", "查看审计日志", frozenset({Role.SYSADMIN})),
    Capability("jobs.view", "查看后台任务", frozenset({Role.SYSADMIN, Role.COORDINATOR})),
    Capability("user.view", "查看用户", frozenset({Role.SYSADMIN, Role.COORDINATOR, Role.LEADER})),
    Capability("user.admin", "管理用户和接口令牌", frozenset({Role.SYSADMIN})),
    # --- indicators (监测分析) ------------------------------------------------------------------
    Capability("catalogue.edit", "维护指标体系", _OFFICE),
    Capability("data.admin", "管理数据集和数据对接", _OFFICE),
    Capability("data.push", "以登录身份推送数据", _OFFICE),
    Capability("data.upload", "上传和更正数据", _OFFICE | _DEPARTMENTS),
    Capability(
        "filling.fill",
        "填报数据",
        frozenset({Role.DISTRICT_OFFICER, Role.RESPONSIBLE_DEPARTMENT, Role.LEAD_DEPARTMENT}),
    ),
    Capability("filling.review", "审核填报", frozenset({Role.COORDINATOR, Role.LEAD_DEPARTMENT})),
    Capability(
        "filling.open_round", "下发填报", frozenset({Role.COORDINATOR, Role.LEAD_DEPARTMENT})
    ),
    Capability(
        "filling.rule_edit", "维护填报校验规则", frozenset({Role.COORDINATOR, Role.LEAD_DEPARTMENT})
    ),
    Capability("filling.aggregate_import", "导入汇总数据", _OFFICE | {Role.LEAD_DEPARTMENT}),
    # --- monitoring (预警) ----------------------------------------------------------------------
    Capability("alert.manage", "交办和处置预警", _OFFICE),
    Capability("alert_rule.edit", "维护预警规则", _OFFICE),
    Capability("cockpit.view", "查看领导驾驶舱", CITY_WIDE_ROLES | {Role.DISTRICT_OFFICER}),
    # --- work tasks (督办) ----------------------------------------------------------------------
    Capability("task.issue", "下发和撤销工作任务", _OFFICE),
    Capability("task.review", "审核工作任务", _OFFICE),
    Capability("task.supervise", "挂牌督办和协调会", _OFFICE),
    # --- rectification (整改清单) ---------------------------------------------------------------
    Capability("rectification.manage", "统筹整改清单（可办理任一事项）", _OFFICE),
    Capability("rectification.register", "登记和导入整改事项", _OFFICE),
    Capability("rectification.review", "审核销号和核验整改效果", _OFFICE),
    Capability("rectification.publish", "曝光整改事项", _OFFICE),
    # --- enterprise requests (诉求) -------------------------------------------------------------
    Capability("request.submit", "提交诉求", frozenset({Role.ENTERPRISE})),
    Capability(
        "request.push",
        "推送诉求",
        frozenset(
            {Role.ENTERPRISE, Role.COORDINATOR, Role.SYSADMIN, Role.DISTRICT_OFFICER, Role.MACHINE}
        ),
    ),
    Capability("request.read_api", "以登录身份查询诉求接口", STAFF_ROLES | {Role.ENTERPRISE}),
    Capability("request.intake", "登记诉求", _OFFICE | {Role.DISTRICT_OFFICER}),
    Capability("request.manage", "受理、派单和审核诉求", _OFFICE),
    Capability("request.handle", "办理诉求（主办、协办单位）", _OFFICE | _DEPARTMENTS),
    Capability("request.urge", "催办诉求", _OFFICE | {Role.LEADER}),
    Capability(
        "request.analysis",
        "查看诉求分析",
        _OFFICE | _DEPARTMENTS | {Role.LEADER, Role.DISTRICT_OFFICER},
    ),
    Capability("request_report.read", "查看诉求分析报告", _OFFICE | {Role.LEADER}),
    Capability("request_report.write", "生成和发布诉求分析报告", _OFFICE),
    Capability("request_category.edit", "维护诉求分类", _OFFICE),
    # The catalogue is the coordinator's own work; administrators do not edit it.
    Capability("dispatch_catalogue.edit", "维护派单目录", frozenset({Role.COORDINATOR})),
    # --- surveys (问卷调查) ---------------------------------------------------------------------
    Capability("survey.design", "维护题库和问卷", _OFFICE),
    Capability("survey.distribute", "发起调查、发放和催答问卷", _OFFICE),
    # Paper questionnaires are entered where they are collected: the office and the districts.
    Capability("survey.enter", "录入纸质问卷", _OFFICE | {Role.DISTRICT_OFFICER}),
    Capability("survey.results", "查看调查结果", STAFF_ROLES),
    Capability("survey.answer", "填写问卷", frozenset({Role.ENTERPRISE})),
    Capability("survey.publish_index", "发布企业满意度指数", _OFFICE),
    # Turning an answer into a request or a ledger item is the office's decision (the seed's
    # 003 loop: problems found by asking are sorted by the 营商办).
    Capability("survey.follow_up", "将问卷问题转为诉求或整改事项", _OFFICE),
    # --- think tank: policy library (政策库) ------------------------------------------------------
    Capability("policy.manage", "维护、导入、发布和废止政策", _OFFICE),
    Capability("policy.enjoy", "查看本企业可享受的政策", frozenset({Role.ENTERPRISE})),
    # --- reminder letters (提醒函) --------------------------------------------------------------
    Capability("letter.write", "生成和发送提醒函", _OFFICE),
    Capability(
        "letter.view",
        "查看提醒函",
        _OFFICE | _DEPARTMENTS | {Role.LEADER, Role.DISTRICT_OFFICER},
    ),
    # --- training (营商培训) ----------------------------------------------------------------------
    Capability("training.manage", "维护培训资料、课程、题库和考试", _OFFICE),
    Capability("training.learn", "学习培训资料和参加考试", STAFF_ROLES),
    # --- data assets (数据资产) ----------------------------------------------------------------
    Capability("asset.manage", "维护数据资产目录和历史资料", _OFFICE),
    # The owner department approves extracts of its own datasets (the transition's guard says
    # which); the office approves any.
    Capability("asset.approve", "审批数据调取申请", _OFFICE | _DEPARTMENTS),
    Capability("asset.personal_data", "调取未脱敏的个人信息", frozenset({Role.COORDINATOR})),
)

REGISTRY: dict[str, Capability] = {c.name: c for c in CAPABILITIES}


def capability_roles(name: str) -> frozenset[str]:
    """The roles that hold the capability (for a workflow ``Transition`` or a list page)."""
    return REGISTRY[name].roles


def has_capability(actor: Actor | None, name: str) -> bool:
    """Whether the actor (an active, logged-in user or a token) holds the capability."""
    return role_of(actor) in capability_roles(name)


def require_capability(
    actor: Actor | None, name: str, *, action: str = "access", target: str = ""
) -> None:
    """Refuse (404, audited ``access.denied``) unless the actor holds the capability."""
    require_role(actor, *capability_roles(name), action=action, target=target)


def ensure_capability(actor: Actor | None, name: str, refusal: Exception) -> None:
    """For services: raise ``refusal`` (the service's own error, its message shown to the user)
    unless the actor holds the capability."""
    if not has_capability(actor, name):
        raise refusal


__all__ = [
    "CAPABILITIES",
    "REGISTRY",
    "Capability",
    "capability_roles",
    "ensure_capability",
    "has_capability",
    "require_capability",
]
