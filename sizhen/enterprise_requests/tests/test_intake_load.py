"""Intake under load (issue 6): API-token intake leaves the duplicate comparison to the
flag_duplicates job, and concurrent deliveries of one idempotency key create one request."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from sizhen.accounts.services import authenticate_token, create_api_token
from sizhen.core.jobs import run_pending
from sizhen.core.models import AuditEvent, Job, JobStatus
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import Channel
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
from sizhen.enterprise_requests.services import intake
from sizhen.enterprise_requests.services.intake import FLAG_DUPLICATES_JOB
from sizhen.enterprise_requests.tests.factories import portal_request

SUBSIDY = "来电企业反映：我公司申请的稳岗补贴至今未到账，请帮助查询进度"
SUBSIDY_AGAIN = "来电企业反映：我公司申请的稳岗补贴至今还未到账，请帮忙查询进度"
ROAD = "园区门口道路破损严重，影响货车通行"


def _token_actor(personas: Any, city: Any) -> Any:
    _row, secret = create_api_token(
        actor=personas["sysadmin"],
        name="12345热线",
        department=city["office"],
        scopes=["requests:write"],
    )
    return authenticate_token(secret, client_address=None), secret


def _push(actor: Any, city: Any, text: str, key: str | None = None) -> EnterpriseRequest:
    request, _created = services.submit_request(
        actor=actor,
        channel=Channel.HOTLINE_12345,
        text=text,
        category=RequestCategory.objects.get(code="0402"),
        region=city["enterprise_a"].region,
        idempotency_key=key,
    )
    return request


def _queued_flag_jobs() -> int:
    return Job.objects.filter(name=FLAG_DUPLICATES_JOB, status=JobStatus.QUEUED).count()


@pytest.mark.django_db
def test_token_intake_leaves_duplicates_to_the_job_which_flags_them(personas, city):
    actor, _secret = _token_actor(personas, city)
    first = _push(actor, city, SUBSIDY)
    second = _push(actor, city, SUBSIDY_AGAIN)
    unrelated = _push(actor, city, ROAD)
    stored = EnterpriseRequest.objects.in_bulk([first.pk, second.pk, unrelated.pk])
    # Not compared yet, and one run queued for all three.
    assert [stored[r.pk].duplicate_similarity for r in (first, second, unrelated)] == [None] * 3
    assert stored[second.pk].suspected_duplicate_of is None
    assert _queued_flag_jobs() == 1

    assert run_pending() >= 1  # the worker's loop: the queued run of flag_duplicates
    job = Job.objects.get(name=FLAG_DUPLICATES_JOB)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result == {"checked": 3, "flagged": 1}
    second.refresh_from_db()
    first.refresh_from_db()
    unrelated.refresh_from_db()
    assert second.suspected_duplicate_of == first
    assert second.duplicate_similarity is not None and second.duplicate_similarity >= 0.8
    # Only earlier requests are candidates: the first is not a duplicate of the second.
    assert first.suspected_duplicate_of is None and first.duplicate_similarity == 0.0
    assert unrelated.suspected_duplicate_of is None and unrelated.duplicate_similarity == 0.0
    # Compared once: a second run finds nothing to do.
    assert services.flag_pending_duplicates() == {"checked": 0, "flagged": 0}


@pytest.mark.django_db
def test_job_flags_a_token_request_like_intake_flags_a_persons(personas, city):
    actor, _secret = _token_actor(personas, city)
    first = portal_request(personas["enterprise"], text=SUBSIDY)
    # People's requests are compared at intake: marked compared, and no run queued.
    assert first.duplicate_similarity == 0.0
    assert _queued_flag_jobs() == 0
    pushed, _created = services.submit_request(
        actor=actor,
        channel=Channel.HOTLINE_12345,
        text=SUBSIDY_AGAIN,
        enterprise=personas["enterprise"].enterprise,
    )
    assert services.flag_pending_duplicates() == {"checked": 1, "flagged": 1}
    pushed.refresh_from_db()
    assert pushed.suspected_duplicate_of == first


@pytest.mark.django_db
def test_a_queued_run_serves_every_intake_until_it_starts(personas, city):
    actor, _secret = _token_actor(personas, city)
    _push(actor, city, SUBSIDY)
    _push(actor, city, ROAD)
    assert _queued_flag_jobs() == 1
    # A run already going may have passed the next row: a new one is queued behind it.
    Job.objects.filter(name=FLAG_DUPLICATES_JOB).update(status=JobStatus.RUNNING)
    _push(actor, city, "用电报装等待超过一个月，请求加快")
    assert _queued_flag_jobs() == 1
    assert Job.objects.filter(name=FLAG_DUPLICATES_JOB).count() == 2


@pytest.mark.django_db
def test_api_retry_answers_the_first_request_with_its_relations(personas, city):
    _actor, secret = _token_actor(personas, city)
    body = {"text": SUBSIDY, "category": "0402", "region_code": "449901"}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_IDEMPOTENCY_KEY": "call-7"}
    first = Client().post(
        "/api/v1/requests", json.dumps(body), content_type="application/json", **headers
    )
    assert first.status_code == 201, first.content
    services.flag_pending_duplicates()
    again = Client().post(
        "/api/v1/requests",
        json.dumps({**body, "text": "重试"}),
        content_type="application/json",
        **headers,
    )
    assert again.status_code == 200
    assert again.json() == {**first.json(), "text": SUBSIDY}
    assert again.json()["category_name"] == RequestCategory.objects.get(code="0402").name
    assert EnterpriseRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("one_statement", [True, False], ids=["one-statement", "orm"])
def test_concurrent_deliveries_of_one_key_create_one_request(
    personas, city, monkeypatch, one_statement
):
    """Four deliveries of one key at the same moment (a client retrying on timeouts): one
    request is created, every delivery answers with it. On PostgreSQL through the composed
    statement's ON CONFLICT and through the ORM path's unique index; SQLite takes the ORM
    path either way."""
    monkeypatch.setattr(intake, "ONE_STATEMENT_INTAKE", one_statement)
    # Transactional tests run last, after flushes that may have removed the migrated taxonomy.
    call_command("load_request_taxonomy", verbosity=0)
    actor, _secret = _token_actor(personas, city)
    category = RequestCategory.objects.get(code="0402")
    region = city["enterprise_a"].region
    barrier = threading.Barrier(4)
    outcomes: list[Any] = []
    lock = threading.Lock()

    def deliver() -> None:
        try:
            barrier.wait(timeout=30)
            request, created = services.submit_request(
                actor=actor,
                channel=Channel.HOTLINE_12345,
                text=SUBSIDY,
                category=category,
                region=region,
                idempotency_key="call-race",
            )
            with lock:
                outcomes.append((request.pk, request.number, created))
        except Exception as exc:  # surfaced by the assertions below
            with lock:
                outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    assert len(outcomes) == 4
    stored = list(EnterpriseRequest.objects.filter(idempotency_key="call-race"))
    assert len(stored) == 1
    assert {(pk, number) for pk, number, _created in outcomes} == {(stored[0].pk, stored[0].number)}
    assert sorted(created for _pk, _number, created in outcomes) == [False, False, False, True]
    assert stored[0].number.startswith("SQ")


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the composed intake statement is PostgreSQL's"
)


def _api_push(secret: str, key: str, **extra: Any) -> Any:
    body = {
        "text": SUBSIDY,
        "title": "稳岗补贴未到账",
        "category": "0402",
        "region_code": "449901",
        "contact_name": "王先生",
        "contact_phone": "13800138000",
        "lat": 23.1,
        "lon": 113.3,
        "publishable": True,
        "external_id": f"ext-{key}",
        **extra,
    }
    return Client(REMOTE_ADDR="10.8.0.7").post(
        "/api/v1/requests",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


@postgresql_only
@pytest.mark.django_db
def test_one_statement_stores_what_the_orm_path_stores(personas, city, monkeypatch):
    """The composed statement and the ORM path write the same request, audit event and queued
    duplicate check, field by field (all but the keys, number and times)."""
    _actor, secret = _token_actor(personas, city)
    monkeypatch.setattr(intake, "ONE_STATEMENT_INTAKE", False)
    assert _api_push(secret, "orm-1").status_code == 201
    Job.objects.all().delete()
    monkeypatch.setattr(intake, "ONE_STATEMENT_INTAKE", True)
    response = _api_push(secret, "one-1")
    assert response.status_code == 201, response.content
    orm = EnterpriseRequest.objects.get(idempotency_key="orm-1")
    one = EnterpriseRequest.objects.get(idempotency_key="one-1")
    assert (
        response.json()["number"]
        == one.number
        == f"SQ{timezone.localtime(one.submitted_at).year}-{one.pk:06d}"
    )
    skip = {"id", "number", "idempotency_key", "external_id", "submitted_at"}
    for field in EnterpriseRequest._meta.concrete_fields:
        if field.name not in skip:
            assert getattr(one, field.attname) == getattr(orm, field.attname), field.name
    assert one.external_id == "ext-one-1" and one.duplicate_similarity is None

    events = {
        e.object_id: e
        for e in AuditEvent.objects.filter(
            action="enterprise_request.submit", object_id__in=[str(orm.pk), str(one.pk)]
        )
    }
    orm_event, one_event = events[str(orm.pk)], events[str(one.pk)]
    assert one_event.object_repr == str(one)[:200]
    assert one_event.after == {**orm_event.after, "number": one.number}
    assert one_event.after["category"] == "0402"
    for name in ("object_type", "actor_id", "actor_label", "actor_role", "before", "message"):
        assert getattr(one_event, name) == getattr(orm_event, name), name
    assert one_event.client_address == orm_event.client_address == "10.8.0.7"
    assert one_event.request_id and one_event.request_id != orm_event.request_id
    # The duplicate check is queued in the same statement, once while it waits.
    assert _queued_flag_jobs() == 1
    job = Job.objects.get(name=FLAG_DUPLICATES_JOB)
    assert (job.label, job.max_attempts, job.kwargs) == ("诉求疑似重复识别", 3, {})
    assert _api_push(secret, "one-2").status_code == 201
    assert _queued_flag_jobs() == 1

    # A retry of the key: the first request answers, nothing new is written.
    before = (EnterpriseRequest.objects.count(), AuditEvent.objects.count(), Job.objects.count())
    again = _api_push(secret, "one-1", text="重试")
    assert again.status_code == 200 and again.json()["number"] == one.number
    assert again.json()["text"] == SUBSIDY
    after = (EnterpriseRequest.objects.count(), AuditEvent.objects.count(), Job.objects.count())
    assert after == before


@postgresql_only
@pytest.mark.django_db
def test_one_statement_numbers_past_six_digits(personas, city):
    _actor, secret = _token_actor(personas, city)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence("
            "'enterprise_requests_enterpriserequest', 'id'), 1234566)"
        )
    response = _api_push(secret, "big-1")
    assert response.status_code == 201, response.content
    stored = EnterpriseRequest.objects.get(idempotency_key="big-1")
    assert stored.pk == 1234567
    assert (
        stored.number
        == f"SQ{timezone.localtime(stored.submitted_at).year}-1234567"
        == response.json()["number"]
    )


def _intake_cases(personas: Any, city: Any, actor: Any, secret: str) -> list[tuple[Any, ...]]:
    """The intake cases of the parity test, through ``submit_request`` and the API: every
    channel by an actor who may use it, with and without idempotency keys, retries of a key,
    region and category by code, a person's near-duplicate flagged at intake, and token
    intakes that share one queued duplicate check. Returns what each call answered."""
    category = RequestCategory.objects.get(code="0402")
    answers: list[tuple[Any, ...]] = []

    def submit(who: Any, channel: str, text: str, **extra: Any) -> None:
        request, created = services.submit_request(actor=who, channel=channel, text=text, **extra)
        answers.append((channel, request.pk, request.number, created))

    submit(personas["enterprise"], Channel.PORTAL, SUBSIDY, category=category)
    submit(personas["enterprise"], Channel.PORTAL, SUBSIDY_AGAIN, category=category)  # duplicate
    for channel in (Channel.STAFF_FORUM, Channel.STAFF_WINDOW, Channel.WECHAT_GROUP):
        submit(
            personas["coordinator"],
            channel,
            f"{ROAD}（{channel}）",
            enterprise=city["enterprise_b"],
            kind="complaint",
        )
    submit(personas["coordinator"], Channel.HOTLINE_12345, ROAD, region=city["district_a"])
    submit(personas["coordinator"], Channel.HOTLINE_12345, ROAD, region=city["district_a"])
    for channel in (Channel.HOTLINE_12345, Channel.API, Channel.OPEN311):
        submit(
            actor, channel, f"{SUBSIDY}（{channel}）", category=category, idempotency_key=channel
        )
    submit(actor, Channel.API, "重试", idempotency_key=Channel.API)  # a retry: the first answers
    # A survey answer turned into a request by the office (surveys' 问题转办).
    submit(
        personas["coordinator"],
        Channel.SURVEY,
        f"{ROAD}（问卷调查）",
        enterprise=city["enterprise_b"],
        kind="suggestion",
    )
    for key in ("codes-1", "codes-2", "codes-1"):  # by region and category code, then a retry
        response = _api_push(secret, key)
        answers.append((key, response.status_code, response.json()["number"]))
    return answers


def _intake_rows() -> dict[str, Any]:
    """The rows intake wrote, without what differs by nature (times, request ids, the audit
    and job tables' own keys)."""
    requests = [
        {
            f.attname: getattr(r, f.attname)
            for f in r._meta.concrete_fields
            if f.name != "submitted_at"
        }
        for r in EnterpriseRequest.objects.order_by("pk")
    ]
    events = [
        {
            name: getattr(e, name)
            for name in (
                "actor_id",
                "actor_label",
                "actor_role",
                "action",
                "object_type",
                "object_id",
                "object_repr",
                "before",
                "after",
                "message",
                "client_address",
            )
        }
        for e in AuditEvent.objects.filter(action="enterprise_request.submit").order_by("pk")
    ]
    jobs = list(Job.objects.order_by("pk").values_list("name", "status", "kwargs", "max_attempts"))
    return {"requests": requests, "events": events, "jobs": jobs}


@postgresql_only
@pytest.mark.django_db
def test_intake_paths_give_the_same_answers_and_rows(personas, city, monkeypatch):
    """Parity of the two ways ``submit_request`` writes (issue 15): the same cases through the
    ORM path and through the composed statement, each from the same sequence position (past
    999,999, so numbers grow a seventh digit) and rolled back afterwards, answer the same
    requests and numbers and leave the same rows. PostgreSQL only: elsewhere both settings
    take the ORM path (docs/decisions/0008-single-statement-intake.md)."""
    actor, secret = _token_actor(personas, city)
    outcomes = {}
    for one_statement in (False, True):
        monkeypatch.setattr(intake, "ONE_STATEMENT_INTAKE", one_statement)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence("
                    "'enterprise_requests_enterpriserequest', 'id'), 1234566)"
                )
            answers = _intake_cases(personas, city, actor, secret)
            outcomes[one_statement] = (answers, _intake_rows())
            transaction.set_rollback(True)

    orm, one = outcomes[False], outcomes[True]
    assert one[0] == orm[0]
    assert one[1] == orm[1]
    # What the cases were meant to exercise, so equal results are not equally empty.
    answers, rows = one
    assert [created for *_, created in answers[:11]] == [True] * 10 + [False]
    assert answers[10][1] == answers[8][1]  # the retried key answers its first request
    assert answers[6][1] != answers[5][1]  # without a key, two requests
    assert answers[11][0] == Channel.SURVEY and answers[11][3] is True
    assert [(status, number) for _key, status, number in answers[12:]] == [
        (201, answers[12][2]),
        (201, answers[13][2]),
        (200, answers[12][2]),
    ]
    year = timezone.localtime().year
    assert answers[0][2] == f"SQ{year}-1234567" and len(rows["requests"]) == 13
    # a retry draws no number on either path: the numbers have no gap
    assert [r["number"] for r in rows["requests"]] == [
        f"SQ{year}-{n}" for n in range(1234567, 1234580)
    ]
    by_pk = {r["id"]: r for r in rows["requests"]}
    assert by_pk[answers[1][1]]["suspected_duplicate_of_id"] == answers[0][1]
    assert {r["channel"] for r in rows["requests"]} == set(Channel.values)
    assert [(r["region_id"], r["category_id"]) for r in rows["requests"][-2:]] == [
        (city["district_a"].pk, RequestCategory.objects.get(code="0402").pk)
    ] * 2
    assert len(rows["events"]) == 13
    assert rows["jobs"] == [(FLAG_DUPLICATES_JOB, JobStatus.QUEUED, {}, 3)]  # queued once
