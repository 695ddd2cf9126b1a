"""Writes of reminder letters (提醒函): create (numbered, rendered, audited), edit a draft, send,
discard, and the drafts the system proposes from red alerts (``propose_letters``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.notifications import coordinators, notify_after_commit, unit_users
from sizhen.core.numbering import next_number
from sizhen.core.periods import Period
from sizhen.core.workcalendar import add_working_days
from sizhen.core.workflow import TransitionConflict, WorkflowError, execute_transition
from sizhen.indicators.catalogue.choices import Direction
from sizhen.indicators.catalogue.completeness import is_complete, latest_complete_period
from sizhen.indicators.catalogue.models import Indicator
from sizhen.monitoring.models import AlertKind
from sizhen.organisations.models import Region
from sizhen.reports import letters
from sizhen.reports.content import department_title, gather_content, root_of
from sizhen.reports.models import LetterStatus, ReminderLetter
from sizhen.reports.workflow import LETTER_WORKFLOW

MAX_DEADLINE_DAYS = 60
LETTER_WORD = "营商提醒"


def letter_prefix(region: Region) -> str:
    """示范市 -> 示范营商提醒: the city's short name heads the number, as on its paper letters."""
    name = root_of(region).name
    short = name[:-1] if len(name) > 2 and name.endswith(("市", "省")) else name
    return f"{short}{LETTER_WORD}"


#: Where a proposal's number will go (an ideographic space, as on a paper draft).
NUMBER_BLANK = "\u3000"


def format_number(prefix: str, year: int, sequence: int | None) -> str:
    """示范营商提醒〔2026〕1号; a draft not numbered yet shows the blank the number will fill."""
    return f"{prefix}〔{year}〕{NUMBER_BLANK if sequence is None else sequence}号"


LETTER_SCHEME = "reminder_letter"


def next_sequence(year: int) -> int:
    """Take the next number of the year; call inside a transaction (the row stays locked)."""

    def highest_in_use() -> int:
        return ReminderLetter.objects.filter(year=year).aggregate(m=Max("sequence"))["m"] or 0

    return next_number(LETTER_SCHEME, year, start_after=highest_in_use)


def default_period(prefill: dict[str, str], *, actor: Actor) -> dict[str, str]:
    """The period a new letter proposes for a prefilled indicator and region: the newest
    complete one (a letter never leads with a provisional period)."""
    ids = [prefill.get(key, "") for key in ("indicator", "region")]
    if not all(i.isdigit() for i in ids):
        return {}
    indicator = Indicator.objects.visible_to(actor).filter(pk=int(ids[0])).first()
    region = Region.objects.visible_to(actor).filter(pk=int(ids[1])).first()
    if indicator is None or region is None:
        return {}
    headline = latest_complete_period(indicator, region)
    return {"period": f"{headline.period:%Y-%m}"} if headline.period else {}


def _require_complete(
    indicator: Indicator, region: Region, period: dt.date, today: dt.date
) -> None:
    """A letter states figures as final: a provisional period (暂定, its sources have not all
    reported) would hold a department to a figure that may still change."""
    if is_complete(indicator, period, region, today=today):
        return
    label = Period.containing(period, indicator.frequency).label_zh
    headline = latest_complete_period(indicator, region, today=today)
    hint = (
        f"；最近的完整期间为 {Period.containing(headline.period, indicator.frequency).label_zh}"
        if headline.period
        else ""
    )
    raise ValidationError(
        {"period": f"{label}的数据来源尚未全部报送（暂定），不能据此生成提醒函{hint}"}
    )


def _check_request(indicator: Indicator, requested_action: str, deadline_days: int) -> str:
    if indicator.lead_department_id is None:
        raise ValidationError({"indicator": "该指标未设置牵头部门，无法生成提醒函"})
    if not 1 <= deadline_days <= MAX_DEADLINE_DAYS:
        raise ValidationError({"deadline_days": f"反馈期限应为 1 至 {MAX_DEADLINE_DAYS} 个工作日"})
    requested_action = requested_action.strip()
    if not requested_action:
        raise ValidationError({"requested_action": "请填写整改要求"})
    return requested_action


