"""Benchmark pages (标杆值): the list, the coordinator's forms and the XLSX import.

Pages open for staff roles only (an enterprise gets 404); every write fetches its object with
``action="change"``, so a role that may not edit gets 404 (audited) and nothing changes."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, Actor, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.indicators.catalogue import imports, services
from sizhen.indicators.catalogue.forms import (
    BenchmarkForm,
    BenchmarkImportForm,
    apply_service_errors,
)
from sizhen.indicators.catalogue.models import (
    Benchmark,
    Indicator,
)
from sizhen.indicators.catalogue.views.indicators import (
    form_page,
)

#: Row errors shown on the import page; the downloadable report has up to this many.
ERRORS_ON_PAGE = 200
ERRORS_KEPT = 5000
_IMPORT_ERRORS_KEY = "indicators_benchmark_import_errors"


# --- benchmarks ------------------------------------------------------------------------------


class BenchmarkFilter(django_filters.FilterSet):
    indicator = django_filters.CharFilter(
        label="指标编码", field_name="indicator__code", lookup_expr="istartswith", max_length=20
    )
    city = django_filters.CharFilter(label="标杆城市", lookup_expr="icontains", max_length=40)

    class Meta:
        model = Benchmark
        fields: tuple[str, ...] = ()


def _benchmark_edit_url(b: Benchmark) -> str:
    return reverse("indicators:benchmark_edit", args=[b.pk])


class BenchmarkListView(ScopedListView):
    model = Benchmark
    title = "标杆值"
    roles = capability_roles("staff.pages")
    filterset_class = BenchmarkFilter
    default_sort = "indicator__sort_order"
    export_name = "标杆值"
    search_fields = ("city", "indicator__name", "source")
    search_placeholder = "城市、指标名称或来源"
    template_name = "indicators/benchmark_list.html"
    base_columns = (
        ListColumn(
            "indicator.code",
            "指标编码",
            sort="indicator__code",
            link=lambda b: reverse("indicators:indicator_detail", args=[b.indicator.code]),
        ),
        ListColumn("indicator.name", "指标名称"),
        ListColumn("city", "标杆城市", sort="city"),
        ListColumn("period", "期间", sort="period", render=lambda b: b.period.strftime("%Y-%m")),
        ListColumn("value", "数值", sort="value"),
        ListColumn("indicator.unit", "单位"),
        ListColumn("source", "来源"),
    )
    columns: tuple[ListColumn, ...] = base_columns  # type: ignore[misc]

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("indicator")

    def get(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if has_capability(request.user, "catalogue.edit") and request.GET.get("export") != "xlsx":
            self.columns = (
                *self.base_columns,
                ListColumn("pk", "操作", render=lambda b: "编辑", link=_benchmark_edit_url),
            )
        return super().get(request, *args, **kwargs)

    def page_actions(self) -> list[PageAction]:
        if not has_capability(self.request.user, "catalogue.edit"):
            return []
        return [
            PageAction("新增", reverse("indicators:benchmark_new"), "primary"),
            PageAction("导入", reverse("indicators:benchmark_import")),
            PageAction("下载模板", reverse("indicators:benchmark_template")),
        ]


def _indicator_choices(actor: Actor) -> QuerySet[Indicator]:
    return Indicator.objects.visible_to(actor).order_by("sort_order", "code")


@login_required
@require_http_methods(["GET", "POST"])
def benchmark_new(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="新增标杆值")
    require_capability(request.user, "catalogue.edit", action=CHANGE, target="新增标杆值")
    initial = {}
    if request.GET.get("indicator"):
        found = _indicator_choices(request.user).filter(code=request.GET["indicator"]).first()
        initial = {"indicator": found.pk} if found else {}
    form = BenchmarkForm(
        request.POST or None, indicators=_indicator_choices(request.user), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            benchmark = services.create_benchmark(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"已新增标杆值：{benchmark.city} {benchmark.period:%Y-%m}")
            return redirect("indicators:benchmark_list")
    return form_page(
        request,
        "indicators/form.html",
        {"title": "新增标杆值", "form": form, "cancel_url": reverse("indicators:benchmark_list")},
        invalid=form.is_bound and bool(form.errors),
    )


@login_required
@require_http_methods(["GET", "POST"])
def benchmark_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="编辑标杆值")
    benchmark = get_visible_or_404(
        Benchmark.objects.select_related("indicator"), request.user, CHANGE, pk=pk
    )
    form = BenchmarkForm(
        request.POST or None, indicators=_indicator_choices(request.user), instance=benchmark
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_benchmark(benchmark, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "已保存标杆值")
            return redirect("indicators:benchmark_list")
    return form_page(
        request,
        "indicators/form.html",
        {
            "title": f"编辑标杆值：{benchmark.indicator.code} {benchmark.city}",
            "form": form,
            "cancel_url": reverse("indicators:benchmark_list"),
            "delete_url": reverse("indicators:benchmark_delete", args=[benchmark.pk]),
        },
        invalid=form.is_bound and bool(form.errors),
    )


@login_required
@require_POST
def benchmark_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="删除标杆值")
    benchmark = get_visible_or_404(
        Benchmark.objects.select_related("indicator"), request.user, CHANGE, pk=pk
    )
    services.delete_benchmark(benchmark, actor=request.user)
    messages.success(request, "已删除标杆值")
    return redirect("indicators:benchmark_list")


@login_required
@require_http_methods(["GET", "POST"])
def benchmark_import(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="标杆值导入")
    require_capability(request.user, "catalogue.edit", action=CHANGE, target="标杆值导入")
    form = BenchmarkImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data["file"].read()
            report = imports.import_benchmarks(
                data, actor=request.user, dry_run=form.cleaned_data["dry_run"]
            )
            request.session[_IMPORT_ERRORS_KEY] = [
                e.__dict__ for e in report.errors[:ERRORS_KEPT]
            ] or (
                [{"row": 0, "column": "", "code": "fatal", "message": report.fatal}]
                if report.fatal
                else []
            )
            status = 200 if report.ok else 400
        else:
            status = 400
    return render(
        request,
        "indicators/benchmark_import.html",
        {
            "title": "标杆值导入",
            "form": form,
            "report": report,
            "errors": report.errors[:ERRORS_ON_PAGE] if report else [],
            "dry_run": bool(form.is_bound and form.is_valid() and form.cleaned_data["dry_run"]),
            "columns": imports.BENCHMARK_COLUMNS,
            "max_mb": 10,
        },
        status=status,
    )


@login_required
def benchmark_template(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="标杆值导入")
    require_capability(request.user, "catalogue.edit", action=CHANGE, target="标杆值导入")
    return xlsx_response(imports.benchmark_template(), "标杆值导入模板")


@login_required
def benchmark_import_report(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="标杆值导入")
    require_capability(request.user, "catalogue.edit", action=CHANGE, target="标杆值导入")
    errors = request.session.get(_IMPORT_ERRORS_KEY) or []
    if not errors:
        raise Http404("没有可下载的错误报告，请重新导入文件")
    content = build_workbook(
        [
            (
                "错误报告",
                ["行号", "列", "说明", "错误代码"],
                ([e["row"], e["column"], e["message"], e["code"]] for e in errors),
            )
        ]
    )
    return xlsx_response(content, "标杆值导入错误报告")
