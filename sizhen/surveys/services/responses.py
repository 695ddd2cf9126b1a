"""Response writes: saving a draft part-way (保存并继续) and submitting (提交答卷), the one write
of every channel (pages, one-time links, the API)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import VIEW, Actor, role_of, source_key_of
from sizhen.core.audit import record_event
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.organisations.models import Enterprise
from sizhen.surveys.choices import Channel
from sizhen.surveys.models import Answer, Invitation, Response, SurveyRound
from sizhen.surveys.services.common import AnswersRejected, SurveyConflict, SurveyError
from sizhen.surveys.validation import FormSpec, check_answers, form_of, numeric_value
from sizhen.surveys.workflow import OPEN


def draft_answers(response: Response | None) -> dict[str, Any]:
    """A response's stored answers by question name."""
    if response is None:
        return {}
    return dict(response.answers.values_list("question__name", "value"))


def _check_writer(
    survey_round: SurveyRound,
    enterprise: Enterprise,
    *,
    actor: Actor | None,
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
    actor: Actor | None = None,
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
    actor: Actor | None,
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
        entered_by=acting_user(actor),
    )


def save_draft(
    survey_round: SurveyRound,
    *,
    actor: Actor | None,
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
    actor: Actor | None,
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
                draft.entered_by = acting_user(actor) or draft.entered_by
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


def answer_invitation(
    invitation: Invitation,
    *,
    actor: Actor | None,
    answers: Mapping[str, Any],
    channel: str,
    submit: bool,
    form: FormSpec | None = None,
) -> Response:
    """The answering pages' one write: save the invitation's draft part-way, or submit it
    (non-relevant answers dropped, as ODK clears them)."""
    if submit:
        response, _created = submit_response(
            invitation.round,
            actor=actor,
            enterprise=invitation.enterprise,
            answers=answers,
            channel=channel,
            invitation=invitation,
            strict=False,
            form=form,
        )
        return response
    return save_draft(
        invitation.round,
        actor=actor,
        enterprise=invitation.enterprise,
        answers=answers,
        channel=channel,
        invitation=invitation,
        form=form,
    )
