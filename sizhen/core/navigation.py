"""The platform's modules as the navigation shows them. A module not built yet says so."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.urls import reverse

from sizhen.core.roles import Role

ALL_STAFF = frozenset(
    {
        Role.LEADER,
        Role.COORDINATOR,
        Role.LEAD_DEPARTMENT,
        Role.RESPONSIBLE_DEPARTMENT,
        Role.DISTRICT_OFFICER,
        Role.SYSADMIN,
    }
)
EVERYONE = ALL_STAFF | {Role.ENTERPRISE}


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Module:
    slug: str
    label: str
    diagnosis: str  # 望闻问切 or 支撑
    description: str
    roles: frozenset[str]
    #: the issue that builds it, shown on the placeholder page; "" once built
    planned: str = ""
    url_name: str = ""
    items: tuple[NavItem, ...] = field(default=())

    @property
    def is_built(self) -> bool:
        """Whether the module has pages yet (a module with none says so plainly)."""
        return bool(self.url_name or self.items)


MODULES: tuple[Module, ...] = (
    Module(
        "monitoring",
        "监测分析",
        "望",
        "指标体系、无感数据采集、指标计算、评分排名、对标分析与异常预警。",
        ALL_STAFF,
        items=(
            NavItem(
                "领导驾驶舱",
                "dashboards:cockpit",
                # A district officer gets the same screen for their own district.
                frozenset({Role.LEADER, Role.COORDINATOR, Role.SYSADMIN, Role.DISTRICT_OFFICER}),
            ),
            NavItem(
                "营商环境监测大屏",
                "dashboards:bigscreen",
                frozenset({Role.LEADER, Role.COORDINATOR, Role.SYSADMIN, Role.DISTRICT_OFFICER}),
            ),
            NavItem("指标看板", "dashboards:index", ALL_STAFF),
            NavItem("预警", "monitoring:alert_list", ALL_STAFF),
            NavItem(
                "预警规则", "monitoring:rule_list", frozenset({Role.COORDINATOR, Role.SYSADMIN})
            ),
            NavItem(
                "提醒函",
                "reports:letter_list",
                frozenset(
                    {
                        Role.LEADER,
                        Role.COORDINATOR,
                        Role.SYSADMIN,
                        Role.LEAD_DEPARTMENT,
                        Role.RESPONSIBLE_DEPARTMENT,
                    }
                ),
            ),
            NavItem("指标体系", "indicators:catalogue", ALL_STAFF),
            NavItem("标杆值", "indicators:benchmark_list", ALL_STAFF),
            NavItem("评价周期", "indicators:cycle_list", ALL_STAFF),
            NavItem("仿真评价", "indicators:simulation", ALL_STAFF),
            NavItem("数据集与数据时效", "indicator_data:dataset_list", ALL_STAFF),
            NavItem("数据批次", "indicator_data:batch_list", ALL_STAFF),
            NavItem(
                "上传数据文件",
                "indicator_data:upload",
                frozenset({Role.COORDINATOR, Role.SYSADMIN}),
            ),
            NavItem("定期填报", "indicator_filling:task_list", ALL_STAFF),
            NavItem("逾期未报", "indicator_filling:overdue", ALL_STAFF),
            NavItem(
                "数据对接",
                "indicator_filling:pull_list",
                frozenset({Role.COORDINATOR, Role.SYSADMIN}),
            ),
        ),
    ),
    Module(
        "requests",
        "企业诉求",
        "闻",
        "企业诉求多渠道受理、派单、办理时限、回访与“三率”统计。",
        EVERYONE,
        items=(
            NavItem("我的诉求", "enterprise_requests:mine", frozenset({Role.ENTERPRISE})),
            NavItem("提交诉求", "enterprise_requests:submit", frozenset({Role.ENTERPRISE})),
            NavItem("诉求台账", "enterprise_requests:ledger", ALL_STAFF),
            NavItem(
                "登记诉求",
                "enterprise_requests:register",
                frozenset({Role.COORDINATOR, Role.SYSADMIN, Role.DISTRICT_OFFICER}),
            ),
            NavItem("面对面座谈会", "enterprise_requests:forum_list", ALL_STAFF),
            # Every member of staff; the request scope narrows what each one's figures cover.
            NavItem("诉求分析", "enterprise_requests_analysis:index", ALL_STAFF),
            NavItem(
                "诉求分类",
                "enterprise_requests:category_list",
                frozenset({Role.COORDINATOR, Role.SYSADMIN}),
            ),
            NavItem("诉求办理结果公开", "enterprise_requests:public", EVERYONE),
            NavItem("派单目录", "dispatch:catalogue_list", frozenset({Role.COORDINATOR})),
        ),
    ),
    Module(
        "surveys",
        "问卷调查",
        "问",
        "题库、问卷、企业满意度调查与满意度指数。",
        EVERYONE,
        items=(
            NavItem("我的问卷", "surveys:mine", frozenset({Role.ENTERPRISE})),
            NavItem("问卷", "surveys:questionnaire_list", ALL_STAFF),
            NavItem("调查轮次", "surveys:round_list", ALL_STAFF),
            NavItem("答卷", "surveys:response_list", ALL_STAFF),
            NavItem("题库", "surveys:bank_list", ALL_STAFF),
            NavItem(
                "导入 XLSForm 问卷", "surveys:import", frozenset({Role.COORDINATOR, Role.SYSADMIN})
            ),
        ),
    ),
    Module(
        "tasks",
        "工作任务",
        "切",
        "任务下发、签收、转办、进展反馈、审核与督办。",
        ALL_STAFF,
        items=(
            NavItem("本单位任务", "work_tasks:mine", ALL_STAFF),
            NavItem("全部任务", "work_tasks:list", ALL_STAFF),
            NavItem("任务看板", "work_tasks:board", ALL_STAFF),
            NavItem("下发任务", "work_tasks:issue", frozenset({Role.COORDINATOR, Role.SYSADMIN})),
            NavItem("任务统计", "work_tasks:statistics", ALL_STAFF),
        ),
    ),
    Module(
        "rectification",
        "整改清单",
        "切",
        "问题台账、整改措施、销号与效果核验。",
        ALL_STAFF,
        items=(
            NavItem("整改清单", "rectification:item_list", ALL_STAFF),
            NavItem("整改清单完成情况", "rectification:stats", ALL_STAFF),
            NavItem(
                "登记整改事项",
                "rectification:item_create",
                frozenset({Role.COORDINATOR, Role.SYSADMIN}),
            ),
            NavItem("整改曝光台", "rectification:public_list", ALL_STAFF),
        ),
    ),
    Module(
        "knowledge",
        "营商智库",
        "支撑",
        "政策库、标杆做法、优秀案例。",
        EVERYONE,
        items=(
            NavItem("政策检索", "thinktank:search", EVERYONE),
            NavItem("我可享受的政策", "thinktank:mine", frozenset({Role.ENTERPRISE})),
            NavItem("政策库", "thinktank:policy_list", ALL_STAFF),
            NavItem(
                "登记政策", "thinktank:policy_create", frozenset({Role.COORDINATOR, Role.SYSADMIN})
            ),
            NavItem("导入政策", "thinktank:import", frozenset({Role.COORDINATOR, Role.SYSADMIN})),
        ),
    ),
    Module(
        "assets",
        "数据资产",
        "支撑",
        "数据资源目录与血缘、历年参评数据与考核要点、数据调取申请与下载。",
        ALL_STAFF,
        items=(
            NavItem("数据资源目录", "assets:catalogue", ALL_STAFF),
            NavItem("历年参评数据", "assets:result_list", ALL_STAFF),
            NavItem("历年考核要点与资料", "assets:document_list", ALL_STAFF),
            NavItem("数据调取申请", "assets:extract_list", ALL_STAFF),
            NavItem("申请调取数据", "assets:extract_create", ALL_STAFF),
        ),
    ),
    Module(
        "training",
        "营商培训",
        "支撑",
        "学习资料、培训课程、题库与考试、错题本和培训统计。",
        ALL_STAFF,
        items=(
            NavItem("一键学习", "training:mine", ALL_STAFF),
            NavItem("学习资料", "training:material_list", ALL_STAFF),
            NavItem("培训课程", "training:course_list", ALL_STAFF),
            NavItem("考试", "training:exam_list", ALL_STAFF),
            NavItem("错题本", "training:wrong_book", ALL_STAFF),
            NavItem("题库", "training:question_list", frozenset({Role.COORDINATOR, Role.SYSADMIN})),
            NavItem("培训统计", "training:stats", ALL_STAFF),
        ),
    ),
    Module(
        "system",
        "系统管理",
        "支撑",
        "区划、部门、企业、用户、接口令牌、工作日历、后台任务与审计日志。",
        frozenset({Role.SYSADMIN, Role.COORDINATOR, Role.DISTRICT_OFFICER}),
        url_name="core:system",
        items=(
            NavItem(
                "行政区划",
                "organisations:region_list",
                frozenset({Role.SYSADMIN, Role.COORDINATOR}),
            ),
            NavItem(
                "部门",
                "organisations:department_list",
                frozenset({Role.SYSADMIN, Role.COORDINATOR}),
            ),
            NavItem(
                "企业",
                "organisations:enterprise_list",
                frozenset({Role.SYSADMIN, Role.COORDINATOR, Role.DISTRICT_OFFICER}),
            ),
            NavItem("用户", "accounts:user_list", frozenset({Role.SYSADMIN, Role.COORDINATOR})),
            NavItem("接口令牌", "accounts:token_list", frozenset({Role.SYSADMIN})),
            NavItem("工作日历", "core:calendar", frozenset({Role.SYSADMIN, Role.COORDINATOR})),
            NavItem("后台任务", "core:job_list", frozenset({Role.SYSADMIN, Role.COORDINATOR})),
            NavItem("审计日志", "core:audit_list", frozenset({Role.SYSADMIN})),
        ),
    ),
)

MODULES_BY_SLUG = {m.slug: m for m in MODULES}


def modules_for(role: str | None) -> list[Module]:
    if role is None:
        return []
    return [m for m in MODULES if role in m.roles]


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str = ""


@functools.cache
def _item_urls() -> tuple[tuple[Module, NavItem, str], ...]:
    return tuple((m, item, reverse(item.url_name)) for m in MODULES for item in m.items)


def _module_url(module: Module) -> str:
    return reverse(module.url_name or "core:module", args=() if module.url_name else [module.slug])


#: A person's own pages, reached from the top bar: under 首页 whatever their URL namespace.
PERSONAL_PAGES = frozenset({"accounts:password_change", "core:inbox"})


def breadcrumbs(path: str, view_name: str, role: str | None) -> tuple[list[Crumb], str]:
    """The trail above a page (首页 › module › menu page) and, for a module's own page or a
    menu page, the current page's name. The home page has none; a page under a menu page (a
    task under 全部任务) is found by its address, the menu page's address being the longest
    that begins it among those the role may open; a page no menu page leads to hangs under
    the module of its URL namespace when the role sees that module, else under 首页."""
    if role is None or view_name == "core:home":
        return [], ""
    home = Crumb("首页", reverse("core:home"))
    visible = [(m, item, url) for m, item, url in _item_urls() if role in item.roles]
    modules = modules_for(role)
    for module in modules:
        if path == _module_url(module):
            return [home], module.label
    for m, item, _url in visible:
        if item.url_name == view_name:
            if item.label == m.label:  # 整改清单 › 整改清单: the module's own list
                return [home], item.label
            return [home, Crumb(m.label, _module_url(m))], item.label
    above = [(m, item, url) for m, item, url in visible if path.startswith(url) and url != path]
    if above:
        m, item, url = max(above, key=lambda row: len(row[2]))
        if item.label == m.label:
            return [home, Crumb(item.label, url)], ""
        return [home, Crumb(m.label, _module_url(m)), Crumb(item.label, url)], ""
    namespace = view_name.split(":", 1)[0]
    if view_name in PERSONAL_PAGES:
        return [home], ""
    for m, item, _url in visible:
        if item.url_name.split(":", 1)[0] == namespace and m in modules:
            return [home, Crumb(m.label, _module_url(m))], ""
    return [home], ""
