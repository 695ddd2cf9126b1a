"""Writes on the rectification ledger (整改清单). Each service runs in one transaction and
writes one audit event; state moves only through ``execute_transition``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import actor_fields, record_event, snapshot
from sizhen.core.deadlines import resolve_deadline
from sizhen.core.permissions import ensure_capability, has_capability
from sizhen.core.uploads import upload_error
from sizhen.core.workflow import TransitionConflict, WorkflowError, execute_transition
from sizhen.indicators.catalogue.models import EvaluationCycle, Indicator
from sizhen.organisations.models import Department, Region
from sizhen.rectification.choices import Judgement, Source
from sizhen.rectification.effect import effect_rows, rows_without_data
from sizhen.rectification.models import (
    Evidence,
    ProgressReport,
    RectificationItem,
    Review,
)
from sizhen.rectification.selectors import find_repeats
from sizhen.rectification.workflow import (
    CLOSED,
    IN_PROGRESS,
    STATES,
    SUBMITTED,
    is_lead_unit,
)

TITLE_MAX = 200
_AUDIT_FIELDS = [
    "title",
    "source",
    "region",
    "lead_department",
    "deadline",
    "year",
    "status",
    "repeated",
]


class RectificationError(WorkflowError):
    """A step on an item that may not happen now; the message is shown to the user. The API
    answers it with 409: the item's state refuses the step (docs/api.md)."""

    status_code = 409


def _require_lead_unit(item: RectificationItem, actor: Actor, what: str) -> None:
    if has_capability(actor, "rectification.manage") or is_lead_unit(item, actor):
        return
    raise RectificationError(f"只有牵头单位或营商办可以{what}")


def _locked(item: RectificationItem) -> RectificationItem:
    return RectificationItem.objects.select_for_update().select_related("region").get(pk=item.pk)


# --- creation ---------------------------------------------------------------------------------


def validate_item_fields(
    *,
    title: str,
    source: str,
    region: Region | None,
    lead_department: Department | None,
    measures: str,
    deadline: dt.date | None,
    year: int | None,
) -> dict[str, str]:
    """Field errors (Chinese) of a new item; empty when it may be created."""
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "请填写问题"
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = f"问题最多 {TITLE_MAX} 字"
    if source not in Source.values:
        errors["source"] = f"问题来源应为 {'、'.join(Source.labels)} 之一"
    if region is None:
        errors["region"] = "请选择所属区划"
    if lead_department is None:
        errors["lead_department"] = "请选择牵头部门"
    elif not lead_department.is_active:
        errors["lead_department"] = "牵头部门已停用"
    if not measures.strip():
        errors["measures"] = "请填写整改措施"
    if deadline is None:
        errors["deadline"] = "请填写整改时限（日期或工作日数）"
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = "年度应为 2000–2100 之间的年份"
    return errors


def _new_item(
    *,
    actor: Actor,
    title: str,
    description: str,
    source: str,
    region: Region,
    lead_department: Department,
    measures: str,
    deadline: dt.date,
    year: int,
    responsible_departments: Iterable[Department] = (),
    indicators: Iterable[Indicator] = (),
    cycle: EvaluationCycle | None = None,
    source_ref: str = "",
    source_alert_id: int | None = None,
) -> RectificationItem:
    """Create the row, its links and the repeat flag; the caller writes the audit event."""
    indicator_list = list(indicators)
    item = RectificationItem.objects.create(
        title=title.strip(),
        description=description.strip(),
        source=source,
        source_ref=source_ref.strip(),
        region=region,
        lead_department=lead_department,
        measures=measures.strip(),
        deadline=deadline,
        year=year,
        cycle=cycle,
        source_alert_id=source_alert_id,
        created_by=acting_user(actor),
    )
    item.responsible_departments.set(list(responsible_departments))
    item.indicators.set(indicator_list)
    repeats = find_repeats(
        title=item.title,
        year=year,
        region_id=region.pk,
        indicator_ids=[i.pk for i in indicator_list],
        exclude_pk=item.pk,
    )
    if repeats:
        item.repeated = True
        item.repeat_reason = "；".join(reason for _, reason in repeats)[:200]
        item.save(update_fields=["repeated", "repeat_reason"])
        item.repeated_of.set([other for other, _ in repeats])
    return item


