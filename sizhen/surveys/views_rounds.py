"""Staff pages of survey rounds (调查轮次) and responses (答卷): lists, a round with its live
response rates, steps, invitations, reminders, printable one-time links with QR codes, results,
and one response with its answers."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from sizhen.core.access import CHANGE, VIEW, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.views import run_service
from sizhen.core.workflow import history_of
from sizhen.organisations.models import Region
from sizhen.organisations.pickers import region_select
from sizhen.organisations.validators import mask_phone
from sizhen.surveys import services
from sizhen.surveys.forms import (
    InvitationFilter,
    InviteForm,
    ResponseFilter,
    RoundFilter,
    StepForm,
)
from sizhen.surveys.index import minimum_sample
from sizhen.surveys.models import (
    FollowUp,
    Invitation,
    Question,
    Response,
    SurveyRound,
)
from sizhen.surveys.selectors import (
    default_region,
    follow_ups_of,
    has_consent,
    index_tables,
    problem_answers,
    region_in_scope,
    response_rates,
    survey_results,
)
from sizhen.surveys.views import local_time
from sizhen.surveys.workflow import CLOSED, DRAFT, OPEN

# --- rounds -----------------------------------------------------------------------------------


def _round_url(r: SurveyRound) -> str:
    return reverse("surveys:round_detail", args=[r.pk])


def _response_url(r: Response) -> str:
    return reverse("surveys:response_detail", args=[r.pk])


def _rate(r: SurveyRound) -> str:
    invited = getattr(r, "invited", 0)
    return f"{r.answered * 100 / invited:.1f}%" if invited else "—"  # type: ignore[attr-defined]


class RoundListView(ScopedListView):
    model = SurveyRound
    title = "调查轮次"
    roles = capability_roles("staff.pages")
    filterset_class = RoundFilter
    default_sort = "-created_at"
    export_name = "调查轮次"
    search_fields = ("title",)
    search_placeholder = "调查名称"
    columns = (
        ListColumn("title", "调查名称", sort="title", link=_round_url),
        ListColumn("questionnaire.title", "问卷", sort="questionnaire__code"),
        ListColumn("form_version.number", "版本"),
        ListColumn("region.name", "调查范围", sort="region__path"),
        ListColumn("status", "状态", sort="status"),
        ListColumn("deadline", "截止日期", sort="deadline"),
        ListColumn("invited", "邀请企业", sort="invited"),
        ListColumn("answered", "已提交", sort="answered"),
        ListColumn("rate", "回收率", render=_rate),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        # The counts cover the invitations the actor may see (a district: its own).
        visible = Invitation.objects.visible_to(self.request.user, VIEW).values("pk")
        return (
            super()
            .base_queryset(action)
            .select_related("questionnaire", "region", "form_version")
            .annotate(
                invited=Count("invitations", filter=Q(invitations__in=visible), distinct=True),
                answered=Count(
                    "invitations",
                    filter=Q(invitations__in=visible, invitations__answered_at__isnull=False),
                    distinct=True,
                ),
            )
        )


def round_for(request: AuthenticatedRequest, pk: int, action: str = VIEW) -> SurveyRound:
    require_capability(request.user, "staff.pages", target="调查轮次")
    return get_visible_or_404(
        SurveyRound.objects.select_related("questionnaire", "form_version", "region"),
        request.user,
        action,
        pk=pk,
    )


@login_required
@require_GET
def round_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    survey_round = round_for(request, pk)
    actor = request.user
    can_distribute = (
        has_capability(actor, "survey.distribute")
        and SurveyRound.objects.visible_to(actor, CHANGE).filter(pk=pk).exists()
    )
    return render(
        request,
        "surveys/round_detail.html",
        {
            "title": f"调查：{survey_round.title}",
            "round": survey_round,
            "rates": response_rates(survey_round, actor),
            "history": history_of(survey_round),
            "transitions": survey_round.workflow.available(survey_round, actor)
            if can_distribute
            else [],
            "can_distribute": can_distribute and survey_round.status != "closed",
            "invite_form": InviteForm(survey_round=survey_round),
            "step_form": StepForm(initial={"status": survey_round.status}),
            "is_open": survey_round.status == OPEN,
            "is_draft": survey_round.status == DRAFT,
        },
    )


@login_required
@require_GET
def round_rates(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The response-rate table alone: the round page polls it (htmx) to stay live."""
    survey_round = round_for(request, pk)
    return render(
        request,
        "surveys/_rates.html",
        {"round": survey_round, "rates": response_rates(survey_round, request.user)},
    )


