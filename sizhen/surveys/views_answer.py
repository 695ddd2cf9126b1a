"""Answering pages: the enterprise's 问卷 menu, answering one section per page with
保存并继续 (the enterprise's login, or a one-time link for enterprises without an account), and
the preview as the respondent sees it. Skip logic is evaluated on the server: a change in the
form asks for the section again (htmx, ``action=refresh``) and nothing is saved by that."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from sizhen.core.access import VIEW, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.permissions import require_capability
from sizhen.surveys import services
from sizhen.surveys.choices import Channel, QuestionType
from sizhen.surveys.forms import posted_answers
from sizhen.surveys.models import Invitation, Questionnaire, Response
from sizhen.surveys.selectors import enterprise_invitations
from sizhen.surveys.validation import CheckResult, FormSpec, check_answers, form_of
from sizhen.surveys.workflow import CLOSED, OPEN


def _items(
    form: FormSpec,
    names: tuple[str, ...],
    values: dict[str, Any],
    result: CheckResult,
    errors: dict[str, str],
) -> list[dict[str, Any]]:
    """What the template needs of each relevant question of a section."""
    by_name = form.by_name
    items = []
    for name in names:
        question = by_name[name]
        if name not in result.relevant:
            continue
        value = values.get(name)
        items.append(
            {
                "q": question,
                "key": f"q-{name}",
                "value": "" if value is None else value,
                "picked": _picked(value),
                "matrix": value if isinstance(value, dict) else {},
                "choices": result.offered.get(name, question.choices),
                "scale": list(range(question.scale[0], question.scale[1] + 1, question.scale[2]))
                if question.type == QuestionType.RATING
                else [],
                "error": errors.get(name, ""),
            }
        )
    return items


def _picked(value: Any) -> set[str]:
    if value is None or isinstance(value, dict):
        return set()
    if isinstance(value, list):
        return {str(v) for v in value}
    return {str(value)}


def _visible_sections(form: FormSpec, result: CheckResult) -> list[int]:
    return [
        index
        for index, section in enumerate(form.sections)
        if any(name in result.relevant for name in section.questions)
    ]


def _section_of(form: FormSpec, name: str) -> int:
    question = form.by_name.get(name)
    return question.section if question else 0


def _index(raw: str | None, visible: list[int]) -> int:
    try:
        wanted = int(raw or "")
    except ValueError:
        wanted = visible[0] if visible else 0
    if wanted in visible or not visible:
        return wanted
    later = [i for i in visible if i > wanted]
    return later[0] if later else visible[-1]


def _answer_flow(
    request: HttpRequest,
    invitation: Invitation,
    *,
    channel: str,
    page_url: str,
    done_url: str,
) -> HttpResponse:
    """One section per page; ``action`` is refresh (no saving), save, next, prev or submit."""
    survey_round = invitation.round
    form = form_of(survey_round.form_version)
    draft = Response.objects.filter(
        round=survey_round, enterprise=invitation.enterprise, submitted_at__isnull=True
    ).first()
    values = services.draft_answers(draft)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        # The section the page showed, whatever the stored answers say now.
        raw = request.POST.get("section", "")
        index = min(max(int(raw), 0), len(form.sections) - 1) if raw.isdigit() else 0
    else:
        visible = _visible_sections(form, check_answers(form, values, strict=False, partial=True))
        index = _index(request.GET.get("section"), visible)
    if request.method == "POST":
        action = request.POST.get("action", "save")
        names = list(form.sections[index].questions) if 0 <= index < len(form.sections) else []
        values = {**values, **posted_answers(request.POST, form, names)}
        if action != "refresh":
            outcome = _write(request, invitation, form, values, channel=channel, action=action)
            if outcome is None:
                if action == "submit":
                    return redirect(done_url)
                visible = _visible_sections(
                    form, check_answers(form, values, strict=False, partial=True)
                )
                step = {"next": 1, "prev": -1}.get(action, 0)
                position = visible.index(index) if index in visible else 0
                target = visible[max(0, min(len(visible) - 1, position + step))] if visible else 0
                return redirect(f"{page_url}?section={target}")
            errors, status = outcome
            if errors:
                index = _section_of(form, next(iter(errors)))
    result = check_answers(form, values, strict=False, partial=True)
    visible = _visible_sections(form, result)
    if index not in visible and visible:
        index = _index(str(index), visible)
    position = visible.index(index) if index in visible else 0
    section = form.sections[index] if form.sections else None
    context = {
        "title": survey_round.questionnaire.title,
        "round": survey_round,
        "invitation": invitation,
        "section": section,
        "index": index,
        "position": position + 1,
        "pages": len(visible),
        "first": position == 0,
        "last": position >= len(visible) - 1,
        "items": _items(form, section.questions if section else (), values, result, errors),
        "errors": errors,
        "page_url": page_url,
        "draft": draft,
    }
    if request.headers.get("HX-Request") and request.POST.get("action") == "refresh":
        return render(request, "surveys/_section.html", context)
    return render(request, "surveys/answer.html", context, status=status)


def _write(
    request: HttpRequest,
    invitation: Invitation,
    form: FormSpec,
    values: dict[str, Any],
    *,
    channel: str,
    action: str,
) -> tuple[dict[str, str], int] | None:
    """Save the draft or submit; None when it went through, else (errors by question,
    status)."""
    try:
        services.answer_invitation(
            invitation,
            actor=request.user if request.user.is_authenticated else None,
            answers=values,
            channel=channel,
            submit=action == "submit",
            form=form,
        )
        if action == "submit":
            messages.success(request, "问卷已提交，感谢您的参与！")
        elif action == "save":
            messages.success(request, "已保存，可稍后继续填写")
    except services.AnswersRejected as rejected:
        errors: dict[str, str] = {}
        for error in rejected.answer_errors:
            errors.setdefault(error.question, error.message)
        messages.error(request, f"还有 {len(errors)} 道题需要修改，请查看标红的题目")
        return errors, 400
    except services.SurveyError as refused:
        messages.error(request, refused.message)
        return {}, refused.status_code
    return None


# --- the enterprise's menu ----------------------------------------------------------------------


@login_required
@require_GET
def mine(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "survey.answer", target="我的问卷")
    invitations = list(enterprise_invitations(request.user))
    submitted = {
        r.invitation_id: r
        for r in Response.objects.visible_to(request.user, VIEW).filter(
            invitation__in=invitations, submitted_at__isnull=False
        )
    }
    drafts = set(
        Response.objects.visible_to(request.user, VIEW)
        .filter(invitation__in=invitations, submitted_at__isnull=True)
        .values_list("invitation_id", flat=True)
    )
    rows = [
        {
            "invitation": i,
            "response": submitted.get(i.pk),
            "draft": i.pk in drafts,
            "open": i.round.status == OPEN and i.answered_at is None,
            "closed": i.round.status == CLOSED,
        }
        for i in invitations
    ]
    return render(request, "surveys/mine.html", {"title": "我的问卷", "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "survey.answer", target="填写问卷")
    invitation = get_visible_or_404(
        Invitation.objects.select_related(
            "round__form_version", "round__questionnaire", "enterprise__region"
        ),
        request.user,
        VIEW,
        pk=pk,
    )
    if invitation.round.status != OPEN or invitation.answered_at is not None:
        messages.error(
            request,
            "本问卷已提交" if invitation.answered_at else "该调查不在进行中，不能填写",
        )
        return redirect("surveys:mine")
    page_url = reverse("surveys:answer", args=[pk])
    return _answer_flow(
        request,
        invitation,
        channel=Channel.ACCOUNT,
        page_url=page_url,
        done_url=reverse("surveys:mine"),
    )


@require_http_methods(["GET", "POST"])
def answer_link(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link (填写链接): no account needed; the token works until the
    questionnaire is submitted, then never again."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(
            request,
            "surveys/link_closed.html",
            {"title": "链接无效", "reason": "该填写链接无效，请向发放单位索取新的链接。"},
            status=404,
        )
    if invitation.token_used_at is not None or invitation.answered_at is not None:
        return render(
            request,
            "surveys/link_closed.html",
            {
                "title": "问卷已提交",
                "reason": "该链接对应的问卷已经提交，链接已失效。感谢您的参与！",
            },
            status=410,
        )
    if invitation.round.status != OPEN:
        return render(
            request,
            "surveys/link_closed.html",
            {"title": "调查未在进行", "reason": "该调查目前不在进行中，不能填写。"},
            status=410,
        )
    page_url = reverse("surveys:answer_link", args=[token])
    return _answer_flow(
        request, invitation, channel=Channel.LINK, page_url=page_url, done_url=page_url
    )


# --- the preview ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def preview(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The questionnaire as the respondent sees it, every section on one page; skip logic and
    validation work (``action=check`` runs the full check), nothing is saved."""
    require_capability(request.user, "staff.pages", target="问卷预览")
    questionnaire = get_visible_or_404(Questionnaire, request.user, VIEW, code=code)
    number = request.GET.get("version", "")
    versions = questionnaire.versions.order_by("-number")
    version = versions.filter(number=int(number)).first() if number.isdigit() else versions.first()
    if version is None:
        raise Http404("问卷没有版本")
    form = form_of(version)
    names = [name for section in form.sections for name in section.questions]
    values = posted_answers(request.POST, form, names) if request.method == "POST" else {}
    errors: dict[str, str] = {}
    checked = request.method == "POST" and request.POST.get("action") == "check"
    if checked:
        for error in check_answers(form, values, strict=False).errors:
            errors.setdefault(error.question, error.message)
    result = check_answers(form, values, strict=False, partial=True)
    sections = [
        {"section": section, "items": _items(form, section.questions, values, result, errors)}
        for section in form.sections
    ]
    context = {
        "title": f"预览：{questionnaire.title}（第 {version.number} 版）",
        "questionnaire": questionnaire,
        "version": version,
        "sections": [s for s in sections if s["items"]],
        "checked": checked,
        "errors": errors,
    }
    if request.headers.get("HX-Request") and request.POST.get("action") == "refresh":
        return render(request, "surveys/_preview_sections.html", context)
    return render(request, "surveys/preview.html", context)
