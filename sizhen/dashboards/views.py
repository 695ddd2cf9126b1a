"""Dashboard pages: the index of first-level indicators and the one-indicator page
(一指标一页面). They read precomputed values only."""

from __future__ import annotations

from html import escape
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from sizhen.core.access import EXPORT, Actor, get_visible_or_404, scope_key
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.numbers import fixed, rounded
from sizhen.core.permissions import has_capability, require_capability
from sizhen.core.versions import VersionedCache
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.dashboards import selectors
from sizhen.dashboards.attribution import Attribution, attribute
from sizhen.dashboards.departments import EXPORT_HEADERS, DepartmentFigures, department_figures
from sizhen.dashboards.selectors import IndicatorOverview
from sizhen.indicators.catalogue.changes import VALUES
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.selectors import drill_source, drillable_regions
from sizhen.organisations.models import Region
from sizhen.rectification import selectors as rectification_selectors
from sizhen.surveys import selectors as survey_selectors
from sizhen.work_tasks import selectors as task_selectors

EXPORTS = ("series", "districts", "attribution", "departments")


@login_required
def index(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="指标看板")
    return render(
        request,
        "dashboards/index.html",
        {"title": "指标看板", "rows": selectors.list_first_level(request.user)},
    )


@login_required
def indicator(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="指标页面")
    export = request.GET.get("export", "")
    action = EXPORT if export else "view"
    item = get_visible_or_404(
        Indicator.objects.select_related("parent"), request.user, action, code=code
    )
    region_code = request.GET.get("region", "").strip()
    if region_code:
        region = get_visible_or_404(Region, request.user, code=region_code)
    else:
        default = selectors.default_region(request.user)
        if default is None:
            raise Http404("未设置管辖区划")
        region = default
    figures = FIGURES.get(
        (item.pk, region.pk, scope_key(request.user)),
        lambda: _figures(
            selectors.get_indicator_overview(item, region, actor=request.user), request.user
        ),
    )
    overview = figures["o"]
    if export:
        if export not in EXPORTS:
            raise Http404("未知的导出类型")
        return _export(request, overview, export, figures["attribution"], figures["departments"])
    context: dict[str, Any] = {
        "title": f"{item.code} {item.name}",
        **figures,
        "alerts": selectors.list_open_alerts(item, region, actor=request.user),
        "records_url": _records_url(request, overview),
        "can_issue": has_capability(request.user, "task.issue"),
        "attribution_export": f"?{urlencode({'region': region.code, 'export': 'attribution'})}",
        # Each app scopes its own reads to the viewer; the region narrows to its subtree.
        "tasks": task_selectors.for_indicator(request.user, item, region=region),
        "ledger": rectification_selectors.for_indicator(request.user, item, region=region),
        # A survey leaf: the round, sample and interval behind the value, or why there is none.
        "survey_basis": survey_selectors.index_basis(item.code, region, request.user)
        if item.source_kind == SourceKind.SURVEY
        else None,
        **_work_list_urls(item, region),
    }
    return render(request, "dashboards/indicator.html", context)


#: The page's figures (the overview and what is rendered from it) by indicator, region and
#: viewer scope, until the indicator figures change (catalogue.changes; core/versions.py). The
#: work parts (alerts, tasks, ledger, the records link) are read on every request.
FIGURES: VersionedCache[dict[str, Any]] = VersionedCache("indicator_page", depends_on=VALUES)


def _figures(overview: IndicatorOverview, actor: Actor) -> dict[str, Any]:
    series_rows = overview.series_rows()
    current = overview.current
    return {
        "attribution": attribute(overview.indicator, overview.region, current.period, actor=actor)
        if current is not None
        else None,
        "o": overview,
        "departments": department_figures(
            overview.indicator,
            overview.region,
            current.period if current is not None else None,
            actor=actor,
        ),
        "series_rows": series_rows,
        "series_table_body": _series_table_body(series_rows),
        "districts_table_body": _districts_table_body(overview),
        "children_table_body": _children_table_body(overview),
        "series_chart": overview.series_chart(),
        "districts_chart": overview.districts_chart(),
        "benchmark_cities": list(overview.benchmarks),
    }


def _series_table_body(rows: list[dict[str, Any]]) -> SafeString:
    """The series table's rows, one per period (120 for ten years of months). Joined here
    rather than looped in the template: the template loop was a third of the page's CPU."""
    cells = []
    for row in rows:
        texts = [row["label"], row["value_text"], row["source_kind"], row["target_text"]]
        texts.extend(row["benchmarks_text"])
        cells.append("<tr>" + "".join(f"<td>{escape(text)}</td>" for text in texts) + "</tr>")
    return mark_safe("".join(cells))  # noqa: S308 - every cell is escaped above


