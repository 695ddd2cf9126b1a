"""python manage.py import_records DATASET FILE [--dry-run] [--lenient] [--json]: the same
validation path as the API and the upload page, run in the command's own process."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sizhen.indicators.ingestion.choices import LoadStatus, QuarantineStatus
from sizhen.indicators.ingestion.models import LoadBatch, QuarantineRow
from sizhen.indicators.management.commands.import_records import Command
from sizhen.indicators.tests.test_loads_support import (
    DATASET,
    app_state,
    csv_bytes,
    datasets,  # noqa: F401 - fixture
    record,
    store_dir,  # noqa: F401 - fixture
    store_rows,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("datasets")]


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _run(*args: Any) -> str:
    out = io.StringIO()
    call_command("import_records", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_json_report_of_a_gbk_file(tmp_path):
    path = _file(tmp_path, "办件.csv", csv_bytes([record("G1"), record("G2")], encoding="gbk"))
    report = json.loads(_run(DATASET, path, "--json"))
    batch = LoadBatch.objects.get()
    assert report == {
        "batch": batch.pk,
        "dataset": DATASET,
        "status": "loaded",
        "already_loaded": False,
        "rows": 2,
        "imported": 2,
        "updated": 0,
        "ignored": 0,
        "rejected": 0,
        "error_count": 0,
        "message": "已入库：新增 2，更新 0，未变化 0",
        "errors": [],
    }
    assert (batch.channel, batch.file_name, batch.created_by_label) == ("file", "办件.csv", "系统")
    assert store_rows() == [("G1", "449901", batch.pk), ("G2", "449901", batch.pk)]

    again = json.loads(_run(DATASET, path, "--json"))
    assert (again["batch"], again["already_loaded"], again["imported"]) == (batch.pk, True, 2)
    assert LoadBatch.objects.count() == 1


def test_text_report(tmp_path):
    path = _file(tmp_path, "a.csv", csv_bytes([record("T1")], encoding="utf-8-sig"))
    output = _run(DATASET, path)
    batch = LoadBatch.objects.get()
    assert output.splitlines() == [
        f"批次 #{batch.pk}：已入库 — 已入库：新增 1，更新 0，未变化 0",
        "总行数 1，新增 1，更新 0，未变化 0，拒收 0，错误 0",
    ]


def test_dry_run_changes_nothing_in_the_store(tmp_path):
    _run(DATASET, _file(tmp_path, "base.csv", csv_bytes([record("D0")])))
    rows = store_rows()
    path = _file(tmp_path, "a.csv", csv_bytes([record("D0", visits=3), record("D1")]))
    report = json.loads(_run(DATASET, path, "--dry-run", "--json"))
    assert (report["status"], report["imported"], report["updated"]) == ("validated", 1, 1)
    assert store_rows() == rows


def test_lenient_loads_the_valid_rows_and_quarantines_the_rest(tmp_path):
    path = _file(tmp_path, "a.csv", csv_bytes([record("L1"), record("L2", applicant_type="机关")]))
    report = json.loads(_run(DATASET, path, "--lenient", "--json"))
    assert (report["status"], report["imported"], report["rejected"]) == ("loaded", 1, 1)
    assert report["errors"] == [
        {
            "row": 3,
            "field": "applicant_type",
            "code": "not_allowed",
            "message": "申请人类型取值应为 个人/企业，实为 机关",
        }
    ]
    [row] = QuarantineRow.objects.all()
    assert (row.row, row.status, row.data["case_id"]) == (3, QuarantineStatus.OPEN, "L2")
    assert [r[0] for r in store_rows()] == ["L1"]


def test_a_rejected_file_prints_its_report_and_fails(tmp_path):
    path = _file(tmp_path, "a.csv", csv_bytes([record("R1"), record("R1", visits=1)]))
    out = io.StringIO()
    with pytest.raises(CommandError, match="导入未通过校验，分析库未作任何改动"):
        call_command("import_records", DATASET, str(path), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["status"] == "rejected"
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(3, "duplicate_key")]
    assert store_rows() == []
    assert LoadBatch.objects.get().status == LoadStatus.REJECTED


def test_the_exit_code_of_a_rejection_is_1(tmp_path, capsys):
    path = _file(tmp_path, "a.csv", csv_bytes([record("R1", region_code="000000")]))
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "import_records", DATASET, str(path)])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "第 2 行 [region_code] unknown_region：未知的区划代码 000000" in captured.out
    assert "导入未通过校验，分析库未作任何改动" in captured.err
    assert store_rows() == []


@pytest.mark.parametrize(
    ("dataset", "name", "message"),
    [
        ("nope", "a.csv", "未知的数据集 nope"),
        (DATASET, "missing.csv", "文件不存在"),
        (DATASET, "a.txt", "只支持 CSV 或 XLSX（Excel）文件"),
    ],
)
def test_bad_arguments_are_command_errors(tmp_path, dataset, name, message):
    if name != "missing.csv":
        _file(tmp_path, name, b"x")
    before = app_state()
    with pytest.raises(CommandError, match=message):
        _run(dataset, tmp_path / name)
    assert app_state() == before
