"""Writes of the data assets (数据资产): asset profiles, archive documents, extract requests and
their decisions, downloads. Each runs in one transaction and writes one audit event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.assets.changes import assets_changed
from sizhen.assets.choices import ExtractKind
from sizhen.assets.models import ArchiveDocument, AssetProfile, ExtractRequest
from sizhen.assets.workflow import may_approve
from sizhen.core.access import Actor, region_scope_q
from sizhen.core.audit import record_event, snapshot
from sizhen.core.errors import ServiceError
from sizhen.core.jobs import enqueue
from sizhen.core.permissions import ensure_capability, has_capability
from sizhen.core.uploads import upload_error
from sizhen.core.workflow import execute_transition
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.models import Dataset
from sizhen.organisations.models import Department, Region

EXTRACT_JOB = "assets.run_extract"
#: The longest period one extract may cover (a larger one is several requests).
MAX_EXTRACT_DAYS = 5 * 366


class AssetError(ServiceError):
    pass


PROFILE_FIELDS = [
    "owner_department",
    "source_system",
    "update_frequency",
    "restricted",
    "description",
]


def update_profile(
    dataset: Dataset,
    *,
    actor: Actor,
    owner_department: Department | None,
    source_system: str,
    update_frequency: str,
    restricted: bool,
    description: str = "",
) -> AssetProfile:
    """Record what the catalogue cannot derive about a dataset (数据资产信息)."""
    ensure_capability(actor, "asset.manage", AssetError("只有营商办可以维护数据资产信息"))
    with transaction.atomic():
        profile, _ = AssetProfile.objects.select_for_update().get_or_create(dataset=dataset)
        before = snapshot(profile, PROFILE_FIELDS)
        profile.owner_department = owner_department
        profile.source_system = source_system.strip()
        profile.update_frequency = update_frequency
        profile.restricted = restricted
        profile.description = description.strip()
        profile.save()
        record_event(
            "asset.profile_update",
            actor=actor,
            obj=profile,
            before=before,
            after=snapshot(profile, PROFILE_FIELDS),
        )
        assets_changed()
    return profile


def create_document(
    *,
    actor: Actor,
    kind: str,
    year: int,
    title: str,
    body: str = "",
    file: UploadedFile | None = None,
    reference: str = "",
) -> ArchiveDocument:
    """Archive a text or file by year (考核要点, 文件资料, 政策沿革)."""
    ensure_capability(actor, "asset.manage", AssetError("只有营商办可以登记历史资料"))
    if not body.strip() and file is None:
        raise AssetError("请填写内容或上传附件")
    if file is not None:
        problem = upload_error(file)
        if problem:
            raise AssetError(problem)
    with transaction.atomic():
        document = ArchiveDocument(
            kind=kind,
            year=year,
            title=title.strip(),
            body=body.strip(),
            reference=reference.strip(),
            created_by=acting_user(actor),
        )
        if file is not None:
            document.file_name = file.name or ""
            document.file.save(file.name or "document", file, save=False)
        document.save()
        record_event(
            "asset.document_create",
            actor=actor,
            obj=document,
            after={"kind": kind, "year": year, "title": document.title},
        )
    return document


def record_document_download(document: ArchiveDocument, *, actor: Actor) -> None:
    with transaction.atomic():
        record_event(
            "asset.document_download", actor=actor, obj=document, after={"file": document.file_name}
        )


# --- extract requests (数据调取申请) ------------------------------------------------------------


def _profile(dataset: Dataset) -> AssetProfile | None:
    return AssetProfile.objects.filter(dataset=dataset).select_related("owner_department").first()


def submit_extract(
    *,
    actor: Actor,
    kind: str,
    region: Region,
    period_start: dt.date,
    period_end: dt.date,
    purpose: str,
    file_format: str,
    dataset: Dataset | None = None,
    indicator: Indicator | None = None,
    fields: list[str] | None = None,
    unmasked: bool = False,
) -> ExtractRequest:
    """Ask for an extract. It is approved at once (by the system) unless the dataset is
    restricted and the requester may not approve it themselves; then it waits for the owner
    department or the coordinator. An approved request is run by the job ``assets.run_extract``."""
    ensure_capability(actor, "staff.pages", AssetError("您的角色不能申请调取数据"))
    user = acting_user(actor)
    if user is None:
        raise AssetError("数据调取申请须由登录的工作人员提出")
    if not Region.objects.filter(region_scope_q(actor, "path"), pk=region.pk).exists():
        raise AssetError("只能调取本人管辖区划内的数据")
    if period_end < period_start:
        raise AssetError("截止日期不能早于起始日期")
    if (period_end - period_start).days > MAX_EXTRACT_DAYS:
        raise AssetError("一次调取的期间不能超过 5 年，请分次申请")
    if not purpose.strip():
        raise AssetError("请填写调取用途")
    if unmasked and not has_capability(actor, "asset.personal_data"):
        raise AssetError("您的角色不能调取未脱敏的个人信息")
    profile = None
    chosen: list[str] = []
    if kind == ExtractKind.RECORDS:
        if dataset is None:
            raise AssetError("请选择数据集")
        known = [f["name"] for f in dataset.schema().fields]
        chosen = [name for name in known if name in set(fields or [])]
        unknown = sorted(set(fields or []) - set(known))
        if unknown:
            raise AssetError("数据集没有这些字段：" + "、".join(unknown))
        profile = _profile(dataset)
        indicator = None
    elif kind == ExtractKind.VALUES:
        if indicator is None:
            raise AssetError("请选择指标")
        dataset = None
        unmasked = False  # indicator values carry no personal data
    else:
        raise AssetError("未知的调取内容")
    with transaction.atomic():
        request = ExtractRequest(
            kind=kind,
            dataset=dataset,
            indicator=indicator,
            region=region,
            period_start=period_start,
            period_end=period_end,
            fields=chosen,
            format=file_format,
            purpose=purpose.strip()[:300],
            unmasked=unmasked,
            owner_department=profile.owner_department if profile else None,
            requested_by=user,
            requested_by_label=user.audit_label,
        )
        request.needs_approval = bool(profile and profile.restricted) and not may_approve(
            request, actor
        )
        request.save()
        record_event(
            "asset_extract.submit",
            actor=actor,
            obj=request,
            after={
                "kind": kind,
                "dataset": dataset.code if dataset else None,
                "indicator": indicator.code if indicator else None,
                "region": region.code,
                "period_start": period_start,
                "period_end": period_end,
                "fields": chosen,
                "format": file_format,
                "unmasked": unmasked,
                "needs_approval": request.needs_approval,
            },
        )
        if not request.needs_approval:
            execute_transition(request, "auto_approve", actor=None)
            _enqueue(request, actor)
    return request


def _enqueue(request: ExtractRequest, actor: Actor | None) -> None:
    # In the same transaction: a rolled-back approval queues nothing.
    job = enqueue(
        EXTRACT_JOB,
        key=f"{EXTRACT_JOB}:{request.pk}",
        label=f"数据调取 {request.number}",
        created_by=actor,
        extract_id=request.pk,
    )
    ExtractRequest.objects.filter(pk=request.pk).update(job=job)
    request.job = job


def approve_extract(request: ExtractRequest, *, actor: Actor, note: str = "") -> ExtractRequest:
    with transaction.atomic():
        execute_transition(
            request,
            "approve",
            actor=actor,
            note=note,
            changes=_decision(actor, note),
        )
        _enqueue(request, actor)
    return request


def reject_extract(request: ExtractRequest, *, actor: Actor, note: str) -> ExtractRequest:
    return execute_transition(
        request, "reject", actor=actor, note=note, changes=_decision(actor, note)
    )


def _decision(actor: Actor, note: str) -> dict[str, Any]:
    return {
        "decided_by_label": actor.audit_label,
        "decided_at": timezone.now(),
        "decision_note": note.strip()[:300],
    }


def record_extract_download(request: ExtractRequest, *, actor: Actor) -> None:
    """Every download of an extract is audited (下载留痕)."""
    with transaction.atomic():
        ExtractRequest.objects.filter(pk=request.pk).update(downloads=F("downloads") + 1)
        record_event(
            "asset_extract.download",
            actor=actor,
            obj=request,
            after={
                "rows": request.row_count,
                "format": request.format,
                "unmasked": request.unmasked,
            },
        )
