"""Round writes: creating and moving rounds (调查轮次) through their workflow, inviting
enterprises (发放), one-time links (填写链接), reminders (催答)."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from sizhen.accounts.models import acting_user, hash_token
from sizhen.core.access import VIEW, Actor
from sizhen.core.audit import record_event, snapshot
from sizhen.core.jobs import enqueue
from sizhen.core.models import Job
from sizhen.core.notifications import notify_after_commit
from sizhen.core.permissions import ensure_capability, has_capability
from sizhen.core.roles import Role
from sizhen.core.workflow import TransitionConflict, execute_transition
from sizhen.organisations.models import Enterprise, Region
from sizhen.surveys.choices import QuestionType
from sizhen.surveys.models import Invitation, Questionnaire, QuestionnaireVersion, SurveyRound
from sizhen.surveys.services.common import SurveyConflict, SurveyError
from sizhen.surveys.workflow import CLOSED, OPEN, PUBLISHED

#: Link tokens: 32 random bytes, like API tokens (decision 0003); only the SHA-256 is stored.
LINK_TOKEN_BYTES = 32

MAX_SAMPLE = 5000


def create_round(
    questionnaire: Questionnaire,
    *,
    actor: Actor,
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
            created_by=acting_user(actor),
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
        if user.enterprise_id is not None:
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
    survey_round: SurveyRound, action: str, *, actor: Actor, seen_status: str | None = None
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
        if survey_round.status == CLOSED:
            enqueue_index_publication(survey_round, actor=actor)
    return survey_round


#: The job that computes and publishes a closed round's satisfaction index (jobs.py).
PUBLISH_INDEX_JOB = "surveys.publish_index"


def enqueue_index_publication(survey_round: SurveyRound, *, actor: Actor | None) -> Job | None:
    """Queue the publication of the round's satisfaction index, in the caller's transaction
    (the job row commits with the closing); None when the questionnaire has no weighted rating
    item, so there is no index to publish."""
    weighted = survey_round.form_version.questions.filter(
        type__in=[QuestionType.RATING, QuestionType.MATRIX], weight__gt=0
    )
    if not weighted.exists():
        return None
    user = acting_user(actor) if has_capability(actor, "survey.publish_index") else None
    return enqueue(
        PUBLISH_INDEX_JOB,
        key=f"{PUBLISH_INDEX_JOB}:{survey_round.pk}",
        created_by=user,
        round_id=survey_round.pk,
        actor_id=user.pk if user is not None else None,
    )


def close_due_rounds(today: dt.date | None = None) -> int:
    """Close the open rounds whose deadline has passed (the system acts)."""
    day = today or timezone.localdate()
    closed = 0
    for survey_round in SurveyRound.objects.filter(status=OPEN, deadline__lt=day).order_by("pk"):
        try:
            with transaction.atomic():
                execute_transition(
                    survey_round,
                    "close",
                    actor=None,
                    changes={"closed_at": timezone.now()},
                    context={"deadline_passed": True},
                )
                enqueue_index_publication(survey_round, actor=None)
        except TransitionConflict:
            continue  # closed by someone else meanwhile
        closed += 1
    return closed


def _require_changeable_round(survey_round: SurveyRound, actor: Actor) -> None:
    ensure_capability(actor, "survey.distribute", SurveyError("只有营商办可以发放问卷"))
    if survey_round.status == CLOSED:
        raise SurveyConflict("调查已结束")


def invite_enterprises(
    survey_round: SurveyRound,
    *,
    actor: Actor,
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
    survey_round: SurveyRound, *, actor: Actor, invitations: Iterable[Invitation] | None = None
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
    survey_round: SurveyRound, *, actor: Actor | None, now: dt.datetime | None = None
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


def open_round_of(questionnaire: Questionnaire) -> SurveyRound | None:
    return (
        SurveyRound.objects.select_related("form_version", "region", "questionnaire")
        .filter(questionnaire=questionnaire, status=OPEN)
        .first()
    )
