"""Pages that turn survey findings into work: publishing a closed round's satisfaction index
(企业满意度指数), and turning a dissatisfied rating or a written problem of a response into an
enterprise request or a rectification item (问题转办)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import VIEW, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.permissions import require_capability
from sizhen.core.views import run_service
from sizhen.surveys import services
from sizhen.surveys.choices import QuestionType
from sizhen.surveys.forms import RectificationFollowUpForm, RequestFollowUpForm
from sizhen.surveys.models import Answer, FollowUp, Response
from sizhen.surveys.selectors import follow_ups_of, has_consent, problem_answers
from sizhen.surveys.services.follow_up import NO_CONSENT
from sizhen.surveys.views_rounds import answer_text, round_for

# --- the satisfaction index ------------------------------------------------------------------


@login_required
@require_POST
def round_index_publish(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    survey_round = round_for(request, pk)
    require_capability(request.user, "survey.publish_index", target="企业满意度指数")
    with run_service(request):
        results = services.publish_index(survey_round, actor=request.user)
        published = sum(1 for r in results if r.published)
        messages.success(request, f"已计算满意度指数并发布 {published} 个指标值")
    return redirect("surveys:round_results", pk=pk)


# --- answers become work ---------------------------------------------------------------------


def _answer(response: Response, request: AuthenticatedRequest) -> tuple[Answer, str]:
    """The answer the page is about (``?answer=`` or the posted ``answer``) and why it may be
    followed up; 404 for an answer of another response or one that is not a problem."""
    raw = request.POST.get("answer") or request.GET.get("answer") or ""
    answer = (
        response.answers.select_related("question__bank_item__indicator")
        .filter(pk=int(raw))
        .first()
        if raw.isdigit()
        else None
    )
    problem = problem_answers(response).get(answer.pk) if answer is not None else None
    if answer is None or not problem:
        raise Http404("未找到可转办的答案")
    return answer, problem


def _initial(response: Response, answer: Answer) -> tuple[dict[str, Any], dict[str, Any]]:
    question = answer.question
    text = f"{question.label}：{answer_text(question, answer.value)}"
    if question.type == QuestionType.RATING:
        text += f" 分（{question.scale[0]}–{question.scale[1]} 分）"
    source = f"（来自问卷“{response.round.title}”答卷 {response.pk}）"
    return (
        {"text": f"{response.enterprise.name}反映：{text}{source}"},
        {"title": text[:200], "description": f"{response.region.name}企业反映：{text}{source}"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def response_follow_up(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One problem answer with the forms that turn it into a request (with the enterprise's
    consent) or a ledger item; a second submit of either finds the first."""
    actor = request.user
    require_capability(actor, "survey.follow_up", target="问卷问题转办")
    response = get_visible_or_404(
        Response.objects.select_related("round", "enterprise", "region"), actor, VIEW, pk=pk
    )
    answer, problem = _answer(response, request)
    request_initial, item_initial = _initial(response, answer)
    request_form = RequestFollowUpForm(initial=request_initial)
    item_form = RectificationFollowUpForm(initial=item_initial)
    if request.method == "POST":
        target = request.POST.get("target")
        if target == "request":
            request_form = RequestFollowUpForm(request.POST)
            if request_form.is_valid():
                with run_service(request) as outcome:
                    follow_up, created = services.answer_to_request(
                        answer,
                        actor=actor,
                        text=request_form.cleaned_data["text"],
                        kind=request_form.cleaned_data["kind"],
                    )
                    _report(request, follow_up, created)
                if outcome.ok:
                    return redirect("surveys:response_detail", pk=pk)
        elif target == "rectification":
            item_form = RectificationFollowUpForm(request.POST)
            if item_form.is_valid():
                data = item_form.cleaned_data
                with run_service(request) as outcome:
                    follow_up, created = services.answer_to_rectification(
                        answer,
                        actor=actor,
                        title=data["title"],
                        description=data["description"],
                        lead_department=data["lead_department"],
                        measures=data["measures"],
                        deadline=data["deadline"],
                        working_days=data["working_days"],
                    )
                    _report(request, follow_up, created)
                if outcome.ok:
                    return redirect("surveys:response_detail", pk=pk)
        else:
            messages.error(request, "请选择转为企业诉求或整改事项")
    consent = has_consent(response)
    return render(
        request,
        "surveys/follow_up.html",
        {
            "title": f"问题转办：{response.enterprise.name}",
            "response": response,
            "answer": answer,
            "answer_text": answer_text(answer.question, answer.value),
            "problem": problem,
            "consent": consent,
            "no_consent": NO_CONSENT,
            "follow_ups": [f for f in follow_ups_of(response, actor) if f.answer_id == answer.pk],
            "request_form": request_form,
            "item_form": item_form,
        },
    )


def _report(request: AuthenticatedRequest, follow_up: FollowUp, created: bool) -> None:
    what = f"{follow_up.get_kind_display()} {follow_up.target_number}"
    if created:
        messages.success(request, f"已转为{what}")
    else:
        messages.info(request, f"该答案此前已转为{what}，未重复创建")
