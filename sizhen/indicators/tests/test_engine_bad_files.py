"""Bad files give a report and leave the analytical store exactly as it was."""

from __future__ import annotations

import duckdb
import pytest

from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.models import Dataset
from sizhen.indicators.tests.test_engine_golden import HEADER, ROWS

GOOD = ROWS[0]


def _stored() -> list[tuple]:
    with store.open_store() as con:
        return con.execute(
            "SELECT case_id, completed_at, _batch_id FROM records_gov_service_cases ORDER BY 1"
        ).fetchall()


def _submit(path, name=None):
    batch, _ = loads.submit_file(
        actor=None,
        dataset=Dataset.objects.get(code="gov_service_cases"),
        source=path,
        file_name=name or path.name,
        enqueue_job=False,
    )
    return loads.run_load(batch.pk)


@pytest.fixture
def loaded(city, store_dir, tmp_path):
    ensure_builtin_datasets()
    path = tmp_path / "good.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    assert _submit(path).status == LoadStatus.LOADED
    return _stored()


BAD_CASES = {
    "utf16": (lambda: ("\n".join([HEADER, GOOD]) + "\n").encode("utf-16"), "bad_encoding"),
    "missing_column": (
        lambda: (
            "\n".join([HEADER.replace(",办件状态", ""), GOOD.rsplit(",", 1)[0]]) + "\n"
        ).encode(),
        "missing_columns",
    ),
    "bad_date": (
        lambda: (
            "\n".join([HEADER, GOOD.replace("2025-09-28 09:00:00", "2025-13-45 25:00")]) + "\n"
        ).encode(),
        "invalid_datetime",
    ),
    "unknown_region": (
        lambda: ("\n".join([HEADER, GOOD.replace(",449901,", ",449999,")]) + "\n").encode(),
        "unknown_region",
    ),
    "duplicates": (
        lambda: (
            "\n".join([HEADER, GOOD.replace("G1,", "Z1,"), GOOD.replace("G1,", "Z1,")]) + "\n"
        ).encode(),
        "duplicate_key",
    ),
    "gbk_with_bad_status": (
        lambda: ("\n".join([HEADER, GOOD.replace(",办结", ",已完成")]) + "\n").encode("gbk"),
        "not_allowed",
    ),
    "empty": (lambda: b"", "empty_file"),
    "ragged_row": (
        lambda: ("\n".join([HEADER, GOOD + ",extra,cells"]) + "\n").encode(),
        "malformed_csv",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_csv_is_reported_and_changes_nothing(loaded, tmp_path, case):
    build, code = BAD_CASES[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(build())
    batch = _submit(path)
    assert batch.status == LoadStatus.REJECTED
    assert code in set(batch.errors.values_list("code", flat=True))
    assert all(e.message for e in batch.errors.all())
    assert _stored() == loaded


@pytest.mark.django_db
def test_corrupt_xlsx_is_reported_and_changes_nothing(loaded, tmp_path):
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    batch = _submit(path)
    assert (batch.status, list(batch.errors.values_list("code", flat=True))) == (
        LoadStatus.REJECTED,
        ["corrupt_xlsx"],
    )
    assert _stored() == loaded


@pytest.mark.django_db
def test_a_200_mb_file_with_one_bad_row_is_rejected_whole(loaded, tmp_path):
    path = tmp_path / "big.csv"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'B' || i AS 办件编号, 'SCJG-001' AS 事项编码, '企业设立登记（' || repeat('长', 12) || '）' AS 事项名称,
        '449901' AS 区划代码, 'DH-SCJG' AS 实施机构编码, '企业' AS 申请人类型, '网上' AS 办件来源,
        '2025-03-03 09:00:00' AS 申请时间, '2025-03-03 10:00:00' AS 受理时间,
        CASE WHEN i = 1234567 THEN 'not a date' ELSE '2025-03-05 16:00:00' END AS 办结时间,
        20 AS 法定时限, 5 AS 承诺时限, 0 AS 跑动次数, '办结' AS 办件状态
        FROM range(1500000) t(i)) TO '{path}' (HEADER)"""
    )
    con.close()
    assert path.stat().st_size > 200 * 1024 * 1024
    batch = _submit(path)
    assert batch.status == LoadStatus.REJECTED
    assert list(batch.errors.values_list("row", "field", "code")) == [
        (1234569, "completed_at", "invalid_datetime")
    ]
    assert _stored() == loaded
