"""File import through the upload page: CSV in UTF-8, UTF-8 with BOM and GBK, and XLSX; the
report of a bad file; the progress fragment; the error workbook.

A bad file never changes the analytical store: the tests load a good file first and count the
store's rows again after the worker has processed the bad one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sizhen.core.jobs import run_pending
from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.models import LoadBatch
from sizhen.indicators.tests.test_loads_support import (
    DATASET,
    HEADER,
    app_state,
    csv_bytes,
    data_urls,  # noqa: F401 - fixture
    datasets,  # noqa: F401 - fixture
    read_xlsx,
    record,
    rows_of,
    store_dir,  # noqa: F401 - fixture
    store_rows,
    xlsx_bytes,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_urls", "datasets")]

UPLOAD = "/monitoring/data/loads/upload/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(client: Any, name: str, content: bytes, **fields: Any) -> Any:
    data = {"dataset": DATASET, "mode": "strict", **fields}
    data["file"] = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(UPLOAD, data)


def _uploaded_batch(response: Any) -> LoadBatch:
    assert response.status_code == 302, (
        getattr(response, "context", None) and response.context["form"].errors
    )
    batch = LoadBatch.objects.order_by("-pk").first()
    assert batch is not None
    assert response["Location"] == f"/monitoring/data/loads/{batch.pk}/"
    return batch


# Both in 东湖区's subtree (the district and its park): the uploading department's scope.
GOOD = [record("F1"), record("F2", region_code="P449951")]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("办件-utf8.csv", csv_bytes(GOOD, encoding="utf-8")),
        ("办件-bom.csv", csv_bytes(GOOD, encoding="utf-8-sig")),
        ("办件-gbk.csv", csv_bytes(GOOD, encoding="gbk")),
    ],
    ids=["utf8", "utf8-bom", "gbk"],
)
def test_csv_upload_in_every_encoding_loads(client_for, city, name, content):
    client = client_for("responsible_department")
    batch = _uploaded_batch(_upload(client, name, content))
    assert (batch.status, batch.channel, batch.file_name) == (LoadStatus.QUEUED, "file", name)
    assert batch.department == city["a_dept"]
    run_pending()
    batch.refresh_from_db()
    assert batch.status == LoadStatus.LOADED, batch.message
    assert (batch.rows_total, batch.imported, batch.rejected, batch.error_count) == (2, 2, 0, 0)
    assert store_rows() == [("F1", "449901", batch.pk), ("F2", "P449951", batch.pk)]
    page = client.get(f"/monitoring/data/loads/{batch.pk}/")
    assert page.status_code == 200
    assert "已入库：新增 2，更新 0，未变化 0" in page.content.decode()


def test_xlsx_upload_with_typed_cells_loads(client_for):
    rows = rows_of([record("X1"), record("X2")])
    # Spreadsheets hold real dates and numbers, not text.
    for row in rows:
        row[7] = dt.datetime(2025, 10, 9, 8, 0)
        row[8] = dt.datetime(2025, 10, 9, 9, 0)
        row[9] = dt.datetime(2025, 10, 10, 16, 0)
        row[10] = 20.0
    content = xlsx_bytes(HEADER, rows)
    batch = _uploaded_batch(_upload(client_for("coordinator"), "办件.xlsx", content))
    run_pending()
    batch.refresh_from_db()
    assert batch.status == LoadStatus.LOADED, batch.message
    assert (batch.imported, batch.error_count) == (2, 0)
    assert store_rows() == [("X1", "449901", batch.pk), ("X2", "449901", batch.pk)]


def test_the_same_file_twice_is_loaded_once(client_for):
    client = client_for("coordinator")
    content = csv_bytes(GOOD)
    first = _uploaded_batch(_upload(client, "a.csv", content))
    run_pending()
    before, rows = app_state(), store_rows()
    again = _upload(client, "a-copy.csv", content)
    assert again.status_code == 302
    assert again["Location"] == f"/monitoring/data/loads/{first.pk}/"
    assert run_pending() == 0
    assert app_state() == before
    assert store_rows() == rows
    page = client.get(again["Location"])
    assert f"内容相同的文件已于批次 #{first.pk} 提交过，本次未重复导入" in page.content.decode()


def test_dry_run_reports_without_loading(client_for):
    client = client_for("coordinator")
    batch = _uploaded_batch(_upload(client, "a.csv", csv_bytes(GOOD), dry_run="on"))
    run_pending()
    batch.refresh_from_db()
    assert (batch.status, batch.dry_run, batch.imported) == (LoadStatus.VALIDATED, True, 2)
    assert store_rows() == []


BAD_FILES = [
    (
        "missing-column.csv",
        csv_bytes([record("M1")], drop=["region_code"]),
        [(0, "", "missing_columns", "缺少必填列：区划代码")],
    ),
    (
        "bad-dates.csv",
        csv_bytes(
            [record("D1"), record("D2", accepted_at="2025/02/30 09:00", completed_at="昨天")]
        ),
        [
            (
                3,
                "accepted_at",
                "invalid_datetime",
                "受理时间应为日期时间，如 2025-10-09 14:30:00，实为 2025/02/30 09:00",
            ),
            (
                3,
                "completed_at",
                "invalid_datetime",
                "办结时间应为日期时间，如 2025-10-09 14:30:00，实为 昨天",
            ),
        ],
    ),
    (
        "unknown-region.csv",
        csv_bytes([record("R1", region_code="440000"), record("R2")]),
        [(2, "region_code", "unknown_region", "未知的区划代码 440000")],
    ),
    (
        "duplicates.csv",
        csv_bytes([record("K1"), record("K2"), record("K1", visits=2)]),
        [(4, "case_id", "duplicate_key", "办件编号在本批次中重复，首次出现在第 2 行")],
    ),
    (
        "corrupt.xlsx",
        b"PK\x03\x04 this is not a workbook",
        [(0, "", "corrupt_xlsx", "文件不是有效的 Excel（.xlsx）文件，或文件已损坏")],
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "errors"), BAD_FILES, ids=[name for name, _, _ in BAD_FILES]
)
def test_a_bad_file_is_rejected_with_its_report_and_the_store_is_unchanged(
    client_for, name, content, errors
):
    client = client_for("responsible_department")
    good = _uploaded_batch(_upload(client, "good.csv", csv_bytes(GOOD)))
    run_pending()
    rows_before = store_rows()
    assert len(rows_before) == 2

    batch = _uploaded_batch(_upload(client, name, content))
    run_pending()
    batch.refresh_from_db()
    assert batch.status == LoadStatus.REJECTED
    assert (batch.imported, batch.updated, batch.ignored) == (0, 0, 0)
    assert list(batch.errors.values_list("row", "field", "code", "message")) == errors
    assert store_rows() == rows_before
    assert {r[2] for r in store_rows()} == {good.pk}

    page = client.get(f"/monitoring/data/loads/{batch.pk}/").content.decode()
    assert "校验未通过" in page
    for _row, _field, code, message in errors:
        assert code in page
        assert message in page


def test_strict_file_with_some_bad_rows_loads_none(client_for):
    content = csv_bytes([record("S1"), record("S2", status="已办"), record("S3")])
    batch = _uploaded_batch(_upload(client_for("coordinator"), "s.csv", content))
    run_pending()
    batch.refresh_from_db()
    assert (batch.status, batch.rows_total, batch.rejected) == (LoadStatus.REJECTED, 3, 3)
    assert batch.message == "校验未通过：1 个错误，整批拒收（严格模式），分析库未作任何改动"
    assert store_rows() == []


def test_a_file_larger_than_the_limit_is_refused_before_anything_happens(client_for, settings):
    settings.SIZHEN_MAX_UPLOAD_BYTES = 100
    before = app_state()
    response = _upload(client_for("coordinator"), "big.csv", csv_bytes(GOOD))
    assert response.status_code == 200
    [message] = response.context["form"].errors["file"]
    assert message.startswith("文件过大（0")
    # Staff are told whom to ask; the command is in the operations manual, not on the page.
    assert message.endswith("更大的文件请拆分后分批上传，或交给系统管理员在服务器上导入")
    assert "manage.py" not in message
    assert app_state() == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"dataset": "nope"}, "dataset", "请从列表中选择数据集"),
        ({"mode": "loose"}, "mode", "请选择校验模式"),
    ],
)
def test_upload_form_errors_change_nothing(client_for, fields, field, message):
    before = app_state()
    response = _upload(client_for("coordinator"), "a.csv", csv_bytes(GOOD), **fields)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert app_state() == before


def test_other_file_types_are_refused(client_for):
    before = app_state()
    response = _upload(client_for("coordinator"), "a.xls", b"\xd0\xcf\x11\xe0")
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "只支持 CSV（UTF-8 或 GBK 编码）和 XLSX（Excel）文件；.xls 请在 Excel 中另存为 .xlsx"
    ]
    assert app_state() == before


def test_progress_polls_until_the_worker_is_done(client_for):
    client = client_for("responsible_department")
    batch = _uploaded_batch(_upload(client, "a.csv", csv_bytes(GOOD)))
    detail = client.get(f"/monitoring/data/loads/{batch.pk}/").content.decode()
    progress_url = f"/monitoring/data/loads/{batch.pk}/progress/"
    assert f'hx-get="{progress_url}"' in detail
    polling = client.get(progress_url)
    assert polling.status_code == 200
    assert "HX-Refresh" not in polling
    assert 'data-status="queued"' in polling.content.decode()
    assert f'hx-get="{progress_url}"' in polling.content.decode()

    run_pending()
    done = client.get(progress_url)
    assert done["HX-Refresh"] == "true"
    assert 'data-status="loaded"' in done.content.decode()
    assert "hx-get" not in done.content.decode()
    assert "hx-get" not in client.get(f"/monitoring/data/loads/{batch.pk}/").content.decode()


def test_error_workbook_lists_exactly_the_errors(client_for, personas):
    client = client_for("responsible_department")
    content = csv_bytes(
        [
            record("W1", region_code="440000"),
            record("W2"),
            record("W3", visits="两次", promised_limit=30),
        ]
    )
    batch = _uploaded_batch(_upload(client, "w.csv", content))
    run_pending()
    response = client.get(f"/monitoring/data/loads/{batch.pk}/errors.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert read_xlsx(response.content) == [
        ("行号", "字段名称", "说明", "原值", "字段", "错误代码"),
        (2, "区划代码", "未知的区划代码 440000", "440000", "region_code", "unknown_region"),
        (
            4,
            "承诺时限",
            "承诺时限不应超过法定时限",
            "30",
            "promised_limit",
            "promise_exceeds_statute",
        ),
        (4, "跑动次数", "跑动次数应为整数，实为 两次", "两次", "visits", "invalid_integer"),
    ]
    summary = dict(read_xlsx(response.content, sheet=1)[1:])
    assert summary["状态"] == "校验未通过"
    assert (summary["总行数"], summary["拒收"], summary["错误数"]) == (3, 3, 3)
    assert summary["提交人"] == personas["responsible_department"].audit_label


def test_the_upload_script_gets_the_next_address_and_the_message_waits_for_it(client_for):
    client = client_for("coordinator")
    data = {
        "dataset": DATASET,
        "mode": "strict",
        "file": SimpleUploadedFile("a.csv", csv_bytes(GOOD)),
    }
    response = client.post(UPLOAD, data, HTTP_X_SIZHEN_UPLOAD="1")
    batch = LoadBatch.objects.get()
    assert response.status_code == 200
    assert response.json() == {"location": f"/monitoring/data/loads/{batch.pk}/"}
    page = client.get(response.json()["location"]).content.decode()
    assert f"文件已提交（批次 #{batch.pk}），正在后台校验入库" in page


def test_a_load_that_keeps_failing_is_marked_failed(client_for, monkeypatch):
    from django.utils import timezone

    from sizhen.core.models import Job, JobStatus
    from sizhen.indicators.ingestion.engine import ingest

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "merge", broken)
    client = client_for("responsible_department")
    batch = _uploaded_batch(_upload(client, "a.csv", csv_bytes(GOOD)))
    progress_url = f"/monitoring/data/loads/{batch.pk}/progress/"
    assert run_pending() == 1
    batch.refresh_from_db()
    assert batch.status == LoadStatus.RUNNING  # one more attempt is due later
    assert "上次尝试失败，稍后自动重试" in client.get(progress_url).content.decode()

    Job.objects.filter(pk=batch.job_id).update(run_after=timezone.now())
    assert run_pending() == 1
    batch.refresh_from_db()
    assert batch.status == LoadStatus.FAILED
    assert batch.message == (
        f"后台处理失败（RuntimeError），请联系系统管理员查看后台任务 #{batch.job_id}"
    )
    assert list(batch.errors.values_list("row", "code")) == [(0, "load_failed")]
    assert Job.objects.get(pk=batch.job_id).status == JobStatus.FAILED
    assert client.get(progress_url)["HX-Refresh"] == "true"
    assert store_rows() == []
