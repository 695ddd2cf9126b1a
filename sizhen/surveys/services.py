"""Writes of the surveys app (问卷调查). Each service runs in one transaction and writes one
audit event; round and version states move only through ``execute_transition``; notifications
go out after the commit."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone

from sizhen.accounts.models import hash_token
from sizhen.core.access import VIEW, role_of, source_key_of
from sizhen.core.audit import record_event, snapshot
from sizhen.core.errors import ServiceError
from sizhen.core.notifications import notify_after_commit
from sizhen.core.permissions import ensure_capability, has_capability
from sizhen.core.roles import Role
from sizhen.core.workflow import TransitionConflict, execute_transition
from sizhen.organisations.models import Enterprise, Region
from sizhen.surveys.choices import Channel, VersionSource
from sizhen.surveys.models import (
    Answer,
    BankItem,
    Invitation,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    SurveyRound,
)
from sizhen.surveys.structure import FormData, QuestionData, structure_of, write_structure
from sizhen.surveys.validation import (
    AnswerError,
    FormSpec,
    check_answers,
    form_of,
    numeric_value,
)
from sizhen.surveys.workflow import CLOSED, DRAFT, OPEN, PUBLISHED
from sizhen.surveys.xlsform import XLSFormError, read_xlsform

#: Link tokens: 32 random bytes, like API tokens (decision 0003); only the SHA-256 is stored.
LINK_TOKEN_BYTES = 32
MAX_SAMPLE = 5000


class SurveyError(ServiceError):
    """A refused survey write; the message is shown to the user (Chinese)."""


class SurveyConflict(SurveyError):
    """The state refuses the write: no open round, already answered, link used (409)."""

    code = "conflict"
    status_code = 409


class AnswersRejected(SurveyError):
    """Answers that do not pass the questionnaire: every error, itemised (422)."""

    code = "invalid_answers"
    status_code = 422

    def __init__(self, errors: list[AnswerError]) -> None:
        self.answer_errors = errors
        first = "；".join(f"{e.question}：{e.message}" for e in errors[:3])
        more = f" 等 {len(errors)} 处" if len(errors) > 3 else ""
        super().__init__(f"答卷有误：{first}{more}", errors=[e.as_dict() for e in errors])


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "_meta", None) is not None else None


# --- questionnaires ------------------------------------------------------------------------------


def _bank_ids(form: FormData) -> dict[str, int]:
    codes = {q.bank_code for q in form.questions() if q.bank_code}
    found = dict(BankItem.objects.filter(code__in=codes).values_list("code", "pk"))
    missing = [q for q in form.questions() if q.bank_code and q.bank_code not in found]
    if missing:
        raise XLSFormError(
            [
                (f"第 {q.row} 行：" if q.row else "")
                + f"题库中没有编码为“{q.bank_code}”的题目（bank 列）"
                for q in missing
            ]
        )
    return found


def _new_version(
    questionnaire: Questionnaire,
    form: FormData,
    *,
    actor: Any,
    source: str,
    source_name: str = "",
    based_on: QuestionnaireVersion | None = None,
) -> QuestionnaireVersion:
    """A new draft version of the questionnaire holding ``form`` (the caller's transaction)."""
    number = (questionnaire.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire,
        number=number,
        source=source,
        source_name=source_name[:200],
        form_settings=form.settings,
        based_on=based_on,
        created_by=_user(actor),
    )
    write_structure(version, form, _bank_ids(form))
    return version


def import_xlsform(
    content: bytes, *, actor: Any, file_name: str = "", publish: bool = False
) -> QuestionnaireVersion:
    """Import an XLSForm workbook (导入问卷): a new questionnaire, or a new version of the one
    with the same code. Nothing is stored when the workbook is refused (``XLSFormError``)."""
    if actor is not None:
        ensure_capability(actor, "survey.design", SurveyError("只有营商办可以导入问卷"))
    form = read_xlsform(content, file_name or "form.xlsx")
    with transaction.atomic():
        questionnaire = Questionnaire.objects.select_for_update().filter(code=form.code).first()
        created = questionnaire is None
        if questionnaire is None:
            questionnaire = Questionnaire.objects.create(
                code=form.code, title=form.title, created_by=_user(actor)
            )
        version = _new_version(
            questionnaire, form, actor=actor, source=VersionSource.XLSFORM, source_name=file_name
        )
        record_event(
            "survey.import",
            actor=actor,
            obj=questionnaire,
            after={
                "code": form.code,
                "version": version.number,
                "questions": form.answerable_count,
                "file": file_name,
                "created": created,
            },
            message=f"导入 XLSForm：{file_name}",
        )
        if publish:
            publish_version(version, actor=actor)
    return version


def publish_version(version: QuestionnaireVersion, *, actor: Any) -> QuestionnaireVersion:
    """Publish a draft version (发布): from now on it is never changed. Without an actor (the
    import command) the system publishes."""
    execute_transition(
        version,
        "publish",
        actor=actor,
        changes={"published_at": timezone.now()},
        context={"system": actor is None},
    )
    return version


def editable_version(questionnaire: Questionnaire, *, actor: Any) -> QuestionnaireVersion:
    """The draft to edit: the latest version if it is a draft, else a new draft copied from
    it (a published version is never changed)."""
    ensure_capability(actor, "survey.design", SurveyError("只有营商办可以修改问卷"))
    with transaction.atomic():
        Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        latest = questionnaire.latest_version()
        if latest is not None and latest.status == DRAFT:
            return latest
        form = structure_of(latest) if latest else FormData(questionnaire.code, questionnaire.title)
        version = _new_version(
            questionnaire, form, actor=actor, source=VersionSource.COPY, based_on=latest
        )
        record_event(
            "survey.new_version",
            actor=actor,
            obj=questionnaire,
            after={"version": version.number, "based_on": latest.number if latest else None},
            message=f"修改已发布的问卷，新建第 {version.number} 版草稿",
        )
    return version


_EDITABLE_FIELDS = {
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "choice_filter",
    "weight",
}


def edit_question(question: Question, *, actor: Any, **fields: Any) -> Question:
    """Change a question. In a published version the change goes to a new draft (copied once),
    and the question returned is the draft's."""
    unknown = set(fields) - _EDITABLE_FIELDS
    if unknown:
        raise SurveyError(f"不能修改：{'、'.join(sorted(unknown))}")
    with transaction.atomic():
        version = editable_version(question.version.questionnaire, actor=actor)
        target = Question.objects.select_for_update().get(version=version, name=question.name)
        before = snapshot(target, sorted(fields))
        for name, value in fields.items():
            setattr(target, name, value)
        target.full_clean(exclude=["version", "section", "bank_item"])
        target.save(update_fields=sorted(fields))
        _refuse_bad_expressions(version)
        record_event(
            "survey.edit_question",
            actor=actor,
            obj=target,
            before=before,
            after=snapshot(target, sorted(fields)),
        )
    return target


def _refuse_bad_expressions(version: QuestionnaireVersion) -> None:
    from sizhen.surveys.validation import expression_problems

    problems = expression_problems(form_of(version))
    if problems:
        name, reason = problems[0]
        raise SurveyError(f"题目 {name} 的{reason}")


def add_question(
    questionnaire: Questionnaire,
    *,
    actor: Any,
    data: QuestionData | None = None,
    bank_item: BankItem | None = None,
    name: str = "",
    section_index: int = -1,
) -> Question:
    """Add a question (or a bank item, 从题库选题) to the end of a section of the draft."""
    if data is None:
        if bank_item is None:
            raise SurveyError("请给出题目或选择题库题目")
        data = QuestionData(
            name=name or bank_item.code,
            type=bank_item.type,
            label=bank_item.label,
            hint=bank_item.hint,
            parameters=dict(bank_item.parameters),
            rows=list(bank_item.rows),
            weight=bank_item.weight,
            bank_code=bank_item.code,
        )
        data.choices = [
            _choice(c) for c in (bank_item.choices or []) if isinstance(c, dict) and c.get("name")
        ]
    with transaction.atomic():
        version = editable_version(questionnaire, actor=actor)
        form = structure_of(version)
        if data.name in {q.name for q in form.questions()}:
            raise SurveyError(f"题目名称“{data.name}”已存在")
        if not form.sections:
            from sizhen.surveys.structure import SectionData

            form.sections.append(SectionData())
        form.sections[section_index].questions.append(data)
        _rewrite(version, form)
        question = Question.objects.get(version=version, name=data.name)
        question.full_clean(exclude=["version", "section", "bank_item"])
        _refuse_bad_expressions(version)
        record_event(
            "survey.add_question",
            actor=actor,
            obj=question,
            after={"version": version.number, "name": data.name, "type": data.type},
        )
    return question


def remove_question(question: Question, *, actor: Any) -> QuestionnaireVersion:
    """Remove a question from the draft (a published version keeps it)."""
    with transaction.atomic():
        version = editable_version(question.version.questionnaire, actor=actor)
        form = structure_of(version)
        for section in form.sections:
            section.questions = [q for q in section.questions if q.name != question.name]
        _rewrite(version, form)
        _refuse_bad_expressions(version)
        record_event(
            "survey.remove_question",
            actor=actor,
            obj=version,
            before={"name": question.name},
        )
    return version


def _choice(raw: Mapping[str, Any]) -> Any:
    from sizhen.surveys.structure import ChoiceData

    return ChoiceData(str(raw["name"]), str(raw.get("label") or raw["name"]))


def _rewrite(version: QuestionnaireVersion, form: FormData) -> None:
    """Replace a draft's sections and questions (drafts have no answers)."""
    if version.status != DRAFT or version.responses.exists():
        raise SurveyError("已发布或已有答卷的版本不能修改")
    version.sections.all().delete()
    write_structure(version, form, _bank_ids(form))


def create_bank_item(*, actor: Any, **fields: Any) -> BankItem:
    """Add a question to the question bank (题库)."""
    ensure_capability(actor, "survey.design", SurveyError("只有营商办可以维护题库"))
    with transaction.atomic():
        item = BankItem(**fields)
        item.full_clean()
        item.save()
        record_event("survey.bank_create", actor=actor, obj=item, after=snapshot(item))
    return item


# --- rounds -------------------------------------------------------------------------------------


def create_round(
    questionnaire: Questionnaire,
    *,
    actor: Any,
    title: str,
    region: Region,
    deadline: dt.date,
    version: QuestionnaireVersion | None = None,
) -> SurveyRound:
    """Set up a round (调查轮次) of a published version over a region's subtree."""
    ensure_capability(actor, "survey.distribute", SurveyError("只有营商办可以发起调查"))
    version = version or questionnaire.latest_published()
    if version is None or version.status != PUBLISHED:
        raise SurveyError("请先发布问卷，再发起调查")
    if version.questionnaire_id != questionnaire.pk:
        raise SurveyError("问卷版本不属于该问卷")
    title = (title or "").strip()
    if not title:
        raise SurveyError("请填写调查名称")
    if deadline < timezone.localdate():
        raise SurveyError("截止日期不能早于今天")
    with transaction.atomic():
        survey_round = SurveyRound.objects.create(
            questionnaire=questionnaire,
            form_version=version,
            title=title[:200],
            region=region,
            deadline=deadline,
            created_by=_user(actor),
        )
        record_event(
            "survey.round_create",
            actor=actor,
            obj=survey_round,
            after=snapshot(survey_round, ["title", "region", "deadline", "form_version"]),
        )
    return survey_round


def _answer_link(invitation: Invitation) -> str:
    return reverse("surveys:answer", args=[invitation.pk])


def _enterprise_users(enterprise_ids: Iterable[int]) -> dict[int, list[Any]]:
    users: dict[int, list[Any]] = {}
    queryset = get_user_model().objects.filter(
        enterprise_id__in=list(enterprise_ids), role=Role.ENTERPRISE, is_active=True
    )
    for user in queryset.order_by("pk"):
        users.setdefault(user.enterprise_id, []).append(user)
    return users


def _notify_invited(survey_round: SurveyRound, invitations: list[Invitation]) -> int:
    """Tell the invited enterprises' accounts (after the commit); marks them sent."""
    users = _enterprise_users(i.enterprise_id for i in invitations)
    reached = [i for i in invitations if users.get(i.enterprise_id)]
    for invitation in reached:
        notify_after_commit(
            users[invitation.enterprise_id],
            subject=f"请填写问卷：{survey_round.title}（{survey_round.deadline:%Y-%m-%d} 截止）",
            link=_answer_link(invitation),
            category="survey_invitation",
        )
    if reached:
        Invitation.objects.filter(pk__in=[i.pk for i in reached]).update(sent_at=timezone.now())
    return len(reached)


def transition_round(
    survey_round: SurveyRound, action: str, *, actor: Any, seen_status: str | None = None
) -> SurveyRound:
    """Open (开始调查: notifies the invited enterprises) or close (结束调查) a round."""
    if seen_status is not None and seen_status != survey_round.status:
        raise TransitionConflict("该调查已被他人处理，请刷新后重试")
    now = timezone.now()
    changes = {"opened_at": now} if action == "open" else {"closed_at": now}
    context = {"deadline_passed": survey_round.deadline < timezone.localdate()}
    with transaction.atomic():
        execute_transition(survey_round, action, actor=actor, changes=changes, context=context)
        if survey_round.status == OPEN:
            pending = list(survey_round.invitations.filter(answered_at__isnull=True))
            _notify_invited(survey_round, pending)
    return survey_round


def close_due_rounds(today: dt.date | None = None) -> int:
    """Close the open rounds whose deadline has passed (the system acts)."""
    day = today or timezone.localdate()
    closed = 0
    for survey_round in SurveyRound.objects.filter(status=OPEN, deadline__lt=day).order_by("pk"):
        try:
            execute_transition(
                survey_round,
                "close",
                actor=None,
                changes={"closed_at": timezone.now()},
                context={"deadline_passed": True},
            )
        except TransitionConflict:
            continue  # closed by someone else meanwhile
        closed += 1
    return closed


# --- invitations --------------------------------------------------------------------------------


def _require_changeable_round(survey_round: SurveyRound, actor: Any) -> None:
    ensure_capability(actor, "survey.distribute", SurveyError("只有营商办可以发放问卷"))
    if survey_round.status == CLOSED:
        raise SurveyConflict("调查已结束")


def invite_enterprises(
    survey_round: SurveyRound,
    *,
    actor: Any,
    enterprises: Iterable[Enterprise] | None = None,
    region: Region | None = None,
    industry: str = "",
    size: str = "",
    sample: int | None = None,
    panel: bool = False,
    seed: str = "",
) -> int:
    """Invite enterprises to the round (发放问卷): the ones given, or those of a region (within
    the round's), an industry code prefix and a size, all or a random sample of ``sample``.
    Already invited ones are skipped. Returns how many were invited now."""
    _require_changeable_round(survey_round, actor)
    base = Enterprise.objects.visible_to(actor, VIEW).filter(
        is_active=True, region__path__startswith=survey_round.region.path
    )
    if enterprises is not None:
        ids = [e.pk for e in enterprises]
        candidates = list(base.filter(pk__in=ids).values_list("pk", flat=True))
        if len(set(candidates)) != len(set(ids)):
            raise SurveyError("有企业不在本轮调查范围内或不在您的权限范围内")
    else:
        if region is not None:
            if not region.path.startswith(survey_round.region.path):
                raise SurveyError("抽样区划应在本轮调查范围内")
            base = base.filter(region__path__startswith=region.path)
        if industry.strip():
            base = base.filter(industry_code__startswith=industry.strip().upper())
        if size:
            base = base.filter(size=size)
        # A sample is drawn from the enterprises not invited yet.
        invited = Invitation.objects.filter(round=survey_round).values("enterprise_id")
        candidates = list(base.exclude(pk__in=invited).order_by("pk").values_list("pk", flat=True))
        if sample is not None:
            if not 1 <= sample <= MAX_SAMPLE:
                raise SurveyError(f"抽样数量应为 1–{MAX_SAMPLE}")
            rng = random.Random(seed or f"{survey_round.pk}:{timezone.now().isoformat()}")  # noqa: S311 - sampling, not a secret
            candidates = sorted(rng.sample(candidates, min(sample, len(candidates))))
    with transaction.atomic():
        taken = set(
            Invitation.objects.filter(round=survey_round, enterprise_id__in=candidates).values_list(
                "enterprise_id", flat=True
            )
        )
        fresh = [pk for pk in candidates if pk not in taken]
        created = Invitation.objects.bulk_create(
            [Invitation(round=survey_round, enterprise_id=pk, panel=panel) for pk in fresh]
        )
        if survey_round.status == OPEN and created:
            created = list(Invitation.objects.filter(round=survey_round, enterprise_id__in=fresh))
            _notify_invited(survey_round, created)
        record_event(
            "survey.invite",
            actor=actor,
            obj=survey_round,
            after={
                "invited": len(created),
                "skipped": len(taken),
                "panel": panel,
                "region": region.code if region else None,
                "industry": industry,
                "size": size,
                "sample": sample,
            },
            message=f"发放问卷 {len(created)} 家",
        )
    return len(created)


def issue_links(
    survey_round: SurveyRound, *, actor: Any, invitations: Iterable[Invitation] | None = None
) -> list[tuple[Invitation, str]]:
    """New one-time links (填写链接) for unanswered invitations; earlier links of the same
    invitations stop working. The tokens are returned once, for the printed sheet, and only
    their SHA-256 is stored."""
    _require_changeable_round(survey_round, actor)
    with transaction.atomic():
        pending = Invitation.objects.visible_to(actor, VIEW).filter(
            round=survey_round, answered_at__isnull=True
        )
        if invitations is not None:
            pending = pending.filter(pk__in=[i.pk for i in invitations])
        chosen = list(pending.select_related("enterprise").order_by("pk"))
        now = timezone.now()
        issued: list[tuple[Invitation, str]] = []
        for invitation in chosen:
            token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
            invitation.token_hash = hash_token(token)
            invitation.link_issued_at = now
            invitation.token_used_at = None
            issued.append((invitation, token))
        Invitation.objects.bulk_update(
            chosen, ["token_hash", "link_issued_at", "token_used_at"], batch_size=500
        )
        record_event(
            "survey.issue_links",
            actor=actor,
            obj=survey_round,
            after={"links": len(issued)},
            message=f"生成填写链接 {len(issued)} 个",
        )
    return issued


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link token names (used or not), or None."""
    if not token or len(token) > 200:
        return None
    return (
        Invitation.objects.select_related("round__form_version__questionnaire", "enterprise")
        .filter(token_hash=hash_token(token))
        .first()
    )


def remind_non_responders(
    survey_round: SurveyRound, *, actor: Any, now: dt.datetime | None = None
) -> int:
    """Remind the accounts of enterprises that have not answered (催答); returns how many
    enterprises were reached. Each invitation is reminded at most once a day."""
    if actor is not None:
        ensure_capability(actor, "survey.distribute", SurveyError("只有营商办可以催答"))
    if survey_round.status != OPEN:
        raise SurveyConflict("只有进行中的调查可以催答")
    moment = now or timezone.now()
    since = moment - dt.timedelta(hours=20)
    with transaction.atomic():
        pending = list(
            Invitation.objects.filter(round=survey_round, answered_at__isnull=True).exclude(
                reminded_at__gte=since
            )
        )
        users = _enterprise_users(i.enterprise_id for i in pending)
        reached = [i for i in pending if users.get(i.enterprise_id)]
        for invitation in reached:
            notify_after_commit(
                users[invitation.enterprise_id],
                subject=f"问卷即将截止，请尽快填写：{survey_round.title}"
                f"（{survey_round.deadline:%Y-%m-%d} 截止）",
                link=_answer_link(invitation),
                category="survey_reminder",
            )
        Invitation.objects.filter(pk__in=[i.pk for i in reached]).update(
            reminded_at=moment, reminder_count=F("reminder_count") + 1
        )
        if reached or actor is not None:
            record_event(
                "survey.remind",
                actor=actor,
                obj=survey_round,
                after={"reminded": len(reached)},
                message=f"催答 {len(reached)} 家企业",
            )
    return len(reached)


# --- responses ----------------------------------------------------------------------------------


def draft_answers(response: Response | None) -> dict[str, Any]:
    """A response's stored answers by question name."""
    if response is None:
        return {}
    return dict(response.answers.values_list("question__name", "value"))


def _check_writer(
    survey_round: SurveyRound,
    enterprise: Enterprise,
    *,
    actor: Any,
    channel: str,
    invitation: Invitation | None,
) -> Invitation | None:
    """Who may answer for the enterprise through this channel; returns its invitation."""
    if survey_round.status != OPEN:
        raise SurveyConflict("该调查不在进行中，不能提交答卷")
    if not enterprise.region.path.startswith(survey_round.region.path):
        raise SurveyError("该企业不在本轮调查范围内")
    if invitation is None:
        invitation = Invitation.objects.filter(round=survey_round, enterprise=enterprise).first()
    elif invitation.round_id != survey_round.pk or invitation.enterprise_id != enterprise.pk:
        raise SurveyError("邀请与调查不符")
    if channel == Channel.LINK:
        if invitation is None or invitation.token_used_at is not None:
            raise SurveyConflict("该填写链接已使用或已失效")
        return invitation
    if channel == Channel.ACCOUNT:
        if role_of(actor) != Role.ENTERPRISE or getattr(actor, "enterprise_id", None) != (
            enterprise.pk
        ):
            raise SurveyError("只能填写本企业的问卷")
        if invitation is None:
            raise SurveyError("贵企业未被邀请参加本次调查")
        return invitation
    # Paper questionnaires and the API: people entering for enterprises in their scope.
    if role_of(actor) == Role.MACHINE:
        if not getattr(actor, "has_scope", lambda _s: False)("surveys:write"):
            raise SurveyError("接口令牌缺少 surveys:write 权限")
    elif not has_capability(actor, "survey.enter"):
        raise SurveyError("您的角色不能录入问卷")
    if not Enterprise.objects.visible_to(actor, VIEW).filter(pk=enterprise.pk).exists():
        raise SurveyError("该企业不在您的权限范围内")
    return invitation


def _store(response: Response, form: FormSpec, values: Mapping[str, Any]) -> int:
    """Replace the response's answers with ``values`` (cleaned, by question name)."""
    by_name = form.by_name
    response.answers.all().delete()
    rows = [
        Answer(
            response=response,
            question_id=by_name[name].pk,
            value=value,
            number=numeric_value(by_name[name].type, value),
        )
        for name, value in values.items()
    ]
    Answer.objects.bulk_create(rows)
    return len(rows)


def _existing_by_key(survey_round: SurveyRound, source_key: str, key: str) -> Response | None:
    return Response.objects.filter(
        round=survey_round, source_key=source_key, client_key=key
    ).first()


def _target(
    survey_round: SurveyRound,
    enterprise: Enterprise,
    *,
    key: str | None = None,
    actor: Any = None,
) -> tuple[Response | None, int]:
    """The enterprise's draft to continue (if any) and the sequence of a new response; under
    the lock, a response already stored with the same client key is returned as the "draft"
    (submitted: the caller answers with it)."""
    rows = list(
        Response.objects.select_for_update()
        .filter(round=survey_round, enterprise=enterprise)
        .order_by("sequence")
    )
    if key is not None:
        same = _existing_by_key(survey_round, source_key_of(actor), key)
        if same is not None:
            return same, 0
    draft = next((r for r in rows if r.submitted_at is None), None)
    submitted = [r for r in rows if r.submitted_at is not None]
    if submitted and not survey_round.questionnaire.allow_multiple_responses:
        raise SurveyConflict("该企业已提交过本轮问卷，不能重复提交")
    return draft, (max((r.sequence for r in rows), default=0) + 1)


def _new_response(
    survey_round: SurveyRound,
    enterprise: Enterprise,
    *,
    actor: Any,
    channel: str,
    invitation: Invitation | None,
    sequence: int,
    client_key: str | None = None,
) -> Response:
    return Response.objects.create(
        round=survey_round,
        form_version=survey_round.form_version,
        enterprise=enterprise,
        region=enterprise.region,
        invitation=invitation,
        sequence=sequence,
        channel=channel,
        source_key=source_key_of(actor)[:40],
        client_key=client_key,
        entered_by=_user(actor),
    )


def save_draft(
    survey_round: SurveyRound,
    *,
    actor: Any,
    enterprise: Enterprise,
    answers: Mapping[str, Any],
    channel: str,
    invitation: Invitation | None = None,
    form: FormSpec | None = None,
) -> Response:
    """Save answers part-way (保存并继续): checked as far as they go (types, choices,
    constraints; required questions may still be empty), non-relevant ones dropped."""
    invitation = _check_writer(
        survey_round, enterprise, actor=actor, channel=channel, invitation=invitation
    )
    form = form or form_of(survey_round.form_version)
    result = check_answers(form, answers, strict=False, partial=True)
    if result.errors:
        raise AnswersRejected(result.errors)
    with transaction.atomic():
        draft, sequence = _target(survey_round, enterprise)
        if draft is None:
            draft = _new_response(
                survey_round,
                enterprise,
                actor=actor,
                channel=channel,
                invitation=invitation,
                sequence=sequence,
            )
        count = _store(draft, form, result.values)
        draft.updated_at = timezone.now()
        draft.save(update_fields=["updated_at"])
        record_event(
            "survey.response_save",
            actor=actor,
            obj=draft,
            after={"round": survey_round.pk, "answers": count, "channel": channel},
        )
    return draft


def submit_response(
    survey_round: SurveyRound,
    *,
    actor: Any,
    enterprise: Enterprise,
    answers: Mapping[str, Any],
    channel: str,
    client_key: str | None = None,
    invitation: Invitation | None = None,
    strict: bool = True,
    form: FormSpec | None = None,
) -> tuple[Response, bool]:
    """Submit an enterprise's answers to a round (提交答卷), from any channel. Returns
    (response, created): the same ``client_key`` from the same caller answers the first
    response and stores nothing. ``strict`` (the API) refuses answers to unknown or
    non-relevant questions; pages have those dropped. Every error is raised at once
    (``AnswersRejected``)."""
    key = (client_key or "").strip() or None
    if key is not None:
        if len(key) > 100:
            raise SurveyError("client_key 不能超过 100 个字符")
        existing = _existing_by_key(survey_round, source_key_of(actor), key)
        if existing is not None:
            return existing, False
    invitation = _check_writer(
        survey_round, enterprise, actor=actor, channel=channel, invitation=invitation
    )
    form = form or form_of(survey_round.form_version)
    result = check_answers(form, answers, strict=strict)
    if result.errors:
        raise AnswersRejected(result.errors)
    now = timezone.now()
    try:
        with transaction.atomic():
            draft, sequence = _target(survey_round, enterprise, key=key, actor=actor)
            if isinstance(draft, Response) and draft.submitted_at is not None:
                return draft, False  # the same key arrived meanwhile: its response answers
            response = draft or _new_response(
                survey_round,
                enterprise,
                actor=actor,
                channel=channel,
                invitation=invitation,
                sequence=sequence,
                client_key=key,
            )
            if draft is not None:
                # The submission finishes the draft through whichever channel it arrives.
                draft.channel = channel
                draft.client_key = key
                draft.source_key = source_key_of(actor)[:40]
                draft.entered_by = _user(actor) or draft.entered_by
            response.submitted_at = now
            response.updated_at = now
            response.invitation = invitation
            response.save()
            count = _store(response, form, result.values)
            if invitation is not None:
                updates: dict[str, Any] = {"answered_at": now}
                if channel == Channel.LINK:
                    updates["token_used_at"] = now
                claimed = Invitation.objects.filter(
                    pk=invitation.pk,
                    **({"token_used_at__isnull": True} if channel == Channel.LINK else {}),
                ).update(**updates)
                if not claimed:
                    raise SurveyConflict("该填写链接已使用或已失效")
            record_event(
                "survey.response_submit",
                actor=actor,
                obj=response,
                after={
                    "round": survey_round.pk,
                    "enterprise": enterprise.uscc,
                    "channel": channel,
                    "answers": count,
                    "client_key": key,
                },
            )
    except IntegrityError:
        # A simultaneous submission won the unique keys: the same client key answers the
        # first response, anything else is a second response the round does not allow.
        if key is not None:
            existing = _existing_by_key(survey_round, source_key_of(actor), key)
            if existing is not None:
                return existing, False
        raise SurveyConflict("该企业已提交过本轮问卷，不能重复提交") from None
    return response, True


def open_round_of(questionnaire: Questionnaire) -> SurveyRound | None:
    return (
        SurveyRound.objects.select_related("form_version", "region", "questionnaire")
        .filter(questionnaire=questionnaire, status=OPEN)
        .first()
    )


__all__ = [
    "AnswersRejected",
    "SurveyConflict",
    "SurveyError",
    "add_question",
    "close_due_rounds",
    "create_bank_item",
    "create_round",
    "draft_answers",
    "edit_question",
    "editable_version",
    "import_xlsform",
    "invitation_for_token",
    "invite_enterprises",
    "issue_links",
    "open_round_of",
    "publish_version",
    "remind_non_responders",
    "remove_question",
    "save_draft",
    "submit_response",
    "transition_round",
]