def _records_url(request: AuthenticatedRequest, overview: IndicatorOverview) -> str:
    """The drill-down to the records behind the current value, when the indicator is computed
    from records and the region lies in the viewer's own subtree."""
    if overview.current is None or drill_source(overview.indicator) is None:
        return ""
    region = overview.region
    if not drillable_regions(request.user).filter(pk=region.pk).exists():
        return ""
    query = urlencode({"region": region.code, "period": f"{overview.current.period:%Y-%m}"})
    return f"{reverse('dashboards:records', args=[overview.indicator.code])}?{query}"


def _work_list_urls(indicator: Indicator, region: Region) -> dict[str, str]:
    """The task list and the ledger filtered by the indicator and, below the city, by the
    region's subtree, as the page's lists are."""
    tasks: dict[str, Any] = {"indicator": indicator.code}
    items: dict[str, Any] = {"indicator": indicator.code}
    if region.parent_id is not None:
        tasks["district"] = region.pk
        items["region"] = region.pk
    return {
        "tasks_url": f"{reverse('work_tasks:list')}?{urlencode(tasks)}",
        "ledger_url": f"{reverse('rectification:item_list')}?{urlencode(items)}",
    }


def _rank_text(rank: int | None, total: int | None) -> str:
    return f"{rank}/{total}" if rank else "—"


def _districts_table_body(overview: IndicatorOverview) -> SafeString:
    marks = {"leader": "领先", "laggard": "落后"}
    rows = []
    for row in overview.districts:
        cells = (
            f"<td>{_rank_text(row.rank, row.rank_total)}</td>"
            f'<td><a href="?region={escape(row.region.code)}">{escape(row.region.name)}</a></td>'
            f"<td>{fixed(row.value, 2)}</td><td>{fixed(row.score, 1)}</td>"
            f"<td>{marks.get(row.flag, '')}</td>"
        )
        rows.append(f'<tr class="{escape(row.flag)}">{cells}</tr>')
    return mark_safe("".join(rows))  # noqa: S308 - names and codes are escaped above


def _children_table_body(overview: IndicatorOverview) -> SafeString:
    region = escape(overview.region.code)
    rows = []
    for child in overview.children:
        indicator, value = child["indicator"], child["value"]
        href = escape(reverse("dashboards:indicator", args=[indicator.code])) + f"?region={region}"
        shown = f"{fixed(value.value, 2)}{escape(indicator.unit)}" if value else "—"
        score = fixed(value.score, 1) if value and value.score is not None else "—"
        rank = _rank_text(value.rank, value.rank_total) if value else "—"
        provisional = "；".join(p.text for p in child["provisional"]) or "—"
        rows.append(
            f'<tr><td><a href="{href}">{escape(indicator.code)} {escape(indicator.name)}</a></td>'
            f"<td>{escape(child['label'] or '—')}</td><td>{shown}</td><td>{score}</td>"
            f"<td>{rank}</td><td>{escape(provisional)}</td></tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value is escaped or numeric above


def _export(
    request: AuthenticatedRequest,
    overview: IndicatorOverview,
    kind: str,
    attribution: Attribution | None,
    departments: DepartmentFigures,
) -> HttpResponse:
    item, region = overview.indicator, overview.region
    if kind == "series":
        cities = list(overview.benchmarks)
        headers = ["期间", f"{region.name}数值", "数据来源", "目标值"] + [
            f"标杆：{c}" for c in cities
        ]
        # Rounded as the page shows them: values with two decimals, scores with one.
        rows = [
            [
                r["label"],
                rounded(r["value"], 2),
                r["source_kind"],
                rounded(r["target"], 2),
                *(rounded(b, 2) for b in r["benchmarks"]),
            ]
            for r in overview.series_rows()
        ]
        title = "时间序列"
    elif kind == "attribution":
        if attribution is None or not attribution.method:
            raise Http404("本期变化无法分解")
        headers = [attribution.by, "上期", "本期", "贡献", "自身变化", "结构变化"]
        rows = attribution.rows()
        title = "变化归因"
    elif kind == "departments":
        if not departments.rows:
            raise Http404(departments.reason or "暂无分部门数据")
        headers = EXPORT_HEADERS
        rows = departments.export_rows()
        title = "部门排名"
    else:
        headers = ["排名", "参与排名数", "区划代码", "区划名称", "数值", "得分", "标记"]
        marks = {"leader": "领先", "laggard": "落后"}
        rows = [
            [
                r.rank,
                r.rank_total,
                r.region.code,
                r.region.name,
                rounded(r.value, 2),
                rounded(r.score, 1),
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
