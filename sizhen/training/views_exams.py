"""Pages of the question bank (题库), exams (考试), attempts (答卷), the wrong-answer book
(错题本) and the statistics (培训统计)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, JsonResponse
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
from sizhen.core.views import run_service
from sizhen.core.xlsx import xlsx_response
from sizhen.training import selectors, services
from sizhen.training.choices import OPTION_LETTERS, QuestionKind
from sizhen.training.documents import exam_report_docx, exam_report_xlsx, summary_sentence
from sizhen.training.exams import rule_label
from sizhen.training.forms import ExamForm, QuestionFilter, QuestionForm
from sizhen.training.imports import COLUMNS, import_questions, import_template
from sizhen.training.models import Attempt, Exam, Question, WrongAnswer
from sizhen.training.scoring import answer_text
from sizhen.training.views import _form_errors
from sizhen.training.workflow import IN_PROGRESS

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ERRORS_ON_PAGE = 200


# --- question bank ----------------------------------------------------------------------------


def _question_url(question: Question) -> str:
    return reverse("training:question_edit", args=[question.pk])


class QuestionListView(ScopedListView):
    model = Question
    title = "题库"
    roles = capability_roles("training.manage")
    filterset_class = QuestionFilter
    default_sort = "id"
    export_name = "题库"
    search_fields = ("stem", "explanation")
    search_placeholder = "题干或解析"
    columns = (
        ListColumn("pk", "编号", sort="id"),
        ListColumn("kind", "题型", sort="kind"),
        ListColumn("stem", "题干", link=_question_url),
        ListColumn("answer", "答案", render=lambda q: answer_text(q.kind, q.answer, q.options)),
        ListColumn("indicator", "关联指标", sort="indicator__code"),
        ListColumn("difficulty", "难度", sort="difficulty"),
        ListColumn("tags", "标签", render=lambda q: "、".join(q.tag_list)),
        ListColumn("is_active", "启用"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("indicator")

    def page_actions(self) -> list[PageAction]:
        return [
            PageAction("新增试题", reverse("training:question_create"), "primary"),
            PageAction("导入", reverse("training:question_import")),
        ]


def _question_form_page(
    request: AuthenticatedRequest, form: QuestionForm, title: str
) -> HttpResponse:
    return render(
        request,
        "core/form.html",
        {"title": title, "form": form, "cancel_url": reverse("training:question_list")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def question_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "training.manage", target="新增试题")
    form = QuestionForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        fields.pop("is_active")
        try:
            question = services.create_question(actor=request.user, **fields)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已新增试题 {question.pk}")
            return redirect("training:question_list")
    return _question_form_page(request, form, "新增试题")


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "training.manage", target="修改试题")
    question = get_visible_or_404(Question, request.user, CHANGE, pk=pk)
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_of(question))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_question(question, actor=request.user, **form.service_fields())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已保存试题 {question.pk}")
            return redirect("training:question_list")
    return _question_form_page(request, form, f"修改试题 {question.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def question_import(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "training.manage", target="导入试题")
    form = ImportUploadForm()
    report = None
    checked = False
    status = 200
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            checked = request.POST.get("action") != "import"
            report = import_questions(
                form.cleaned_data["file"].read(), actor=request.user, dry_run=checked
            )
            status = 200 if report.ok else 400
        else:
            status = 400
    return render(
        request,
        "training/question_import.html",
        {
            "title": "导入试题",
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
def question_template(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "training.manage", target="导入试题")
    return xlsx_response(import_template(), "试题导入模板")


# --- exams ------------------------------------------------------------------------------------


@login_required
@require_GET
def exam_list(request: AuthenticatedRequest) -> HttpResponse:
    """考试: the exams open to the person (start or resume), their own attempts, and every
    exam (the office drafts, publishes and closes them here)."""
    require_capability(request.user, "training.learn", target="考试")
    return render(
        request,
        "training/exam_list.html",
        {
            "title": "考试",
            "open_exams": selectors.open_exams(request.user),
            "attempts": selectors.my_attempts(request.user).order_by("-started_at")[:50],
            "exams": Exam.objects.visible_to(request.user).order_by("-created_at", "-pk")[:200],
            "can_manage": has_capability(request.user, "training.manage"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def exam_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "training.manage", target="新建考试")
    form = ExamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            exam = services.create_exam(actor=request.user, **form.service_fields())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已新建考试“{exam.title}”（草稿）")
            return redirect("training:exam_detail", pk=exam.pk)
    return render(
        request,
        "training/exam_form.html",
        {"title": "新建考试", "form": form, "cancel_url": reverse("training:exam_list")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def exam_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "training.learn", target="考试")
    exam = get_visible_or_404(Exam, request.user, pk=pk)
    results = selectors.exam_results(exam, request.user)
    mine = list(selectors.my_attempts(request.user).filter(exam=exam).order_by("number"))
    current = next((a for a in mine if a.status == IN_PROGRESS), None)
    can_start = (
        exam.status == "published"
        and current is None
        and len(mine) < exam.max_attempts
        and services.in_audience(exam, request.user)
    )
    return render(
        request,
        "training/exam_detail.html",
        {
            "title": f"考试：{exam.title}",
            "exam": exam,
            "rules": [rule_label(rule) for rule in exam.rules],
            "transitions": exam.workflow.available(exam, request.user),
            "results": results,
            "summary": summary_sentence(exam, results),
            "mine": mine,
            "current": current,
            "can_start": can_start,
            "audience": {
                "departments": exam.departments.order_by("code"),
                "regions": exam.regions.order_by("path"),
            },
        },
    )


@login_required
@require_POST
def exam_step(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    require_capability(request.user, "training.manage", target="考试")
    exam = get_visible_or_404(Exam, request.user, CHANGE, pk=pk)
    with run_service(request):
        services.transition_exam(exam, action, actor=request.user)
        messages.success(request, "已办理")
    return redirect("training:exam_detail", pk=exam.pk)


@login_required
@require_POST
def exam_start(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "training.learn", target="考试")
    exam = get_visible_or_404(Exam, request.user, pk=pk)
    with run_service(request) as outcome:
        attempt = services.start_attempt(exam, actor=request.user)
    if not outcome.ok:
        return redirect("training:exam_detail", pk=exam.pk)
    return redirect("training:attempt_detail", pk=attempt.pk)


@login_required
@require_GET
def exam_report(request: AuthenticatedRequest, pk: int, kind: str) -> HttpResponse:
    """The automatic exam report (考试报告) of the results the actor may see."""
    require_capability(request.user, "training.learn", target="考试报告")
    if kind not in ("xlsx", "docx"):
        raise Http404("未找到该页面")
    exam = get_visible_or_404(Exam, request.user, EXPORT, pk=pk)
    results = selectors.exam_results(exam, request.user)
    record_event(
        f"export.{kind}",
        actor=request.user,
        obj=exam,
        message=f"导出考试报告（{len(results['rows'])} 人）",
        after={"rows": len(results["rows"])},
    )
    if kind == "xlsx":
        return xlsx_response(exam_report_xlsx(exam, results), f"{exam.title}考试报告")
    response = HttpResponse(exam_report_docx(exam, results), content_type=DOCX_CONTENT_TYPE)
    name = f"{exam.title}考试报告-{timezone.localtime():%Y%m%d-%H%M}.docx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


# --- attempts ---------------------------------------------------------------------------------


def _question_rows(attempt: Attempt, reveal: bool) -> list[dict[str, Any]]:
    rows = []
    for answer in attempt.answers.order_by("position"):
        snap = answer.snapshot
        options = snap.get("options", [])
        rows.append(
            {
                "answer": answer,
                "kind": snap.get("kind"),
                "kind_label": QuestionKind(snap.get("kind")).label,
                "stem": snap.get("stem"),
                "options": list(zip(OPTION_LETTERS, options, strict=False)),
                "input": "checkbox" if snap.get("kind") == QuestionKind.MULTIPLE else "radio",
                "response": answer.response,
                "response_text": answer_text(snap.get("kind", ""), answer.response, options)
                if answer.response
                else "未作答",
                "right_text": answer_text(snap.get("kind", ""), snap.get("answer", []), options)
                if reveal
                else "",
                "explanation": snap.get("explanation", "") if reveal else "",
            }
        )
    return rows


@login_required
@require_GET
def attempt_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The attempt: the exam paper while it is the person's and open, else the result. An
    attempt whose deadline passed is scored first (the server's clock ends the exam)."""
    require_capability(request.user, "training.learn", target="答卷")
    attempt = get_visible_or_404(
        Attempt.objects.select_related("exam", "user"), request.user, pk=pk
    )
    if attempt.status == IN_PROGRESS and timezone.now() >= attempt.deadline:
        services.expire_attempt(attempt)
    answering = attempt.status == IN_PROGRESS and attempt.user_id == request.user.pk
    remaining = max(int((attempt.deadline - timezone.now()).total_seconds()), 0)
    return render(
        request,
        "training/attempt.html",
        {
            "title": f"答卷：{attempt.exam.title}",
            "attempt": attempt,
            "answering": answering,
            "remaining": remaining,
            "rows": _question_rows(attempt, reveal=not answering),
        },
    )