def create_item(
    *,
    actor: Actor,
    title: str,
    source: str,
    region: Region | None,
    lead_department: Department | None,
    measures: str,
    deadline: dt.date | None = None,
    working_days: int | None = None,
    year: int | None = None,
    description: str = "",
    responsible_departments: Iterable[Department] = (),
    indicators: Iterable[Indicator] = (),
    cycle: EvaluationCycle | None = None,
    source_ref: str = "",
    source_alert_id: int | None = None,
) -> RectificationItem:
    """Register a problem in the ledger (登记整改事项); flags it if it repeats an earlier one."""
    ensure_capability(
        actor, "rectification.register", RectificationError("只有营商办可以登记整改事项")
    )
    # A date as given, or working days (工作日) from today.
    resolved = resolve_deadline(timezone.localdate(), deadline=deadline, working_days=working_days)
    deadline = resolved.date if resolved is not None else None
    year = year or timezone.localdate().year
    errors = validate_item_fields(
        title=title,
        source=source,
        region=region,
        lead_department=lead_department,
        measures=measures,
        deadline=deadline,
        year=year,
    )
    if errors:
        raise ValidationError(errors)
    assert region is not None and lead_department is not None and deadline is not None
    with transaction.atomic():
        item = _new_item(
            actor=actor,
            title=title,
            description=description,
            source=source,
            region=region,
            lead_department=lead_department,
            measures=measures,
            deadline=deadline,
            year=year,
            responsible_departments=responsible_departments,
            indicators=indicators,
            cycle=cycle,
            source_ref=source_ref,
            source_alert_id=source_alert_id,
        )
        record_event(
            "rectification.create", actor=actor, obj=item, after=snapshot(item, _AUDIT_FIELDS)
        )
    return item


def create_item_from_alert(alert: Any, *, actor: Actor, **fields: Any) -> RectificationItem:
    """Turn an alert (预警) into a ledger item and mark the alert converted, both or neither."""
    from sizhen.monitoring.services import convert_alert

    fields.setdefault("source", Source.ALERT)
    fields.setdefault("region", alert.region)
    fields.setdefault("indicators", [alert.indicator])
    fields.setdefault("source_ref", f"预警 {alert.pk}")
    with transaction.atomic():
        item = create_item(actor=actor, source_alert_id=alert.pk, **fields)
        convert_alert(
            alert,
            target_kind="rectification",
            target_id=item.pk,
            actor=actor,
            department=item.lead_department,
            note=f"转为整改事项 {item.number}",
        )
    return item


# --- lifecycle --------------------------------------------------------------------------------


def transition_item(
    item: RectificationItem,
    action: str,
    *,
    actor: Actor,
    note: str = "",
    seen_status: str | None = None,
) -> RectificationItem:
    """Take one step of the lifecycle (accept, submit, return, close). ``seen_status`` is the
    state on the page the user clicked, so a decision on a stale page is refused."""
    if seen_status is not None and seen_status != item.status and action != "reopen":
        raise TransitionConflict(
            f"该事项已被他人处理，当前状态为“{STATES.get(item.status, item.status)}”，请刷新后重试"
        )
    changes: dict[str, Any] = {}
    if action == "close":
        changes["closed_at"] = timezone.now()
    if action == "submit" and note.strip():
        changes["progress_note"] = note.strip()
    try:
        if action == "reopen":
            return reopen_item(item, actor=actor, reason=note)
        execute_transition(item, action, actor=actor, note=note, changes=changes)
    except (TransitionConflict, RectificationError):
        raise
    except WorkflowError as exc:
        raise RectificationError(exc.message) from exc
    return item


def reopen_item(
    item: RectificationItem, *, actor: Actor | None, reason: str, recurrence: bool = False
) -> RectificationItem:
    """Reopen a closed item whose problem recurred (问题反弹): a new round starts, with its own
    evidence and review; the earlier rounds stay in the history. The alert scan passes
    ``recurrence=True`` when a linked alert comes back."""
    execute_transition(
        item,
        "reopen",
        actor=actor,
        note=reason,
        changes={"round": item.round + 1, "closed_at": None},
        context={"recurrence": recurrence},
    )
    return item


