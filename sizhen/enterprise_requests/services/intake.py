"""Intake (受理) into the one ledger from every channel, duplicate detection (重复诉求识别)
and attachments."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor, role_of, source_key_of
from sizhen.core.audit import event_fields, record_event
from sizhen.core.jobs import enqueue, job_fields
from sizhen.core.models import AuditEvent, Job, JobStatus
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.sql import row_document
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
    RequestError,
    check_file,
    require_party,
    store_file,
    title_from,
)
from sizhen.enterprise_requests.workflow import (
    TERMINAL,
)
from sizhen.organisations.models import Enterprise, Region

#: The job that compares machine-submitted requests with the open ledger after intake.
FLAG_DUPLICATES_JOB = "enterprise_requests.flag_duplicates"
#: Requests the job compares per batch (it loops until none is left).
FLAG_DUPLICATES_BATCH = 200
#: API-token intake leaves the duplicate comparison to the job (bench/requests_intake.py turns
#: it off to measure the inline comparison, the straightforward alternative).
DEFER_TOKEN_DUPLICATE_CHECK = True
#: On PostgreSQL a request without attachments is taken in by one composed statement
#: (``_insert_in_one_statement``); False takes the ORM path everywhere (the straightforward
#: alternative bench/requests_intake.py compares with, and the path SQLite always takes).
ONE_STATEMENT_INTAKE = True


def find_duplicate(
    *,
    text: str,
    enterprise: Enterprise | None,
    category: RequestCategory | None,
    region: Region | None,
    exclude_pk: int | None = None,
    before_pk: int | None = None,
    grams_cache: dict[int, frozenset[str]] | None = None,
) -> tuple[EnterpriseRequest | None, float]:
    """The most similar open request of the same enterprise, or on the same matter. With
    ``before_pk``, only requests taken in before that one are candidates (the job compares a
    stored request with its predecessors, as intake would have). Only (pk, text) of the up to
    2 × ``DUPLICATE_CANDIDATES`` candidates is fetched; the best match is loaded at the end.
    ``grams_cache`` (pk → bigrams) lets one job run split each candidate's text once."""
    grams = similarity.bigrams(text)
    if not grams:
        return None, 0.0
    open_requests = EnterpriseRequest.objects.exclude(status__in=TERMINAL)
    if exclude_pk is not None:
        open_requests = open_requests.exclude(pk=exclude_pk)
    if before_pk is not None:
        open_requests = open_requests.filter(pk__lt=before_pk)
    candidates: list[tuple[int, str, float]] = []
    if enterprise is not None:
        same = open_requests.filter(enterprise=enterprise).order_by("-submitted_at", "-pk")
        candidates += [
            (pk, body, SAME_ENTERPRISE_THRESHOLD)
            for pk, body in same.values_list("pk", "text")[:DUPLICATE_CANDIDATES]
        ]
    if category is not None and region is not None:
        matter = open_requests.filter(category=category, region=region).order_by(
            "-submitted_at", "-pk"
        )
        if enterprise is not None:
            matter = matter.exclude(enterprise=enterprise)
        candidates += [
            (pk, body, SAME_MATTER_THRESHOLD)
            for pk, body in matter.values_list("pk", "text")[:DUPLICATE_CANDIDATES]
        ]
    best_pk, best_score = None, 0.0
    for pk, body, threshold in candidates:
        if grams_cache is None:
            score = similarity.similarity(grams, body)
        else:
            if pk not in grams_cache:
                grams_cache[pk] = similarity.bigrams(body)
            score = similarity.similarity(grams, grams_cache[pk])
        if score >= threshold and score > best_score:
            best_pk, best_score = pk, score
    if best_pk is None:
        return None, 0.0
    return EnterpriseRequest.objects.get(pk=best_pk), best_score


def flag_pending_duplicates(*, batch: int = FLAG_DUPLICATES_BATCH) -> dict[str, int]:
    """Compare each request not compared yet (``duplicate_similarity`` is NULL: taken in by
    an API token, whose intake defers the comparison to this job) with the open requests
    taken in before it, and flag a suspected duplicate exactly as intake does for people.
    Each request is marked by a conditional update, so two runs at once mark it once."""
    checked = flagged = 0
    grams_cache: dict[int, frozenset[str]] = {}
    # Passes in primary-key order until one marks nothing: a row committed late with a lower
    # key than the pass had reached (PostgreSQL hands out keys before commits) is caught by
    # the next pass.
    while True:
        marked_in_pass = 0
        last_pk = 0
        while True:
            pending = list(
                EnterpriseRequest.objects.filter(duplicate_similarity__isnull=True, pk__gt=last_pk)
                .exclude(status__in=TERMINAL)
                .select_related("enterprise", "category", "region")
                .order_by("pk")[:batch]
            )
            if not pending:
                break
            for r in pending:
                last_pk = r.pk
                duplicate, score = find_duplicate(
                    text=r.text,
                    enterprise=r.enterprise,
                    category=r.category,
                    region=r.region,
                    before_pk=r.pk,
                    grams_cache=grams_cache,
                )
                marked = EnterpriseRequest.objects.filter(
                    pk=r.pk, duplicate_similarity__isnull=True
                ).update(
                    suspected_duplicate_of=duplicate,
                    duplicate_similarity=round(score, 3) if duplicate is not None else 0.0,
                )
                marked_in_pass += marked
                flagged += marked if duplicate is not None else 0
        checked += marked_in_pass
        if not marked_in_pass:
            break
    if flagged:
        record_event(
            "enterprise_request.duplicates_flagged",
            actor=None,
            object_type="enterprise_requests.enterpriserequest",
            after={"checked": checked, "flagged": flagged},
        )
    return {"checked": checked, "flagged": flagged}