@login_required
@require_POST
def round_step(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    survey_round = round_for(request, pk, CHANGE)
    form = StepForm(request.POST)
    if not form.is_valid():
        messages.error(request, "页面状态无效，请刷新后重试")
        return redirect("surveys:round_detail", pk=pk)
    with run_service(request):
        services.transition_round(
            survey_round, action, actor=request.user, seen_status=form.cleaned_data["status"]
        )
        messages.success(request, "已开始调查" if action == "open" else "已结束调查")
    return redirect("surveys:round_detail", pk=pk)


@login_required
@require_POST
def round_invite(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    survey_round = round_for(request, pk, CHANGE)
    form = InviteForm(request.POST, survey_round=survey_round)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("surveys:round_detail", pk=pk)
    with run_service(request):
        count = services.invite_enterprises(
            survey_round,
            actor=request.user,
            region=form.cleaned_data["region"],
            industry=form.cleaned_data["industry"],
            size=form.cleaned_data["size"],
            sample=form.cleaned_data["sample"],
            panel=form.cleaned_data["panel"],
        )
        messages.success(request, f"已邀请 {count} 家企业")
    return redirect("surveys:round_detail", pk=pk)


@login_required
@require_POST
def round_remind(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    survey_round = round_for(request, pk, CHANGE)
    with run_service(request):
        count = services.remind_non_responders(survey_round, actor=request.user)
        messages.success(request, f"已向 {count} 家未提交的企业发送催答提醒")
    return redirect("surveys:round_detail", pk=pk)


def qr_svg(url: str) -> str:
    """A QR code of the URL as inline SVG, drawn on the server (prints offline)."""
    return segno.make(url, error="m").svg_inline(scale=3, border=2)


@login_required
@require_POST
def round_links(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """New one-time links for the unanswered invitations (only enterprises without an account
    unless asked), shown once as a printable sheet with QR codes."""
    survey_round = round_for(request, pk, CHANGE)
    pending = Invitation.objects.filter(round=survey_round, answered_at__isnull=True)
    if request.POST.get("all") != "yes":
        pending = pending.exclude(enterprise__users__is_active=True)
    with run_service(request) as outcome:
        issued = services.issue_links(survey_round, actor=request.user, invitations=pending)
    if not outcome.ok:
        return redirect("surveys:round_detail", pk=pk)
    sheets = []
    for invitation, token in issued:
        url = request.build_absolute_uri(reverse("surveys:answer_link", args=[token]))
        sheets.append(
            {"invitation": invitation, "url": url, "qr": mark_safe(qr_svg(url))}  # noqa: S308 - segno's own SVG of an URL we built
        )
    return render(
        request,
        "surveys/links_print.html",
        {"title": f"问卷填写链接：{survey_round.title}", "round": survey_round, "sheets": sheets},
    )


class InvitationListView(ScopedListView):
    model = Invitation
    title = "问卷发放"
    roles = capability_roles("staff.pages")
    filterset_class = InvitationFilter
    default_sort = "enterprise__region__path"
    export_name = "问卷发放"
    search_fields = ("enterprise__name", "enterprise__uscc")
    search_placeholder = "企业名称或信用代码"
    columns = (
        ListColumn("enterprise.name", "企业", sort="enterprise__name"),
        ListColumn("enterprise.uscc", "统一社会信用代码"),
        ListColumn("enterprise.region.name", "区划", sort="enterprise__region__path"),
        ListColumn(
            "enterprise.contact_phone",
            "联系电话",
            render=lambda i: mask_phone(i.enterprise.contact_phone),
        ),
        ListColumn("panel", "企业监测点", sort="panel"),
        ListColumn("state", "状态", render=lambda i: i.state_label),
        ListColumn("sent_at", "通知时间", sort="sent_at", render=lambda i: local_time(i.sent_at)),
        ListColumn("link_issued_at", "链接生成", render=lambda i: local_time(i.link_issued_at)),
        ListColumn("reminder_count", "催答次数", sort="reminder_count"),
        ListColumn(
            "answered_at",
            "提交时间",
            sort="answered_at",
            render=lambda i: local_time(i.answered_at),
        ),
    )

    def get(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.survey_round = round_for(request, kwargs["pk"])
        return super().get(request, *args, **kwargs)

    def extra_context(self) -> dict[str, Any]:
        return {"title": f"问卷发放：{self.survey_round.title}"}

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return (
            super()
            .base_queryset(action)
            .filter(round=self.survey_round)
            .select_related("enterprise__region")
        )

    def page_actions(self) -> list[PageAction]:
        return [PageAction("返回调查", _round_url(self.survey_round))]


@login_required
@require_GET
def round_results(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    survey_round = round_for(request, pk)
    require_capability(request.user, "survey.results", target="调查结果")
    code = request.GET.get("region", "")
    if code:
        region = get_visible_or_404(Region, request.user, VIEW, code=code)
        if not region_in_scope(request.user, region):
            raise Http404("未找到该区划")
    else:
        found = default_region(request.user, survey_round)
        if found is None:
            raise Http404("未找到该区划")
        region = found
    results = survey_results(survey_round, region)
    choices = Region.objects.visible_to(request.user, VIEW).filter(
        path__startswith=survey_round.region.path
    )
    regions = [r for r in choices.order_by("path") if region_in_scope(request.user, r)]
    return render(
        request,
        "surveys/round_results.html",
        {
            "title": f"调查结果：{survey_round.title}",
            "round": survey_round,
            "results": results,
            "region": region,
            "region_select": region_select("region", regions, region.code),
            "index_tables": index_tables(survey_round, request.user),
            "minimum_sample": minimum_sample(),
            "can_publish": survey_round.status == CLOSED
            and has_capability(request.user, "survey.publish_index"),
        },
    )


# --- responses --------------------------------------------------------------------------------


class ResponseListView(ScopedListView):
    model = Response
    title = "答卷"
    roles = capability_roles("staff.pages")
    filterset_class = ResponseFilter
    default_sort = "-submitted_at"
    export_name = "答卷"
    search_fields = ("enterprise__name", "enterprise__uscc")
    search_placeholder = "企业名称或信用代码"
    columns = (
        ListColumn("pk", "编号", sort="id", link=_response_url),
        ListColumn("round.title", "调查", sort="round__title"),
        ListColumn("enterprise.name", "企业", sort="enterprise__name", link=_response_url),
        ListColumn("region.name", "区划", sort="region__path"),
        ListColumn("channel", "渠道", sort="channel"),
        ListColumn("sequence", "序号"),
        ListColumn(
            "submitted_at",
            "提交时间",
            sort="submitted_at",
            render=lambda r: local_time(r.submitted_at),
        ),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return (
            super()
            .base_queryset(action)
            .filter(submitted_at__isnull=False)
            .select_related("round", "enterprise", "region")
        )


@login_required
@require_GET
def response_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    actor = request.user
    if not (has_capability(actor, "staff.pages") or has_capability(actor, "survey.answer")):
        raise Http404("未找到该页面")
    response = get_visible_or_404(
        Response.objects.select_related("round", "enterprise", "region", "form_version"),
        actor,
        VIEW,
        pk=pk,
    )
    answers = {a.question_id: a for a in response.answers.all()}
    staff = has_capability(actor, "survey.follow_up")
    problems = problem_answers(response) if staff else {}
    follow_ups: dict[int, list[FollowUp]] = {}
    for follow_up in follow_ups_of(response, actor):
        follow_ups.setdefault(follow_up.answer_id, []).append(follow_up)
    rows = []
    for question in (
        Question.objects.filter(version=response.form_version)
        .prefetch_related("choices")
        .order_by("section__order", "order", "pk")
    ):
        if question.type == "note":
            continue
        answer = answers.get(question.pk)
        rows.append(
            {
                "question": question,
                "text": answer_text(question, answer.value if answer else None),
                "answer": answer,
                "problem": problems.get(answer.pk, "") if answer else "",
                "follow_ups": follow_ups.get(answer.pk, []) if answer else [],
            }
        )
    return render(
        request,
        "surveys/response_detail.html",
        {
            "title": f"答卷：{response.enterprise.name}",
            "response": response,
            "rows": rows,
            "can_follow_up": staff,
            "consent": has_consent(response) if staff else None,
        },
    )


def answer_text(question: Question, value: Any) -> Any:
    """An answer as people read it: choice labels instead of names."""
    if value is None:
        return ""
    labels = {c.name: c.label for c in question.choices.all()}
    if isinstance(value, list):
        return "、".join(str(labels.get(v, v)) for v in value)
    if isinstance(value, dict):
        rows = {r["name"]: r.get("label", r["name"]) for r in question.rows or []}
        return "；".join(f"{rows.get(k, k)}：{labels.get(v, v)}" for k, v in value.items())
    if question.type in ("single",):
        return labels.get(str(value), value)
    return value
