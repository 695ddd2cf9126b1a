"""Pages of the policy library (政策库): the public search (政策检索) and policy page, the staff
list with filters and export, registration and editing, the steps (publish, repeal),
attachments, redemption records, the XLSX import, and the enterprise's 我可享受的政策."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizhen.core.access import CHANGE, Actor, get_visible_or_404, role_of
from sizhen.core.forms import XlsxImportForm
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.roles import Role
from sizhen.core.views import run_service
from sizhen.core.workflow import history_of
from sizhen.core.xlsx import xlsx_response
from sizhen.organisations.models import Enterprise
from sizhen.thinktank import services
from sizhen.thinktank.forms import (
    AttachmentForm,
    PolicyFilter,
    PolicyForm,
    RedemptionForm,
    SearchForm,
    StepForm,
)
from sizhen.thinktank.imports import COLUMNS, import_policies, import_template
from sizhen.thinktank.models import Policy, PolicyAttachment
from sizhen.thinktank.selectors import (
    get_policy,
    matching_policy_ids,
    policies_for_enterprise,
    push_figures,
    readable_versions,
    search_policies,
)

SEARCH_PAGE_SIZE = 20
#: Nobody reads past the 500th page of a ranked list; a deeper offset is a crawler's.
MAX_PAGES = 500
ERRORS_ON_PAGE = 200


def _viewer(request: HttpRequest) -> Actor | None:
    """Who reads a public page: the logged-in person, or None for an anonymous visitor."""
    user = request.user
    return None if isinstance(user, AnonymousUser) else user


def _detail_url(policy: Policy) -> str:
    return reverse("thinktank:policy_detail", args=[policy.pk])


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """政策检索: public; ranked by relevance, titles first, with highlighted snippets."""
    form = SearchForm(request.GET)
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    try:
        paginator_page = min(max(1, int(request.GET.get("page", "1"))), MAX_PAGES)
    except ValueError:
        paginator_page = 1
    offset = (paginator_page - 1) * SEARCH_PAGE_SIZE
    result = search_policies(
        _viewer(request), query, form.filters(), limit=SEARCH_PAGE_SIZE, offset=offset
    )
    pages = max(1, -(-result.total // SEARCH_PAGE_SIZE))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    return render(
        request,
        "thinktank/search.html",
        {
            "title": "政策检索",
            "form": form,
            "result": result,
            "query": query,
            "page_number": paginator_page,
            "pages": pages,
            "previous": paginator_page - 1 if paginator_page > 1 else None,
            "next": paginator_page + 1 if paginator_page < pages else None,
            "query_string": query_string.urlencode(),
        },
    )


class PolicyListView(ScopedListView):
    """政策库: every policy the member of staff may see (drafts for the coordinating office),
    filtered, sorted, paged and exported."""

    model = Policy
    title = "政策库"
    roles = capability_roles("staff.pages")
    filterset_class = PolicyFilter
    default_sort = "-published_on"
    export_name = "政策库"
    search_fields = ("title", "body")
    search_placeholder = "标题或正文关键词"
    columns = (
        ListColumn("title", "标题", sort="title", link=_detail_url),
        ListColumn("doc_number", "文号", sort="doc_number"),
        ListColumn("issuer", "发文机关", sort="issuer"),
        ListColumn("level", "层级", sort="level"),
        ListColumn("published_on", "发布日期", sort="published_on"),
        ListColumn("effective_on", "生效日期", sort="effective_on"),
        ListColumn("expires_on", "失效日期", sort="expires_on"),
        ListColumn("status", "状态", sort="status"),
    )

    def search(self, qs: QuerySet[Any], text: str) -> QuerySet[Any]:
        return matching_policy_ids(text, qs)

    def page_actions(self) -> list[PageAction]:
        actions = [PageAction("政策检索", reverse("thinktank:search"))]
        if has_capability(self.request.user, "policy.manage"):
            actions[:0] = [
                PageAction("登记政策", reverse("thinktank:policy_create"), "primary"),
                PageAction("导入", reverse("thinktank:import")),
            ]
        return actions


def _policy_page(
    request: HttpRequest,
    policy: Policy,
    *,
    attachment_form: AttachmentForm | None = None,
    redemption_form: RedemptionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = _viewer(request)
    manager = has_capability(actor, "policy.manage")
    context: dict[str, Any] = {
        "title": policy.title,
        "policy": policy,
        "regions": policy.regions.order_by("path"),
        "indicators": policy.indicators.order_by("sort_order", "code"),
        "attachments": policy.attachments.all(),
        "versions": readable_versions(actor, policy),
        "manager": manager,
    }
    if actor is not None and role_of(actor) == Role.ENTERPRISE:
        context["delivery"] = services.mark_delivery(policy, actor=actor, confirm=False)
    if manager:
        context["pushed"] = push_figures(policy)
        context["transitions"] = policy.workflow.available(policy, actor)
        context["step_history"] = history_of(policy)
        context["attachment_form"] = attachment_form or AttachmentForm()
        context["redemption_form"] = redemption_form or RedemptionForm()
        redemptions = policy.redemptions.select_related("enterprise")
        context["redemptions"] = redemptions[:50]
        context["redeemed"] = redemptions.aggregate(
            amount=Sum("amount"), cases=Sum("cases"), enterprises=Count("enterprise", distinct=True)
        )
    return render(request, "thinktank/policy_detail.html", context, status=status)


@require_GET
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A policy: public once published; a draft answers 404 to all but the coordinating office."""
    return _policy_page(request, get_policy(_viewer(request), pk))