def report_progress(
    item: RectificationItem, *, actor: Actor, note: str, percent: int | None = None
) -> ProgressReport:
    """Report progress (报送整改进展): the lead unit's people, or its department's token."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "请填写进展说明"})
    if len(note) > 2000:
        raise ValidationError({"note": "进展说明最多 2000 字"})
    if percent is not None and not 0 <= percent <= 100:
        raise ValidationError({"percent": "完成进度应为 0–100 之间的整数"})
    with transaction.atomic():
        locked = _locked(item)
        _require_lead_unit(locked, actor, "报送整改进展")
        if locked.status != IN_PROGRESS:
            raise RectificationError(
                f"事项当前状态为“{STATES[locked.status]}”，只有整改中的事项可以报送进展"
            )
        report = ProgressReport.objects.create(
            item=locked,
            round=locked.round,
            note=note,
            percent=percent,
            reported_by_label=actor_fields(actor)["actor_label"],
        )
        RectificationItem.objects.filter(pk=locked.pk).update(progress_note=note)
        record_event(
            "rectification.progress",
            actor=actor,
            obj=locked,
            after={"note": note, "percent": percent, "round": locked.round},
        )
    item.refresh_from_db()
    return report


def validate_evidence_file(upload: UploadedFile) -> None:
    error = upload_error(upload)
    if error:
        raise ValidationError({"file": error})


def add_evidence(
    item: RectificationItem, *, actor: Actor, upload: UploadedFile, description: str = ""
) -> Evidence:
    """Attach a supporting file (佐证材料) to the current round of an item in progress."""
    validate_evidence_file(upload)
    with transaction.atomic():
        locked = _locked(item)
        _require_lead_unit(locked, actor, "上传佐证材料")
        if locked.status != IN_PROGRESS:
            raise RectificationError(
                f"事项当前状态为“{STATES[locked.status]}”，只有整改中的事项可以上传佐证材料"
            )
        evidence = Evidence(
            item=locked,
            round=locked.round,
            name=PurePath(upload.name or "file").name[:200],
            size=upload.size or 0,
            description=description.strip()[:200],
            uploaded_by_label=actor_fields(actor)["actor_label"],
        )
        evidence.file.save(upload.name or "file", upload, save=False)
        evidence.save()
        record_event(
            "rectification.evidence",
            actor=actor,
            obj=locked,
            after={"evidence": evidence.pk, "name": evidence.name, "size": evidence.size},
        )
    return evidence


def verify_effect(
    item: RectificationItem, *, actor: Actor, judgement: str, comment: str = ""
) -> Review:
    """Verify the effect (整改效果核验): freeze the linked indicators' values before and after
    with the reviewer's judgement (有效/部分有效/无效). Close-off needs this record. A linked
    indicator without values before and after proves nothing: "有效" then needs the reviewer's
    reason, which the review and the audit log keep."""
    ensure_capability(
        actor, "rectification.review", RectificationError("只有营商办可以核验整改效果")
    )
    if judgement not in Judgement.values:
        raise ValidationError({"judgement": "请选择核验结论：有效、部分有效或无效"})
    if judgement != Judgement.EFFECTIVE and not comment.strip():
        raise ValidationError({"comment": "结论为部分有效或无效时请填写核验意见"})
    with transaction.atomic():
        locked = _locked(item)
        if locked.status != SUBMITTED:
            raise RectificationError(
                f"事项当前状态为“{STATES[locked.status]}”，只有申请销号的事项可以核验效果"
            )
        rows = effect_rows(locked)
        without_data = rows_without_data(rows)
        if judgement == Judgement.EFFECTIVE and without_data and not comment.strip():
            names = "、".join(f"“{r['code']} {r['name']}”（{r['missing']}）" for r in without_data)
            raise ValidationError(
                {
                    "comment": f"关联指标{names}没有整改前后可比的数据，"
                    "核验结论为“有效”时请填写理由（所依据的佐证材料或其他证据）"
                }
            )
        review = Review.objects.create(
            item=locked,
            round=locked.round,
            judgement=judgement,
            comment=comment.strip(),
            snapshot=rows,
            reviewer=acting_user(actor),
            reviewer_label=actor_fields(actor)["actor_label"],
        )
        record_event(
            "rectification.verify",
            actor=actor,
            obj=locked,
            after={
                "judgement": judgement,
                "round": locked.round,
                "indicators": len(rows),
                "indicators_without_data": [r["code"] for r in without_data],
            },
            message=comment.strip(),
        )
    return review


# --- public exposure --------------------------------------------------------------------------


def publish_item(item: RectificationItem, *, actor: Actor, summary: str = "") -> RectificationItem:
    """Put an item on the public exposure list (曝光台). The published text is the summary the
    coordinator writes (no names or phone numbers belong there), or the problem title."""
    ensure_capability(
        actor, "rectification.publish", RectificationError("只有营商办可以曝光整改事项")
    )
    summary = (summary or "").strip() or item.title
    if len(summary) > 1000:
        raise ValidationError({"summary": "曝光内容最多 1000 字"})
    with transaction.atomic():
        locked = _locked(item)
        before = {"published": locked.published, "public_summary": locked.public_summary}
        now = timezone.now()
        RectificationItem.objects.filter(pk=locked.pk).update(
            published=True, public_summary=summary, published_at=now
        )
        record_event(
            "rectification.publish",
            actor=actor,
            obj=locked,
            before=before,
            after={"published": True, "public_summary": summary},
        )
    item.refresh_from_db()
    return item


def unpublish_item(item: RectificationItem, *, actor: Actor) -> RectificationItem:
    ensure_capability(actor, "rectification.publish", RectificationError("只有营商办可以撤销曝光"))
    with transaction.atomic():
        locked = _locked(item)
        RectificationItem.objects.filter(pk=locked.pk).update(published=False, published_at=None)
        record_event(
            "rectification.unpublish",
            actor=actor,
            obj=locked,
            before={"published": locked.published},
            after={"published": False},
        )
    item.refresh_from_db()
    return item


__all__ = [
    "CLOSED",
    "RectificationError",
    "add_evidence",
    "create_item",
    "create_item_from_alert",
    "publish_item",
    "reopen_item",
    "report_progress",
    "transition_item",
    "unpublish_item",
    "verify_effect",
]
