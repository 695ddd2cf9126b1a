"""evaluate_dispatch: trains on one CSV, reports accuracy on another; bad CSVs fail clearly."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sizhen.dispatch import evaluation, synthetic

#: Established on the generated data (see docs/benchmarks.md, issue 6: 0.93 top-1 with the
#: default catalogue); the floor leaves room for small changes to the generator or the model.
TOP1_FLOOR = 0.85
TOP3_FLOOR = 0.95


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("evaluate_dispatch", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    return synthetic.write_train_test(tmp_path, train_per_department=30, test_per_department=8)


@pytest.mark.django_db
def test_json_report_has_every_metric_in_range_and_beats_the_baseline(
    catalogue_city: dict[str, Any], csvs: tuple[Path, Path]
) -> None:
    train, test = csvs
    report = json.loads(_run("--train", str(train), "--test", str(test), "--json"))

    assert report["train"]["rows"] == 30 * len(synthetic.DEPARTMENTS)
    assert report["test"]["rows"] == 8 * len(synthetic.DEPARTMENTS)
    assert report["labels_matched_to_departments"] == len(synthetic.DEPARTMENTS)
    for block in (
        report["department"],
        report["category"],
        report["baseline"]["department"],
        report["baseline"]["category"],
        report["catalogue_only"]["department"],
    ):
        assert set(block) == {"top1", "top3", "macro_f1", "n"}
        for key in ("top1", "top3", "macro_f1"):
            assert 0.0 <= block[key] <= 1.0
    assert report["department"]["top1"] >= TOP1_FLOOR
    assert report["department"]["top3"] >= TOP3_FLOOR
    assert report["department"]["top1"] > report["baseline"]["department"]["top1"] + 0.15
    assert report["category"]["top1"] > report["baseline"]["category"]["top1"]
    assert len(report["per_department"]) == len(synthetic.DEPARTMENTS)
    assert all(row["catalogue"] for row in report["per_department"])
    assert {row["name"] for row in report["per_department"]} == set(synthetic.DEPARTMENTS)


@pytest.mark.django_db
def test_text_report_prints_the_summary_and_the_per_department_table(
    city: dict[str, Any], tmp_path: Path
) -> None:
    # Without a catalogue every label is plain; the command still trains from history alone.
    train = synthetic.write_csv(tmp_path / "a.csv", synthetic.generate("train", per_department=12))
    test = synthetic.write_csv(tmp_path / "b.csv", synthetic.generate("test", per_department=3))

    text = _run("--train", str(train), "--test", str(test))

    assert "部门（本模型）" in text
    assert "部门（字符基线）" in text
    assert "单条推理耗时" in text
    assert "水务集团" in text
    # 市场监督管理局 and 税务局 exist in the persona city: matched, the rest plain labels.
    assert "匹配到平台部门的标签 2 个" in text


@pytest.mark.django_db
def test_gbk_and_bom_files_are_read(city: dict[str, Any], tmp_path: Path) -> None:
    rows = synthetic.generate("train", per_department=4)
    gbk = synthetic.write_csv(tmp_path / "gbk.csv", rows, encoding="gbk")
    bom = synthetic.write_csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig")

    report = json.loads(_run("--train", str(gbk), "--test", str(bom), "--json"))

    assert report["train"]["rows"] == report["test"]["rows"] == len(rows)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,category\n你好,0403\n", "缺少列 dept"),
        ("内容,部门\n你好,税务局\n", "缺少列 text, dept, category"),
        ("text,dept,category\n,,\n", "没有可用的数据行"),
    ],
)
@pytest.mark.django_db
def test_bad_csv_gives_a_clear_error_and_exit_code_2(
    city: dict[str, Any], tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    good = synthetic.write_csv(tmp_path / "good.csv", synthetic.generate("test", per_department=2))

    with pytest.raises(CommandError) as caught:
        _run("--train", str(bad), "--test", str(good))

    assert message in str(caught.value)
    assert caught.value.returncode == 2


@pytest.mark.django_db
def test_unreadable_and_undecodable_files(city: dict[str, Any], tmp_path: Path) -> None:
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x30\x81")

    with pytest.raises(CommandError) as missing:
        _run("--train", str(tmp_path / "nope.csv"), "--test", str(binary))
    with pytest.raises(CommandError) as undecodable:
        _run("--train", str(binary), "--test", str(binary))

    assert "无法读取文件" in str(missing.value)
    assert missing.value.returncode == 2
    assert "无法识别文件编码" in str(undecodable.value)


def test_confusion_counts_recall_and_where_each_department_went() -> None:
    names = {"A": "甲局", "B": "乙局", "C": "丙局"}
    truth = ["A", "A", "A", "A", "B", "B", "C", "A", "B"]
    predicted = ["A", "B", "C", "B", "B", "A", "C", "", "C"]

    rows = evaluation.confusion(truth, predicted, names.__getitem__)

    # Rows by name (code point order: 丙 < 乙 < 甲), "no suggestion" counted like a department.
    assert rows == [
        {
            "label": "C",
            "name": "丙局",
            "n": 1,
            "correct": 1,
            "recall": 1.0,
            "confused_with": [],
        },
        {
            "label": "B",
            "name": "乙局",
            "n": 3,
            "correct": 1,
            "recall": 0.3333,
            "confused_with": [{"name": "丙局", "n": 1}, {"name": "甲局", "n": 1}],
        },
        {
            "label": "A",
            "name": "甲局",
            "n": 5,
            "correct": 1,
            "recall": 0.2,
            "confused_with": [
                {"name": "乙局", "n": 2},
                {"name": "丙局", "n": 1},
                {"name": "（无建议）", "n": 1},
            ],
        },
    ]


@pytest.mark.django_db
def test_report_has_per_department_confusion_beside_the_baseline(
    city: dict[str, Any], tmp_path: Path
) -> None:
    train = tmp_path / "train.csv"
    train.write_text(
        "text,dept,category\n"
        + "".join(f"增值税发票问题{i},税务局,0403\n" for i in range(6))
        + "".join(f"停电了没人修{i},供电公司,0302\n" for i in range(6)),
        encoding="utf-8",
    )
    test = tmp_path / "test.csv"
    test.write_text(
        "text,dept,category\n发票开不出来,税务局,0403\n又停电了,供电公司,0302\n"
        "电费发票开不出来,供电公司,0302\n",
        encoding="utf-8",
    )

    report = json.loads(
        _run("--train", str(train), "--test", str(test), "--json", "--default-catalogue")
    )
    text = _run("--train", str(train), "--test", str(test), "--default-catalogue")

    assert report["catalogue"] == "default"
    assert report["labels_matched_to_departments"] == 0
    rows = {row["name"]: row for row in report["per_department"]}
    assert set(rows) == {"税务局", "供电公司"}
    assert rows["供电公司"]["n"] == 2
    assert rows["税务局"]["n"] == 1
    for row in rows.values():
        wrong = sum(item["n"] for item in row["confused_with"])
        assert row["top1"] == round((row["n"] - wrong) / row["n"], 4)
        base_wrong = sum(item["n"] for item in row["baseline"]["confused_with"])
        assert row["baseline"]["top1"] == round((row["n"] - base_wrong) / row["n"], 4)
    assert report["latency_ms"]["median"] <= report["latency_ms"]["p95"]
    assert "误派去向" in text
    assert "基线首选" in text
    assert "派单目录：随附默认目录" in text
