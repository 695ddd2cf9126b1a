"""Lenient loads and the quarantine (隔离区): invalid rows wait there, are corrected in a form
and re-submitted through the same validation path, or discarded."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sizhen.core.jobs import run_pending
from sizhen.indicators.ingestion.choices import LoadChannel, LoadStatus, QuarantineStatus
from sizhen.indicators.ingestion.models import LoadBatch, QuarantineRow
from sizhen.indicators.tests.test_loads_support import (
    DATASET,
    FIELDS,
    app_state,
    audit_count,
    csv_bytes,
    data_urls,  # noqa: F401 - fixture
    datasets,  # noqa: F401 - fixture
    record,
    store_dir,  # noqa: F401 - fixture
    store_rows,
)
from sizhen.organisations import services as organisations
from sizhen.organisations.choices import DepartmentType

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_urls", "datasets")]

QUARANTINE = f"/monitoring/data/datasets/{DATASET}/quarantine/"


def _lenient_upload(client: Any, records: list[dict[str, Any]]) -> LoadBatch:
    response = client.post(
        "/monitoring/data/loads/upload/",
        {
            "dataset": DATASET,
            "mode": "lenient",
            "file": SimpleUploadedFile("lenient.csv", csv_bytes(records)),
        },
    )
    assert response.status_code == 302
    run_pending()
    return LoadBatch.objects.order_by("-pk").first()


def _form(row: QuarantineRow, **changes: Any) -> dict[str, Any]:
    data = {name: row.data.get(name) or "" for name in FIELDS}
    data.update(changes)
    return data


@pytest.fixture
def quarantined(client_for: Any) -> tuple[LoadBatch, QuarantineRow]:
    batch = _lenient_upload(
        client_for("responsible_department"),
        [record("Q1"), record("Q2", region_code="440000", visits="一"), record("Q3")],
    )
    return batch, QuarantineRow.objects.get()


def test_lenient_load_keeps_the_bad_row_in_quarantine(client_for, quarantined):
    batch, row = quarantined
    assert batch.status == LoadStatus.LOADED
    assert (batch.rows_total, batch.imported, batch.rejected, batch.error_count) == (3, 2, 1, 2)
    assert batch.message == "已入库：新增 2，更新 0，未变化 0，1 行进入隔离区"
    assert (row.row, row.status, row.dataset.code) == (3, QuarantineStatus.OPEN, DATASET)
    assert row.data["region_code"] == "440000"
    assert sorted(e["code"] for e in row.errors) == ["invalid_integer", "unknown_region"]
    assert store_rows() == [("Q1", "449901", batch.pk), ("Q3", "449901", batch.pk)]

    page = client_for("responsible_department").get(QUARANTINE).content.decode()
    assert f"/monitoring/data/quarantine/{row.pk}/" in page
    assert "区划代码：未知的区划代码 440000" in page
    assert "跑动次数：跑动次数应为整数，实为 一" in page
    detail = client_for("responsible_department").get(f"/monitoring/data/loads/{batch.pk}/")
    assert "到隔离区更正（1 条）" in detail.content.decode()


def test_the_corrected_row_loads_on_resubmit(client_for, quarantined):
    batch, row = quarantined
    client = client_for("responsible_department")
    form = client.get(f"/monitoring/data/quarantine/{row.pk}/")
    assert form.status_code == 200
    assert form.context["form"].initial["region_code"] == "440000"

    response = client.post(
        f"/monitoring/data/quarantine/{row.pk}/",
        _form(row, region_code="P449951", visits="1", action="resubmit"),
    )
    resubmitted = LoadBatch.objects.order_by("-pk").first()
    assert resubmitted.pk != batch.pk
    assert response.status_code == 302
    assert response["Location"] == f"/monitoring/data/loads/{resubmitted.pk}/"
    assert (resubmitted.channel, resubmitted.mode, resubmitted.status) == (
        LoadChannel.QUARANTINE,
        "strict",
        LoadStatus.QUEUED,
    )
    row.refresh_from_db()
    assert (row.status, row.resubmitted_batch_id) == (QuarantineStatus.RESUBMITTED, resubmitted.pk)

    run_pending()
    resubmitted.refresh_from_db()
    assert (resubmitted.status, resubmitted.imported) == (LoadStatus.LOADED, 1)
    assert store_rows() == [
        ("Q1", "449901", batch.pk),
        ("Q2", "P449951", resubmitted.pk),
        ("Q3", "449901", batch.pk),
    ]
    assert "隔离区没有待处理的记录" in client.get(QUARANTINE).content.decode()


def test_a_correction_that_is_still_wrong_keeps_the_row_open(client_for, quarantined):
    _batch, row = quarantined
    client = client_for("responsible_department")
    rows_before = store_rows()
    response = client.post(
        f"/monitoring/data/quarantine/{row.pk}/",
        _form(row, region_code="449902", visits="-3", action="resubmit"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["visits"] == ["跑动次数不能小于 0"]
    row.refresh_from_db()
    assert (row.status, row.resubmitted_batch_id) == (QuarantineStatus.OPEN, None)
    rejected = LoadBatch.objects.order_by("-pk").first()
    assert (rejected.status, rejected.channel) == (LoadStatus.REJECTED, LoadChannel.QUARANTINE)
    assert run_pending() == 0
    assert store_rows() == rows_before


def test_discarding_a_row_removes_it_from_the_open_list(client_for, quarantined):
    _batch, row = quarantined
    client = client_for("coordinator")
    rows_before = store_rows()
    discarded = audit_count("records.quarantine_discard")
    response = client.post(f"/monitoring/data/quarantine/{row.pk}/", {"action": "discard"})
    assert response.status_code == 302
    assert response["Location"] == QUARANTINE
    row.refresh_from_db()
    assert row.status == QuarantineStatus.DISCARDED
    assert audit_count("records.quarantine_discard") == discarded + 1
    assert store_rows() == rows_before
    # A discarded row cannot be re-submitted any more.
    before = app_state()
    again = client.post(
        f"/monitoring/data/quarantine/{row.pk}/",
        _form(row, region_code="449901", visits="1", action="resubmit"),
    )
    assert again.status_code == 302
    assert app_state() == before


def test_rows_resubmitted_as_they_are_after_the_department_is_registered(client_for, city):
    client = client_for("coordinator")
    batch = _lenient_upload(
        client,
        [
            record("N1"),
            record("N2", department_code="DH-ZJ"),
            record("N3", department_code="DH-ZJ"),
        ],
    )
    assert (batch.imported, batch.rejected) == (1, 2)
    ids = list(QuarantineRow.objects.order_by("row").values_list("pk", flat=True))
    organisations.create_department(
        actor=None,
        code="DH-ZJ",
        name="东湖区住房和城乡建设局",
        type=DepartmentType.DISTRICT_DEPARTMENT,
        region=city["district_a"],
    )
    response = client.post(
        f"{QUARANTINE}bulk/", {"rows": [str(pk) for pk in ids], "action": "resubmit"}
    )
    resubmitted = LoadBatch.objects.order_by("-pk").first()
    assert response["Location"] == f"/monitoring/data/loads/{resubmitted.pk}/"
    run_pending()
    resubmitted.refresh_from_db()
    assert (resubmitted.status, resubmitted.imported) == (LoadStatus.LOADED, 2)
    assert [r[0] for r in store_rows()] == ["N1", "N2", "N3"]
    assert set(QuarantineRow.objects.values_list("status", flat=True)) == {
        QuarantineStatus.RESUBMITTED
    }


def test_bulk_discard(client_for):
    client = client_for("coordinator")
    _lenient_upload(client, [record("N1"), record("N2", status="?"), record("N3", status="?")])
    ids = [str(pk) for pk in QuarantineRow.objects.values_list("pk", flat=True)]
    response = client.post(f"{QUARANTINE}bulk/", {"rows": ids, "action": "discard"})
    assert response.status_code == 302
    assert set(QuarantineRow.objects.values_list("status", flat=True)) == {
        QuarantineStatus.DISCARDED
    }


@pytest.mark.parametrize(
    "persona", ["lead_department", "leader", "district_a", "district_b", "enterprise"]
)
def test_others_cannot_touch_the_quarantined_row(client_for, quarantined, persona):
    _batch, row = quarantined
    client = client_for(persona)
    before, rows_before, denied = app_state(), store_rows(), audit_count("access.denied")
    assert client.get(f"/monitoring/data/quarantine/{row.pk}/").status_code == 404
    post = client.post(
        f"/monitoring/data/quarantine/{row.pk}/",
        _form(row, region_code="449901", action="resubmit"),
    )
    assert post.status_code == 404
    bulk = client.post(f"{QUARANTINE}bulk/", {"rows": [str(row.pk)], "action": "discard"})
    assert bulk.status_code == 404
    assert app_state() == before
    assert store_rows() == rows_before
    assert audit_count("access.denied") == denied + 3
    if persona == "lead_department":
        # A department sees only its own quarantine.
        listing = client.get(QUARANTINE)
        assert listing.status_code == 200
        assert "隔离区没有待处理的记录" in listing.content.decode()


def test_anonymous_is_sent_to_login(quarantined):
    from django.test import Client

    _batch, row = quarantined
    before = app_state()
    response = Client().post(f"/monitoring/data/quarantine/{row.pk}/", {"action": "discard"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert app_state() == before