def _values(request: AuthenticatedRequest, position: int) -> list[str]:
    return [v[:200] for v in request.POST.getlist(f"q{position}")[:6]]


@login_required
@require_POST
def attempt_answer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Autosave of one answer (a script's POST on every change), answered with JSON."""
    require_capability(request.user, "training.learn", target="答卷")
    attempt = get_visible_or_404(Attempt, request.user, CHANGE, pk=pk)
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        return JsonResponse({"detail": "题号无效"}, status=400)
    try:
        answer = services.save_answer(
            attempt, actor=request.user, position=position, values=_values(request, position)
        )
    except ServiceError as exc:
        attempt.refresh_from_db()
        return JsonResponse(
            {"detail": exc.message, "finished": attempt.status != IN_PROGRESS}, status=409
        )
    remaining = max(int((attempt.deadline - timezone.now()).total_seconds()), 0)
    saved = timezone.localtime(answer.saved_at) if answer.saved_at else None
    return JsonResponse(
        {
            "position": position,
            "response": answer.response,
            "saved_at": f"{saved:%H:%M:%S}" if saved else "",
            "remaining": remaining,
        }
    )


@login_required
@require_POST
def attempt_submit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "training.learn", target="答卷")
    attempt = get_visible_or_404(Attempt, request.user, CHANGE, pk=pk)
    positions = attempt.answers.values_list("position", flat=True)
    answers = {p: _values(request, p) for p in positions if f"q{p}" in request.POST}
    with run_service(request) as outcome:
        services.submit_attempt(attempt, actor=request.user, answers=answers)
    if outcome.ok:
        attempt.refresh_from_db()
        messages.success(
            request,
            f"已交卷：得分 {float(attempt.score or 0):g}/{float(attempt.max_score):g}"
            f"（百分制 {attempt.percent}），" + ("及格" if attempt.passed else "不及格"),
        )
    return redirect("training:attempt_detail", pk=attempt.pk)