def _existing(source_key: str, key: str) -> EnterpriseRequest | None:
    """The request an earlier delivery of this idempotency key created, if any: a cheap
    primary-key probe on the unique index first, the row only when there is one."""
    pk = (
        EnterpriseRequest.objects.filter(source_key=source_key, idempotency_key=key)
        .values_list("pk", flat=True)
        .first()
    )
    return None if pk is None else EnterpriseRequest.objects.get(pk=pk)


def submit_request(
    *,
    actor: Actor,
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
    if actor is not None and not has_capability(actor, "request.push"):
        raise RequestError("您的角色不能提交企业诉求")
    source_key = source_key_of(actor)
    key = (idempotency_key or "").strip() or None
    files = list(files)
    # PostgreSQL takes a request without attachments in one statement whose ON CONFLICT
    # answers a repeated key; elsewhere the key is probed first.
    one_statement = ONE_STATEMENT_INTAKE and connection.vendor == "postgresql" and not files
    if key is not None:
        if len(key) > 100:
            raise RequestError("幂等键不能超过 100 个字符")
        existing = None if one_statement else _existing(source_key, key)
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
    if channel in STAFF_CHANNELS and not has_capability(actor, "request.intake"):
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
    for f in files:
        check_file(f)
    # People's submissions are compared with the open ledger now; an API token's (the 12345
    # hotline and Open311 push in bulk) are left unmarked (duplicate_similarity NULL) and
    # compared by the flag_duplicates job right after the commit, so that intake stays one
    # short write transaction. 0.0 means "compared, nothing similar enough".
    defer_duplicates = role == Role.MACHINE and DEFER_TOKEN_DUPLICATE_CHECK
    duplicate: EnterpriseRequest | None = None
    similarity_score: float | None = None
    if not defer_duplicates:
        duplicate, score = find_duplicate(
            text=text, enterprise=enterprise, category=category, region=region
        )
        similarity_score = round(score, 3) if duplicate is not None else 0.0
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
        "submitted_by": acting_user(actor),
        "source_token": getattr(actor, "token", None) if role == Role.MACHINE else None,
        "source_key": source_key,
        "idempotency_key": key,
        "external_id": (external_id or "").strip()[:100],
        "forum": forum,
        "suspected_duplicate_of": duplicate,
        "duplicate_similarity": similarity_score,
    }
    audit_after = {
        "channel": channel,
        "kind": kind,
        "category": category.code if category else None,
        "enterprise": enterprise.pk if enterprise else None,
        "suspected_duplicate_of": duplicate.number if duplicate else None,
    }
    prefix = f"SQ{timezone.localtime(now).year}-"
    if one_statement:
        return _insert_in_one_statement(
            fields, actor=actor, audit_after=audit_after, prefix=prefix, flag=defer_duplicates
        )
    try:
        with transaction.atomic():
            # A placeholder that fits the 32-character column until the primary key is known.
            request = EnterpriseRequest.objects.create(
                number=f"TMP-{uuid.uuid4().hex[:28]}", **fields
            )
            # The primary key makes the number unique without a counter row to contend on.
            request.number = f"{prefix}{request.pk:06d}"
            EnterpriseRequest.objects.filter(pk=request.pk).update(number=request.number)
            for f in files:
                store_file(request, f, actor)
            record_event(
                "enterprise_request.submit",
                actor=actor,
                obj=request,
                after={"number": request.number, **audit_after},
            )
    except IntegrityError:
        if key is None:
            raise
        # Two deliveries of one key raced; the first one's row is the answer.
        existing = _existing(source_key, key)
        if existing is None:
            raise
        return existing, False
    if defer_duplicates:
        request_duplicate_check()
    return request, True


