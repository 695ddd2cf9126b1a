"""Catalogue pages (指标体系): the tree with XLSX export, an indicator's page with its
revisions, goalposts and values beside benchmark cities, the coordinator's edit forms and
evaluation cycles; benchmarks (标杆值) are in ``benchmarks``.

Every page opens for staff roles only (an enterprise gets 404) and reads through the scope;
every write fetches its object with ``action="change"``, so a role that may not edit gets 404
(audited) and nothing changes. Who may change is the models' ``scope_q``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, get_visible_or_404
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.permissions import has_capability, require_capability
from sizhen.core.xlsx import xlsx_response
from sizhen.indicators.catalogue import defaults, imports, selectors, services
from sizhen.indicators.catalogue.choices import Direction, Frequency, SourceKind
from sizhen.indicators.catalogue.forms import (
    CycleForm,
    GoalpostForm,
    IndicatorForm,
    apply_service_errors,
)
from sizhen.indicators.catalogue.models import (
    Benchmark,
    EvaluationCycle,
    Indicator,
    IndicatorValue,
)
from sizhen.organisations.models import Region
from sizhen.organisations.pickers import region_select

#: Periods shown on an indicator's page.
VALUE_PERIODS = 24
SOURCE_PRIORITY = [
    SourceKind.RECORDS,
    SourceKind.AGGREGATE,
    SourceKind.FILLING,
    SourceKind.SURVEY,
    SourceKind.COMPOSITE,
]


def number(value: float | None, places: int = 4) -> str:
    """A number as people write it: 0.5, 100, 26.1 (no trailing zeros, no exponent)."""
    if value is None:
        return ""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _detail_url(indicator: Indicator) -> str:
    return reverse("indicators:indicator_detail", args=[indicator.code])


# --- the catalogue tree ----------------------------------------------------------------------


@login_required
def catalogue_page(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="指标体系")
    if request.GET.get("export") == "xlsx":
        content, count = selectors.catalogue_workbook(request.user)
        record_event(
            "export.xlsx",
            actor=request.user,
            object_type="indicators.indicator",
            message=f"导出“指标体系” {count} 行",
            after={"rows": count},
        )
        return xlsx_response(content, "指标体系")
    cycle = selectors.get_current_cycle()
    tree = selectors.list_catalogue(request.user, cycle)
    rows = [
        {
            "row": row,
            "weight": number(row.indicator.weight),
            "best": number(row.goalpost.best) if row.goalpost else "",
            "worst": number(row.goalpost.worst) if row.goalpost else "",
        }
        for row in tree
    ]
    return render(
        request,
        "indicators/catalogue.html",
        {
            "title": "指标体系",
            "rows": rows,
            "cycle": cycle,
            "first_level": sum(1 for r in tree if r.indicator.level == 1),
            "leaves": sum(1 for r in tree if r.is_leaf),
        },
    )


@login_required
@require_POST
def catalogue_load(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="指标体系")
    require_capability(request.user, "catalogue.edit", action=CHANGE, target="加载默认指标目录")
    try:
        report = imports.load_default_catalogue(actor=request.user)
    except defaults.CatalogueError as exc:
        messages.error(request, f"默认指标目录无法加载：{exc}")
        return redirect("indicators:catalogue")
    messages.success(
        request,
        f"已加载默认指标目录（{report.cycle}）：新增 {len(report.created)} 个指标，"
        f"保留已有 {report.kept} 个，新增 {report.goalposts_created} 组目标值，"
        f"补充部门 {len(report.filled)} 个。",
    )
    if report.missing_departments:
        messages.warning(
            request,
            "以下部门在本市部门中不存在，相关指标的牵头/责任部门暂为空："
            + "、".join(sorted(report.missing_departments)),
        )
    return redirect("indicators:catalogue")


# --- one indicator ---------------------------------------------------------------------------

FIELD_LABELS = {
    "code": "编码",
    "name": "指标名称",
    "name_en": "英文名称",
    "parent": "上级指标",
    "unit": "单位",
    "direction": "方向",
    "frequency": "频度",
    "source_kind": "数据来源",
    "lead_department": "牵头部门",
    "responsible_departments": "责任部门",
    "weight": "权重",
    "definition": "指标定义",
    "sort_order": "排序",
    "is_active": "启用",
    "goalposts": "目标值",
}
_CHOICE_LABELS: dict[str, Any] = {
    "direction": Direction,
    "frequency": Frequency,
    "source_kind": SourceKind,
}


def _describe(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if key in _CHOICE_LABELS:
        choices = _CHOICE_LABELS[key]
        return str(choices(value).label) if value in choices.values else str(value)
    if key == "lead_department":
        return str(value["name"])
    if key == "responsible_departments":
        return "、".join(d["name"] for d in value)
    if key == "is_active":
        return "是" if value else "否"
    if key == "goalposts":
        return "；".join(
            f"{cycle}：最优 {g['best']:g}，最差 {g['worst']:g}"
            + (f"，目标 {g['target']:g}" if g.get("target") is not None else "")
            for cycle, g in value.items()
        )
    return str(value)


def revision_history(indicator: Indicator) -> list[dict[str, Any]]:
    """Each kept version with what the next version changed (newest first)."""
    revisions = list(indicator.revisions.select_related("changed_by").order_by("version"))
    states = [r.snapshot for r in revisions] + [services.indicator_snapshot(indicator)]
    history = []
    for index, revision in enumerate(revisions):
        old, new = states[index], states[index + 1]
        changes = [
            (label, _describe(key, old.get(key)), _describe(key, new.get(key)))
            for key, label in FIELD_LABELS.items()
            if old.get(key) != new.get(key)
        ]
        history.append(
            {
                "version": revision.version,
                "next_version": new.get("version"),
                "changed_by": str(revision.changed_by) if revision.changed_by else "系统",
                "changed_at": revision.changed_at,
                "reason": revision.reason,
                "changes": changes,
            }
        )
    return list(reversed(history))


def _value_table(
    request: AuthenticatedRequest, indicator: Indicator
) -> tuple[Region | None, list[Region], list[str], list[dict[str, Any]]]:
    """The chosen region's own values by period, with benchmark cities' values beside them."""
    regions = list(Region.objects.visible_to(request.user).order_by("path"))
    wanted = request.GET.get("region", "")
    region = next((r for r in regions if r.code == wanted), None)
    if region is None:
        region = next((r for r in regions if r.parent_id is None), regions[0] if regions else None)
    own: dict[Any, IndicatorValue] = {}
    if region is not None:
        values = IndicatorValue.objects.visible_to(request.user).filter(
            indicator=indicator, region=region
        )
        for kept in sorted(values, key=lambda v: SOURCE_PRIORITY.index(SourceKind(v.source_kind))):
            own.setdefault(kept.period, kept)
    benchmarks = list(Benchmark.objects.visible_to(request.user).filter(indicator=indicator))
    cities = sorted({b.city for b in benchmarks})
    by_period: dict[Any, dict[str, float]] = {}
    for b in benchmarks:
        by_period.setdefault(b.period, {})[b.city] = b.value
    periods = sorted(set(own) | set(by_period), reverse=True)[:VALUE_PERIODS]
    rows = []
    for period in periods:
        value = own.get(period)
        rows.append(
            {
                "period": period,
                "own": value,
                "value": number(value.value, 2) if value and value.value is not None else "—",
                "score": number(value.score, 1) if value and value.score is not None else "—",
                "benchmarks": [
                    number(by_period[period][city], 2) if city in by_period.get(period, {}) else "—"
                    for city in cities
                ],
            }
        )
    return region, regions, cities, rows


@login_required
def indicator_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="指标体系")
    indicator = get_visible_or_404(
        Indicator.objects.select_related("parent", "lead_department"), request.user, code=code
    )
    children = list(Indicator.objects.visible_to(request.user).filter(parent=indicator))
    goalposts = {g.cycle_id: g for g in indicator.goalposts.all()}
    cycles = [
        {
            "cycle": cycle,
            "goalpost": goalposts.get(cycle.pk),
            "best": number(goalposts[cycle.pk].best) if cycle.pk in goalposts else "",
            "worst": number(goalposts[cycle.pk].worst) if cycle.pk in goalposts else "",
            "target": number(goalposts[cycle.pk].target) if cycle.pk in goalposts else "",
            "frozen": services.cycle_is_frozen(cycle),
        }
        for cycle in EvaluationCycle.objects.visible_to(request.user)
    ]
    region, regions, cities, value_rows = _value_table(request, indicator)
    return render(
        request,
        "indicators/indicator_detail.html",
        {
            "title": f"{indicator.code} {indicator.name}",
            "indicator": indicator,
            "responsible": indicator.responsible_departments.all(),
            "children": [(c, number(c.weight)) for c in children],
            "weight": number(indicator.weight),
            "is_leaf": not children and not indicator.children.exists(),
            "cycles": cycles,
            "history": revision_history(indicator),
            "region": region,
            "region_select": region_select("region", regions, region.code if region else None),
            "cities": cities,
            "value_rows": value_rows,
        },
    )


def form_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, invalid: bool
) -> HttpResponse:
    return render(request, template, context, status=400 if invalid else 200)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="编辑指标")
    indicator = get_visible_or_404(Indicator, request.user, CHANGE, code=code)
    form = IndicatorForm(request.POST or None, instance=indicator)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_indicator(
                indicator,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                **form.service_fields(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已保存指标 {indicator.code}，版本号已更新")
            return redirect(_detail_url(indicator))
    return form_page(
        request,
        "indicators/form.html",
        {
            "title": f"编辑指标：{indicator.code} {indicator.name}",
            "form": form,
            "cancel_url": _detail_url(indicator),
            "note": f"当前版本 {indicator.version}。保存后旧版本记入修改历史，版本号加 1。",
        },
        invalid=form.is_bound and bool(form.errors),
    )


@login_required
@require_http_methods(["GET", "POST"])
def goalpost_edit(request: AuthenticatedRequest, code: str, cycle_code: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="编辑目标值")
    indicator = get_visible_or_404(Indicator, request.user, CHANGE, code=code)
    cycle = get_visible_or_404(EvaluationCycle, request.user, CHANGE, code=cycle_code)
    if indicator.children.exists():
        raise Http404("上级指标没有目标值")
    if services.cycle_is_frozen(cycle):
        messages.error(request, f"{cycle.name}已结束，目标值已冻结，不能修改")
        return redirect(_detail_url(indicator))
    current = indicator.goalposts.filter(cycle=cycle).first()
    initial = (
        {
            "best": current.best,
            "worst": current.worst,
            "target": current.target,
            "note": current.note,
        }
        if current
        else {}
    )
    form = GoalpostForm(request.POST or None, indicator=indicator, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_goalpost(indicator, cycle, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已保存 {indicator.code} 在{cycle.name}的目标值")
            return redirect(_detail_url(indicator))
    return form_page(
        request,
        "indicators/form.html",
        {
            "title": f"目标值：{indicator.code} {indicator.name} · {cycle.name}",
            "form": form,
            "cancel_url": _detail_url(indicator),
            "note": f"方向：{indicator.get_direction_display()}；单位：{indicator.unit}。"
            "得分 = 100 ×（数值 − 最差值）/（最优值 − 最差值），截断在 0–100。",
        },
        invalid=form.is_bound and bool(form.errors),
    )


# --- evaluation cycles -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def cycle_list(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="评价周期")
    can_edit = has_capability(request.user, "catalogue.edit")
    form = CycleForm(request.POST or None)
    if request.method == "POST":
        require_capability(request.user, "catalogue.edit", action=CHANGE, target="新增评价周期")
        if form.is_valid():
            try:
                cycle = services.create_cycle(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"已新增{cycle.name}，目标值已从当前周期复制")
                return redirect("indicators:cycle_list")
    return render(
        request,
        "indicators/cycles.html",
        {
            "title": "评价周期",
            "cycles": EvaluationCycle.objects.visible_to(request.user),
            "form": form if can_edit else None,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def cycle_set_current(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="评价周期")
    cycle = get_visible_or_404(EvaluationCycle, request.user, CHANGE, code=code)
    services.set_current_cycle(cycle, actor=request.user)
    messages.success(request, f"当前评价周期已设为{cycle.name}")
    return redirect("indicators:cycle_list")
