"""Intake (受理) into the one ledger from every channel, duplicate detection (重复诉求识别)
and attachments."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sizhen.core.access import role_of
from sizhen.core.audit import record_event
from sizhen.core.roles import Role
from sizhen.enterprise_requests import similarity
from sizhen.enterprise_requests.choices import (
    STAFF_CHANNELS,
    Channel,
    Kind,
)
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
    Forum,
    RequestCategory,
)
from sizhen.enterprise_requests.services.common import (
    DUPLICATE_CANDIDATES,
    MAX_TEXT,
    SAME_ENTERPRISE_THRESHOLD,
    SAME_MATTER_THRESHOLD,
    SUBMIT_ROLES,
    RequestError,
    check_file,
    require_party,
    source_key_of,
    store_file,
    title_from,
    user_or_none,
)
from sizhen.enterprise_requests.workflow import (
    TERMINAL,
)
from sizhen.organisations.models import Enterprise, Region


def find_duplicate(
    *,
    text: str,
    enterprise: Enterprise | None,
    category: RequestCategory | None,
    region: Region | None,
    exclude_pk: int | None = None,
) -> tuple[EnterpriseRequest | None, float]:
    """The most similar open request of the same enterprise, or on the same matter."""
    grams = similarity.bigrams(text)
    if not grams:
        return None, 0.0
    open_requests = EnterpriseRequest.objects.exclude(status__in=TERMINAL)
    if exclude_pk is not None:
        open_requests = open_requests.exclude(pk=exclude_pk)
    candidates: list[tuple[EnterpriseRequest, float]] = []
    if enterprise is not None:
        same = open_requests.filter(enterprise=enterprise).order_by("-submitted_at")
        candidates += [(r, SAME_ENTERPRISE_THRESHOLD) for r in same[:DUPLICATE_CANDIDATES]]
    if category is not None and region is not None:
        matter = open_requests.filter(category=category, region=region).order_by("-submitted_at")
        if enterprise is not None:
            matter = matter.exclude(enterprise=enterprise)
        candidates += [(r, SAME_MATTER_THRESHOLD) for r in matter[:DUPLICATE_CANDIDATES]]
    best: tuple[EnterpriseRequest | None, float] = (None, 0.0)
    for candidate, threshold in candidates:
        score = similarity.similarity(grams, candidate.text)
        if score >= threshold and score > best[1]:
            best = (candidate, score)
    return best


def submit_request(
    *,
    actor: Any,
    channel: str,
    text: str,
    category: RequestCategory | None = None,
    kind: str | None = None,
    enterprise: Enterprise | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    region: Region | None = None,
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
    publishable: bool = False,
    title: str = "",
    idempotency_key: str | None = None,
    external_id: str = "",
    forum: Forum | None = None,
    files: Iterable[Any] = (),
) -> tuple[EnterpriseRequest, bool]:
    """Take a request into the ledger from any channel. Returns (request, created): a repeated
    idempotency key from the same source answers the existing request and changes nothing."""
    role = role_of(actor)
    if actor is not None and role not in SUBMIT_ROLES:
        raise RequestError("您的角色不能提交企业诉求")
    source_key = source_key_of(actor)
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 100:
            raise RequestError("幂等键不能超过 100 个字符")
        existing = EnterpriseRequest.objects.filter(
            source_key=source_key, idempotency_key=key
        ).first()
        if existing is not None:
            return existing, False
    text = (text or "").strip()
    if not text:
        raise RequestError("请填写诉求内容")
    if len(text) > MAX_TEXT:
        raise RequestError(f"诉求内容不能超过 {MAX_TEXT} 字")
    if channel not in Channel.values:
        raise RequestError("诉求渠道无效")
    if role == Role.ENTERPRISE:
        if channel != Channel.PORTAL:
            raise RequestError("企业用户只能通过企业服务门户提交诉求")
        enterprise = getattr(actor, "enterprise", None)
        if enterprise is None:
            raise RequestError("您的账号尚未绑定企业，不能提交诉求")
    elif channel == Channel.PORTAL and role != Role.ENTERPRISE and actor is not None:
        raise RequestError("企业服务门户渠道只供企业用户使用")
    if channel in STAFF_CHANNELS and role not in (
        Role.COORDINATOR,
        Role.SYSADMIN,
        Role.DISTRICT_OFFICER,
    ):
        raise RequestError("座谈会、专窗和微信群诉求由工作人员登记")
    if forum is not None and channel != Channel.STAFF_FORUM:
        raise RequestError("只有座谈会渠道的诉求可以关联座谈会")
    if kind is None:
        kind = category.default_kind if category is not None else Kind.HELP
    if kind not in Kind.values:
        raise RequestError("诉求类型无效")
    if category is not None and not category.active:
        raise RequestError("该诉求分类已停用")
    if region is None and enterprise is not None:
        region = enterprise.region
    if region is None and forum is not None:
        region = forum.region
    if role == Role.DISTRICT_OFFICER:
        path = getattr(actor, "scope_path", None) or ""
        if region is None or not region.path.startswith(path):
            raise RequestError("只能登记本辖区的诉求")
    if (lat is not None and not -90 <= lat <= 90) or (lon is not None and not -180 <= lon <= 180):
        raise RequestError("经纬度超出范围")
    if not contact_name and enterprise is not None:
        contact_name = enterprise.contact_name or ""
    if not contact_phone and enterprise is not None:
        contact_phone = enterprise.contact_phone or ""
    files = list(files)
    for f in files:
        check_file(f)
    duplicate, score = find_duplicate(
        text=text, enterprise=enterprise, category=category, region=region
    )
    now = timezone.now()
    fields = {
        "channel": channel,
        "kind": kind,
        "category": category,
        "title": (title or "").strip()[:200] or title_from(text),
        "text": text,
        "enterprise": enterprise,
        "contact_name": contact_name.strip()[:50],
        "contact_phone": contact_phone.strip()[:30],
        "region": region,
        "address": address.strip()[:300],
        "lat": lat,
        "lon": lon,
        "publishable": bool(publishable),
        "submitted_at": now,
        "submitted_by": user_or_none(actor),
        "source_token": getattr(actor, "token", None) if role == Role.MACHINE else None,
        "source_key": source_key,
        "idempotency_key": key,
        "external_id": (external_id or "").strip()[:100],
        "forum": forum,
        "suspected_duplicate_of": duplicate,
        "duplicate_similarity": round(score, 3) if duplicate is not None else None,
    }
    try:
        with transaction.atomic():
            request = EnterpriseRequest.objects.create(number=f"TMP-{uuid.uuid4().hex}", **fields)
            # The primary key makes the number unique without a counter row to contend on.
            request.number = f"SQ{timezone.localtime(now).year}-{request.pk:06d}"
            EnterpriseRequest.objects.filter(pk=request.pk).update(number=request.number)
            for f in files:
                store_file(request, f, actor)
            record_event(
                "enterprise_request.submit",
                actor=actor,
                obj=request,
                after={
                    "number": request.number,
                    "channel": channel,
                    "kind": kind,
                    "category": category.code if category else None,
                    "enterprise": enterprise.pk if enterprise else None,
                    "suspected_duplicate_of": duplicate.number if duplicate else None,
                },
            )
    except IntegrityError:
        if key is None:
            raise
        # Two deliveries of one key raced; the first one's row is the answer.
        existing = EnterpriseRequest.objects.filter(
            source_key=source_key, idempotency_key=key
        ).first()
        if existing is None:
            raise
        return existing, False
    return request, True


def add_attachments(request: EnterpriseRequest, *, actor: Any, files: Iterable[Any]) -> int:
    """Attach further files (e.g. the supplementary material an enterprise was asked for)."""
    files = list(files)
    if not files:
        raise RequestError("请选择要上传的附件")
    require_party(request, actor)
    for f in files:
        check_file(f)
    with transaction.atomic():
        stored = [store_file(request, f, actor) for f in files]
        record_event(
            "enterprise_request.attach",
            actor=actor,
            obj=request,
            after={"files": [a.name for a in stored]},
        )
    return len(stored)
