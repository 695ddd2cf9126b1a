"""The city leaders' cockpit (市领导驾驶舱, leader cockpit) and the command-centre big screen
(大屏, big screen). Both read precomputed composite scores and, for the work panels, the domain
apps' summary selectors scoped to the viewer."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.numbers import rounded
from sizhen.core.permissions import require_capability
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.dashboards.selectors_cockpit import Cockpit, get_cockpit

#: The big screen reloads itself every five minutes: the command centre has nobody at the mouse.
REFRESH_SECONDS = 300
#: Every chart's table as a workbook sheet; ``all`` puts them in one workbook.
EXPORTS = (
    "heatmap",
    "history",
    "districts",
    "attribution",
    "departments",
    "tasks",
    "requests",
    "all",
)


def _context(cockpit: Cockpit) -> dict[str, Any]:
    month = cockpit.requests.month_label if cockpit.requests else ""
    return {
        "c": cockpit,
        "heatmap_rows": cockpit.heatmap_rows(),
        "history_chart": cockpit.history_chart(),
        "districts_chart": cockpit.districts_chart(),
        "heatmap_chart": cockpit.heatmap_chart(),
        "tasks_chart": cockpit.tasks.chart() if cockpit.tasks else None,
        "requests_chart": cockpit.requests.chart() if cockpit.requests else None,
        # The list pages each panel links to, filtered like the figure where they can be.
        "links": {
            "alerts": reverse("monitoring:alert_list"),
            "tasks": reverse("work_tasks:list"),
            "tasks_overdue": reverse("work_tasks:list") + "?overdue=1",
            "tasks_statistics": reverse("work_tasks:statistics"),
            "ledger": reverse("rectification:item_list"),
            "ledger_closed": reverse("rectification:item_list") + "?status=closed",
            "ledger_overdue": reverse("rectification:item_list") + "?overdue=yes",
            "requests": reverse("enterprise_requests:ledger"),
            "requests_analysis": reverse("enterprise_requests_analysis:index")
            + "?"
            + urlencode({"first": month, "last": month}),
        },
        "change_blocks": [
            ("一级指标得分上升前五", cockpit.indicators_up),
            ("一级指标得分下降前五", cockpit.indicators_down),
            ("县市区总分上升前五", cockpit.districts_up),
            ("县市区总分下降前五", cockpit.districts_down),
        ],
    }


@login_required
def cockpit(request: AuthenticatedRequest) -> HttpResponse:
    require_leadership(request, "领导驾驶舱")
    export = request.GET.get("export", "")
    if export and export not in EXPORTS:
        raise Http404("未知的导出类型")
    data = get_cockpit(request.user)
    if export:
        return _export(request, data, export)
    return render(request, "dashboards/cockpit.html", {"title": "领导驾驶舱", **_context(data)})


@login_required
def bigscreen(request: AuthenticatedRequest) -> HttpResponse:
    require_leadership(request, "大屏")
    context = _context(get_cockpit(request.user))
    context.update(
        {"title": "营商环境监测大屏", "refresh_seconds": REFRESH_SECONDS, "now": timezone.now()}
    )
    return render(request, "dashboards/bigscreen.html", context)


#: The city's leaders and office see the city; a district officer sees the same screen for
#: their own district (the selectors scope every figure: the city index and history, their
#: district's row of the ranking and heat map with its rank among all, their tasks, items,
#: requests and alerts). Everyone else gets a 404.


def require_leadership(request: AuthenticatedRequest, target: str) -> None:
    require_capability(request.user, "cockpit.view", target=target)


Sheet = tuple[str, list[str], list[list[Any]]]
# Figures are rounded as the page shows them: totals with two decimals, the grid's first-level
# scores with one (the cockpit template's floatformat).


def _heatmap_sheet(data: Cockpit) -> Sheet:
    headers = ["排名", "参与排名数", "区划代码", "区划名称", "总分"] + [
        f"{i.code} {i.name}" for i in data.indicators
    ]
    rows = [
        [
            d.rank,
            d.rank_total,
            d.region.code,
            d.region.name,
            rounded(d.score, 2),
            *(rounded(cell, 1) for cell in cells),
        ]
        for d, cells in zip(data.districts, data.matrix, strict=True)
    ]
    return (f"各县市区一级指标得分{data.period_label}", headers, rows)


def _history_sheet(data: Cockpit) -> Sheet:
    return ("总分走势", ["期间", "总分"], [[p.label, rounded(p.score, 2)] for p in data.history])


def _districts_sheet(data: Cockpit) -> Sheet:
    return (
        f"各县市区总分与排名{data.period_label}",
        ["排名", "参与排名数", "区划代码", "区划名称", "总分"],
        [
            [d.rank, d.rank_total, d.region.code, d.region.name, rounded(d.score, 2)]
            for d in data.districts
        ],
    )


def _attribution_sheet(data: Cockpit) -> Sheet:
    a = data.attribution
    rows = a.rows() if a is not None and a.method else []
    return (
        f"总分变化归因{data.period_label}",
        ["一级指标", "上期得分", "本期得分", "贡献"],
        [row[:4] for row in rows],
    )


def _departments_sheet(data: Cockpit) -> Sheet:
    label = f"{data.department_period:%Y-%m}" if data.department_period else ""
    return (
        f"市级部门条线表现{label}",
        ["部门编码", "部门", "有数据的指标数", "同层级末位指标数", "最落后指标", "数值", "排名"],
        [
            [
                line.department.code,
                line.department.name,
                line.indicators,
                line.last,
                f"{line.worst.indicator.code} {line.worst.indicator.name}",
                rounded(line.worst.value, 2),
                f"{line.worst.rank}/{line.worst.rank_total}",
            ]
            for line in data.department_lines
        ],
    )


def _tasks_sheet(data: Cockpit) -> Sheet:
    rows: list[list[Any]] = []
    if data.tasks is not None:
        rows = [[label, count] for _key, label, count in data.tasks.rows()]
        rows += [["在办", data.tasks.open], ["逾期未完成", data.tasks.overdue_open]]
    return ("工作任务完成情况", ["完成情况", "数量"], rows)


def _requests_sheet(data: Cockpit) -> Sheet:
    rows: list[list[Any]] = []
    title = "企业诉求统计"
    if data.requests is not None:
        title = f"企业诉求统计{data.requests.month_label}"
        rows = [["诉求量", data.requests.figures.total]]
        rows += [[label, value] for label, value in data.requests.rates()]
        rows += [["超期件数", data.requests.figures.overdue]]
        rows += [["当前逾期未办结", data.requests.overdue_open]]
    return (title, ["指标", "数值（率为百分比）"], rows)


SHEETS = {
    "heatmap": _heatmap_sheet,
    "history": _history_sheet,
    "districts": _districts_sheet,
    "attribution": _attribution_sheet,
    "departments": _departments_sheet,
    "tasks": _tasks_sheet,
    "requests": _requests_sheet,
}


def _export(request: AuthenticatedRequest, data: Cockpit, kind: str) -> HttpResponse:
    """A chart's table as XLSX (its table view, the same figures), or all of them."""
    names = list(SHEETS) if kind == "all" else [kind]
    sheets = [SHEETS[name](data) for name in names]
    title = f"领导驾驶舱{data.period_label}" if kind == "all" else sheets[0][0]
    content = build_workbook(sheets)
    record_event(
        "export.xlsx",
        actor=request.user,
        obj=data.root,
        message=f"导出领导驾驶舱{title}",
        after={
            "export": kind,
            "period": data.period_label,
            "rows": sum(len(rows) for _, _, rows in sheets),
        },
    )
    return xlsx_response(content, title)
