"""POST /api/v1/datasets/{dataset}/records and the batch, dataset and freshness reads.

A push is validated at once (422 with every error in strict mode), committed by the worker
(``run_pending``), and idempotent: the same content again answers 200 with the same batch and
changes nothing. Who may push: tokens with ``records:write``, the coordinating office and
administrators; anyone else gets 404 (audited), anonymous callers 401."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sizhen.accounts.services import create_api_token
from sizhen.core.jobs import run_pending
from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadChannel, LoadStatus, QuarantineStatus
from sizhen.indicators.ingestion.models import LoadBatch, QuarantineRow
from sizhen.indicators.tests.test_loads_support import (
    DATASET,
    FIELDS,
    HEADER,
    app_state,
    audit_count,
    data_urls,  # noqa: F401 - fixture
    datasets,  # noqa: F401 - fixture
    record,
    store_dir,  # noqa: F401 - fixture
    store_rows,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_urls", "datasets")]

PUSH = f"/api/v1/datasets/{DATASET}/records"


def _token(personas: Any, department: Any, scopes: list[str]) -> str:
    _token_row, secret = create_api_token(
        actor=personas["sysadmin"], name="办件推送", department=department, scopes=scopes
    )
    return secret


@pytest.fixture
def push_token(personas: Any, city: Any) -> str:
    return _token(personas, city["a_dept"], ["records:write"])


def _push(client: Client, body: Any, secret: str | None = None, path: str = PUSH) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def _get(client: Client, path: str, secret: str | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return client.get(path, **headers)


def test_push_is_accepted_loaded_by_the_worker_and_idempotent(push_token, city):
    body = {"records": [record("A1"), record("A2", region_code="P449951"), record("A3")]}
    first = _push(Client(), body, push_token)
    assert first.status_code == 202
    answer = first.json()
    batch = LoadBatch.objects.get()
    assert answer["batch_id"] == batch.pk
    assert answer["status"] == "queued"
    assert answer["channel"] == "api"
    assert answer["summary"] == {
        "rows": 3,
        "imported": 0,
        "updated": 0,
        "ignored": 0,
        "rejected": 0,
        "errors": 0,
    }
    assert answer["errors"] == []
    assert batch.department == city["a_dept"]
    assert store_rows() == []

    assert run_pending() == 2  # the load, then the recompute it scheduled
    batch.refresh_from_db()
    assert batch.status == LoadStatus.LOADED
    assert (batch.rows_total, batch.imported, batch.updated, batch.ignored, batch.rejected) == (
        3,
        3,
        0,
        0,
        0,
    )
    assert store_rows() == [
        ("A1", "449901", batch.pk),
        ("A2", "P449951", batch.pk),
        ("A3", "449901", batch.pk),
    ]
    report = _get(Client(), f"/api/v1/batches/{batch.pk}", push_token).json()
    assert report["status"] == "loaded"
    assert report["summary"] == {
        "rows": 3,
        "imported": 3,
        "updated": 0,
        "ignored": 0,
        "rejected": 0,
        "errors": 0,
    }

    before, rows_before = app_state(), store_rows()
    again = _push(Client(), body, push_token)
    assert again.status_code == 200
    assert again.json()["batch_id"] == batch.pk
    assert again.json()["status"] == "loaded"
    assert run_pending() == 0
    assert app_state() == before
    assert store_rows() == rows_before


def test_a_changed_record_replaces_the_earlier_version(push_token):
    _push(Client(), {"records": [record("A1"), record("A2")]}, push_token)
    run_pending()
    response = _push(
        Client(), {"records": [record("A1"), record("A2", region_code="P449951")]}, push_token
    )
    assert response.status_code == 202
    run_pending()
    second = LoadBatch.objects.get(pk=response.json()["batch_id"])
    assert (second.imported, second.updated, second.ignored) == (0, 1, 1)
    first = LoadBatch.objects.exclude(pk=second.pk).get()
    assert store_rows() == [("A1", "449901", first.pk), ("A2", "P449951", second.pk)]


def test_records_may_use_chinese_column_names(push_token):
    chinese = {label: record("C1")[name] for name, label in zip(FIELDS, HEADER, strict=True)}
    response = _push(Client(), {"records": [chinese]}, push_token)
    assert response.status_code == 202
    run_pending()
    assert store_rows() == [("C1", "449901", response.json()["batch_id"])]


def test_an_invalid_record_rejects_the_whole_batch_with_row_field_and_code(push_token):
    before = app_state()
    body = {
        "records": [
            record("A1"),
            record("A2", region_code="999999", submitted_at="2025-13-45"),
            record("A3", channel="传真"),
        ]
    }
    response = _push(Client(), body, push_token)
    assert response.status_code == 422
    answer = response.json()
    assert answer["status"] == "rejected"
    assert answer["summary"] == {
        "rows": 3,
        "imported": 0,
        "updated": 0,
        "ignored": 0,
        "rejected": 3,
        "errors": 3,
    }
    assert [(e["row"], e["field"], e["code"], e["value"]) for e in answer["errors"]] == [
        (2, "region_code", "unknown_region", "999999"),
        (2, "submitted_at", "invalid_datetime", "2025-13-45"),
        (3, "channel", "not_allowed", "传真"),
    ]
    assert answer["errors"][0]["message"] == "未知的区划代码 999999"
    assert answer["errors"][2]["message"] == "办件来源取值应为 窗口/网上/移动端/自助终端，实为 传真"
    assert answer["errors_truncated"] is False
    # Nothing queued, nothing in the store; only the rejected batch and its report exist.
    assert run_pending() == 0
    assert store_rows() == []
    after = app_state()
    assert after["jobs"] == before["jobs"]
    assert after["quarantine"] == []
    assert [b[1] for b in after["batches"]] == ["rejected"]


def test_a_missing_required_field_in_every_record_is_one_file_level_error(push_token):
    response = _push(Client(), {"records": [{"case_id": "A1"}]}, push_token)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["row"], error["code"]) == (0, "missing_columns")
    assert error["message"].startswith("缺少必填列：事项编码、事项名称、区划代码")
    assert response.json()["summary"]["rejected"] == 1


def test_lenient_push_loads_valid_records_and_quarantines_the_rest(push_token):
    body = {
        "records": [record("A1"), record("A2", department_code="NOPE"), record("A3")],
        "mode": "lenient",
    }
    response = _push(Client(), body, push_token)
    assert response.status_code == 202
    answer = response.json()
    assert [(e["row"], e["field"], e["code"]) for e in answer["errors"]] == [
        (2, "department_code", "unknown_department")
    ]
    run_pending()
    batch = LoadBatch.objects.get()
    assert batch.status == LoadStatus.LOADED
    assert (batch.imported, batch.rejected, batch.error_count) == (2, 1, 1)
    [row] = QuarantineRow.objects.all()
    assert (row.batch_id, row.row, row.status) == (batch.pk, 2, QuarantineStatus.OPEN)
    assert row.data["case_id"] == "A2"
    assert row.errors == [
        {
            "field": "department_code",
            "code": "unknown_department",
            "message": "未知的部门（实施机构）编码 NOPE",
        }
    ]
    assert store_rows() == [("A1", "449901", batch.pk), ("A3", "449901", batch.pk)]


def test_dry_run_validates_without_loading(push_token):
    response = _push(Client(), {"records": [record("A1")], "dry_run": True}, push_token)
    assert response.status_code == 202
    run_pending()
    batch = LoadBatch.objects.get()
    assert batch.status == LoadStatus.VALIDATED
    assert batch.imported == 1
    assert store_rows() == []


def test_ten_thousand_records_in_one_push(push_token):
    records = [record(f"B{i:05d}") for i in range(10_000)]
    response = _push(Client(), {"records": records}, push_token)
    assert response.status_code == 202, response.content[:500]
    run_pending()
    batch = LoadBatch.objects.get()
    assert (batch.status, batch.imported, batch.rejected) == (LoadStatus.LOADED, 10_000, 0)
    rows = store_rows()
    assert len(rows) == 10_000
    assert (rows[0][0], rows[-1][0]) == ("B00000", "B09999")


def test_more_records_than_allowed_is_413_and_changes_nothing(push_token):
    before = app_state()
    records = [record(f"B{i}") for i in range(loads.MAX_API_RECORDS + 1)]
    response = _push(Client(), {"records": records}, push_token)
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"一次最多推送 {loads.MAX_API_RECORDS} 条记录，本次 "
        f"{loads.MAX_API_RECORDS + 1} 条，请分批推送"
    }
    assert app_state() == before


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"records": []}, "records 不能为空"),
        (
            {"records": [{"case_id": "A1"}], "mode": "loose"},
            "mode 应为 strict（严格）或 lenient（宽松）",
        ),
    ],
)
def test_malformed_requests_are_400(push_token, body, detail):
    before = app_state()
    response = _push(Client(), body, push_token)
    assert (response.status_code, response.json()) == (400, {"detail": detail})
    assert app_state() == before


def test_unknown_dataset_is_404(push_token):
    before = app_state()
    response = _push(
        Client(), {"records": [record("A1")]}, push_token, "/api/v1/datasets/nope/records"
    )
    assert response.status_code == 404
    assert app_state() == before


def test_a_token_without_records_write_gets_404(personas, city):
    secret = _token(personas, city["a_dept"], ["read"])
    before, denied = app_state(), audit_count("access.denied")
    response = _push(Client(), {"records": [record("A1")]}, secret)
    assert response.status_code == 404
    assert app_state() == before
    assert audit_count("access.denied") == denied + 1


def test_anonymous_push_is_401(city):
    before = app_state()
    response = _push(Client(), {"records": [record("A1")]})
    assert response.status_code == 401
    assert app_state() == before


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("coordinator", 202),
        ("sysadmin", 202),
        ("leader", 404),
        ("lead_department", 404),
        ("responsible_department", 404),
        ("district_a", 404),
        ("district_b", 404),
        ("enterprise", 404),
    ],
)
def test_people_push_with_their_session(client_for, personas, persona, expected):
    before, denied = app_state(), audit_count("access.denied")
    response = _push(client_for(persona), {"records": [record("A1")]})
    assert response.status_code == expected
    if expected == 404:
        assert app_state() == before
        assert audit_count("access.denied") == denied + 1
    else:
        batch = LoadBatch.objects.get()
        assert (batch.channel, batch.created_by) == (LoadChannel.API, personas[persona])
        run_pending()
        assert [r[0] for r in store_rows()] == ["A1"]


# --- reads ----------------------------------------------------------------------------------


@pytest.fixture
def loaded_batch(push_token: str) -> LoadBatch:
    body = {"records": [record("A1"), record("A2", visits=-1)], "mode": "lenient"}
    _push(Client(), body, push_token)
    run_pending()
    return LoadBatch.objects.get()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("leader", 200),
        ("coordinator", 200),
        ("sysadmin", 200),
        ("responsible_department", 200),  # 东湖区市场监督管理局 sent it
        ("district_a", 200),  # the sending department lies in 东湖区
        ("lead_department", 404),
        ("district_b", 404),
        ("enterprise", 404),
        (None, 401),
    ],
)
def test_batch_report_is_scoped_like_the_pages(client_for, persona, expected, loaded_batch):
    client = client_for(persona) if persona else Client()
    response = client.get(f"/api/v1/batches/{loaded_batch.pk}")
    assert response.status_code == expected
    if expected == 200:
        answer = response.json()
        assert answer["summary"]["imported"] == 1
        assert answer["summary"]["rejected"] == 1
        assert [(e["row"], e["field"], e["code"]) for e in answer["errors"]] == [
            (2, "visits", "below_minimum")
        ]


def test_batch_report_for_tokens(personas, city, loaded_batch, push_token):
    same = _get(Client(), f"/api/v1/batches/{loaded_batch.pk}", push_token)
    assert same.status_code == 200
    reader = _token(personas, city["a_dept"], ["read"])
    assert _get(Client(), f"/api/v1/batches/{loaded_batch.pk}", reader).status_code == 200
    other = _token(personas, city["b_dept"], ["records:write"])
    denied = audit_count("access.denied")
    assert _get(Client(), f"/api/v1/batches/{loaded_batch.pk}", other).status_code == 404
    assert audit_count("access.denied") == denied + 1
    unrelated = _token(personas, city["a_dept"], ["tasks:write"])
    assert _get(Client(), f"/api/v1/batches/{loaded_batch.pk}", unrelated).status_code == 404


def test_batch_errors_page_through_every_error(push_token):
    records = [record(f"E{i}", visits=-1) for i in range(7)]
    _push(Client(), {"records": records}, push_token)
    batch = LoadBatch.objects.get()
    first = _get(Client(), f"/api/v1/batches/{batch.pk}/errors?limit=5", push_token).json()
    second = _get(
        Client(), f"/api/v1/batches/{batch.pk}/errors?limit=5&offset=5", push_token
    ).json()
    assert first["meta"] == {"count": 7, "limit": 5, "offset": 0}
    assert [e["row"] for e in first["items"]] == [1, 2, 3, 4, 5]
    assert [e["row"] for e in second["items"]] == [6, 7]
    assert {e["code"] for e in first["items"] + second["items"]} == {"below_minimum"}


def test_datasets_list_their_schemas(personas, city, push_token):
    response = _get(Client(), "/api/v1/datasets", push_token)
    assert response.status_code == 200
    by_code = {d["code"]: d for d in response.json()}
    assert sorted(by_code) == [
        "bidding",
        "construction_permits",
        "court_cases",
        "enterprise_startup",
        "gov_service_cases",
        "ip_pledges",
        "labour_cases",
        "market_supervision",
        "procurement",
        "property_registrations",
        "tax_filings",
        "utility_connections",
    ]
    cases = by_code[DATASET]
    assert (cases["version"], cases["key"], cases["department_field"]) == (
        1,
        "case_id",
        "department_code",
    )
    assert [f["name"] for f in cases["fields"]] == FIELDS
    channel = next(f for f in cases["fields"] if f["name"] == "channel")
    assert channel == {
        "name": "channel",
        "label": "办件来源",
        "type": "string",
        "required": True,
        "allowed": ["窗口", "网上", "移动端", "自助终端"],
        "aliases": ["instance_source"],
        "minimum": None,
    }
    task_token = _token(personas, city["a_dept"], ["tasks:write"])
    assert _get(Client(), "/api/v1/datasets", task_token).status_code == 404


@pytest.mark.parametrize(("persona", "expected"), [("district_a", 200), ("enterprise", 404)])
def test_datasets_for_people(client_for, persona, expected):
    assert client_for(persona).get("/api/v1/datasets").status_code == expected


def test_freshness_before_and_after_a_load(push_token):
    path = f"/api/v1/datasets/{DATASET}/freshness"
    before = _get(Client(), path, push_token).json()
    assert before == {
        "dataset": DATASET,
        "last_load_at": None,
        "last_batch_id": None,
        "rows_last_load": 0,
        "rows_loaded": 0,
        "loads": 0,
        "lag_days": None,
        "stale": True,
        "stale_after_days": 3,
    }
    _push(Client(), {"records": [record("A1"), record("A2")]}, push_token)
    run_pending()
    batch = LoadBatch.objects.get()
    after = _get(Client(), path, push_token).json()
    assert after["last_batch_id"] == batch.pk
    assert (after["rows_last_load"], after["rows_loaded"], after["loads"]) == (2, 2, 1)
    assert (after["lag_days"], after["stale"]) == (0, False)
    assert _get(Client(), "/api/v1/datasets/nope/freshness", push_token).status_code == 404


def test_identical_content_from_two_departments_makes_two_readable_batches(personas, city):
    body = {"records": [record("S1")]}
    east = _token(personas, city["a_dept"], ["records:write"])
    west = _token(personas, city["market"], ["records:write"])  # a city department
    first = _push(Client(), body, east)
    second = _push(Client(), body, west)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["batch_id"] != second.json()["batch_id"]
    assert _get(Client(), f"/api/v1/batches/{second.json()['batch_id']}", west).status_code == 200
    # And each still cannot read the other's.
    assert _get(Client(), f"/api/v1/batches/{first.json()['batch_id']}", west).status_code == 404


def test_a_district_department_cannot_send_another_districts_records(personas, city):
    west = _token(personas, city["b_dept"], ["records:write"])
    response = _push(Client(), {"records": [record("W1")]}, west)  # a 东湖区 case
    assert response.status_code == 422
    assert [(e["row"], e["field"], e["code"]) for e in response.json()["errors"]] == [
        (1, "region_code", "region_out_of_scope")
    ]
    assert store_rows() == []


def test_an_over_long_string_field_rejects_the_batch(push_token):
    before = app_state()
    body = {"records": [record("A1", item_name="名" * 2400), record("A2")]}
    response = _push(Client(), body, push_token)
    assert response.status_code == 422
    assert [(e["row"], e["field"], e["code"], e["message"]) for e in response.json()["errors"]] == [
        (1, "item_name", "too_long", "事项名称长度不能超过 200 个字符，实为 2400")
    ]
    assert store_rows() == []
    assert [b[1] for b in app_state()["batches"]] == ["rejected"]
    assert app_state()["jobs"] == before["jobs"]
