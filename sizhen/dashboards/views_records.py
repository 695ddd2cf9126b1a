"""Drill-down from an indicator value to its source records (明细记录, record drill-down): city
→ district → the records, masked. The page never opens the analytical store: it asks the
worker for an extract and shows it when ready (see sizhen/indicators/ingestion/extracts.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods

from sizhen.core.access import EXPORT, VIEW, Actor, get_visible_or_404
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.periods import Period
from sizhen.core.permissions import require_capability
from sizhen.core.xlsx import xlsx_response
from sizhen.dashboards import selectors
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.ingestion.models import PENDING, READY, RecordExtract
from sizhen.indicators.ingestion.selectors import (
    drill_source,
    drillable_regions,
    extract_workbook,
    get_latest_extract,
)
from sizhen.indicators.ingestion.services import request_record_extract
from sizhen.organisations.models import Region

#: Rows shown on the page; the export has all of the extract's rows.
PAGE_ROWS = 500
REFRESH_SECONDS = 3


def drillable_region_or_404(actor: Actor, code: str) -> Region:
    """The region if the actor may open its records: a region outside their own subtree answers
    404 (audited) even when they may see its figures, like the city for a district officer."""
    region = get_visible_or_404(Region, actor, code=code)
    if not drillable_regions(actor).filter(pk=region.pk).exists():
        record_event(
            "access.denied",
            actor=actor,
            object_type="organisations.region",
            object_id=region.code,
            message="无权查看该区划的明细记录",
            after={"action": "records"},
        )
        raise Http404("未找到该记录")
    return region


def _default_region_code(actor: Actor) -> str:
    region = drillable_regions(actor).order_by("depth", "path").first()
    if region is None:
        raise Http404("未设置管辖区划")
    return region.code


def _period(raw: str, indicator: Indicator, region: Region, actor: Actor) -> dt.date:
    if raw:
        try:
            return Period.parse(raw, "month", loose=True).start
        except ValueError as exc:
            raise Http404("期间格式应为 YYYY-MM") from exc
    latest = (
        IndicatorValue.objects.visible_to(actor)
        .filter(indicator=indicator, region=region, value__isnull=False)
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    if latest is None:
        raise Http404("该区划暂无本指标数值")
    return latest


def _url(indicator: Indicator, region: Region, period: dt.date, **extra: str) -> str:
    query = urlencode({"region": region.code, "period": f"{period:%Y-%m}", **extra})
    return f"{reverse('dashboards:records', args=[indicator.code])}?{query}"


@login_required
@require_http_methods(["GET", "POST"])
def records(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="明细记录")
    export = request.GET.get("export", "")
    if export and export != "xlsx":
        raise Http404("未知的导出类型")
    action = EXPORT if export else VIEW
    actor = request.user
    item = get_visible_or_404(Indicator, actor, action, code=code)
    region = drillable_region_or_404(
        actor, request.GET.get("region", "").strip() or _default_region_code(actor)
    )
    period = _period(request.GET.get("period", "").strip(), item, region, actor)
    source = drill_source(item)
    if request.method == "POST":
        if source is None:
            raise Http404("该指标不是由业务记录计算，无明细记录")
        request_record_extract(item, region, period, actor=actor)
        return redirect(_url(item, region, period))
    extract = get_latest_extract(item, region, period, actor=actor)
    if export:
        if extract is None or extract.state != READY:
            raise Http404("明细记录尚未生成")
        return _export(request, item, region, period, extract)
    context: dict[str, Any] = {
        "title": f"{item.code} {item.name} 明细记录",
        "indicator": item,
        "region": region,
        "period": period,
        "period_label": Period.containing(period, item.frequency).label,
        "source": source,
        "extract": extract,
        "pending": extract is not None and extract.state == PENDING,
        "refresh_seconds": REFRESH_SECONDS,
        "page_rows": PAGE_ROWS,
        "breadcrumb": _breadcrumb(actor, item, region, period),
        "sub_regions": _sub_regions(actor, item, region, period),
        "export_url": _url(item, region, period, export="xlsx"),
        "table_body": _table_body(extract) if extract is not None else "",
    }
    return render(request, "dashboards/records.html", context)


def _breadcrumb(
    actor: Actor, indicator: Indicator, region: Region, period: dt.date
) -> list[dict[str, str]]:
    allowed = set(
        drillable_regions(actor)
        .filter(pk__in=[r.pk for r in region.ancestors()])
        .values_list("pk", flat=True)
    )
    return [
        {"name": r.name, "url": _url(indicator, r, period) if r.pk in allowed else ""}
        for r in region.ancestors()
        if r.pk != region.pk
    ]


def _sub_regions(
    actor: Actor, indicator: Indicator, region: Region, period: dt.date
) -> list[dict[str, Any]]:
    """The next level down (city → districts, district → parks) with this period's value."""
    children = list(drillable_regions(actor).filter(parent=region).order_by("code"))
    values = selectors.preferred_by_region(
        list(
            IndicatorValue.objects.visible_to(actor).filter(
                indicator=indicator, region__in=children, period=period, value__isnull=False
            )
        )
    )
    return [
        {
            "region": child,
            "value": selectors.fixed2(values[child.pk].value) if child.pk in values else "—",
            "url": _url(indicator, child, period),
        }
        for child in children
    ]


def _table_body(extract: RecordExtract) -> SafeString:
    rows = []
    for row in extract.rows[:PAGE_ROWS]:
        cells = "".join(f"<td>{escape('' if cell is None else cell)}</td>" for cell in row)
        rows.append(f"<tr>{cells}</tr>")
    return mark_safe("".join(rows))  # noqa: S308 - every cell is escaped above


def _export(
    request: AuthenticatedRequest,
    item: Indicator,
    region: Region,
    period: dt.date,
    extract: RecordExtract,
) -> HttpResponse:
    content = extract_workbook(extract)
    record_event(
        "export.xlsx",
        actor=request.user,
        obj=item,
        message=f"导出{item.code} {item.name}（{region.name}，{period:%Y-%m}）明细记录",
        after={
            "export": "records",
            "region": region.code,
            "period": f"{period:%Y-%m}",
            "rows": len(extract.rows),
        },
    )
    return xlsx_response(content, f"{item.code}-{region.name}-{period:%Y%m}-明细记录")
