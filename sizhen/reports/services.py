"""Writes of reminder letters (提醒函): create (numbered, rendered, audited) and mark as sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.notifications import notify_after_commit
from sizhen.core.numbering import next_number
from sizhen.core.periods import Period
from sizhen.core.workcalendar import add_working_days
from sizhen.core.workflow import TransitionConflict, WorkflowError, execute_transition
from sizhen.indicators.catalogue.completeness import is_complete, latest_complete_period
from sizhen.indicators.catalogue.models import Benchmark, Indicator, IndicatorValue
from sizhen.organisations.models import Region
from sizhen.reports import letters
from sizhen.reports.models import LetterStatus, ReminderLetter
from sizhen.reports.workflow import LETTER_WORKFLOW

MAX_DEADLINE_DAYS = 60
LETTER_WORD = "营商提醒"


def _root_of(region: Region) -> Region:
    node = region
    while node.parent_id is not None:
        node = node.parent  # type: ignore[assignment]
    return node


def letter_prefix(region: Region) -> str:
    """示范市 -> 示范营商提醒: the city's short name heads the number, as on its paper letters."""
    name = _root_of(region).name
    short = name[:-1] if len(name) > 2 and name.endswith(("市", "省")) else name
    return f"{short}{LETTER_WORD}"


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}〔{year}〕{sequence}号"


LETTER_SCHEME = "reminder_letter"


def next_sequence(year: int) -> int:
    """Take the next number of the year; call inside a transaction (the row stays locked)."""

    def highest_in_use() -> int:
        return ReminderLetter.objects.filter(year=year).aggregate(m=Max("sequence"))["m"] or 0

    return next_number(LETTER_SCHEME, year, start_after=highest_in_use)


def _values(indicator: Indicator, period: dt.date) -> dict[int, IndicatorValue]:
    """One value per region; when several sources hold one, the latest computation wins."""
    result: dict[int, IndicatorValue] = {}
    rows = IndicatorValue.objects.filter(indicator=indicator, period=period).order_by(
        "computed_at", "pk"
    )
    for row in rows.select_related("region"):
        result[row.region_id] = row
    return result


def gather_content(
    *, indicator: Indicator, region: Region, period: dt.date, issuer: str
) -> dict[str, Any]:
    """The figures a letter states, as a JSON-ready snapshot kept with the letter."""
    values = _values(indicator, period)
    own = values.get(region.pk)
    if own is None or own.value is None:
        raise ValidationError({"region": "该区划在所选期间没有该指标的数值，无法生成提醒函"})
    root = _root_of(region)
    peers = [v for v in values.values() if v.region.parent_id == region.parent_id]
    peers.sort(key=lambda v: (v.rank is None, v.rank or 0, v.region.code))
    city = values.get(root.pk)
    benchmarks = list(Benchmark.objects.filter(indicator=indicator, period=period).order_by("city"))
    return {
        "indicator": {"code": indicator.code, "name": indicator.name, "unit": indicator.unit},
        "region": region.name,
        "region_code": region.code,
        "period": period.isoformat(),
        "period_label": Period.containing(period, indicator.frequency).label_zh,
        "value": own.value,
        "score": own.score,
        "rank": own.rank,
        "rank_total": own.rank_total,
        "city_value": city.value if city is not None else None,
        "districts": [
            {
                "region": v.region.name,
                "value": v.value,
                "score": v.score,
                "rank": v.rank,
                "is_addressed": v.region_id == region.pk,
            }
            for v in peers
        ],
        "benchmarks": [{"city": b.city, "value": b.value} for b in benchmarks],
        "issuer": issuer,
    }


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


@transaction.atomic
def create_letter(
    *,
    actor: Actor,
    indicator: Indicator,
    region: Region,
    period: dt.date,
    requested_action: str,
    deadline_days: int,
) -> ReminderLetter:
    """Number, render and store a reminder letter to the indicator's lead department."""
    if indicator.lead_department_id is None:
        raise ValidationError({"indicator": "该指标未设置牵头部门，无法生成提醒函"})
    if not 1 <= deadline_days <= MAX_DEADLINE_DAYS:
        raise ValidationError({"deadline_days": f"反馈期限应为 1 至 {MAX_DEADLINE_DAYS} 个工作日"})
    requested_action = requested_action.strip()
    if not requested_action:
        raise ValidationError({"requested_action": "请填写整改要求"})
    issuer_department = getattr(actor, "department", None)
    issuer = issuer_department.name if issuer_department is not None else "营商环境主管部门"
    content = gather_content(indicator=indicator, region=region, period=period, issuer=issuer)
    today = timezone.localdate()
    _require_complete(indicator, region, period, today)
    deadline = add_working_days(today, deadline_days)
    year = today.year
    sequence = next_sequence(year)
    number = format_number(letter_prefix(region), year, sequence)
    department = indicator.lead_department
    assert department is not None
    content.update(
        number=number,
        department=department.name,
        issued_on=today.isoformat(),
        requested_action=requested_action,
        deadline=deadline.date.isoformat(),
        deadline_provisional=deadline.provisional,
        deadline_days=deadline_days,
    )
    letter = ReminderLetter(
        year=year,
        sequence=sequence,
        number=number,
        indicator=indicator,
        region=region,
        department=department,
        period=period,
        deadline=deadline.date,
        deadline_provisional=deadline.provisional,
        requested_action=requested_action,
        content=content,
        created_by=acting_user(actor),
    )
    stem = f"{year}-{sequence:04d}"
    letter.docx.save(f"{stem}.docx", ContentFile(letters.build_docx(content)), save=False)
    letter.pdf.save(f"{stem}.pdf", ContentFile(letters.build_pdf(content)), save=False)
    letter.save()
    record_event(
        "reports.letter_created",
        actor=actor,
        obj=letter,
        after={
            "number": number,
            "indicator": indicator.code,
            "region": region.code,
            "department": department.code,
            "deadline": deadline.date.isoformat(),
        },
        message=f"生成提醒函 {number}",
    )
    return letter


@transaction.atomic
def mark_sent(letter: ReminderLetter, *, actor: Actor) -> ReminderLetter:
    """Mark a draft letter as sent and tell the lead department's users."""
    # The workflow engine locks the row: two clicks at once send (and notify) only once.
    try:
        execute_transition(
            letter,
            "send",
            actor=actor,
            workflow=LETTER_WORKFLOW,
            note=f"发送提醒函 {letter.number}",
            changes={
                "sent_at": timezone.now(),
                "sent_by": acting_user(actor),
            },
        )
    except WorkflowError as exc:
        if letter.status == LetterStatus.SENT or isinstance(exc, TransitionConflict):
            raise ValidationError("该提醒函已发送，不能重复发送") from exc
        raise ValidationError(str(exc)) from exc
    recipients = letter.department.users.filter(is_active=True)
    notify_after_commit(
        recipients,
        subject=f"收到提醒函 {letter.number}",
        body=(
            f"关于“{letter.indicator.name}”指标（{letter.region.name}），"
            f"请于 {letter.deadline:%Y年%m月%d日} 前反馈落实情况。"
        ),
        link=reverse("reports:letter_detail", args=[letter.pk]),
        category="reminder_letter",
    )
    return letter
