"""The question bank (browser editing, XLSX import with a row-level report, nothing stored on
a failure), exam drafting and publishing, courses with assignment and progress per person and
unit, one's own list (一键学习) and the statistics, each scoped to the people one may see."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from sizhen.core.models import AuditEvent, Notification
from sizhen.training import selectors, services
from sizhen.training.models import Course, Exam, Material, MaterialProgress, Question

pytestmark = pytest.mark.django_db


def _xlsx(header: list[str], *rows: list[Any]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client: Any, content: bytes, action: str) -> Any:
    file = io.BytesIO(content)
    file.name = "questions.xlsx"
    return client.post(reverse("training:question_import"), {"file": file, "action": action})


def test_import_by_chinese_labels_stores_every_kind(client_for: Any) -> None:
    content = _xlsx(
        ["题型", "题干", "选项A", "选项B", "选项C", "答案", "解析", "难度", "标签"],
        [
            "单选题",
            "开办时间的单位？",
            "个",
            "工作日",
            "小时",
            "B",
            "按工作日计",
            "容易",
            "开办企业",
        ],
        ["多选题", "三率包括？", "响应率", "解决率", "满意率", "ABC", "", "中等", "诉求、三率"],
        ["判断题", "法定时限按自然日计。", None, None, None, "错误", "", "", ""],
        ["填空题", "好差评分为____级。", None, None, None, "五|5", "", "困难", ""],
    )
    client = client_for("coordinator")
    checked = _upload(client, content, "check")
    assert checked.status_code == 200 and not Question.objects.exists()
    imported = _upload(client, content, "import")
    assert imported.status_code == 200
    rows = {
        q.stem: (q.kind, q.options, q.answer, q.difficulty, q.tags) for q in Question.objects.all()
    }
    assert rows == {
        "开办时间的单位？": ("single", ["个", "工作日", "小时"], ["B"], "easy", "，开办企业，"),
        "三率包括？": ("multiple", ["响应率", "解决率", "满意率"], ["A", "B", "C"], "medium", "，诉求，三率，"),
        "法定时限按自然日计。": ("true_false", ["正确", "错误"], ["B"], "medium", ""),
        "好差评分为____级。": ("fill", [], ["五", "5"], "hard", ""),
    }  # fmt: skip
    assert AuditEvent.objects.filter(action="training.question_import").count() == 1


def test_import_with_english_keys_and_a_bad_row_stores_nothing(client_for: Any) -> None:
    content = _xlsx(
        ["kind", "stem", "option_a", "option_b", "answer", "indicator"],
        ["single", "好题", "甲", "乙", "A", ""],
        ["single", "坏题", "甲", "乙", "C", "XX99"],
        ["问答题", "没有这种题型", "", "", "x", ""],
        ["single", "好题", "甲", "乙", "B", ""],
    )
    response = _upload(client_for("coordinator"), content, "import")
    assert response.status_code == 400
    errors = [(e.row, e.column, e.code) for e in response.context["report"].errors]
    assert errors == [
        (3, "答案", "invalid_answer"),
        (3, "关联指标", "unknown_indicator"),
        (4, "题型", "invalid_kind"),
        (5, "题干", "duplicate"),
    ]
    assert not Question.objects.exists()
    assert not AuditEvent.objects.filter(action="training.question_import").exists()


def test_the_template_downloads_with_every_column(client_for: Any) -> None:
    response = client_for("coordinator").get(reverse("training:question_template"))
    header = next(
        load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert list(header) == [
        "题型", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "答案", "解析",
        "关联指标", "难度", "标签",
    ]  # fmt: skip
    assert (
        client_for("lead_department").get(reverse("training:question_template")).status_code == 404
    )


def test_a_question_is_edited_in_the_browser_and_a_department_cannot(
    client_for: Any, bank: list[Any]
) -> None:
    question = bank[0]
    form = {
        "kind": "single", "stem": "单选一（修订）", "option_a": "甲", "option_b": "乙",
        "option_c": "丙", "option_d": "丁", "answer": "D", "difficulty": "hard", "tags": "修订",
        "is_active": "on",
    }  # fmt: skip
    refused = client_for("lead_department").post(
        reverse("training:question_edit", args=[question.pk]), form
    )
    assert refused.status_code == 404
    question.refresh_from_db()
    assert (question.stem, question.answer) == ("单选一", ["B"])
    saved = client_for("coordinator").post(
        reverse("training:question_edit", args=[question.pk]), form
    )
    assert saved.status_code == 302
    question.refresh_from_db()
    assert (question.stem, question.options, question.answer, question.difficulty) == (
        "单选一（修订）",
        ["甲", "乙", "丙", "丁"],
        ["D"],
        "hard",
    )
    bad = client_for("coordinator").post(
        reverse("training:question_edit", args=[question.pk]), {**form, "answer": "G"}
    )
    assert bad.status_code == 400 and "答案应为选项字母" in bad.content.decode()


def test_an_exam_is_drafted_by_rules_and_published_only_when_the_bank_can_fill_them(
    client_for: Any, personas: dict[str, Any], bank: list[Any]
) -> None:
    client = client_for("coordinator")
    response = client.post(
        reverse("training:exam_create"),
        {
            "title": "规则测试", "duration_minutes": 20, "max_attempts": 1, "pass_mark": 60,
            "for_everyone": "on", "rule1_count": 2, "rule1_points": 5, "rule1_kind": "single",
        },
    )  # fmt: skip
    exam = Exam.objects.get(title="规则测试")
    assert response.status_code == 302 and exam.status == "draft"
    assert exam.rules == [{"count": 2, "points": 5, "kind": "single"}]
    client.post(reverse("training:exam_step", args=[exam.pk, "publish"]))
    exam.refresh_from_db()
    assert exam.status == "draft"  # one single-choice question in the bank, two asked
    Question.objects.create(kind="single", stem="单选二", options=["甲", "乙"], answer=["A"])
    refused = client_for("lead_department").post(
        reverse("training:exam_step", args=[exam.pk, "publish"])
    )
    assert refused.status_code == 404
    exam.refresh_from_db()
    assert exam.status == "draft"
    client.post(reverse("training:exam_step", args=[exam.pk, "publish"]))
    exam.refresh_from_db()
    assert exam.status == "published"


def test_an_exam_for_chosen_units_is_refused_to_others(
    personas: dict[str, Any], bank: list[Any], city: dict[str, Any]
) -> None:
    coordinator = personas["coordinator"]
    exam = services.create_exam(
        actor=coordinator, title="东湖区专场", rules=[{"kind": "single", "count": 1, "points": 1}],
        duration_minutes=5, for_everyone=False, regions=[city["district_a"]],
    )  # fmt: skip
    services.transition_exam(exam, "publish", actor=coordinator)
    assert services.start_attempt(exam, actor=personas["responsible_department"]).number == 1
    assert services.start_attempt(exam, actor=personas["district_a"]).number == 1
    with pytest.raises(services.TrainingError, match="不在本次考试的参加范围内"):
        services.start_attempt(exam, actor=personas["district_b"])


def _material(personas: dict[str, Any], title: str, **fields: Any) -> Material:
    return Material.objects.create(
        title=title, kind="link", link_url="https://example.invalid/", created_by=personas["coordinator"],
        **fields,
    )  # fmt: skip


def test_course_assignment_own_list_progress_and_statistics(
    client_for: Any,
    personas: dict[str, Any],
    city: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    coordinator = personas["coordinator"]
    _material(personas, "共性资料", sort_order=2)
    specific = _material(personas, "个性资料", audience="specific")
    specific.departments.set([city["a_dept"]])
    first, second = _material(personas, "课程一", sort_order=5), _material(personas, "课程二")
    course = services.create_course(actor=coordinator, title="必修课", materials=[first, second])
    deadline = timezone.localdate() + dt.timedelta(days=10)
    refused = client_for("lead_department").post(
        reverse("training:course_assign", args=[course.pk]),
        {"departments": [city["a_dept"].pk], "deadline": deadline.isoformat()},
    )
    assert refused.status_code == 404 and not course.assignments.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_course(
            course, actor=coordinator, deadline=deadline, regions=[city["district_a"]]
        )
    # The district's officer hears of it in the inbox.
    notes = Notification.objects.filter(category="training")
    assert [(n.recipient.username, n.subject) for n in notes] == [
        ("district_a", "培训课程待学习：必修课")
    ]
    person = personas["responsible_department"]  # 东湖区市场监督管理局, in 东湖区
    entries = selectors.my_materials(person)
    assert [(e.material.title, e.reason) for e in entries][:4] == [
        ("课程一", "课程：必修课"),
        ("课程二", "课程：必修课"),
        ("个性资料", "个性：本部门牵头或负责的指标"),
        ("共性资料", "共性"),
    ]
    assert "个性资料" not in [
        e.material.title for e in selectors.my_materials(personas["lead_department"])
    ]
    services.record_progress(first, actor=person, event="finished")
    services.record_progress(second, actor=person, event="opened")
    services.record_progress(first, actor=personas["district_a"], event="finished")
    services.record_progress(second, actor=personas["district_a"], event="finished")
    assert MaterialProgress.objects.count() == 4

    progress = selectors.course_progress(course, coordinator)
    rows = {(p.unit, p.person.username): (p.opened, p.done, p.total) for p in progress["people"]}
    assert rows == {
        ("东湖区", "district_a"): (2, 2, 2),
        ("东湖区市场监督管理局", "resp_dept"): (2, 1, 2),
    }
    units = {(u.unit, u.people, u.completed, u.rate) for u in progress["units"]}
    assert units == {("东湖区", 1, 1, 100.0), ("东湖区市场监督管理局", 1, 0, 50.0)}
    # A department sees its own people, the other district nobody.
    assert [p.person.username for p in selectors.course_progress(course, person)["people"]] == [
        "resp_dept"
    ]
    assert selectors.course_progress(course, personas["district_b"])["people"] == []

    stats = {
        u.unit: (u.people, u.assigned, u.finished)
        for u in selectors.statistics(coordinator)["units"]
    }
    assert stats["东湖区市场监督管理局"] == (1, 2, 1)
    assert stats["东湖区"] == (1, 2, 2)
    assert stats["西山区"] == (1, 0, 0)
    own = {u.unit for u in selectors.statistics(personas["district_b"])["units"]}
    assert own == {"西山区"}
    page = client_for("lead_department").get(reverse("training:stats"))
    assert {u.unit for u in page.context["stats"]["units"]} == {"市场监督管理局"}
    assert Course.objects.count() == 1


def test_weakest_indicators_by_error_rate(personas: dict[str, Any], bank: list[Any]) -> None:
    from sizhen.indicators.catalogue.models import Indicator

    first = Indicator.objects.create(
        code="BE01", name="开办企业", level=1, direction="higher_is_better"
    )
    second = Indicator.objects.create(
        code="BE02", name="办理建筑许可", level=1, direction="higher_is_better"
    )
    Question.objects.filter(kind__in=["single", "multiple"]).update(indicator=first)
    Question.objects.filter(kind__in=["true_false", "fill"]).update(indicator=second)
    coordinator = personas["coordinator"]
    exam = services.create_exam(
        actor=coordinator, title="指标测试", rules=[{"count": 4, "points": 1}], duration_minutes=5
    )
    services.transition_exam(exam, "publish", actor=coordinator)
    person = personas["responsible_department"]
    attempt = services.start_attempt(exam, actor=person)
    # Right on the single (BE01) and the true/false (BE02); everything else wrong or blank.
    for answer in attempt.answers.all():
        values = {"single": ["B"], "true_false": ["B"], "multiple": ["A"]}.get(
            answer.snapshot["kind"], []
        )
        services.save_answer(attempt, actor=person, position=answer.position, values=values)
    services.submit_attempt(attempt, actor=person)
    weakest = selectors.weakest_indicators(coordinator)
    assert [(w["code"], w["total"], w["wrong"], w["rate"]) for w in weakest] == [
        ("BE01", 2, 1, 50.0),
        ("BE02", 2, 1, 50.0),
    ]
    assert selectors.weakest_indicators(personas["district_b"]) == []
