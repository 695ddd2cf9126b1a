"""Writes of the policy library (政策库): every one a function with a keyword-only ``actor``, in
one transaction with its audit event, keeping the full-text index in step (``search.py``)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.errors import ServiceError
from sizhen.core.notifications import enterprise_users, notify_after_commit
from sizhen.core.permissions import ensure_capability
from sizhen.core.uploads import upload_error
from sizhen.core.workflow import TransitionConflict, execute_transition, execute_transitions
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Enterprise, Region
from sizhen.thinktank import search
from sizhen.thinktank.choices import SIZES, Level
from sizhen.thinktank.models import Delivery, Policy, PolicyAttachment, Push, Redemption
from sizhen.thinktank.workflow import AMENDED, IN_FORCE, REPEALED, STATES

#: Characters of extracted attachment text kept for the search (a 300-page annex stays bounded).
MAX_ATTACHMENT_TEXT = 200_000
_INDUSTRY_PREFIX = re.compile(r"^[A-T](\d{2}(\d{1,2})?)?$")


class PolicyError(ServiceError):
    """A refused write of the policy library."""


@dataclass
class PolicyData:
    """What a policy holds besides its state: as the form, the import and the demo give it."""

    title: str
    issuer: str
    level: str
    doc_number: str = ""
    published_on: dt.date | None = None
    effective_on: dt.date | None = None
    expires_on: dt.date | None = None
    body: str = ""
    industries: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    supersedes: Policy | None = None


_FIELDS = (
    "title",
    "issuer",
    "level",
    "doc_number",
    "published_on",
    "effective_on",
    "expires_on",
    "body",
    "industries",
    "sizes",
    "tags",
    "supersedes",
)


def check_industry(code: str) -> str | None:
    """None when ``code`` is a national industry code or a prefix of one (门类 letter, 大类
    two digits, 中类 three, 小类 four), else the reason."""
    if _INDUSTRY_PREFIX.match(code):
        return None
    return f"行业代码 {code} 无效：应为门类字母加 0、2、3 或 4 位数字，如 C、C39、C397、C3971"


def validate(data: PolicyData) -> list[str]:
    """Every reason the data cannot be stored (empty when it can)."""
    problems = []
    if not data.title.strip():
        problems.append("请填写标题")
    if not data.issuer.strip():
        problems.append("请填写发文机关")
    if data.level not in Level.values:
        problems.append(f"层级应为 {'、'.join(Level.labels)} 之一")
    for code in data.industries:
        problem = check_industry(code)
        if problem:
            problems.append(problem)
    unknown = [s for s in data.sizes if s not in SIZES]
    if unknown:
        problems.append(f"适用规模应为 {'、'.join(SIZES.values())}（当前：{'、'.join(unknown)}）")
    if data.effective_on and data.expires_on and data.expires_on < data.effective_on:
        problems.append("失效日期不能早于生效日期")
    # Retroactive policies exist (减税 from the start of the year); only a typo is refused.
    if (
        data.published_on
        and data.effective_on
        and (data.published_on - data.effective_on).days > 366
    ):
        problems.append("生效日期早于发布日期一年以上，请核对")
    return problems


def _attachment_texts(policy: Policy) -> list[str]:
    return list(policy.attachments.values_list("text", flat=True)) if policy.pk else []


def reindex(policies: Iterable[Policy]) -> None:
    """Write the policies' index rows (the services call it; the demo and imports in bulk)."""
    search.write_index(
        (p.pk, *search.document_of(p, _attachment_texts(p))) for p in policies if p.pk
    )


def _snapshot(policy: Policy) -> dict[str, Any]:
    values = {name: getattr(policy, name) for name in _FIELDS if name != "supersedes"}
    for key in ("published_on", "effective_on", "expires_on"):
        values[key] = values[key].isoformat() if values[key] else None
    values["body"] = f"{len(policy.body)} 字"
    values["supersedes"] = policy.supersedes_id
    values["regions"] = sorted(policy.regions.values_list("code", flat=True))
    values["indicators"] = sorted(policy.indicators.values_list("code", flat=True))
    return values


def _refuse_unless_valid(data: PolicyData) -> None:
    problems = validate(data)
    if problems:
        raise PolicyError(
            "；".join(problems), error_list=[{"field": "", "message": p} for p in problems]
        )


def _new(data: PolicyData, actor: Actor | None) -> Policy:
    policy = Policy.objects.create(
        **{name: getattr(data, name) for name in _FIELDS},
        created_by=acting_user(actor),
    )
    policy.regions.set(data.regions)
    policy.indicators.set(data.indicators)
    return policy


def create_policy(data: PolicyData, *, actor: Actor | None, publish: bool = False) -> Policy:
    """Register a policy as a draft (草稿), or publish it at once."""
    ensure_capability(actor, "policy.manage", PolicyError("只有营商办可以登记政策"))
    _refuse_unless_valid(data)
    with transaction.atomic():
        policy = _new(data, actor)
        reindex([policy])
        record_event("policy.create", actor=actor, obj=policy, after=_snapshot(policy))
        if publish:
            policy = publish_policy(policy, actor=actor)
    return policy