def _form_page(
    request: AuthenticatedRequest,
    form: PolicyForm,
    *,
    title: str,
    cancel_url: str,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "thinktank/policy_form.html",
        {"title": title, "form": form, "cancel_url": cancel_url},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "policy.manage", target="登记政策")
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with run_service(request) as outcome:
            policy = services.create_policy(
                form.data_object(), actor=request.user, publish=request.POST.get("publish") == "1"
            )
            messages.success(
                request, "已登记政策" + ("并发布" if policy.is_published else "（草稿）")
            )
        if outcome.ok:
            return redirect("thinktank:policy_detail", pk=policy.pk)
    status = 400 if request.method == "POST" else 200
    return _form_page(
        request, form, title="登记政策", cancel_url=reverse("thinktank:policy_list"), status=status
    )


def _changeable(request: AuthenticatedRequest, pk: int) -> Policy:
    require_capability(request.user, "policy.manage", target="政策")
    return get_visible_or_404(Policy, request.user, CHANGE, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    policy = _changeable(request, pk)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_of(policy))
    if request.method == "POST" and form.is_valid():
        with run_service(request) as outcome:
            services.update_policy(policy, form.data_object(), actor=request.user)
            messages.success(request, "已保存")
        if outcome.ok:
            return redirect("thinktank:policy_detail", pk=policy.pk)
    status = 400 if request.method == "POST" else 200
    return _form_page(
        request,
        form,
        title=f"修改政策：{policy.title}",
        cancel_url=_detail_url(policy),
        status=status,
    )


@login_required
@require_POST
def policy_step(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    policy = _changeable(request, pk)
    form = StepForm(request.POST)
    if form.is_valid():
        with run_service(request):
            services.transition_policy(
                policy,
                action,
                actor=request.user,
                note=form.cleaned_data["note"],
                seen_status=form.cleaned_data["status"],
            )
            messages.success(request, "已办理")
    return redirect("thinktank:policy_detail", pk=policy.pk)


@login_required
@require_POST
def policy_attachment(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    policy = _changeable(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        with run_service(request) as outcome:
            services.add_attachment(policy, actor=request.user, upload=form.cleaned_data["file"])
            messages.success(request, "已上传附件")
        if outcome.ok:
            return redirect("thinktank:policy_detail", pk=policy.pk)
    return _policy_page(request, policy, attachment_form=form, status=400)


@login_required
@require_POST
def policy_redemption(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    policy = _changeable(request, pk)
    form = RedemptionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        with run_service(request) as outcome:
            services.record_redemption(
                policy,
                data["enterprise"],
                actor=request.user,
                amount=data["amount"],
                cases=data["cases"],
                redeemed_on=data["redeemed_on"],
                note=data["note"],
            )
            messages.success(request, "已登记政策兑现")
        if outcome.ok:
            return redirect("thinktank:policy_detail", pk=policy.pk)
    return _policy_page(request, policy, redemption_form=form, status=400)


@login_required
@require_POST
def policy_push(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    policy = _changeable(request, pk)
    with run_service(request):
        push = services.push_policy(policy, actor=request.user)
        messages.success(request, f"已推送给 {push.enterprises} 家匹配企业")
    return redirect("thinktank:policy_detail", pk=policy.pk)


@login_required
@require_POST
def policy_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The enterprise confirms it has read a policy pushed to it (确认知晓)."""
    require_capability(request.user, "policy.enjoy", target="确认政策")
    policy = get_policy(request.user, pk)
    with run_service(request):
        services.mark_delivery(policy, actor=request.user, confirm=True)
        messages.success(request, "已确认知晓")
    return redirect("thinktank:policy_detail", pk=policy.pk)


@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """A policy's attachment: readable exactly when its policy is."""
    attachment = PolicyAttachment.objects.select_related("policy").filter(pk=pk).first()
    if attachment is None:
        raise Http404("未找到该附件")
    get_policy(_viewer(request), attachment.policy_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name)


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "policy.manage", target="政策导入")
    form = XlsxImportForm()
    report = None
    checked = False
    status = 200
    if request.method == "POST":
        form = XlsxImportForm(request.POST, request.FILES)
        if form.is_valid():
            checked = request.POST.get("action") != "import"
            report = import_policies(
                form.cleaned_data["file"].read(),
                actor=request.user,
                dry_run=checked,
                publish=request.POST.get("publish") == "1",
            )
            status = 200 if report.ok else 400
        else:
            status = 400
    return render(
        request,
        "thinktank/import.html",
        {
            "title": "导入政策",
            "form": form,
            "report": report,
            "errors": report.errors[:ERRORS_ON_PAGE] if report else [],
            "checked": checked,
            "checked_hint": "请重新选择该文件并点击“校验并导入”。",
            "columns": COLUMNS,
        },
        status=status,
    )


@login_required
@require_GET
def import_template_download(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "policy.manage", target="政策导入")
    return xlsx_response(import_template(), "政策导入模板")


@login_required
@require_GET
def mine(request: AuthenticatedRequest) -> HttpResponse:
    """我可享受的政策: the in-force policies that apply to the enterprise, with the reasons."""
    require_capability(request.user, "policy.enjoy", target="我可享受的政策")
    enterprise = (
        Enterprise.objects.visible_to(request.user).select_related("region").order_by("pk").first()
    )
    if enterprise is None:
        raise Http404("未找到本企业")
    matches = policies_for_enterprise(enterprise)
    page = Paginator(matches, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "thinktank/mine.html",
        {"title": "我可享受的政策", "enterprise": enterprise, "page": page, "total": len(matches)},
    )
