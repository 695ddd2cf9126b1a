"""The request detail page: its timeline, the actions open to the viewer, and the POST that
takes one step; attachments."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from sizhen.core.access import CHANGE, VIEW, Actor, get_visible_or_404, role_of
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.views import run_service
from sizhen.core.workcalendar import working_days_between
from sizhen.core.workflow import history_of
from sizhen.dispatch.catalogue import category_name
from sizhen.dispatch.services import suggest
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import (
    ENTERPRISE_VISIBLE_MESSAGES,
    Channel,
    ContactMethod,
    EscalationTier,
    FirstContact,
    MessageKind,
)
from sizhen.enterprise_requests.forms import (
    ContactForm,
    DecisionForm,
    DispatchForm,
    ExtensionForm,
    MergeForm,
    MessageForm,
    NoteForm,
    RegisterForm,
    ReplyForm,
    RevisitForm,
)
from sizhen.enterprise_requests.models import (
    DeadlineExtension,
    EnterpriseRequest,
    RequestAttachment,
    RequestCategory,
)
from sizhen.enterprise_requests.selectors import (
    escalation_steps,
    last_progress,
    mask_phone,
    request_base,
    requests_visible_to,
)
from sizhen.enterprise_requests.views.common import form_errors
from sizhen.enterprise_requests.workflow import (
    CLOSED,
    CONTACT_STATES,
    ON_THE_CLOCK,
    REQUEST_WORKFLOW,
)
from sizhen.surveys.choices import FollowUpKind
from sizhen.surveys.selectors import follow_up_source

#: The page's name for a workflow step where one form serves several steps: the reply form
#: answers directly or for review (the service picks by kind), the revisit form records either
#: outcome (the satisfaction given picks); an enterprise revisits by rating (评价).
_PAGE_ACTION = {
    "reply_for_review": "reply",
    "revisit_satisfied": "revisit",
    "revisit_unsatisfied": "revisit",
}
#: Steps the workflow lets the office take for a unit or an enterprise (corrections); the office's
#: page offers only its own steps, so these buttons stay with the unit and the enterprise.
_NOT_ON_OFFICE_PAGE = frozenset({"accept", "return", "reply", "reply_for_review", "withdraw"})
#: What the dispatch form supplies on POST; the workflow's guard checks the real value then.
_DISPATCH_FORM_CONTEXT = {"department": "chosen in the dispatch form"}


def workflow_actions(req: EnterpriseRequest, actor: Actor) -> set[str]:
    """The page actions backed by a workflow step: the steps ``available()`` allows the viewer
    now (on the office's page, less those it leaves to the unit and the enterprise)."""
    office = has_capability(actor, "request.manage")
    acts: set[str] = set()
    for t in REQUEST_WORKFLOW.available(req, actor, _DISPATCH_FORM_CONTEXT):
        if office and t.action in _NOT_ON_OFFICE_PAGE:
            continue
        name = _PAGE_ACTION.get(t.action, t.action)
        acts.add("rate" if name == "revisit" and role_of(actor) == Role.ENTERPRISE else name)
    return acts


def _available(req: EnterpriseRequest, actor: Actor) -> set[str]:
    """The actions the viewer may take now; services and the workflow check again on POST."""
    office = has_capability(actor, "request.manage")
    department_id = getattr(actor, "department_id", None)
    is_lead = department_id is not None and department_id == req.lead_department_id
    is_co = department_id is not None and req.co_departments.filter(pk=department_id).exists()
    unit = is_lead and not office and has_capability(actor, "request.handle")
    own = role_of(actor) == Role.ENTERPRISE and (
        getattr(actor, "enterprise_id", None) == req.enterprise_id
    )
    acts = workflow_actions(req, actor)
    open_ = not req.is_closed
    # Steps outside the state machine: each has its service, which checks again on POST.
    if office:
        if open_ and not req.supervised:
            acts.add("supervise")
        if req.extensions.filter(status="pending").exists():
            acts.add("decide_extension")
        if req.status == CLOSED and req.publishable:
            acts.add("publish")
    if has_capability(actor, "request.urge") and req.status in ON_THE_CLOCK:
        acts.add("urge")
    if unit and req.status in ON_THE_CLOCK:
        acts.add("extension")
    if unit and req.status in CONTACT_STATES:
        acts.add("contact")
    if open_ and (office or unit or is_co or own):
        acts.add("message")
    return acts


def _message_kinds(req: EnterpriseRequest, actor: Actor) -> list[tuple[str, str]]:
    role = role_of(actor)
    office = has_capability(actor, "request.manage")
    department_id = getattr(actor, "department_id", None)
    is_lead = department_id is not None and department_id == req.lead_department_id
    is_co = department_id is not None and req.co_departments.filter(pk=department_id).exists()
    kinds: list[str] = []
    if role == Role.ENTERPRISE:
        kinds = [MessageKind.SUPPLEMENT_ANSWER]
    else:
        if office or is_lead or is_co:
            kinds += [MessageKind.NOTE, MessageKind.SUPPLEMENT_QUESTION, MessageKind.PROGRESS]
        if is_co:
            kinds.append(MessageKind.CO_OPINION)
        if is_lead and req.status == "unsatisfied":
            kinds.append(MessageKind.EXPLANATION)
        if office and req.supervised:
            kinds.append(MessageKind.COORDINATION)
    return [(k, MessageKind(k).label) for k in kinds]


#: Steps between the office and the units that the enterprise's timeline leaves out.
INTERNAL_STEPS = frozenset({"return", "reply_for_review", "send_back_reply"})


def _timeline(req: EnterpriseRequest, *, enterprise_view: bool) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for h in history_of(req):
        if enterprise_view and h.action in INTERNAL_STEPS:
            continue
        items.append(
            {
                "at": h.at,
                "label": h.action_label,
                "actor": "" if enterprise_view else h.actor_label,
                "text": "" if enterprise_view and h.action not in ("withdraw",) else h.note,
                "state": req.workflow.state_label(h.to_state),
            }
        )
    for m in req.messages.all():
        if enterprise_view and m.kind not in ENTERPRISE_VISIBLE_MESSAGES:
            continue
        items.append(
            {
                "at": m.created_at,
                "label": m.get_kind_display(),
                "actor": m.department.name if enterprise_view and m.department else m.author_label,
                "text": m.text,
                "state": "",
            }
        )
    for v in req.revisits.all():
        items.append(
            {
                "at": v.at,
                "label": f"{v.get_method_display()}：{v.get_satisfaction_display()}",
                "actor": "" if enterprise_view else v.by_label,
                "text": v.note,
                "state": "",
            }
        )
    for e in req.extensions.all():
        if enterprise_view:
            continue
        items.append(
            {
                "at": e.requested_at,
                "label": f"延期申请 {e.days} 个工作日（{e.get_status_display()}）",
                "actor": "",
                "text": e.reason + (f"；审批意见：{e.decision_note}" if e.decision_note else ""),
                "state": "",
            }
        )
    items.sort(key=lambda i: i["at"])
    return items


#: How each first-contact state is coloured on the page.
_CONTACT_TONE: dict[str, str] = {
    FirstContact.OVERDUE: "error",
    FirstContact.LATE: "error",
    FirstContact.PENDING: "warn",
}


def _escalation(req: EnterpriseRequest) -> dict[str, Any]:
    """The tiers reached with their dates and, while the unit holds the request, since when it
    has made no progress and when the next tier comes."""
    panel: dict[str, Any] = {"steps": escalation_steps(req)}
    if req.status in ON_THE_CLOCK:
        since = timezone.localtime(last_progress(req)).date()
        panel["since"] = since
        panel["idle"] = working_days_between(since, timezone.localdate()).days
        days = services.escalation_days()
        if req.escalation_tier < len(days):
            following = req.escalation_tier + 1
            panel["next"] = (days[following - 1], EscalationTier(following).label)
    return panel


def _suggestions(req: EnterpriseRequest) -> Any:
    try:
        return suggest(req.text, top=3)
    except Exception:
        # A failing suggester must not block dispatching by hand.
        return None


def _suggester_category_name(code: str) -> str:
    # The suggester may label categories with its own codes; show its name for them.
    return category_name(code)


@login_required
@require_GET
def detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk, message_form=MessageForm())