def _compose(
    letter: ReminderLetter, *, actor: Actor | None, requested_action: str, deadline_days: int
) -> None:
    """Gather the figures, set the deadline from today and render both documents onto
    ``letter`` (not saved); the number, if any, is already on it."""
    indicator, region, period = letter.indicator, letter.region, letter.period
    content = gather_content(indicator=indicator, region=region, period=period, actor=actor)
    today = timezone.localdate()
    _require_complete(indicator, region, period, today)
    deadline = add_working_days(today, deadline_days)
    department = indicator.lead_department
    assert department is not None
    number = format_number(letter_prefix(region), letter.year, letter.sequence)
    lead = department_title(department, root_of(region))
    if not content["is_district"]:
        content["addressee"] = lead  # the city's own figure: the lead department answers
    content.update(
        number=number,
        department=lead,
        issued_on=today.isoformat(),
        requested_action=requested_action,
        deadline=deadline.date.isoformat(),
        deadline_provisional=deadline.provisional,
        deadline_days=deadline_days,
    )
    letter.department = department
    letter.deadline = deadline.date
    letter.deadline_provisional = deadline.provisional
    letter.requested_action = requested_action
    letter.content = content
    stem = f"{letter.year}-{letter.sequence:04d}" if letter.sequence else "draft"
    replaced = [(f.storage, str(f.name)) for f in (letter.docx, letter.pdf) if f]
    docx, pdf = letters.render(content)
    letter.docx.save(f"{stem}.docx", ContentFile(docx), save=False)
    letter.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
    # The files of the previous version go once the new ones are committed, not before.
    for storage, name in replaced:
        transaction.on_commit(partial(storage.delete, name))


def _take_number(letter: ReminderLetter) -> None:
    letter.year = timezone.localdate().year
    letter.sequence = next_sequence(letter.year)
    letter.number = format_number(letter_prefix(letter.region), letter.year, letter.sequence)


@transaction.atomic
def create_letter(
    *,
    actor: Actor | None,
    indicator: Indicator,
    region: Region,
    period: dt.date,
    requested_action: str,
    deadline_days: int,
    source_alert: Any = None,
    proposed: bool = False,
) -> ReminderLetter:
    """Render and store a reminder letter to the region, the indicator's lead department acting
    with it; numbered at once, unless the system proposes it (numbered when adopted)."""
    requested_action = _check_request(indicator, requested_action, deadline_days)
    letter = ReminderLetter(
        year=timezone.localdate().year,
        indicator=indicator,
        region=region,
        period=period,
        proposed=proposed,
        source_alert=source_alert,
        created_by=acting_user(actor),
    )
    # A refusal below rolls the number back with the rest of the transaction.
    if not proposed:
        _take_number(letter)
    _compose(letter, actor=actor, requested_action=requested_action, deadline_days=deadline_days)
    letter.save()
    department = letter.department
    record_event(
        "reports.letter_proposed" if proposed else "reports.letter_created",
        actor=actor,
        obj=letter,
        after={
            "number": letter.number,
            "indicator": indicator.code,
            "region": region.code,
            "department": department.code,
            "deadline": letter.deadline.isoformat(),
            "source_alert": source_alert.pk if source_alert is not None else None,
        },
        message=(
            f"根据红色预警生成提醒函建议稿（{region.name}“{indicator.name}”）"
            if proposed
            else f"生成提醒函 {letter.number}"
        ),
    )
    return letter


def _locked_draft(letter: ReminderLetter) -> ReminderLetter:
    locked = ReminderLetter.objects.select_for_update().get(pk=letter.pk)
    if locked.status != LetterStatus.DRAFT:
        raise ValidationError(f"该提醒函{locked.get_status_display()}，不能修改")
    return locked


@transaction.atomic
def update_letter(
    letter: ReminderLetter,
    *,
    actor: Actor,
    period: dt.date,
    requested_action: str,
    deadline_days: int,
) -> ReminderLetter:
    """Edit a draft: the figures are gathered again and the documents rendered again; a
    proposal the coordinator edits is adopted (numbered, no longer a proposal)."""
    locked = _locked_draft(letter)
    requested_action = _check_request(locked.indicator, requested_action, deadline_days)
    before = {
        "number": locked.number,
        "period": locked.period.isoformat(),
        "requested_action": locked.requested_action,
        "deadline": locked.deadline.isoformat(),
        "proposed": locked.proposed,
    }
    locked.period = period
    if locked.number is None:
        _take_number(locked)
    locked.proposed = False
    _compose(locked, actor=actor, requested_action=requested_action, deadline_days=deadline_days)
    locked.save()
    record_event(
        "reports.letter_updated",
        actor=actor,
        obj=locked,
        before=before,
        after={
            "number": locked.number,
            "period": locked.period.isoformat(),
            "requested_action": locked.requested_action,
            "deadline": locked.deadline.isoformat(),
            "proposed": False,
        },
        message=f"修改提醒函 {locked.number}",
    )
    return locked