def update_policy(policy: Policy, data: PolicyData, *, actor: Actor) -> Policy:
    """Change a policy's fields (not its state); a repealed policy is history and stays as is."""
    ensure_capability(actor, "policy.manage", PolicyError("只有营商办可以修改政策"))
    _refuse_unless_valid(data)
    if data.supersedes is not None and data.supersedes.pk == policy.pk:
        raise PolicyError("政策不能是自己的上一版本")
    with transaction.atomic():
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        if locked.status == REPEALED:
            raise PolicyError("已废止的政策不能修改", code="conflict")
        before = _snapshot(locked)
        for name in _FIELDS:
            setattr(locked, name, getattr(data, name))
        locked.updated_at = timezone.now()
        locked.version += 1
        locked.save()
        locked.regions.set(data.regions)
        locked.indicators.set(data.indicators)
        reindex([locked])
        record_event(
            "policy.update", actor=actor, obj=locked, before=before, after=_snapshot(locked)
        )
    return locked


def publish_policy(policy: Policy, *, actor: Actor | None) -> Policy:
    """Publish a draft (发布): it is in force and public; the version it supersedes, if in
    force, becomes amended (已修订)."""
    with transaction.atomic():
        policy = execute_transition(policy, "publish", actor=actor)
        earlier = policy.supersedes
        if earlier is not None and earlier.status == IN_FORCE:
            execute_transition(
                earlier, "amend", actor=actor, note=f"被新版本修订：{policy.title}"[:500]
            )
    return policy


def repeal_policy(policy: Policy, *, actor: Actor, note: str) -> Policy:
    """Repeal (废止) an in-force or amended policy; the reason goes to its history."""
    return execute_transition(policy, "repeal", actor=actor, note=note)


def transition_policy(
    policy: Policy, action: str, *, actor: Actor, note: str = "", seen_status: str = ""
) -> Policy:
    """One step of the policy's life, as the page's buttons name them. ``seen_status`` is the
    state on the page the person clicked, so a decision on a stale page is refused."""
    if seen_status and seen_status != policy.status:
        raise TransitionConflict(
            f"该政策已被他人处理，当前状态为“{STATES.get(policy.status, policy.status)}”，请刷新后重试"
        )
    if action == "publish":
        return publish_policy(policy, actor=actor)
    if action == "repeal":
        return repeal_policy(policy, actor=actor, note=note)
    return execute_transition(policy, action, actor=actor, note=note)


