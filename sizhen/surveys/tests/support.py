"""Test helpers: XLSForm workbooks built in memory, and the sample questionnaire with skip
logic, validation, a rating, a matrix and a choice filter that the tests share."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import openpyxl
from django.utils import timezone

from sizhen.surveys import services

SURVEY_HEADER = [
    "type",
    "name",
    "label::Chinese (zh)",
    "required",
    "relevant",
    "constraint",
    "constraint_message::Chinese (zh)",
    "appearance",
    "parameters",
    "weight",
    "hint::Chinese (zh)",
]


def workbook(
    survey: Sequence[Sequence[Any]],
    choices: Sequence[Sequence[Any]] | None = None,
    settings: Sequence[Sequence[Any]] | None = None,
) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(list(row))
    if choices:
        choice_sheet = book.create_sheet("choices")
        for row in choices:
            choice_sheet.append(list(row))
    if settings:
        settings_sheet = book.create_sheet("settings")
        for row in settings:
            settings_sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def q(kind: str, name: str, label: str = "", **extra: Any) -> list[Any]:
    """A survey row; ``hint`` and ``constraint_message`` go to their Chinese columns."""
    for column in ("hint", "constraint_message"):
        if column in extra:
            extra[f"{column}::Chinese (zh)"] = extra.pop(column)
    values = {"type": kind, "name": name, "label::Chinese (zh)": label, **extra}
    return [values.get(h, "") for h in SURVEY_HEADER]


SAMPLE_SURVEY = [
    SURVEY_HEADER,
    q("begin_group", "basic", "基本情况"),
    q("select_one yn", "satisfied", "您对本地营商环境总体是否满意？", required="yes"),
    q(
        "select_multiple problems",
        "problems",
        "您遇到过哪些问题？",
        required="yes",
        relevant="${satisfied} = 'no'",
    ),
    q("text", "problem_detail", "请说明其他问题", relevant="selected(${problems}, 'other')"),
    q(
        "integer",
        "employees",
        "企业员工人数",
        required="yes",
        constraint=". >= 0 and . <= 100000",
        constraint_message="员工人数应在 0 到 100000 之间",
    ),
    q("end_group", ""),
    q("begin_group", "rating", "评价"),
    q(
        "range",
        "score",
        "政务服务评分",
        required="yes",
        parameters="start=1 end=5 step=1",
        weight=2,
    ),
    q("begin_group", "services", "各项服务满意度", appearance="table-list"),
    q("select_one likert", "r_permit", "审批服务"),
    q("select_one likert", "r_tax", "纳税服务"),
    q("end_group", ""),
    q("decimal", "revenue", "上年营业收入（万元）", constraint=". >= 0"),
    q("date", "founded", "成立日期", constraint=". <= '2026-12-31'"),
    q("end_group", ""),
    q("note", "thanks", "感谢您的参与！"),
]
SAMPLE_CHOICES = [
    ["list_name", "name", "label::Chinese (zh)"],
    ["yn", "yes", "是"],
    ["yn", "no", "否"],
    ["problems", "slow", "办事慢"],
    ["problems", "fees", "收费多"],
    ["problems", "other", "其他"],
    *[
        ["likert", str(n), label]
        for n, label in enumerate(("很不满意", "不满意", "一般", "满意", "很满意"), 1)
    ],
]
SAMPLE_SETTINGS = [
    ["form_title", "form_id", "version", "default_language"],
    ["营商环境满意度测试问卷", "sat_test", "1", "Chinese (zh)"],
]
#: The sample's answerable questions (the note aside; the matrix is one question).
SAMPLE_QUESTIONS = 8


def sample_workbook() -> bytes:
    return workbook(SAMPLE_SURVEY, SAMPLE_CHOICES, SAMPLE_SETTINGS)


def good_answers(**overrides: Any) -> dict[str, Any]:
    """A complete, valid set of answers to the sample (satisfied, so no problem questions)."""
    answers: dict[str, Any] = {
        "satisfied": "yes",
        "employees": 25,
        "score": 4,
        "services": {"r_permit": "5", "r_tax": "4"},
        "revenue": 1200.5,
        "founded": "2018-05-18",
    }
    answers.update(overrides)
    return {k: v for k, v in answers.items() if v is not None}


def make_round(
    questionnaire: Any,
    actor: Any,
    region: Any,
    title: str,
    *,
    days: int = 10,
    open_it: bool = False,
) -> Any:
    """A round of the questionnaire over the region, closing in ``days`` days."""
    survey_round = services.create_round(
        questionnaire,
        actor=actor,
        title=title,
        region=region,
        deadline=timezone.localdate() + dt.timedelta(days=days),
    )
    if open_it:
        services.transition_round(survey_round, "open", actor=actor)
    return survey_round


# --- the satisfaction index and follow-ups ---------------------------------------------------

#: A questionnaire for the index: a rating of weight 2, a matrix of weight 1 (two rows, ½
#: each), a rating of weight 1 that informs BE16.02 (its bank item is set by the fixture), an
#: unweighted rating that must not count, a text and the consent to follow-up.
INDEX_SURVEY = [
    SURVEY_HEADER,
    q("begin_group", "main", "满意度"),
    q(
        "range",
        "score",
        "政务服务评分",
        required="yes",
        parameters="start=1 end=5 step=1",
        weight=2,
    ),
    q("begin_group", "services", "各项服务满意度", appearance="table-list", weight=1),
    q("select_one likert", "r_permit", "审批服务"),
    q("select_one likert", "r_tax", "纳税服务"),
    q("end_group", ""),
    q("range", "ip", "知识产权保护力度", parameters="start=1 end=5 step=1", weight=1),
    q("range", "unweighted", "不计入指数的评分", parameters="start=1 end=10 step=1"),
    q("text", "problem", "遇到的其他问题"),
    q("select_one yn", "consent", "是否同意将反映的问题转为诉求办理"),
    q("end_group", ""),
]
INDEX_SETTINGS = [["form_title", "form_id"], ["满意度指数测试问卷", "index_test"]]

#: (enterprise key, answers). Rescaled to 0–100 (a rating (x − 1) / 4 × 100, a matrix choice
#: at place p of 5 p / 4 × 100), weighted 2 · score + ½ · r_permit + ½ · r_tax + 1 · ip over
#: the answered items:
#:   enterprise_a (东湖区)    (2·75 + ½·75 + ½·50 + 1·75) / 4   = 71.875
#:   enterprise_park (高新区) (2·50 + ½·100 + 1·50) / 3.5       = 57.142857…
#:   enterprise_a2 (东湖区)   (2·75 + ½·75 + ½·75) / 3           = 75
#:   enterprise_b (西山区)    (2·100 + ½·75 + ½·100 + 1·75) / 4  = 90.625
#:   enterprise_b2 (西山区)   (2·50 + ½·50 + ½·50 + 1·25) / 4    = 43.75
INDEX_ANSWERS: list[tuple[str, dict[str, Any]]] = [
    (
        "enterprise_a",
        {
            "score": 4,
            "services": {"r_permit": "4", "r_tax": "3"},
            "ip": 4,
            "unweighted": 1,
            "problem": "审批材料多",
            "consent": "no",
        },
    ),
    ("enterprise_park", {"score": 3, "services": {"r_permit": "5"}, "ip": 3, "unweighted": 10}),
    ("enterprise_a2", {"score": 4, "services": {"r_permit": "4", "r_tax": "4"}}),
    ("enterprise_b", {"score": 5, "services": {"r_permit": "4", "r_tax": "5"}, "ip": 4}),
    (
        "enterprise_b2",
        {
            "score": 3,
            "services": {"r_permit": "3", "r_tax": "3"},
            "ip": 2,
            "problem": "办事要跑多个窗口",
            "consent": "yes",
        },
    ),
]


def index_workbook() -> bytes:
    return workbook(INDEX_SURVEY, SAMPLE_CHOICES, INDEX_SETTINGS)