# --- wrong-answer book ------------------------------------------------------------------------


def _book_rows(entries: list[WrongAnswer]) -> list[dict[str, Any]]:
    rows = []
    for entry in entries:
        question = entry.question
        rows.append(
            {
                "entry": entry,
                "question": question,
                "kind_label": question.get_kind_display(),
                "options": list(zip(OPTION_LETTERS, question.options, strict=False)),
                "input": "checkbox" if question.kind == QuestionKind.MULTIPLE else "radio",
                "wrong_text": answer_text(question.kind, entry.last_response, question.options)
                if entry.last_response
                else "未作答",
                "right_text": answer_text(question.kind, question.answer, question.options),
            }
        )
    return rows


@login_required
@require_GET
def wrong_book(request: AuthenticatedRequest) -> HttpResponse:
    """错题本: every question the person answered wrong, with the right answer and its
    explanation, for practice until answered right twice in a row."""
    require_capability(request.user, "training.learn", target="错题本")
    book = selectors.wrong_book(request.user)
    return render(
        request,
        "training/wrong_book.html",
        {
            "title": "错题本",
            "rows": _book_rows(book["open"]),
            "mastered": _book_rows(book["mastered"]),
            "streak": services.MASTERY_STREAK,
        },
    )


@login_required
@require_POST
def wrong_practise(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "training.learn", target="错题本")
    entry = get_visible_or_404(WrongAnswer, request.user, CHANGE, pk=pk)
    with run_service(request):
        right, entry = services.practise(
            entry, actor=request.user, values=request.POST.getlist("answer")[:6]
        )
        if not right:
            messages.error(request, "回答错误，请看正确答案和解析后再练习")
        elif entry.mastered_at is not None:
            messages.success(request, f"回答正确，已连续答对 {entry.right_streak} 次，该题已掌握")
        else:
            messages.success(request, f"回答正确，已连续答对 {entry.right_streak} 次")
    return redirect(reverse("training:wrong_book") + f"#entry-{entry.pk}")


# --- statistics -------------------------------------------------------------------------------


@login_required
@require_GET
def stats(request: AuthenticatedRequest) -> HttpResponse:
    """培训统计: learning and exam completion by unit, the weakest indicators by error rate;
    the coordinator sees the city, a department its own people, a district its region."""
    require_capability(request.user, "training.learn", target="培训统计")
    return render(
        request,
        "training/stats.html",
        {"title": "培训统计", "stats": selectors.statistics(request.user)},
    )