def extract_text(name: str, content: bytes) -> str:
    """The text of a PDF (pypdf) or DOCX (python-docx) file; "" for other kinds or a file the
    library cannot read (the attachment is kept, only not searchable)."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    try:
        if suffix == "pdf":
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(content))
            text = "\n".join(page.extract_text() or "" for page in reader.pages)
        elif suffix == "docx":
            from docx import Document

            document = Document(io.BytesIO(content))
            text = "\n".join(p.text for p in document.paragraphs)
        elif suffix == "txt":
            text = content.decode("utf-8", errors="ignore")
        else:
            return ""
    except Exception:
        return ""
    return text[:MAX_ATTACHMENT_TEXT]


def add_attachment(policy: Policy, *, actor: Actor, upload: Any) -> PolicyAttachment:
    """Attach a file (附件) and index its text with the policy."""
    ensure_capability(actor, "policy.manage", PolicyError("只有营商办可以上传政策附件"))
    problem = upload_error(upload)
    if problem:
        raise PolicyError(problem)
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    with transaction.atomic():
        attachment = PolicyAttachment.objects.create(
            policy=policy,
            file=upload,
            name=(upload.name or "附件")[:200],
            size=len(content),
            text=extract_text(upload.name or "", content),
            uploaded_by_label=actor.audit_label[:200],
        )
        reindex([policy])
        record_event(
            "policy.attachment",
            actor=actor,
            obj=policy,
            after={"name": attachment.name, "size": attachment.size, "text": len(attachment.text)},
        )
    return attachment


def record_redemption(
    policy: Policy,
    enterprise: Enterprise,
    *,
    actor: Actor,
    amount: Decimal,
    cases: int = 1,
    redeemed_on: dt.date | None = None,
    note: str = "",
) -> Redemption:
    """Record what an enterprise received under a policy (政策兑现: 金额, 件数)."""
    ensure_capability(actor, "policy.manage", PolicyError("只有营商办可以登记政策兑现"))
    if policy.status not in (IN_FORCE, AMENDED, REPEALED):
        raise PolicyError("草稿政策不能登记兑现")
    if amount < 0 or cases < 1:
        raise PolicyError("兑现金额不能为负数，件数至少为 1")
    with transaction.atomic():
        redemption = Redemption.objects.create(
            policy=policy,
            enterprise=enterprise,
            amount=amount,
            cases=cases,
            redeemed_on=redeemed_on or timezone.localdate(),
            note=note[:200],
            recorded_by_label=actor.audit_label[:200],
        )
        record_event(
            "policy.redemption",
            actor=actor,
            obj=policy,
            after={"enterprise": enterprise.uscc, "amount": str(amount), "cases": cases},
        )
    return redemption


def push_policy(policy: Policy, *, actor: Actor) -> Push:
    """Push an in-force policy to the enterprises it applies to (政策找人) that have not had it
    yet: one delivery each, a message to each of their accounts after commit."""
    from sizhen.thinktank.matching import Matcher

    ensure_capability(actor, "policy.manage", PolicyError("只有营商办可以推送政策"))
    if not policy.applies_now:
        raise PolicyError("只能推送现行有效、已生效且未失效的政策")
    with transaction.atomic():
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        matcher = Matcher([locked])
        delivered = Delivery.objects.filter(policy=locked).values("enterprise_id")
        rows = (
            Enterprise.objects.filter(is_active=True)
            .exclude(pk__in=delivered)
            .values_list("pk", "industry_code", "size", "region__path")
        )
        targets = matcher.enterprises_of(locked, rows.iterator(chunk_size=5000))
        if not targets:
            raise PolicyError("没有尚未推送的匹配企业", code="conflict")
        push = Push.objects.create(
            policy=locked, pushed_by_label=actor.audit_label[:200], enterprises=len(targets)
        )
        Delivery.objects.bulk_create(
            [Delivery(push=push, policy=locked, enterprise_id=pk) for pk in targets],
            batch_size=2000,
        )
        record_event(
            "policy.push",
            actor=actor,
            obj=locked,
            after={"push": push.pk, "enterprises": len(targets)},
        )
        notify_after_commit(
            enterprise_users(targets),
            subject=f"政策推送：{locked.title}"[:200],
            body=f"{locked.issuer} {locked.doc_number}。根据贵企业的行业、规模和所在区划，该政策可能适用于贵企业，请阅读并确认知晓。",
            link=reverse("thinktank:policy_detail", args=[locked.pk]),
            category="policy",
        )
    return push


def mark_delivery(policy: Policy, *, actor: Actor, confirm: bool) -> Delivery | None:
    """The enterprise opened (``confirm`` false) or confirmed (true) a policy pushed to it;
    None when it was not pushed to the enterprise. Each first time is audited."""
    enterprise_id = getattr(actor, "enterprise_id", None)
    if enterprise_id is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .filter(policy=policy, enterprise_id=enterprise_id)
            .first()
        )
        if delivery is None:
            if confirm:
                raise PolicyError("该政策未推送给本企业")
            return None
        changed = []
        if delivery.read_at is None:
            delivery.read_at = now
            changed.append("read_at")
        if confirm and delivery.confirmed_at is None:
            delivery.confirmed_at = now
            changed.append("confirmed_at")
        if changed:
            delivery.save(update_fields=changed)
            record_event(
                "policy.confirm" if "confirmed_at" in changed else "policy.read",
                actor=actor,
                obj=policy,
                after={"enterprise": enterprise_id},
            )
    return delivery


def create_policies_in_bulk(
    rows: Sequence[PolicyData], *, actor: Actor | None, publish: bool
) -> list[Policy]:
    """Many policies at once (the import, the demo): one insert, their relations and index rows
    in bulk; the caller holds the transaction and writes the audit event."""
    user = acting_user(actor)
    policies = Policy.objects.bulk_create(
        [
            Policy(
                **{name: getattr(row, name) for name in _FIELDS},
                created_by=user,
            )
            for row in rows
        ],
        batch_size=500,
    )
    region_links = Policy.regions.through
    indicator_links = Policy.indicators.through
    region_links.objects.bulk_create(
        [
            region_links(policy_id=p.pk, region_id=r.pk)
            for p, row in zip(policies, rows, strict=True)
            for r in row.regions
        ],
        batch_size=1000,
    )
    indicator_links.objects.bulk_create(
        [
            indicator_links(policy_id=p.pk, indicator_id=i.pk)
            for p, row in zip(policies, rows, strict=True)
            for i in row.indicators
        ],
        batch_size=1000,
    )
    search.write_index((p.pk, *search.document_of(p)) for p in policies)
    if publish:
        execute_transitions(policies, "publish", actor=actor)
    return policies


__all__ = [
    "PolicyData",
    "PolicyError",
    "add_attachment",
    "check_industry",
    "create_policies_in_bulk",
    "create_policy",
    "extract_text",
    "mark_delivery",
    "publish_policy",
    "push_policy",
    "record_redemption",
    "reindex",
    "repeal_policy",
    "transition_policy",
    "update_policy",
    "validate",
]
