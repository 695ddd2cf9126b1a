"""Pages of the request analysis (诉求分析): KPI cards, charts with table views and XLSX
exports, hot topics; the monthly reports (企业诉求分析报告) and the publication of the rates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import Actor, role_of
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.periods import Period
from sizhen.core.permissions import has_capability, require_capability
from sizhen.core.roles import Role
from sizhen.core.views import run_service
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.enterprise_requests import analysis, report
from sizhen.enterprise_requests.analysis import DIMENSIONS, AnalysisFilter, Figures
from sizhen.enterprise_requests.choices import Channel
from sizhen.enterprise_requests.models import RequestCategory
from sizhen.organisations.models import Department, Region
from sizhen.organisations.pickers import department_picker, region_picker

MAX_MONTHS = 36
DEFAULT_MONTHS = 3
RATE_COLUMNS = [
    ("total", "诉求量"),
    ("response_rate", "响应率(%)"),
    ("resolution_rate", "解决率(%)"),
    ("satisfaction_rate", "满意率(%)"),
    ("overdue_rate", "超期率(%)"),
    ("second_rate", "二次交办率(%)"),
    ("avg_handling_days", "平均办理(工作日)"),
]
COUNT_COLUMNS = [
    ("responded", "按时响应"),
    ("response_due", "应响应"),
    ("resolved", "已解决"),
    ("resolution_base", "已回访"),
    ("satisfied", "满意"),
    ("rated", "已评价"),
    ("overdue", "超期"),
    ("deadline_due", "已到期"),
    ("second", "二次交办"),
    ("second_base", "已答复"),
]


def _month_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
        error_messages={"invalid": "月份格式应为 YYYY-MM"},
    )


class AnalysisForm(forms.Form):
    first = _month_field("起始月份")
    last = _month_field("截止月份")
    channel = forms.ChoiceField(label="渠道", required=False)
    department = forms.ModelChoiceField(
        label="主办单位",
        queryset=Department.objects.none(),
        required=False,
        widget=department_picker(),
        error_messages={"invalid_choice": "请选择有效的主办单位"},
    )
    district = forms.ModelChoiceField(
        label="区域",
        queryset=Region.objects.none(),
        required=False,
        widget=region_picker(),
        error_messages={"invalid_choice": "请选择有效的区域"},
    )
    category = forms.ModelChoiceField(
        label="诉求分类",
        queryset=RequestCategory.objects.none(),
        required=False,
        error_messages={"invalid_choice": "请选择有效的诉求分类"},
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel_field: Any = self.fields["channel"]
        channel_field.choices = [("", "全部渠道"), *Channel.choices]
        channel_field.error_messages["invalid_choice"] = "请选择有效的渠道"
        department: Any = self.fields["department"]
        department.queryset = Department.objects.filter(is_active=True).order_by("name")
        department.empty_label = "全部单位"
        district: Any = self.fields["district"]
        regions = Region.objects.filter(level__in=analysis.DISTRICT_LEVELS, is_active=True)
        path = getattr(actor, "scope_path", None)
        if role_of(actor) == Role.DISTRICT_OFFICER and path:
            regions = Region.objects.filter(path__startswith=path, is_active=True)
        district.queryset = regions.order_by("path")
        district.empty_label = "全部区域"
        category: Any = self.fields["category"]
        category.queryset = RequestCategory.objects.filter(parent__isnull=True).order_by(
            "sort_order", "code"
        )
        category.empty_label = "全部分类"

    def _month(self, name: str) -> dt.date | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            return Period.parse(text, "month").start
        except ValueError:
            raise forms.ValidationError(report.MONTH_FORMAT) from None

    def clean_first(self) -> dt.date | None:
        return self._month("first")

    def clean_last(self) -> dt.date | None:
        return self._month("last")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        this_month = timezone.localdate().replace(day=1)
        last = data.get("last") or this_month
        first = data.get("first") or Period.containing(last).shift(1 - DEFAULT_MONTHS).start
        if first > last:
            raise forms.ValidationError("起始月份不能晚于截止月份")
        if len(AnalysisFilter(first=first, last=last).months()) > MAX_MONTHS:
            raise forms.ValidationError(f"统计区间最长 {MAX_MONTHS} 个月")
        data["first"], data["last"] = first, last
        return data

    def to_filter(self) -> AnalysisFilter:
        d = self.cleaned_data
        return AnalysisFilter(
            first=d["first"],
            last=d["last"],
            channel=d.get("channel") or "",
            department=d.get("department"),
            region=d.get("district"),
            category=d.get("category"),
        )


def _default_filter() -> AnalysisFilter:
    last = timezone.localdate().replace(day=1)
    return AnalysisFilter(first=Period(last).shift(1 - DEFAULT_MONTHS).start, last=last)


def _row(f: Figures) -> list[Any]:
    return [f.label, *[getattr(f, k) for k, _ in RATE_COLUMNS + COUNT_COLUMNS]]


def _chart(rows: list[Figures], *, kind: str = "bar") -> dict[str, Any]:
    categories = [r.label for r in rows]
    if kind == "bar":
        return {
            "type": "bar",
            "unit": "件",
            "categories": categories,
            "series": [{"name": "诉求量", "data": [{"value": r.total} for r in rows]}],
        }
    return {
        "type": "line",
        "unit": "%",
        "categories": categories,
        "series": [
            {"name": label, "data": [getattr(r, key) for r in rows]} for key, label in Figures.RATES
        ],
    }


def _export(request: AuthenticatedRequest, f: AnalysisFilter, what: str) -> HttpResponse:
    actor = request.user
    if what in DIMENSIONS:
        rows = analysis.by_dimension(actor, f, what)
        headers = [DIMENSIONS[what], *[label for _, label in RATE_COLUMNS + COUNT_COLUMNS]]
        sheet = (f"按{DIMENSIONS[what]}", headers, [_row(r) for r in rows])
    elif what == "topics":
        sheet = (
            "热点关键词",
            ["月份", "诉求量", "排名", "关键词", "涉及诉求数"],
            [
                [f"{t.month:%Y-%m}", t.total, i, word, n]
                for t in analysis.hot_keywords(actor, f)
                for i, (word, n) in enumerate(t.words, start=1)
            ],
        )
    elif what == "trend":
        months, trend = analysis.category_trend(actor, f)
        sheet = (
            "分类趋势",
            ["诉求分类", *[f"{m:%Y-%m}" for m in months], "明显上升"],
            [[t.label, *t.counts, "是" if t.rising else ""] for t in trend],
        )
    else:
        raise Http404("未找到该导出")
    content = build_workbook([sheet])
    record_event(
        "export.xlsx",
        actor=actor,
        object_type="enterprise_requests.enterpriserequest",
        message=f"导出诉求分析“{sheet[0]}” {len(sheet[2])} 行",
        after={"export": f"analysis:{what}", "query": request.GET.urlencode()},
    )
    return xlsx_response(content, f"诉求分析-{sheet[0]}")


@login_required
@require_http_methods(["GET"])
def index(request: AuthenticatedRequest) -> HttpResponseBase:
    actor = request.user
    require_capability(actor, "request.analysis", target="诉求分析")
    form = AnalysisForm(request.GET or None, actor=actor)
    if request.GET and not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        f = _default_filter()
    else:
        f = form.to_filter() if request.GET else _default_filter()
    if request.GET.get("export"):
        return _export(request, f, request.GET["export"])
    summary = analysis.summarise(actor, f)
    total, groups = summary.overall, summary.groups
    months, trend = analysis.category_trend(actor, f)
    topics = analysis.hot_keywords(actor, f)
    query = request.GET.copy()
    query.pop("export", None)
    context = {
        "form": form,
        "filter": f,
        "total": total,
        "kpis": [
            ("诉求总量", total.total, "件"),
            ("响应率", total.response_rate, "%"),
            ("解决率", total.resolution_rate, "%"),
            ("满意率", total.satisfaction_rate, "%"),
            ("超期率", total.overdue_rate, "%"),
            ("二次交办率", total.second_rate, "%"),
            ("平均办理时间", total.avg_handling_days, "工作日"),
        ],
        "sections": [
            {
                "name": name,
                "label": label,
                "rows": groups[name],
                "chart_id": f"chart-{name}",
                "chart": _chart(groups[name]),
            }
            for name, label in DIMENSIONS.items()
        ],
        "rates_chart": _chart(groups["month"], kind="line"),
        "rate_columns": RATE_COLUMNS,
        "months": months,
        "trend": trend,
        "topics": topics,
        "definitions": report.definitions_text(),
        "query": query.urlencode(),
        "can_report": has_capability(actor, "request_report.read"),
    }
    return render(request, "enterprise_requests/analysis.html", context)


@login_required
@require_http_methods(["GET"])
def reports(request: AuthenticatedRequest) -> HttpResponse:
    actor = request.user
    require_capability(actor, "request_report.read", target="诉求分析报告")
    context = {
        "reports": report.stored_reports(),
        "default_month": Period.containing(timezone.localdate()).shift(-1).label,
        "can_write": has_capability(actor, "request_report.write"),
        "publish_configured": bool(analysis.rate_settings()["publish"]),
    }
    return render(request, "enterprise_requests/report_list.html", context)


@login_required
@require_POST
def report_generate(request: AuthenticatedRequest) -> HttpResponse:
    actor = request.user
    require_capability(actor, "request_report.write", target="生成诉求分析报告")
    try:
        month = Period.parse(request.POST.get("month", ""), "month").start
    except ValueError:
        messages.error(request, report.MONTH_FORMAT)
        return redirect("enterprise_requests_analysis:reports")
    with run_service(request):
        job = report.request_monthly_report(actor=actor, month=month)
        messages.success(
            request, f"已提交生成任务（{month:%Y年%-m月}，任务编号 {job.pk}），完成后在此下载。"
        )
    return redirect("enterprise_requests_analysis:reports")


@login_required
@require_POST
def publish(request: AuthenticatedRequest) -> HttpResponse:
    actor = request.user
    require_capability(actor, "request_report.write", target="发布诉求指标")
    try:
        month = Period.parse(request.POST.get("month", ""), "month").start
    except ValueError:
        messages.error(request, report.MONTH_FORMAT)
        return redirect("enterprise_requests_analysis:reports")
    with run_service(request):
        job = report.request_publication(actor=actor, month=month)
        messages.success(request, f"已提交发布任务（{month:%Y年%-m月}，任务编号 {job.pk}）。")
    return redirect("enterprise_requests_analysis:reports")


@login_required
@require_http_methods(["GET"])
def report_download(request: AuthenticatedRequest, month: str) -> FileResponse:
    actor = request.user
    require_capability(actor, "request_report.read", target="诉求分析报告")
    try:
        day = Period.parse(month, "month").start
    except ValueError as exc:
        raise Http404("未找到该报告") from exc
    path = report.report_path(day)
    if not path.is_file():
        raise Http404("未找到该报告")
    record_event(
        "export.docx",
        actor=actor,
        object_type="enterprise_requests.report",
        object_id=f"{day:%Y-%m}",
        message=f"下载企业诉求分析报告 {day:%Y-%m}",
    )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"企业诉求分析报告-{day:%Y-%m}.docx",
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
