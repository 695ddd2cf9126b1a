"""Pages of the data assets (数据资产): the catalogue, a dataset's and an indicator's asset page
with lineage, the archives (参评数据, 考核要点 and documents) and the extract requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizhen.assets import services
from sizhen.assets.choices import AssetKind, ExtractKind
from sizhen.assets.forms import (
    DecisionForm,
    DocumentFilter,
    DocumentForm,
    ExtractFilter,
    ExtractForm,
    ImportUploadForm,
    ProfileForm,
    ResultFilter,
)
from sizhen.assets.imports import COLUMNS, import_results, import_template
from sizhen.assets.models import ArchiveDocument, AssetProfile, EvaluationResult, ExtractRequest
from sizhen.assets.selectors import (
    CATEGORY_LABELS,
    AssetEntry,
    Lineage,
    build_dataset_lineage,
    build_indicator_lineage,
    dataset_quality,
    list_catalogue,
)
from sizhen.assets.workflow import EXTRACT_WORKFLOW, READY, may_approve
from sizhen.core.access import VIEW, get_visible_or_404
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.views import run_service, xlsx_import_page
from sizhen.core.workflow import history_of
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.models import Dataset, LoadBatch
from sizhen.indicators.ingestion.selectors import (
    definition_of,
    get_dataset_freshness,
    personal_field_kind,
)

STAFF = "staff.pages"
CATALOGUE_TITLE = "数据资源目录"
_FRESHNESS = (("stale", "数据陈旧或从未入库"), ("fresh", "正常"))


def _filtered(request: AuthenticatedRequest, entries: list[AssetEntry]) -> list[AssetEntry]:
    kind = request.GET.get("kind", "")
    if kind in AssetKind.values:
        entries = [e for e in entries if e.kind == kind]
    freshness = request.GET.get("freshness", "")
    if freshness == "stale":
        entries = [e for e in entries if e.kind == AssetKind.DATASET and e.stale]
    elif freshness == "fresh":
        entries = [e for e in entries if e.kind == AssetKind.DATASET and not e.stale]
    search = request.GET.get("q", "").strip()[:100].lower()
    if search:
        entries = [
            e
            for e in entries
            if search in e.code.lower()
            or search in e.name.lower()
            or search in e.owner.lower()
            or search in e.source.lower()
        ]
    return entries


EXPORT_HEADERS = (
    "类别", "编码", "名称", "责任部门", "来源", "更新频率", "受限", "记录数", "时间跨度",
    "最近入库", "数据时效", "质量评分", "说明",
)  # fmt: skip


@login_required
@require_GET
def catalogue(request: AuthenticatedRequest) -> HttpResponse:
    """The catalogue of every data asset (数据资源目录), with freshness and quality."""
    require_capability(request.user, STAFF, target=CATALOGUE_TITLE)
    everything = list_catalogue(request.user)
    entries = _filtered(request, everything)
    if request.GET.get("export") == "xlsx":
        rows = (
            [
                e.kind_label, e.code, e.name, e.owner, e.source, e.frequency,
                "是" if e.restricted else "", e.row_count, e.time_span,
                e.last_load_at, e.freshness, e.quality, e.description,
            ]
            for e in entries
        )  # fmt: skip
        content = build_workbook([(CATALOGUE_TITLE, EXPORT_HEADERS, rows)])
        record_event(
            "export.xlsx",
            actor=request.user,
            object_type="assets.assetprofile",
            message=f"导出“{CATALOGUE_TITLE}” {len(entries)} 行",
            after={"query": request.GET.urlencode(), "rows": len(entries)},
        )
        return xlsx_response(content, CATALOGUE_TITLE)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    export_query = query.copy()
    export_query["export"] = "xlsx"
    return render(
        request,
        "assets/catalogue.html",
        {
            "title": CATALOGUE_TITLE,
            "page": page,
            "kinds": AssetKind.choices,
            "kind": request.GET.get("kind", ""),
            "freshness_choices": _FRESHNESS,
            "freshness": request.GET.get("freshness", ""),
            "search": request.GET.get("q", "").strip()[:100],
            "query": query.urlencode(),
            "export_url": f"?{export_query.urlencode()}",
            "counts": {
                label: sum(1 for e in everything if e.kind == value)
                for value, label in AssetKind.choices
            },
        },
    )


def _lineage_context(lineage: Lineage) -> dict[str, Any]:
    return {
        "lineage": lineage,
        "lineage_rows": lineage.rows(),
        "lineage_chart": {**lineage.chart(), "categories": CATEGORY_LABELS},
        "category_labels": CATEGORY_LABELS,
    }


@login_required
@require_GET
def dataset_asset(request: AuthenticatedRequest, code: str) -> HttpResponse:
    dataset = get_visible_or_404(Dataset, request.user, code=code)
    require_capability(request.user, STAFF, target=dataset.name)
    profile = (
        AssetProfile.objects.filter(dataset=dataset).select_related("owner_department").first()
    )
    schema = dataset.schema()
    fields = [
        {**f, "personal": personal_field_kind(str(f["name"]), str(f["label"]))}
        for f in schema.fields
    ]
    return render(
        request,
        "assets/dataset.html",
        {
            "title": f"数据资产：{dataset.name}",
            "dataset": dataset,
            "profile": profile,
            "schema": schema,
            "fields": fields,
            "freshness": get_dataset_freshness(dataset),
            "quality": dataset_quality([dataset], now=timezone.now())[dataset.pk],
            "batches": LoadBatch.objects.visible_to(request.user, VIEW)
            .filter(dataset=dataset, dry_run=False)
            .order_by("-created_at", "-pk")[:10],
            "profile_form": ProfileForm(
                initial={
                    "owner_department": profile.owner_department if profile else None,
                    "source_system": profile.source_system if profile else "",
                    "update_frequency": profile.update_frequency if profile else "daily",
                    "restricted": profile.restricted if profile else False,
                    "description": profile.description if profile else "",
                }
            )
            if has_capability(request.user, "asset.manage")
            else None,
            **_lineage_context(build_dataset_lineage(request.user, dataset.code)),
        },
    )


@login_required
@require_POST
def dataset_profile(request: AuthenticatedRequest, code: str) -> HttpResponse:
    dataset = get_visible_or_404(Dataset, request.user, code=code)
    require_capability(request.user, "asset.manage", target=dataset.name)
    form = ProfileForm(request.POST)
    if form.is_valid():
        with run_service(request):
            services.update_profile(dataset, actor=request.user, **form.cleaned_data)
            messages.success(request, "已保存数据资产信息")
    else:
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("assets:dataset", code=dataset.code)


@login_required
@require_GET
def indicator_asset(request: AuthenticatedRequest, code: str) -> HttpResponse:
    indicator = get_visible_or_404(
        Indicator.objects.select_related("lead_department", "parent"), request.user, code=code
    )
    require_capability(request.user, STAFF, target=indicator.name)
    children = list(indicator.children.order_by("sort_order", "code"))
    return render(
        request,
        "assets/indicator.html",
        {
            "title": f"数据资产：{indicator.code} {indicator.name}",
            "indicator": indicator,
            "definition": definition_of(indicator.code),
            "children": children,
            "revisions": indicator.revisions.select_related("changed_by").order_by("-version")[:20],
            **_lineage_context(build_indicator_lineage(request.user, indicator.code)),
        },
    )


# --- archives (历史资料) --------------------------------------------------------------------


class ResultListView(ScopedListView):
    model = EvaluationResult
    title = "历年参评数据"
    roles = capability_roles(STAFF)
    filterset_class = ResultFilter
    default_sort = "-year"
    search_fields = ("indicator__name", "region__name", "source")
    search_placeholder = "指标、区划或评价来源"
    export_name = "历年参评数据"
    columns = (
        ListColumn("year", "年度", sort="year"),
        ListColumn("region.name", "区划", sort="region__path"),
        ListColumn("indicator.code", "指标编码", sort="indicator__code"),
        ListColumn("indicator.name", "指标名称"),
        ListColumn("value", "数值", sort="value"),
        ListColumn("score", "得分", sort="score"),
        ListColumn("rank", "排名", sort="rank"),
        ListColumn("rank_total", "参评数"),
        ListColumn("source", "评价来源"),
    )

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("region", "indicator")

    def page_actions(self) -> list[PageAction]:
        if has_capability(self.request.user, "asset.manage"):
            return [PageAction("导入", reverse("assets:results_import"))]
        return []


@login_required
@require_http_methods(["GET", "POST"])
def results_import(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "asset.manage", target="历年参评数据导入")
    return xlsx_import_page(
        request,
        form_class=ImportUploadForm,
        run=lambda data, dry_run: import_results(data, actor=request.user, dry_run=dry_run),
        template="assets/results_import.html",
        context={"title": "历年参评数据导入", "columns": COLUMNS},
    )


@login_required
@require_GET
def results_template(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "asset.manage", target="历年参评数据导入")
    return xlsx_response(import_template(), "历年参评数据导入模板")


def _document_url(document: ArchiveDocument) -> str:
    return reverse("assets:document_detail", args=[document.pk])


class DocumentListView(ScopedListView):
    model = ArchiveDocument
    title = "历年考核要点与资料"
    roles = capability_roles(STAFF)
    filterset_class = DocumentFilter
    default_sort = "-year"
    search_fields = ("title", "body", "reference")
    search_placeholder = "标题、内容或出处"
    export_name = "历年考核要点与资料"
    columns = (
        ListColumn("year", "年度", sort="year"),
        ListColumn("kind", "类别", sort="kind"),
        ListColumn("title", "标题", sort="title", link=_document_url),
        ListColumn("file_name", "附件"),
        ListColumn("reference", "关联政策或出处"),
    )

    def page_actions(self) -> list[PageAction]:
        if has_capability(self.request.user, "asset.manage"):
            return [PageAction("登记资料", reverse("assets:document_create"))]
        return []


@login_required
@require_http_methods(["GET", "POST"])
def document_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "asset.manage", target="登记历史资料")
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with run_service(request) as outcome:
            document = services.create_document(
                actor=request.user,
                kind=data["kind"],
                year=data["year"],
                title=data["title"],
                body=data["body"],
                file=data["file"],
                reference=data["reference"],
            )
            messages.success(request, "已登记")
        if outcome.ok:
            return redirect("assets:document_detail", pk=document.pk)
    return render(
        request,
        "assets/document_form.html",
        {"title": "登记历史资料", "form": form, "cancel_url": reverse("assets:document_list")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def document_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    document = get_visible_or_404(ArchiveDocument, request.user, pk=pk)
    require_capability(request.user, STAFF, target=document.title)
    return render(request, "assets/document.html", {"title": document.title, "document": document})


@login_required
@require_GET
def document_download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    document = get_visible_or_404(ArchiveDocument, request.user, pk=pk)
    require_capability(request.user, STAFF, target=document.title)
    if not document.file:
        raise Http404
    services.record_document_download(document, actor=request.user)
    return FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.file_name or "document"
    )


# --- extract requests (数据调取申请) -----------------------------------------------------------


def _extract_url(extract: ExtractRequest) -> str:
    return reverse("assets:extract_detail", args=[extract.pk])


class ExtractListView(ScopedListView):
    model = ExtractRequest
    title = "数据调取申请"
    roles = capability_roles(STAFF)
    filterset_class = ExtractFilter
    default_sort = "-requested_at"
    export_name = "数据调取申请"
    columns = (
        ListColumn("number", "申请编号", link=_extract_url),
        ListColumn("kind", "调取内容", sort="kind"),
        ListColumn("subject", "数据集或指标"),
        ListColumn("region.name", "区划"),
        ListColumn("requested_by_label", "申请人"),
        ListColumn("requested_at", "申请时间", sort="requested_at"),
        ListColumn(
            "status", "状态", sort="status", render=lambda e: EXTRACT_WORKFLOW.state_label(e.status)
        ),
        ListColumn("row_count", "行数"),
    )

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("dataset", "indicator", "region")

    def page_actions(self) -> list[PageAction]:
        return [PageAction("申请调取数据", reverse("assets:extract_create"), "primary")]


@login_required
@require_http_methods(["GET", "POST"])
def extract_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, STAFF, target="申请调取数据")
    initial: dict[str, Any] = {}
    if request.GET.get("dataset"):
        initial = {
            "kind": ExtractKind.RECORDS,
            "dataset": Dataset.objects.filter(code=request.GET["dataset"]).first(),
        }
    elif request.GET.get("indicator"):
        initial = {
            "kind": ExtractKind.VALUES,
            "indicator": Indicator.objects.filter(code=request.GET["indicator"]).first(),
        }
    form = ExtractForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with run_service(request) as outcome:
            extract = services.submit_extract(
                actor=request.user,
                kind=data["kind"],
                dataset=data["dataset"],
                indicator=data["indicator"],
                region=data["region"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                fields=data["field_names"],
                file_format=data["file_format"],
                purpose=data["purpose"],
                unmasked=bool(data.get("unmasked")),
            )
            messages.success(
                request,
                "已提交，等待数据责任部门或营商办审批"
                if extract.needs_approval
                else "已提交，正在生成文件",
            )
        if outcome.ok:
            return redirect("assets:extract_detail", pk=extract.pk)
    return render(
        request,
        "core/form.html",
        {
            "title": "申请调取数据",
            "note": "受限数据集的明细记录需经数据责任部门或营商办审批；个人信息（电话、证件号、姓名）默认脱敏；每次下载都会记录。",
            "form": form,
            "cancel_url": reverse("assets:extract_list"),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def extract_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    extract = get_visible_or_404(
        ExtractRequest.objects.select_related(
            "dataset", "indicator", "region", "job", "owner_department"
        ),
        request.user,
        pk=pk,
    )
    return render(
        request,
        "assets/extract.html",
        {
            "title": f"数据调取申请 {extract.number}",
            "extract": extract,
            "state_label": EXTRACT_WORKFLOW.state_label(extract.status),
            "may_decide": extract.status == "submitted" and may_approve(extract, request.user),
            "decision_form": DecisionForm(),
            "history": history_of(extract),
            "mine": extract.requested_by_id == request.user.pk,
        },
    )


@login_required
@require_POST
def extract_decide(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    extract = get_visible_or_404(ExtractRequest, request.user, pk=pk)
    if action not in ("approve", "reject"):
        raise Http404
    form = DecisionForm(request.POST)
    note = form.data.get("note", "") if form.is_valid() else ""
    with run_service(request):
        if action == "approve":
            services.approve_extract(extract, actor=request.user, note=note)
            messages.success(request, "已批准，正在生成文件")
        else:
            services.reject_extract(extract, actor=request.user, note=note)
            messages.success(request, "已驳回")
    return redirect("assets:extract_detail", pk=extract.pk)


@login_required
@require_GET
def extract_download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """Only the requester downloads the file (the approvers see the request, not the data)."""
    extract = get_visible_or_404(ExtractRequest, request.user, pk=pk)
    if extract.requested_by_id != request.user.pk or extract.status != READY or not extract.file:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / extract.file
    if not path.is_file():
        raise Http404
    services.record_extract_download(extract, actor=request.user)
    name = f"{extract.number}-{extract.subject}.{extract.format}"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)