def _detail_page(
    request: AuthenticatedRequest, pk: int, *, message_form: MessageForm
) -> HttpResponse:
    """The request's page; a refused message (补充材料) comes back in ``message_form`` with its
    text kept and the error beside the attachments."""
    req = get_visible_or_404(request_base(), request.user, pk=pk)
    actor = request.user
    enterprise_view = role_of(actor) == Role.ENTERPRISE
    acts = _available(req, actor)
    main = req.duplicate_of
    suggestion = _suggestions(req) if "dispatch" in acts else None
    dispatch_initial: dict[str, Any] = {"category": req.category_id}
    suggested_categories: list[tuple[str, float]] = []
    if suggestion is not None:
        top = next((g.department for g in suggestion.departments if g.department), None)
        if top is not None:
            dispatch_initial["department"] = top.pk
        names = dict(
            RequestCategory.objects.filter(
                code__in=[c.label for c in suggestion.categories]
            ).values_list("code", "name")
        )
        suggested_categories = [
            (names.get(c.label) or _suggester_category_name(c.label), c.confidence)
            for c in suggestion.categories
        ]
        if req.category_id is None and suggestion.categories:
            first = RequestCategory.objects.filter(
                code=suggestion.categories[0].label, active=True
            ).first()
            if first is not None:
                dispatch_initial["category"] = first.pk
    return render(
        request,
        "enterprise_requests/detail.html",
        {
            "title": f"诉求 {req.number}",
            "req": req,
            "enterprise_view": enterprise_view,
            "acts": acts,
            "timeline": _timeline(req, enterprise_view=enterprise_view),
            # The survey answer a request of the 问卷调查 channel came from (问题转办).
            "survey_source": follow_up_source(FollowUpKind.REQUEST, req.pk, actor)
            if req.channel == Channel.SURVEY
            else None,
            "attachments": req.attachments.all(),
            "co_departments": list(req.co_departments.all()),
            "revisits": list(req.revisits.all()),
            "pending_extensions": list(req.extensions.filter(status="pending")),
            "main": main,
            "suggestion": suggestion,
            "suggested_categories": suggested_categories,
            "register_form": RegisterForm(
                initial={
                    "category": req.category_id,
                    "kind": req.kind,
                    "difficulty": req.category.difficulty if req.category else "general",
                    "title": req.title,
                }
            ),
            "dispatch_form": DispatchForm(initial=dispatch_initial),
            "reply_form": ReplyForm(initial={"text": req.reply_text}),
            "revisit_form": RevisitForm(),
            "message_kinds": _message_kinds(req, actor),
            "message_form": message_form,
            "extension_form": ExtensionForm(),
            "merge_candidate": req.suspected_duplicate_of,
            "note_actions": NOTE_ACTION_BUTTONS,
            "contact_methods": ContactMethod.choices,
            "first_contact_tone": _CONTACT_TONE.get(req.first_contact_state(), ""),
            "escalation": None if enterprise_view else _escalation(req),
            "phone": mask_phone(req.contact_phone)
            if role_of(actor) == Role.LEADER
            else req.contact_phone,
        },
    )


