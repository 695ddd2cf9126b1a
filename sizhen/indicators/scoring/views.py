"""Simulated evaluation (仿真评价): what-if values for a region's leaves, the resulting scores
and ranks beside the current ones. Reads only; nothing is stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from sizhen.core.access import get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.periods import Period
from sizhen.core.permissions import require_capability
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.scoring.simulation import simulate
from sizhen.organisations.models import Region
from sizhen.organisations.pickers import region_select


@login_required
def simulation(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="仿真评价")
    regions = list(Region.objects.visible_to(request.user).filter(parent__isnull=False))
    latest = (
        IndicatorValue.objects.filter(source_kind=SourceKind.RECORDS).order_by("-period").first()
    )
    default_period = Period.containing(latest.period if latest else dt.date.today()).label
    errors: list[str] = []
    context: dict[str, Any] = {
        "title": "仿真评价",
        "period_text": request.GET.get("period", default_period),
        "region_code": request.GET.get("region", regions[0].code if regions else ""),
    }
    context["region_select"] = region_select("region", regions, context["region_code"])
    region = None
    if context["region_code"]:
        region = get_visible_or_404(Region, request.user, code=context["region_code"])
    period = None
    try:
        period = Period.parse(context["period_text"], "month").start
    except ValueError:
        errors.append("期间格式应为 YYYY-MM，如 2026-03")
    leaves = list(
        Indicator.objects.filter(is_active=True, children__isnull=True)
        .exclude(parent=None)
        .order_by("sort_order", "code")
    )
    what_if: dict[str, float] = {}
    for leaf in leaves:
        raw = request.GET.get(f"v_{leaf.code}", "").strip()
        if not raw:
            continue
        try:
            what_if[leaf.code] = float(raw)
        except ValueError:
            errors.append(f"{leaf.code} {leaf.name} 的模拟值“{raw}”不是数字")
    result = None
    if region is not None and period is not None and not errors:
        try:
            result = simulate(region, period, what_if)
        except ValueError as exc:
            errors.append(str(exc))
    rows = []
    if result is not None:
        by_code = {i.code: i for i in Indicator.objects.filter(code__in=result["indicators"])}
        for code, entry in result["indicators"].items():
            indicator = by_code.get(code)
            if indicator is None:
                continue
            rows.append(
                {
                    "indicator": indicator,
                    "is_leaf": code in {leaf.code for leaf in leaves},
                    "what_if": what_if.get(code),
                    **entry,
                    "moved": entry.get("rank") != entry.get("baseline_rank")
                    or entry.get("score") != entry.get("baseline_score"),
                }
            )
    context.update({"rows": rows, "errors": errors, "region": region, "what_if": what_if})
    return render(request, "indicators/simulation.html", context, status=400 if errors else 200)
