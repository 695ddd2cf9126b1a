"""Staff pages of questionnaires (问卷) and the question bank (题库): lists, a questionnaire
with its versions and questions, XLSForm import and export, publishing, starting a round. The
round and response pages are in ``views_rounds``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizhen.core.access import CHANGE, VIEW, get_visible_or_404
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.views import run_service
from sizhen.core.xlsx import xlsx_response
from sizhen.organisations.models import Region
from sizhen.surveys import services
from sizhen.surveys.forms import (
    BankFilter,
    RoundForm,
    XLSFormUploadForm,
)
from sizhen.surveys.models import (
    BankItem,
    Question,
    Questionnaire,
    QuestionnaireVersion,
)
from sizhen.surveys.selectors import (
    rounds_of,
)
from sizhen.surveys.structure import structure_of
from sizhen.surveys.xlsform import XLSFormError, write_xlsform


def local_time(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _questionnaire_url(q: Questionnaire) -> str:
    return reverse("surveys:questionnaire_detail", args=[q.code])


def _questionnaire(request: AuthenticatedRequest, code: str) -> Questionnaire:
    require_capability(request.user, "staff.pages", target="问卷")
    return get_visible_or_404(Questionnaire, request.user, VIEW, code=code)


# --- questionnaires -------------------------------------------------------------------------


class QuestionnaireListView(ScopedListView):
    model = Questionnaire
    title = "问卷"
    roles = capability_roles("staff.pages")
    default_sort = "-created_at"
    export_name = "问卷"
    search_fields = ("code", "title")
    search_placeholder = "编码或名称"
    columns = (
        ListColumn("code", "编码", sort="code", link=_questionnaire_url),
        ListColumn("title", "名称", sort="title", link=_questionnaire_url),
        ListColumn("version_count", "版本数", sort="version_count"),
        ListColumn("published_count", "已发布版本", sort="published_count"),
        ListColumn("round_count", "调查轮次", sort="round_count"),
        ListColumn("allow_multiple_responses", "一企多答"),
        ListColumn(
            "created_at", "创建时间", sort="created_at", render=lambda q: local_time(q.created_at)
        ),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return (
            super()
            .base_queryset(action)
            .annotate(
                version_count=Count("versions", distinct=True),
                published_count=Count(
                    "versions", filter=Q(versions__status="published"), distinct=True
                ),
                round_count=Count("rounds", distinct=True),
            )
        )

    def page_actions(self) -> list[PageAction]:
        actions = [
            PageAction("调查轮次", reverse("surveys:round_list")),
            PageAction("题库", reverse("surveys:bank_list")),
        ]
        if has_capability(self.request.user, "survey.design"):
            actions.insert(0, PageAction("导入 XLSForm", reverse("surveys:import"), "primary"))
        return actions


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "survey.design", target="导入问卷")
    form = XLSFormUploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            version = services.import_xlsform(
                upload.read(),
                actor=request.user,
                file_name=upload.name or "",
                publish=form.cleaned_data["publish"],
            )
        except XLSFormError as refused:
            problems = refused.problems
        except services.SurveyError as refused:
            problems = [refused.message]
        else:
            messages.success(
                request,
                f"已导入问卷“{version.questionnaire.title}”第 {version.number} 版"
                f"（{version.get_status_display()}）",
            )
            return redirect("surveys:questionnaire_detail", code=version.questionnaire.code)
    return render(
        request,
        "surveys/import.html",
        {"title": "导入 XLSForm 问卷", "form": form, "problems": problems},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def questionnaire_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    questionnaire = _questionnaire(request, code)
    versions = list(questionnaire.versions.order_by("-number"))
    shown = _version_from(request, questionnaire, versions)
    questions = (
        Question.objects.filter(version=shown)
        .select_related("section", "bank_item__indicator")
        .prefetch_related("choices")
        .order_by("section__order", "order", "pk")
        if shown
        else Question.objects.none()
    )
    return render(
        request,
        "surveys/questionnaire_detail.html",
        {
            "title": f"问卷：{questionnaire.title}",
            "questionnaire": questionnaire,
            "versions": versions,
            "shown": shown,
            "questions": questions,
            "rounds": rounds_of(questionnaire, request.user),
            "can_design": has_capability(request.user, "survey.design"),
            "can_distribute": has_capability(request.user, "survey.distribute"),
            "has_published": any(v.status == "published" for v in versions),
        },
    )


def _version_from(
    request: AuthenticatedRequest,
    questionnaire: Questionnaire,
    versions: list[QuestionnaireVersion],
) -> QuestionnaireVersion | None:
    number = request.GET.get("version", "")
    if number.isdigit():
        for version in versions:
            if version.number == int(number):
                return version
        raise Http404("未找到该版本")
    return versions[0] if versions else None


@login_required
@require_GET
def export_xlsform(request: AuthenticatedRequest, code: str) -> HttpResponse:
    questionnaire = _questionnaire(request, code)
    version = _version_from(
        request, questionnaire, list(questionnaire.versions.order_by("-number"))
    )
    if version is None:
        raise Http404("问卷没有版本")
    content = write_xlsform(structure_of(version), version_label=str(version.number))
    record_event(
        "export.xlsform",
        actor=request.user,
        obj=questionnaire,
        after={"version": version.number},
        message=f"导出 XLSForm：{questionnaire.code} 第 {version.number} 版",
    )
    return xlsx_response(content, f"{questionnaire.code}-v{version.number}")


@login_required
@require_POST
def publish(request: AuthenticatedRequest, code: str, number: int) -> HttpResponse:
    require_capability(request.user, "survey.design", target="发布问卷")
    questionnaire = get_visible_or_404(Questionnaire, request.user, CHANGE, code=code)
    version = questionnaire.versions.filter(number=number).first()
    if version is None:
        raise Http404("未找到该版本")
    with run_service(request):
        services.publish_version(version, actor=request.user)
        messages.success(request, f"已发布第 {version.number} 版")
    return redirect(f"{_questionnaire_url(questionnaire)}?version={version.number}")


@login_required
@require_http_methods(["GET", "POST"])
def round_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "survey.distribute", target="发起调查")
    questionnaire = get_visible_or_404(Questionnaire, request.user, VIEW, code=code)
    form = RoundForm(request.POST or None, questionnaire=questionnaire)
    if request.method == "POST" and form.is_valid():
        with run_service(request) as outcome:
            survey_round = services.create_round(
                questionnaire,
                actor=request.user,
                title=form.cleaned_data["title"],
                region=form.cleaned_data["region"],
                deadline=form.cleaned_data["deadline"],
                version=form.cleaned_data["version"],
            )
            messages.success(request, "已创建调查轮次，请发放问卷后开始调查")
        if outcome.ok:
            return redirect("surveys:round_detail", pk=survey_round.pk)
    if not form.is_bound:
        form.initial["title"] = f"{timezone.localdate().year}年{questionnaire.title}"
        form.initial["region"] = Region.objects.filter(parent__isnull=True).first()
    return render(
        request,
        "core/form.html",
        {
            "title": f"发起调查：{questionnaire.title}",
            "form": form,
            "cancel_url": _questionnaire_url(questionnaire),
        },
        status=400 if form.is_bound else 200,
    )


# --- question bank ----------------------------------------------------------------------------


class BankListView(ScopedListView):
    model = BankItem
    title = "题库"
    roles = capability_roles("staff.pages")
    filterset_class = BankFilter
    default_sort = "topic"
    export_name = "题库"
    search_fields = ("code", "label")
    search_placeholder = "编码或题目"
    columns = (
        ListColumn("code", "编码", sort="code"),
        ListColumn("topic", "主题", sort="topic"),
        ListColumn(
            "indicator",
            "关联指标",
            sort="indicator__code",
            render=lambda b: f"{b.indicator.code} {b.indicator.name}" if b.indicator else "",
        ),
        ListColumn("type", "题型", sort="type"),
        ListColumn("label", "题目", sort="label"),
        ListColumn("weight", "满意度指数权重", sort="weight"),
        ListColumn("used", "使用次数", sort="used"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return (
            super()
            .base_queryset(action)
            .select_related("indicator")
            .annotate(used=Count("questions", distinct=True))
        )
