"""Dashboard pages: the index of first-level indicators and the one-indicator page
(一指标一页面). They read precomputed values only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from sizhen.core.access import EXPORT, get_visible_or_404, require_role
from sizhen.core.audit import record_event
from sizhen.core.roles import STAFF_ROLES
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.dashboards import selectors
from sizhen.dashboards.selectors import IndicatorOverview
from sizhen.indicators.models import Indicator
from sizhen.organisations.models import Region

EXPORTS = ("series", "districts")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="指标看板")
    return render(
        request,
        "dashboards/index.html",
        {"title": "指标看板", "rows": selectors.list_first_level(request.user)},
    )


@login_required
def indicator(request: HttpRequest, code: str) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="指标页面")
    export = request.GET.get("export", "")
    action = EXPORT if export else "view"
    item = get_visible_or_404(Indicator, request.user, action, code=code)
    region_code = request.GET.get("region", "").strip()
    if region_code:
        region = get_visible_or_404(Region, request.user, code=region_code)
    else:
        default = selectors.default_region(request.user)
        if default is None:
            raise Http404("未设置管辖区划")
        region = default
    overview = selectors.get_indicator_overview(item, region, actor=request.user)
    if export:
        if export not in EXPORTS:
            raise Http404("未知的导出类型")
        return _export(request, overview, export)
    context: dict[str, Any] = {
        "title": f"{item.code} {item.name}",
        "o": overview,
        "series_rows": overview.series_rows(),
        "series_chart": overview.series_chart(),
        "districts_chart": overview.districts_chart(),
        "benchmark_cities": list(overview.benchmarks),
    }
    return render(request, "dashboards/indicator.html", context)


def _export(request: HttpRequest, overview: IndicatorOverview, kind: str) -> HttpResponse:
    item, region = overview.indicator, overview.region
    if kind == "series":
        cities = list(overview.benchmarks)
        headers = ["期间", f"{region.name}数值", "数据来源", "目标值"] + [
            f"标杆：{c}" for c in cities
        ]
        rows = [
            [r["label"], r["value"], r["source_kind"], r["target"], *r["benchmarks"]]
            for r in overview.series_rows()
        ]
        title = "时间序列"
    else:
        headers = ["排名", "参与排名数", "区划代码", "区划名称", "数值", "得分", "标记"]
        marks = {"leader": "领先", "laggard": "落后"}
        rows = [
            [
                r.rank,
                r.rank_total,
                r.region.code,
                r.region.name,
                r.value,
                r.score,
                marks.get(r.flag, ""),
            ]
            for r in overview.districts
        ]
        title = "区县排名"
    content = build_workbook([(title, headers, rows)])
    record_event(
        "export.xlsx",
        actor=request.user,
        obj=item,
        message=f"导出{item.code} {item.name}{title}",
        after={"export": kind, "region": region.code, "rows": len(rows)},
    )
    return xlsx_response(content, f"{item.code}-{title}")
