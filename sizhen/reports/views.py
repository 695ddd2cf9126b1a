"""Reminder letter (提醒函) pages: list, create, detail, download through the scope, edit a
draft, send, discard.

Files are never served from a media URL: the download view fetches the letter through the scope
first, so a department only ever receives its own letters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, EXPORT, VIEW, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.views import run_service
from sizhen.reports import letters, services
from sizhen.reports.forms import LetterEditForm, LetterFilter, LetterForm
from sizhen.reports.models import (
    LetterStatus,
    ReminderLetter,
)

PREFILL_KEYS = ("indicator", "region", "period")
DOWNLOADS = {
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": ("pdf", "application/pdf"),
}


def _detail_url(letter: ReminderLetter) -> str:
    return reverse("reports:letter_detail", args=[letter.pk])


def _alert_url(letter: ReminderLetter) -> str:
    if letter.source_alert_id is None:
        return ""
    return reverse("monitoring:alert_detail", args=[letter.source_alert_id])


#: The source column, for the office (who sees every alert).
SOURCE_COLUMN = ListColumn(
    "source_alert",
    "来源",
    render=lambda x: "红色预警" if x.source_alert_id else "人工生成",
    link=_alert_url,
)


class LetterListView(ScopedListView):
    model = ReminderLetter
    title = "提醒函"
    roles = capability_roles("letter.view")
    filterset_class = LetterFilter
    default_sort = "-created_at"
    export_name = "提醒函"
    search_fields = ("number", "indicator__name", "department__name")
    search_placeholder = "文号、指标或部门"
    filterset_class = LetterFilter
    columns: ClassVar[Sequence[ListColumn]] = (
        ListColumn("number_label", "文号", sort="sequence", link=_detail_url),
        ListColumn("indicator.name", "指标", sort="indicator__code"),
        ListColumn("region.name", "区划", sort="region__path"),
        ListColumn("department.name", "牵头部门", sort="department__code"),
        ListColumn("period", "期间", sort="period", render=lambda x: f"{x.period:%Y-%m}"),
        ListColumn("deadline", "反馈期限", sort="deadline"),
        ListColumn("status_label", "状态", sort="status"),
        ListColumn("created_at", "生成时间", sort="created_at"),
    )

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("indicator", "region", "department")

    def page_actions(self) -> list[PageAction]:
        if has_capability(self.request.user, "letter.write"):
            return [PageAction("生成提醒函", reverse("reports:letter_create"), "primary")]
        return []


class OfficeLetterListView(LetterListView):
    """The office's list also says where each letter came from, linking a red alert."""

    columns: ClassVar[Sequence[ListColumn]] = (
        *LetterListView.columns[:-1],
        SOURCE_COLUMN,
        LetterListView.columns[-1],
    )


@login_required
def letter_list(request: AuthenticatedRequest) -> HttpResponseBase:
    office = has_capability(request.user, "letter.write")
    return (OfficeLetterListView if office else LetterListView).as_view()(request)


def _form_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


@login_required
@require_http_methods(["GET", "POST"])
def letter_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "letter.write", action=CHANGE, target="生成提醒函")
    # An alert or a dashboard links here with ?indicator=&region=&period= to prefill the form.
    prefill = {key: request.GET[key] for key in PREFILL_KEYS if request.GET.get(key)}
    if "period" not in prefill:
        prefill.update(services.default_period(prefill, actor=request.user))
    form = LetterForm(request.POST or None, actor=request.user, initial=prefill)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            letter = services.create_letter(
                actor=request.user,
                indicator=data["indicator"],
                region=data["region"],
                period=data["period"],
                requested_action=data["requested_action"],
                deadline_days=data["deadline_days"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"已生成提醒函 {letter.number}")
            return redirect(_detail_url(letter))
    return render(
        request,
        "reports/letter_form.html",
        {"title": "生成提醒函", "form": form, "cancel_url": reverse("reports:letter_list")},
    )


@login_required
def letter_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    letter = get_visible_or_404(
        ReminderLetter.objects.select_related("indicator", "region", "department"),
        request.user,
        VIEW,
        pk=pk,
    )
    content = letter.content
    can_write = has_capability(request.user, "letter.write")
    can_send = letter.status == LetterStatus.DRAFT and can_write
    # Letters written before the official format kept no trend, so no text is rebuilt for them.
    text = letters.paragraphs(content) if "series" in content else []
    return render(
        request,
        "reports/letter_detail.html",
        {
            "title": f"提醒函 {letter.number_label}",
            "letter": letter,
            "content": content,
            "text": text,
            "can_send": can_send,
            "alert_url": _alert_url(letter) if can_write else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def letter_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    letter = get_visible_or_404(ReminderLetter, request.user, CHANGE, pk=pk)
    if letter.status != LetterStatus.DRAFT:
        messages.error(request, f"该提醒函{letter.get_status_display()}，不能修改")
        return redirect(_detail_url(letter))
    initial = {
        "period": f"{letter.period:%Y-%m}",
        "requested_action": letter.requested_action,
        "deadline_days": letter.content.get("deadline_days", 10),
    }
    form = LetterEditForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            letter = services.update_letter(
                letter,
                actor=request.user,
                period=data["period"],
                requested_action=data["requested_action"],
                deadline_days=data["deadline_days"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"已保存提醒函 {letter.number}")
            return redirect(_detail_url(letter))
    return render(
        request,
        "reports/letter_form.html",
        {
            "title": f"修改提醒函 {letter.number_label}",
            "form": form,
            "cancel_url": _detail_url(letter),
            "submit_label": "保存",
            "note": f"{letter.region.name}“{letter.indicator.name}”：保存后按最新数据重新生成文件。",
        },
    )


@login_required
@require_POST
def letter_discard(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    letter = get_visible_or_404(ReminderLetter, request.user, CHANGE, pk=pk)
    with run_service(request) as outcome:
        services.discard_letter(letter, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"提醒函 {letter.number_label} 已作废")
    if outcome.ok:
        return redirect(reverse("reports:letter_list"))
    return redirect(_detail_url(letter))


@login_required
def letter_download(request: AuthenticatedRequest, pk: int, kind: str) -> FileResponse:
    if kind not in DOWNLOADS:
        raise Http404("未找到该文件")
    letter = get_visible_or_404(ReminderLetter, request.user, EXPORT, pk=pk)
    field_name, content_type = DOWNLOADS[kind]
    stored = getattr(letter, field_name)
    if not stored:
        raise Http404("未找到该文件")
    return FileResponse(
        stored.open("rb"),
        as_attachment=True,
        filename=f"{letter.number}.{kind}",
        content_type=content_type,
    )


@login_required
@require_POST
def letter_send(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    letter = get_visible_or_404(ReminderLetter, request.user, CHANGE, pk=pk)
    try:
        services.mark_sent(letter, actor=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(
            request,
            f"提醒函 {letter.number} 已发送，已通知{letter.region.name}和{letter.department.name}",
        )
    return redirect(_detail_url(letter))