@transaction.atomic
def mark_sent(letter: ReminderLetter, *, actor: Actor) -> ReminderLetter:
    """Mark a draft letter as sent (numbering a proposal sent as it stands) and tell the
    region's officers and the lead department's users."""
    locked = ReminderLetter.objects.select_for_update().get(pk=letter.pk)
    if locked.status == LetterStatus.SENT:
        raise ValidationError("该提醒函已发送，不能重复发送")
    if locked.status != LetterStatus.DRAFT:
        raise ValidationError(f"该提醒函{locked.get_status_display()}，不能发送")
    if locked.number is None:
        _take_number(locked)
        locked.proposed = False
        _compose(
            locked,
            actor=actor,
            requested_action=locked.requested_action,
            deadline_days=locked.content.get("deadline_days", 10),
        )
        locked.save()
    # The workflow engine locks the row: two clicks at once send (and notify) only once.
    try:
        execute_transition(
            locked,
            "send",
            actor=actor,
            workflow=LETTER_WORKFLOW,
            note=f"发送提醒函 {locked.number}",
            changes={
                "sent_at": timezone.now(),
                "sent_by": acting_user(actor),
            },
        )
    except TransitionConflict as exc:
        raise ValidationError("该提醒函已发送，不能重复发送") from exc
    except WorkflowError as exc:
        raise ValidationError(str(exc)) from exc
    letter.refresh_from_db()
    notify_after_commit(
        unit_users(department_ids=[letter.department_id], region_ids=[letter.region_id]),
        subject=f"收到提醒函 {letter.number}",
        body=(
            f"关于{letter.region.name}“{letter.indicator.name}”指标，"
            f"请于 {letter.deadline:%Y年%m月%d日} 前书面反馈整改情况。"
        ),
        link=reverse("reports:letter_detail", args=[letter.pk]),
        category="reminder_letter",
    )
    return letter


@transaction.atomic
def discard_letter(letter: ReminderLetter, *, actor: Actor, reason: str) -> ReminderLetter:
    """Discard (作废) a draft with a reason; a numbered draft keeps its number, recorded as void."""
    try:
        execute_transition(
            letter, "discard", actor=actor, workflow=LETTER_WORKFLOW, note=reason.strip()
        )
    except WorkflowError as exc:
        raise ValidationError(str(exc)) from exc
    letter.refresh_from_db()
    return letter


# --- drafts proposed from red alerts --------------------------------------------------------

#: What a proposal asks for until the coordinator writes the request.
PROPOSED_ACTION = "深入分析该指标落后的原因，制定整改措施并抓紧落实"
PROPOSED_DEADLINE_DAYS = 10


def open_letters(indicator_id: int, region_id: int, today: dt.date) -> Any:
    """Letters still running for a region and indicator: drafts, and sent letters whose
    feedback is not yet due."""
    return ReminderLetter.objects.filter(indicator_id=indicator_id, region_id=region_id).filter(
        Q(status=LetterStatus.DRAFT) | Q(status=LetterStatus.SENT, deadline__gte=today)
    )


def _worth_a_letter(alert: Any, today: dt.date) -> bool:
    """A red finding about the region's newest complete period, and a bad one: statistical
    kinds flag a value far off either way, and a letter only asks to remedy a worse one."""
    if alert.period is None or alert.indicator.lead_department_id is None:
        return False
    if alert.expected is not None and alert.kind in ALERT_KINDS_EITHER_WAY:
        worse_high = alert.indicator.direction == Direction.LOWER_IS_BETTER
        if (alert.value > alert.expected) != worse_high:
            return False
    headline = latest_complete_period(alert.indicator, alert.region, today=today)
    return headline.period == alert.period


#: Alert kinds of a value far from its expected range in either
#: direction; the others (goalpost, benchmark, overdue cases) are always a shortfall.
ALERT_KINDS_EITHER_WAY = frozenset(
    {AlertKind.CROSS_SECTIONAL_EXTREME, AlertKind.ABNORMAL_CHANGE, AlertKind.LEVEL_SHIFT}
)


def propose_letters(alerts: Iterable[Any]) -> list[ReminderLetter]:
    """For each alert (of the highest severity, on a value), a draft letter for its region and
    indicator unless one is open there or the coordinator already discarded the one proposed
    for this alert and period; created by the system (audited) and announced to the
    coordinators in one message."""
    today = timezone.localdate()
    proposed: list[ReminderLetter] = []
    for alert in alerts:
        with transaction.atomic():
            # One proposal per region and indicator even when two scans run at once.
            Indicator.objects.select_for_update().get(pk=alert.indicator_id)
            if open_letters(alert.indicator_id, alert.region_id, today).exists():
                continue
            if ReminderLetter.objects.filter(source_alert=alert, period=alert.period).exists():
                continue
            if not _worth_a_letter(alert, today):
                continue
            try:
                letter = create_letter(
                    actor=None,
                    indicator=alert.indicator,
                    region=alert.region,
                    period=alert.period,
                    requested_action=PROPOSED_ACTION,
                    deadline_days=PROPOSED_DEADLINE_DAYS,
                    source_alert=alert,
                    proposed=True,
                )
            except ValidationError:
                continue  # no value or a provisional period: nothing a letter could state
            proposed.append(letter)
    if proposed:
        notify_after_commit(
            coordinators(),
            subject=f"红色预警生成 {len(proposed)} 份提醒函建议稿",
            body="\n".join(
                f"{letter.region.name}“{letter.indicator.name}”（{letter.content['period_label']}）"
                for letter in proposed
            ),
            link=f"{reverse('reports:letter_list')}?status=proposed",
            category="reminder_letter_proposal",
        )
    return proposed