def _act_register(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = RegisterForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    d = form.cleaned_data
    services.register_request(
        req,
        actor=request.user,
        category=d["category"],
        kind=d["kind"],
        difficulty=d["difficulty"],
        title=d["title"],
    )
    return "已登记分类"


def _act_dispatch(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = DispatchForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    d = form.cleaned_data
    services.dispatch_request(
        req,
        actor=request.user,
        department=d["department"],
        co_departments=d["co_departments"],
        category=d["category"],
        difficulty=d["difficulty"] or None,
        time_limit_days=d["time_limit_days"],
        note=d["note"],
        suggestion=_suggestions(req),
    )
    return f"已派单至{d['department'].name}，办理期限 {req.deadline_label}"


def _note(request: HttpRequest) -> str:
    form = NoteForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    return form.cleaned_data["note"]


def _act_reply(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = ReplyForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    services.reply_request(req, actor=request.user, text=form.cleaned_data["text"])
    return "答复已提交营商办审核" if req.status == "reply_review" else "已答复企业"


def _act_revisit(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = RevisitForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    d = form.cleaned_data
    method = "rating" if role_of(request.user) == Role.ENTERPRISE else d["method"]
    services.record_revisit(
        req,
        actor=request.user,
        method=method,
        satisfaction=d["satisfaction"],
        resolved=d["resolved"],
        note=d["note"],
    )
    return "感谢您的评价" if method == "rating" else "回访已记录"


def _act_message(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = MessageForm(request.POST, request.FILES)
    if not form.is_valid():
        raise _FormInvalid(form)
    try:
        services.add_message(
            req,
            actor=request.user,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
            files=form.cleaned_data["attachments"],
        )
    except services.RequestError as exc:
        form.add_error(None, str(exc))
        raise _FormInvalid(form) from exc
    return "已记录"


def _act_contact(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = ContactForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    first = req.first_contacted_at is None
    services.record_contact(
        req, actor=request.user, method=form.cleaned_data["method"], note=form.cleaned_data["note"]
    )
    return "已记录首次联系企业" if first else "已记录联系企业"


def _act_merge(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = MergeForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    main = (
        requests_visible_to(request.user, CHANGE)
        .filter(number=form.cleaned_data["main_number"].strip())
        .first()
    )
    if main is None:
        raise services.RequestError("未找到该主单编号")
    services.merge_requests(req, main=main, actor=request.user)
    return f"已并入 {main.number}"


def _act_extension(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    services.request_extension(
        req, actor=request.user, days=form.cleaned_data["days"], reason=form.cleaned_data["reason"]
    )
    return "延期申请已提交营商办"


def _act_decide_extension(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        raise _FormInvalid(form)
    extension = DeadlineExtension.objects.filter(
        pk=form.cleaned_data["extension"], request=req
    ).first()
    if extension is None:
        raise services.RequestError("未找到该延期申请")
    services.decide_extension(
        extension,
        actor=request.user,
        approve=form.cleaned_data["approve"],
        note=form.cleaned_data["note"],
    )
    return "已审批延期申请"


def _act_publish(req: EnterpriseRequest, request: AuthenticatedRequest) -> str:
    publish = request.POST.get("published") == "1"
    services.set_published(req, actor=request.user, published=publish)
    return "已公开办理结果" if publish else "已取消公开"


_NOTE_ACTIONS: dict[str, tuple[Any, str]] = {
    "accept": (
        lambda req, actor, note: services.accept_request(req, actor=actor, note=note),
        "已签收",
    ),
    "return": (
        lambda req, actor, note: services.return_request(req, actor=actor, reason=note),
        "已退单",
    ),
    "approve_reply": (
        lambda req, actor, note: services.approve_reply(req, actor=actor, note=note),
        "答复已审核通过",
    ),
    "send_back_reply": (
        lambda req, actor, note: services.send_back_reply(req, actor=actor, note=note),
        "已退回修改",
    ),
    "second_assignment": (
        lambda req, actor, note: services.assign_second_time(req, actor=actor, note=note),
        "已二次交办",
    ),
    "refer_discipline": (
        lambda req, actor, note: services.refer_to_discipline(req, actor=actor, note=note),
        "已转纪委监委",
    ),
    "close_unsatisfied": (
        lambda req, actor, note: services.close_unsatisfied(req, actor=actor, note=note),
        "已办结存档",
    ),
    "withdraw": (
        lambda req, actor, note: services.withdraw_request(req, actor=actor, reason=note),
        "已撤回",
    ),
    "reject": (
        lambda req, actor, note: services.reject_request(req, actor=actor, reason=note),
        "已不予受理",
    ),
    "urge": (lambda req, actor, note: services.urge_request(req, actor=actor, note=note), "已催办"),
    "supervise": (
        lambda req, actor, note: services.list_for_supervision(req, actor=actor, note=note),
        "已挂牌督办",
    ),
}
_FORM_ACTIONS = {
    "register": _act_register,
    "dispatch": _act_dispatch,
    "reply": _act_reply,
    "revisit": _act_revisit,
    "rate": _act_revisit,
    "message": _act_message,
    "contact": _act_contact,
    "merge": _act_merge,
    "extension": _act_extension,
    "decide_extension": _act_decide_extension,
    "publish": _act_publish,
}


#: (action, button label, reason required) for the one-field actions on the detail page.
NOTE_ACTION_BUTTONS = [
    ("accept", "签收", False),
    ("return", "退单", True),
    ("approve_reply", "审核通过并答复企业", False),
    ("send_back_reply", "退回修改答复", True),
    ("second_assignment", "二次交办", True),
    ("refer_discipline", "转纪委监委", True),
    ("close_unsatisfied", "办结存档", True),
    ("urge", "催办", False),
    ("supervise", "挂牌督办", True),
    ("withdraw", "撤回诉求", True),
    ("reject", "不予受理", True),
]


class _FormInvalid(Exception):
    def __init__(self, form: Any):
        super().__init__("form invalid")
        self.form = form


#: actions that record or annotate without moving the request's state
_NOT_STEPS = frozenset(
    {"message", "contact", "extension", "decide_extension", "urge", "supervise", "publish"}
)


@login_required
@require_POST
def act(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    """One step on a request; the service decides whether the viewer may take it."""
    if action not in _NOTE_ACTIONS and action not in _FORM_ACTIONS:
        raise Http404("未找到该操作")
    # Leaders urge without holding change rights; everyone else acts within the change scope.
    scope_action = VIEW if action == "urge" else CHANGE
    req = get_visible_or_404(request_base(), request.user, scope_action, pk=pk)
    # Every form of the page sends the state it showed (docs/api.md, "Stale-status guard");
    # it may be missing only for what moves no state (messages, extensions, urging).
    seen = request.POST.get("status")
    if not seen and action not in _NOT_STEPS:
        messages.error(request, "页面状态无效，请刷新后重试")
        return redirect("enterprise_requests:detail", pk=req.pk)
    if seen and seen != req.status:
        messages.error(request, f"该诉求已被他人处理，当前状态为“{req.status_label}”，请刷新后重试")
        return redirect("enterprise_requests:detail", pk=req.pk)
    try:
        with run_service(request):
            if action in _NOTE_ACTIONS:
                function, done = _NOTE_ACTIONS[action]
                function(req, request.user, _note(request))
            else:
                done = _FORM_ACTIONS[action](req, request)
            messages.success(request, done)
    except _FormInvalid as invalid:
        if action == "message":
            # What the user wrote stays on the page beside the refused file.
            return _detail_page(request, req.pk, message_form=invalid.form)
        form_errors(request, invalid.form)
    return redirect("enterprise_requests:detail", pk=req.pk)


@login_required
@require_GET
def attachment(request: AuthenticatedRequest, pk: int, attachment_pk: int) -> FileResponse:
    req = get_visible_or_404(request_base(), request.user, pk=pk)
    item = RequestAttachment.objects.filter(request=req, pk=attachment_pk).first()
    if item is None:
        raise Http404("未找到该附件")
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name)
