"""The automatic exam report (考试报告) as XLSX and DOCX, built with the shared document
helpers from the results the actor may see."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sizhen.core.documents import docx_bytes, docx_table, new_docx
from sizhen.core.xlsx import build_workbook
from sizhen.training.models import Exam

RESULT_HEADERS = [
    "单位",
    "姓名",
    "账号",
    "答题次数",
    "得分",
    "满分",
    "百分制得分",
    "是否及格",
    "交卷时间",
]
UNIT_HEADERS = ["单位", "参考人数", "及格人数", "及格率（%）", "平均分"]
QUESTION_HEADERS = ["题干", "关联指标", "作答次数", "答错次数", "错误率（%）"]


def _result_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for row in results["rows"]:
        attempt = row["attempt"]
        finished = timezone.localtime(attempt.finished_at) if attempt.finished_at else None
        rows.append(
            [
                row["unit"],
                attempt.user.full_name or attempt.user.username,
                attempt.user.username,
                row["tries"],
                float(attempt.score or 0),
                float(attempt.max_score),
                float(attempt.percent or 0),
                "及格" if attempt.passed else "不及格",
                f"{finished:%Y-%m-%d %H:%M}" if finished else "",
            ]
        )
    return rows


def _unit_rows(results: dict[str, Any]) -> list[list[Any]]:
    return [
        [u["unit"], u["people"], u["passed"], u["pass_rate"], u["average"]]
        for u in results["units"]
    ]


def _question_rows(results: dict[str, Any]) -> list[list[Any]]:
    return [
        [q["stem"], q["indicator"], q["total"], q["wrong"], q["rate"]] for q in results["questions"]
    ]


def summary_sentence(exam: Exam, results: dict[str, Any]) -> str:
    people = len(results["rows"])
    passed = sum(1 for row in results["rows"] if row["attempt"].passed)
    rate = f"{100 * passed / people:.1f}%" if people else "—"
    return (
        f"“{exam.title}”共 {people} 人交卷，及格 {passed} 人，及格率 {rate}；"
        f"及格分数 {exam.pass_mark} 分（百分制），考试时长 {exam.duration_minutes} 分钟。"
    )


def exam_report_xlsx(exam: Exam, results: dict[str, Any]) -> bytes:
    return build_workbook(
        [
            ("成绩", RESULT_HEADERS, _result_rows(results)),
            ("按单位", UNIT_HEADERS, _unit_rows(results)),
            ("试题错误率", QUESTION_HEADERS, _question_rows(results)),
        ]
    )


def exam_report_docx(exam: Exam, results: dict[str, Any]) -> bytes:
    document = new_docx(font_size=10.5)
    document.add_heading(f"{exam.title}考试报告", level=1)
    document.add_paragraph(f"生成时间：{timezone.localtime():%Y年%m月%d日 %H:%M}")
    document.add_paragraph(summary_sentence(exam, results))
    document.add_heading("一、各单位成绩", level=2)
    docx_table(document, UNIT_HEADERS, _unit_rows(results))
    document.add_heading("二、错误率最高的试题", level=2)
    docx_table(document, QUESTION_HEADERS, _question_rows(results)[:10])
    document.add_heading("三、个人成绩", level=2)
    docx_table(document, RESULT_HEADERS, _result_rows(results))
    return docx_bytes(document)
