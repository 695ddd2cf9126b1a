"""Pages of the rectification ledger (整改清单): the list with filters, the item page with its
timeline, registration (also from an alert), the steps of an item, statistics, the Word export,
the XLSX import and the public exposure list (曝光台)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizhen.core.access import CHANGE, EXPORT, get_visible_or_404
from sizhen.core.audit import record_event
from sizhen.core.errors import ServiceError
from sizhen.core.forms import ImportUploadForm
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.views import run_service, xlsx_import_page
from sizhen.core.workflow import WorkflowError, history_of
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.rectification import services
from sizhen.rectification.choices import Source
from sizhen.rectification.documents import build_ledger_docx, item_remark
from sizhen.rectification.effect import effect_rows, rows_without_data
from sizhen.rectification.forms import (
    EvidenceForm,
    ItemFilter,
    ItemForm,
    ProgressForm,
    PublishForm,
    ReviewForm,
    StepForm,
)
from sizhen.rectification.imports import COLUMNS, import_items, import_template
from sizhen.rectification.models import Evidence, RectificationItem
from sizhen.rectification.selectors import completion_stats
from sizhen.rectification.workflow import (
    CLOSED,
    IN_PROGRESS,
    SUBMITTED,
    close_refusal,
    is_lead_unit,
)
from sizhen.surveys.choices import FollowUpKind
from sizhen.surveys.selectors import follow_up_source

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _detail_url(item: RectificationItem) -> str:
    return reverse("rectification:item_detail", args=[item.pk])


def _flags(item: RectificationItem) -> str:
    return item_remark(item)


class ItemListView(ScopedListView):
    model = RectificationItem
    title = "整改清单"
    roles = capability_roles("staff.pages")
    filterset_class = ItemFilter
    default_sort = "deadline"
    export_name = "整改清单"
    search_fields = ("title", "description", "measures")
    search_placeholder = "问题、描述或措施"
    columns = (
        ListColumn("number", "编号", sort="id", link=_detail_url),
        ListColumn("title", "问题", sort="title", link=_detail_url),
        ListColumn("source", "来源", sort="source"),
        ListColumn("region.name", "区划", sort="region__path"),
        ListColumn("lead_department.name", "牵头部门", sort="lead_department__code"),
        ListColumn("deadline", "整改时限", sort="deadline"),
        ListColumn("status", "状态", sort="status"),
        ListColumn("year", "年度", sort="year"),
        ListColumn("flags", "标记", render=_flags),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("region", "lead_department")

    def page_actions(self) -> list[PageAction]:
        query = self.request.GET.urlencode()
        actions = [
            PageAction("统计", reverse("rectification:stats") + f"?{query}"),
            PageAction("导出 Word", reverse("rectification:export_docx") + f"?{query}"),
            PageAction("曝光台", reverse("rectification:public_list")),
        ]
        if has_capability(self.request.user, "rectification.register"):
            actions[:0] = [
                PageAction("登记整改事项", reverse("rectification:item_create"), "primary"),
                PageAction("导入", reverse("rectification:import")),
            ]
        return actions


def _errors_to_messages(request: HttpRequest, errors: Any) -> None:
    for field_errors in errors.values():
        for error in field_errors:
            messages.error(request, str(error))


def _timeline(item: RectificationItem) -> list[dict[str, Any]]:
    """History, progress, evidence and reviews of every round, in time order."""
    events: list[dict[str, Any]] = []
    for h in history_of(item):
        events.append(
            {
                "at": h.at,
                "kind": "状态",
                "what": f"{h.action_label}（{item.workflow.state_label(h.from_state)} → "
                f"{item.workflow.state_label(h.to_state)}）",
                "who": h.actor_label,
                "note": h.note,
            }
        )
    for p in item.progress.all():
        percent = f"（进度 {p.percent}%）" if p.percent is not None else ""
        events.append(
            {
                "at": p.reported_at,
                "kind": f"第 {p.round} 轮进展",
                "what": f"报送进展{percent}",
                "who": p.reported_by_label,
                "note": p.note,
            }
        )
    for e in item.evidence.all():
        events.append(
            {
                "at": e.uploaded_at,
                "kind": f"第 {e.round} 轮材料",
                "what": f"上传佐证材料：{e.name}",
                "who": e.uploaded_by_label,
                "note": e.description,
            }
        )
    for r in item.reviews.all():
        events.append(
            {
                "at": r.at,
                "kind": f"第 {r.round} 轮核验",
                "what": f"效果核验：{r.get_judgement_display()}",
                "who": r.reviewer_label,
                "note": r.comment,
            }
        )
    return sorted(events, key=lambda e: e["at"])


@login_required
@require_GET
def item_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="整改事项")
    return _item_page(request, pk)


def _item_page(
    request: AuthenticatedRequest,
    pk: int,
    *,
    evidence_form: EvidenceForm | None = None,
    review_form: ReviewForm | None = None,
) -> HttpResponse:
    """The item's page; a refused evidence upload comes back in ``evidence_form`` with its
    description kept and the error beside the file, a refused verification in ``review_form``
    with its judgement and comment."""
    item = get_visible_or_404(
        RectificationItem.objects.select_related("region", "lead_department"), request.user, pk=pk
    )
    actor = request.user
    can_change = RectificationItem.objects.visible_to(actor, CHANGE).filter(pk=pk).exists()
    transitions = item.workflow.available(item, actor) if can_change else []
    is_manager = has_capability(actor, "rectification.manage")
    reviewer = has_capability(actor, "rectification.review")
    lead_unit = can_change and (is_manager or is_lead_unit(item, actor))
    reviews = list(item.reviews.filter(round=item.round))
    effect = effect_rows(item) if item.status == SUBMITTED and reviewer else []
    return render(
        request,
        "rectification/item_detail.html",
        {
            "title": f"整改事项：{item.title}",
            "item": item,
            "responsible": item.responsible_departments.order_by("code"),
            "indicators": item.indicators.order_by("sort_order", "code"),
            "repeated_of": item.repeated_of.select_related("region").order_by("year", "pk"),
            "evidence": item.evidence.order_by("round", "uploaded_at"),
            "effect": effect,
            # Linked indicators with nothing to compare: "有效" then needs a reason.
            "effect_without_data": rows_without_data(effect),
            "latest_review": reviews[-1] if reviews else None,
            # Every round's verification with its frozen before/after values, oldest first.
            "reviews": item.reviews.order_by("round", "at", "id"),
            "timeline": _timeline(item),
            # The survey answer an item of source 问卷调查 came from (问题转办).
            "survey_source": follow_up_source(FollowUpKind.RECTIFICATION, item.pk, actor)
            if item.source == Source.SURVEY
            else None,
            "transitions": transitions,
            "can_report": lead_unit and item.status == IN_PROGRESS,
            "can_review": reviewer and item.status == SUBMITTED,
            # Why “审核销号” is not offered yet (no evidence, no review, judged 无效).
            "close_blocker": close_refusal(item, actor, {})
            if reviewer and item.status == SUBMITTED
            else "",
            "can_publish": has_capability(actor, "rectification.publish"),
            "step_form": StepForm(),
            "progress_form": ProgressForm(),
            "evidence_form": evidence_form or EvidenceForm(),
            "review_form": review_form or ReviewForm(),
            "publish_form": PublishForm(initial={"summary": item.public_summary or item.title}),
        },
    )


def _item_form_page(
    request: AuthenticatedRequest,
    *,
    initial: dict[str, Any],
    save: Callable[[dict[str, Any]], Any],
    title: str,
    cancel_url: str,
    alert: Any = None,
) -> HttpResponse:
    form = ItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            item = save(data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已登记整改事项 {item.number}")
            return redirect("rectification:item_detail", pk=item.pk)
    return render(
        request,
        "rectification/item_form.html",
        {"title": title, "form": form, "cancel_url": cancel_url, "alert": alert},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "rectification.register", target="登记整改事项")
    return _item_form_page(
        request,
        initial={},
        save=lambda data: services.create_item(actor=request.user, **data),
        title="登记整改事项",
        cancel_url=reverse("rectification:item_list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_from_alert(request: AuthenticatedRequest, alert_pk: int) -> HttpResponse:
    """Register an item from an alert (预警转整改); the alert becomes “converted”."""
    from sizhen.monitoring.models import Alert

    require_capability(request.user, "rectification.register", target="预警转整改")
    alert = get_visible_or_404(
        Alert.objects.select_related("indicator", "region"), request.user, CHANGE, pk=alert_pk
    )
    if alert.status not in ("open", "acknowledged", "assigned"):
        messages.error(request, f"该预警当前状态为“{alert.get_status_display()}”，不能转为整改事项")
        return redirect("monitoring:alert_detail", pk=alert.pk)
    initial = {
        "title": f"{alert.region.name}“{alert.indicator.name}”{alert.get_kind_display()}",
        "description": alert.explanation,
        "source": Source.ALERT,
        "source_ref": f"预警 {alert.pk}",
        "region": alert.region,
        "lead_department": alert.assigned_department or alert.indicator.lead_department,
        "indicators": [alert.indicator],
    }

    def save(data: dict[str, Any]) -> RectificationItem:
        return services.create_item_from_alert(alert, actor=request.user, **data)

    return _item_form_page(
        request,
        initial=initial,
        save=save,
        title=f"预警转整改：{alert.indicator.name} · {alert.region.name}",
        cancel_url=reverse("monitoring:alert_detail", args=[alert.pk]),
        alert=alert,
    )


def _changeable(request: AuthenticatedRequest, pk: int) -> RectificationItem:
    require_capability(request.user, "staff.pages", target="整改事项")
    return get_visible_or_404(
        RectificationItem.objects.select_related("region"), request.user, CHANGE, pk=pk
    )


@login_required
@require_POST
def item_step(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    item = _changeable(request, pk)
    form = StepForm(request.POST)
    if not form.is_valid():
        _errors_to_messages(request, form.errors)
        return redirect("rectification:item_detail", pk=item.pk)
    with run_service(request):
        services.transition_item(
            item,
            action,
            actor=request.user,
            note=form.cleaned_data["note"],
            seen_status=form.cleaned_data["status"],
        )
        messages.success(request, "已办理")
    return redirect("rectification:item_detail", pk=item.pk)


@login_required
@require_POST
def item_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = _changeable(request, pk)
    form = ProgressForm(request.POST)
    if form.is_valid():
        with run_service(request):
            services.report_progress(item, actor=request.user, **form.cleaned_data)
            messages.success(request, "已报送整改进展")
    else:
        _errors_to_messages(request, form.errors)
    return redirect("rectification:item_detail", pk=item.pk)


@login_required
@require_POST
def item_evidence(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = _changeable(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_evidence(
                item,
                actor=request.user,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except WorkflowError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已上传佐证材料")
            return redirect("rectification:item_detail", pk=item.pk)
    return _item_page(request, pk, evidence_form=form)


@login_required
@require_GET
def evidence_download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    require_capability(request.user, "staff.pages", target="整改佐证材料")
    evidence = get_visible_or_404(Evidence, request.user, pk=pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    record_event(
        "rectification.evidence_download",
        actor=request.user,
        obj=evidence.item,
        after={"evidence": evidence.pk, "name": evidence.name},
    )
    return FileResponse(handle, as_attachment=True, filename=evidence.name)


@login_required
@require_POST
def item_review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = _changeable(request, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.verify_effect(item, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已记录效果核验结论")
            return redirect("rectification:item_detail", pk=item.pk)
    # The page again with the judgement and comment kept and the reason beside the comment.
    return _item_page(request, pk, review_form=form)


@login_required
@require_POST
def item_publish(request: AuthenticatedRequest, pk: int, publish: bool) -> HttpResponse:
    item = _changeable(request, pk)
    if not publish:
        with run_service(request):
            services.unpublish_item(item, actor=request.user)
            messages.success(request, "已撤销曝光")
        return redirect("rectification:item_detail", pk=item.pk)
    form = PublishForm(request.POST)
    if form.is_valid():
        with run_service(request):
            services.publish_item(item, actor=request.user, summary=form.cleaned_data["summary"])
            messages.success(request, "已在曝光台公开")
    else:
        _errors_to_messages(request, form.errors)
    return redirect("rectification:item_detail", pk=item.pk)


def _filtered(request: AuthenticatedRequest, action: str) -> QuerySet[RectificationItem]:
    qs = RectificationItem.objects.visible_to(request.user, action)
    filterset = ItemFilter(request.GET, queryset=qs, request=request)
    return filterset.qs if filterset.is_valid() else qs.none()


@login_required
@require_GET
def stats(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="整改统计")
    exporting = request.GET.get("export") == "xlsx"
    figures = completion_stats(request.user, _filtered(request, EXPORT if exporting else "view"))
    if exporting:
        return _stats_xlsx(request, figures)
    query = request.GET.copy()
    query.pop("export", None)
    return render(
        request,
        "rectification/stats.html",
        {
            "title": "整改清单完成情况",
            "stats": figures,
            "filterset": ItemFilter(request.GET, request=request),
            "query": query.urlencode(),
        },
    )


STATS_HEADERS = ["名称", "事项数", "已销号", "完成率（%）", "反复出现", "逾期"]


def _stats_xlsx(request: AuthenticatedRequest, figures: dict[str, Any]) -> HttpResponse:
    """The completion tables by lead department and by source, with the total as last row."""
    summary = figures["summary"]
    total = [
        "合计",
        summary["total"],
        summary["closed"],
        summary["rate"],
        summary["repeated"],
        summary["overdue"],
    ]

    def rows(group: list[dict[str, Any]]) -> list[list[Any]]:
        body = [
            [r["label"], r["total"], r["closed"], r["rate"], r["repeated"], r["overdue"]]
            for r in group
        ]
        return [*body, total]

    content = build_workbook(
        [
            ("按牵头部门", STATS_HEADERS, rows(figures["by_department"])),
            ("按问题来源", STATS_HEADERS, rows(figures["by_source"])),
        ]
    )
    record_event(
        "export.xlsx",
        actor=request.user,
        object_type=RectificationItem._meta.label_lower,
        message="导出整改清单完成情况统计",
        after={"query": request.GET.urlencode(), "rows": summary["total"]},
    )
    return xlsx_response(content, "整改清单完成情况")


@login_required
@require_GET
def export_docx(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="整改清单导出")
    qs = (
        _filtered(request, EXPORT)
        .select_related("region", "lead_department")
        .order_by("year", "id")
    )
    content = build_ledger_docx(qs, completion_stats(request.user, qs))
    record_event(
        "export.docx",
        actor=request.user,
        object_type=RectificationItem._meta.label_lower,
        message=f"导出整改清单 Word {qs.count()} 项",
        after={"query": request.GET.urlencode()},
    )
    response = HttpResponse(content, content_type=DOCX_CONTENT_TYPE)
    from urllib.parse import quote

    name = f"整改清单-{timezone.localtime():%Y%m%d-%H%M}.docx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "rectification.register", target="整改清单导入")
    return xlsx_import_page(
        request,
        form_class=ImportUploadForm,
        run=lambda data, dry_run: import_items(data, actor=request.user, dry_run=dry_run),
        template="rectification/import.html",
        context={"title": "整改清单导入", "columns": COLUMNS},
    )


@login_required
@require_GET
def import_template_download(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "rectification.register", target="整改清单导入")
    return xlsx_response(import_template(), "整改清单导入模板")


@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    """The public exposure list (曝光台): only what the coordinator published, no personal data
    and no internal fields (people, evidence, notes)."""
    items = (
        RectificationItem.objects.filter(published=True)
        .select_related("region", "lead_department")
        .order_by("-published_at", "-pk")
        .only(
            "pk",
            "year",
            "public_summary",
            "region__name",
            "lead_department__name",
            "deadline",
            "status",
            "published_at",
        )
    )
    return render(
        request,
        "rectification/public_list.html",
        {"title": "整改曝光台", "items": items[:200], "closed": CLOSED},
    )