@functools.lru_cache(maxsize=4)
def _one_statement_sql(flag: bool) -> str:
    """The PostgreSQL statement of ``_insert_in_one_statement``. Each row is one JSON
    document of its column values (``row_document``) mapped onto the table's row type; only
    table names go into the text, never a value. Built once per process."""
    quote = connection.ops.quote_name
    request_table = quote(EnterpriseRequest._meta.db_table)
    audit_table = quote(AuditEvent._meta.db_table)

    def next_id(table: str) -> str:
        return f"nextval(pg_get_serial_sequence('{table}', 'id'))"

    parts = [
        # A key already taken draws no id: a retry leaves no gap in the numbers, as on the ORM
        # path, whose probe answers it before any insert (ON CONFLICT still settles a race).
        f"WITH n AS (SELECT {next_id(request_table)} AS id WHERE NOT EXISTS"  # noqa: S608
        f" (SELECT 1 FROM {request_table} WHERE source_key = %s AND idempotency_key = %s))",
        # The number from the row's own key: SQ2026-000123 (more digits past 999999).
        f", r AS (INSERT INTO {request_table} SELECT p.* FROM n,"  # noqa: S608
        f" jsonb_populate_record(NULL::{request_table}, %s::jsonb || jsonb_build_object("
        "'id', n.id, 'number', %s || lpad(n.id::text, greatest(6, length(n.id::text)), '0')"
        ")) p ON CONFLICT (source_key, idempotency_key) WHERE idempotency_key IS NOT NULL"
        " DO NOTHING RETURNING id, number)",
        # The audit event names the new row: its id, its number and title, its number in after.
        f", a AS (INSERT INTO {audit_table} SELECT p.* FROM r,"  # noqa: S608
        f" jsonb_populate_record(NULL::{audit_table}, %s::jsonb || jsonb_build_object("
        f"'id', {next_id(audit_table)}, 'object_id', r.id::text,"
        " 'object_repr', left(r.number || ' ' || %s, 200),"
        " 'after', jsonb_build_object('number', r.number) || %s::jsonb)) p)",
    ]
    if flag:
        # Unless a run is queued: it starts later and sees the row. A run claimed between this
        # statement's snapshot and its commit may finish its last pass before the row
        # commits; the five-minute schedule of the same job compares the row then. (Locking
        # the queued run FOR SHARE closes that window but queues every intake behind the
        # worker's claim: p99 1.9 s in bench/requests_intake.py.)
        job_table = quote(Job._meta.db_table)
        parts.append(
            f", j AS (INSERT INTO {job_table} SELECT p.* FROM r,"  # noqa: S608
            f" jsonb_populate_record(NULL::{job_table}, %s::jsonb"
            f" || jsonb_build_object('id', {next_id(job_table)})) p WHERE NOT EXISTS"
            f" (SELECT 1 FROM {job_table} WHERE name = %s AND status = %s))"
        )
    parts.append(" SELECT id, number FROM r")
    return "".join(parts)


def _insert_in_one_statement(
    fields: dict[str, Any],
    *,
    actor: Actor,
    audit_after: dict[str, Any],
    prefix: str,
    flag: bool,
) -> tuple[EnterpriseRequest, bool]:
    """PostgreSQL: the request, its audit event and (``flag``) the queued duplicate check in
    one statement, atomic on its own: no BEGIN/COMMIT round trips, no ORM compilation, and a
    repeated idempotency key answered by ON CONFLICT instead of a probe. The same rows with
    the same values as the ORM path of ``submit_request`` (SQLite, and requests with files);
    the whole suite runs on both. See docs/decisions/0008-single-statement-intake.md."""
    request = EnterpriseRequest(number="", **fields)
    event = AuditEvent(
        **event_fields(
            "enterprise_request.submit",
            actor=actor,
            object_type=EnterpriseRequest._meta.label_lower,
            after=audit_after,
        )
    )
    params: list[Any] = [
        fields["source_key"],
        fields["idempotency_key"],
        row_document(request),
        prefix,
        row_document(event),
        request.title,
        json.dumps(event.after),
    ]
    if flag:
        params += [
            row_document(Job(**job_fields(FLAG_DUPLICATES_JOB))),
            FLAG_DUPLICATES_JOB,
            JobStatus.QUEUED,
        ]
    with connection.cursor() as cursor:
        cursor.execute(_one_statement_sql(flag), params)
        row = cursor.fetchone()
    if row is None:
        # The key was taken (ON CONFLICT waited for its transaction): that request answers.
        existing = _existing(fields["source_key"], fields["idempotency_key"])
        if existing is None:  # pragma: no cover - a conflict leaves the row it conflicted with
            raise RequestError("幂等键冲突，请稍后重试")
        return existing, False
    request.pk, request.number = row
    request._state.adding = False
    request._state.db = connection.alias
    return request, True


def request_duplicate_check() -> None:
    """Make sure a flag_duplicates run starts after this point. Called after the commit (the
    run must see the row) and outside the write transaction (SQLite has one write lock for
    the whole database). A queued run will start later and see the row: then this is one
    indexed read and adds no job row. A run already going may have passed the row, so
    without a queued one a new one is queued (two intakes at once may both queue one; the
    second run then finds nothing to do)."""
    if not Job.objects.filter(name=FLAG_DUPLICATES_JOB, status=JobStatus.QUEUED).exists():
        enqueue(FLAG_DUPLICATES_JOB)


def add_attachments(request: EnterpriseRequest, *, actor: Actor, files: Iterable[Any]) -> int:
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
