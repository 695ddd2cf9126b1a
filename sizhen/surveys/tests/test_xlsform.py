"""XLSForm in and out: a good workbook becomes a questionnaire (command, page), a bad one is
refused in Chinese with its row and stores nothing, unsupported expressions are refused at
import, and an export reads back to the same questions."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from sizhen.core.models import AuditEvent
from sizhen.surveys.choices import QuestionType
from sizhen.surveys.models import Choice, Question, Questionnaire, QuestionnaireVersion, Section
from sizhen.surveys.structure import structure_of
from sizhen.surveys.tests.support import (
    SAMPLE_CHOICES,
    SAMPLE_QUESTIONS,
    SAMPLE_SETTINGS,
    SAMPLE_SURVEY,
    SURVEY_HEADER,
    q,
    sample_workbook,
    workbook,
)
from sizhen.surveys.xlsform import XLSFormError, read_xlsform, write_xlsform

pytestmark = pytest.mark.django_db


def _nothing_stored() -> None:
    assert Questionnaire.objects.count() == 0
    assert QuestionnaireVersion.objects.count() == 0
    assert Section.objects.count() == 0
    assert Question.objects.count() == 0
    assert Choice.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="survey").exists()


def test_command_imports_and_prints_json(tmp_path: Path) -> None:
    path = tmp_path / "sat_test.xlsx"
    path.write_bytes(sample_workbook())
    out = io.StringIO()
    call_command("import_survey", str(path), "--json", "--publish", stdout=out)
    assert json.loads(out.getvalue()) == {
        "code": "sat_test",
        "title": "营商环境满意度测试问卷",
        "questions": SAMPLE_QUESTIONS,
        "version": 1,
        "status": "published",
    }
    version = QuestionnaireVersion.objects.get()
    names = list(
        Question.objects.filter(version=version)
        .order_by("section__order", "order")
        .values_list("name", "type")
    )
    assert names == [
        ("satisfied", QuestionType.SINGLE),
        ("problems", QuestionType.MULTIPLE),
        ("problem_detail", QuestionType.TEXT),
        ("employees", QuestionType.INTEGER),
        ("score", QuestionType.RATING),
        ("services", QuestionType.MATRIX),
        ("revenue", QuestionType.DECIMAL),
        ("founded", QuestionType.DATE),
        ("thanks", QuestionType.NOTE),
    ]
    score = Question.objects.get(name="score")
    assert (score.parameters, score.weight, score.required) == (
        {"start": 1, "end": 5, "step": 1},
        2.0,
        True,
    )
    matrix = Question.objects.get(name="services")
    assert matrix.rows == [
        {"name": "r_permit", "label": "审批服务"},
        {"name": "r_tax", "label": "纳税服务"},
    ]
    assert list(matrix.choices.values_list("name", flat=True)) == ["1", "2", "3", "4", "5"]
    employees = Question.objects.get(name="employees")
    assert (employees.constraint, employees.constraint_message) == (
        ". >= 0 and . <= 100000",
        "员工人数应在 0 到 100000 之间",
    )
    assert list(Section.objects.order_by("order").values_list("name", "label")) == [
        ("basic", "基本情况"),
        ("rating", "评价"),
        ("", ""),
    ]
    # Importing the same code again adds a version; the published one is untouched.
    call_command("import_survey", str(path), "--json", stdout=(again := io.StringIO()))
    assert json.loads(again.getvalue())["version"] == 2
    assert list(QuestionnaireVersion.objects.values_list("number", "status")) == [
        (1, "published"),
        (2, "draft"),
    ]


BAD_FILES: list[tuple[str, bytes, str]] = [
    (
        "duplicate name",
        workbook([SURVEY_HEADER, q("text", "a", "甲"), q("integer", "a", "乙")]),
        "第 3 行：名称“a”重复",
    ),
    (
        "unknown type",
        workbook([SURVEY_HEADER, q("text", "a", "甲"), q("slider", "b", "乙")]),
        "第 3 行：未知的题型“slider”",
    ),
    (
        "missing choice list",
        workbook(
            [SURVEY_HEADER, q("select_one nope", "a", "甲")],
            [["list_name", "name", "label"], ["yn", "yes", "是"]],
        ),
        "第 2 行：选项工作表 choices 中没有名为“nope”的选项列表",
    ),
    (
        "reference to an unknown question",
        workbook([SURVEY_HEADER, q("text", "a", "甲", relevant="${zz} = 'x'")]),
        "第 2 行：relevant（显示条件）列引用了不存在的题目 ${zz}",
    ),
    (
        "unmatched group",
        workbook([SURVEY_HEADER, q("begin_group", "g", "组"), q("text", "a", "甲")]),
        "第 2 行：begin_group“g”没有对应的 end_group",
    ),
    (
        "unsupported arithmetic",
        workbook(
            [SURVEY_HEADER, q("integer", "a", "甲"), q("text", "b", "乙", relevant="${a} + 1 > 2")]
        ),
        "第 3 行：relevant（显示条件）“${a} + 1 > 2”不受支持：不支持运算符或路径“+”",
    ),
    (
        "unsupported function",
        workbook([SURVEY_HEADER, q("text", "a", "甲", constraint="string-length(.) < 10")]),
        "第 2 行：constraint（校验条件）“string-length(.) < 10”不受支持：不支持函数 string-length()",
    ),
    (
        "unsupported type",
        workbook([SURVEY_HEADER, q("text", "a", "甲"), q("geopoint", "where", "位置")]),
        "第 3 行：暂不支持题型“位置（geopoint）”",
    ),
    (
        "repeat",
        workbook(
            [
                SURVEY_HEADER,
                q("begin_repeat", "r", "重复"),
                q("text", "a", "甲"),
                q("end_repeat", ""),
            ]
        ),
        "第 2 行：不支持重复组（begin_repeat）“r”",
    ),
    ("not a workbook", b"this is not a spreadsheet", "文件不是有效的 XLSForm 工作簿"),
    ("no survey sheet", workbook([]), "缺少题目工作表 survey"),
]


@pytest.mark.parametrize(("case", "content", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_workbooks_are_refused_in_chinese_with_the_row(
    case: str, content: bytes, message: str, tmp_path: Path, personas: dict[str, Any]
) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError) as refused:
        call_command("import_survey", str(path), "--json", stdout=io.StringIO())
    assert message in str(refused.value)
    _nothing_stored()


def test_every_problem_of_a_workbook_is_listed() -> None:
    content = workbook(
        [
            SURVEY_HEADER,
            q("integer", "a", "甲", constraint="today() > ."),
            q("text", "b", "乙", relevant="${a} * 2 = 4"),
            q("integer", "c", "丙", weight="heavy"),
        ]
    )
    with pytest.raises(XLSFormError) as refused:
        read_xlsform(content, "three.xlsx")
    assert refused.value.problems == [
        "第 4 行：weight（满意度指数权重）应为 0–1000 之间的数字，实为“heavy”",
        "第 2 行：constraint（校验条件）“today() > .”不受支持：不支持函数 today()（支持：not()、selected()、count-selected()、true()、false()）",
        "第 3 行：relevant（显示条件）“${a} * 2 = 4”不受支持：不支持运算符或路径“*”",
    ]
    assert refused.value.message == "XLSForm 表单有 3 处错误"


def test_upload_page_imports_and_refuses(client_for: Any) -> None:
    client = client_for("coordinator")
    bad = SimpleUploadedFile("bad.xlsx", BAD_FILES[0][1])
    response = client.post("/surveys/import/", {"file": bad})
    assert response.status_code == 400
    assert "第 3 行：名称“a”重复" in response.content.decode()
    assert "未保存任何内容" in response.content.decode()
    _nothing_stored()
    good = SimpleUploadedFile("sat_test.xlsx", sample_workbook())
    response = client.post("/surveys/import/", {"file": good, "publish": "on"})
    assert response.status_code == 302
    assert response["Location"] == "/surveys/q/sat_test/"
    version = QuestionnaireVersion.objects.get()
    assert (version.status, version.source, version.source_name) == (
        "published",
        "xlsform",
        "sat_test.xlsx",
    )
    event = AuditEvent.objects.get(action="survey.import")
    assert event.after["questions"] == SAMPLE_QUESTIONS


@pytest.mark.parametrize("persona", ["district_a", "lead_department", "enterprise", "leader"])
def test_upload_page_is_the_coordinators(client_for: Any, persona: str) -> None:
    client = client_for(persona)
    assert client.get("/surveys/import/").status_code == 404
    good = SimpleUploadedFile("sat_test.xlsx", sample_workbook())
    assert client.post("/surveys/import/", {"file": good}).status_code == 404
    _nothing_stored()


def _without_rows(form: Any) -> Any:
    for section in form.sections:
        section.questions = [
            dataclasses.replace(question, row=None) for question in section.questions
        ]
    return form


def test_export_reads_back_to_the_same_questions(questionnaire: Any, client_for: Any) -> None:
    version = questionnaire.versions.get()
    response = client_for("leader").get("/surveys/q/sat_test/xlsform/?version=1")
    assert response.status_code == 200
    exported = read_xlsform(response.content, "sat_test.xlsx")
    original = structure_of(version)
    assert _without_rows(exported).sections == _without_rows(original).sections
    assert (exported.code, exported.title) == ("sat_test", "营商环境满意度测试问卷")
    assert AuditEvent.objects.filter(action="export.xlsform").count() == 1
    # The written workbook is one ODK's converter accepts as well.
    assert write_xlsform(exported)


def test_sample_definition_is_what_the_tests_assume() -> None:
    form = read_xlsform(workbook(SAMPLE_SURVEY, SAMPLE_CHOICES, SAMPLE_SETTINGS), "s.xlsx")
    assert form.answerable_count == SAMPLE_QUESTIONS
