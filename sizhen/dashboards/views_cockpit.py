"""The city leaders' cockpit (市领导驾驶舱, leader cockpit) and the command-centre big screen
(大屏, big screen). Both read precomputed composite scores and, for the work panels, the domain
apps' summary selectors scoped to the viewer."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from sizhen.core.access import require_role
from sizhen.core.audit import record_event
from sizhen.core.roles import CITY_WIDE_ROLES
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.dashboards.selectors_cockpit import Cockpit, get_cockpit

#: The big screen reloads itself every five minutes: the command centre has nobody at the mouse.
REFRESH_SECONDS = 300
EXPORTS = ("heatmap",)


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
def cockpit(request: HttpRequest) -> HttpResponse:
    require_leadership(request, "领导驾驶舱")
    export = request.GET.get("export", "")
    if export and export not in EXPORTS:
        raise Http404("未知的导出类型")
    data = get_cockpit(request.user)
    if export:
        return _export_heatmap(request, data)
    return render(request, "dashboards/cockpit.html", {"title": "领导驾驶舱", **_context(data)})


@login_required
def bigscreen(request: HttpRequest) -> HttpResponse:
    require_leadership(request, "大屏")
    context = _context(get_cockpit(request.user))
    context.update(
        {"title": "营商环境监测大屏", "refresh_seconds": REFRESH_SECONDS, "now": timezone.now()}
    )
    return render(request, "dashboards/bigscreen.html", context)


def require_leadership(request: HttpRequest, target: str) -> None:
    require_role(request.user, *CITY_WIDE_ROLES, target=target)


def _export_heatmap(request: HttpRequest, data: Cockpit) -> HttpResponse:
    headers = ["排名", "参与排名数", "区划代码", "区划名称", "总分"] + [
        f"{i.code} {i.name}" for i in data.indicators
    ]
    rows = [
        [d.rank, d.rank_total, d.region.code, d.region.name, d.score, *cells]
        for d, cells in zip(data.districts, data.matrix, strict=True)
    ]
    title = f"各县市区一级指标得分{data.period_label}"
    content = build_workbook([(title, headers, rows)])
    record_event(
        "export.xlsx",
        actor=request.user,
        obj=data.root,
        message=f"导出领导驾驶舱{title}",
        after={"export": "heatmap", "period": data.period_label, "rows": len(rows)},
    )
    return xlsx_response(content, title)
