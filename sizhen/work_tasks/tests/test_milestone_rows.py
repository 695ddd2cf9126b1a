"""Milestones (阶段节点) entered as rows of name and date on the issue form: each row checked on
the server, errors beside the field with the rows kept, nothing written on an error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from sizhen.work_tasks.forms import MAX_MILESTONES, MilestonesField
from sizhen.work_tasks.models import WorkTask

pytestmark = pytest.mark.django_db

D = dt.date


def rows(*pairs: tuple[str, str]) -> dict[str, Any]:
    """The rows as a browser posts them: each input name repeated once per row."""
    return {
        "milestones-title": [title for title, _day in pairs],
        "milestones-deadline": [day for _title, day in pairs],
    }


def clean(data: dict[str, Any]) -> Any:
    posted = QueryDict(mutable=True)
    for key, values in data.items():
        posted.setlist(key, values)
    field = MilestonesField(required=False)
    return field.clean(field.widget.value_from_datadict(posted, {}, "milestones"))


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        clean(data)
    return list(caught.value.messages)


def test_rows_become_milestones_in_order_and_empty_rows_are_dropped() -> None:
    data = rows(("制定方案", "2030-03-31"), ("", ""), (" 试点运行 ", "2030-05-15"))
    assert clean(data) == [("制定方案", D(2030, 3, 31)), ("试点运行", D(2030, 5, 15))]
    assert clean(rows()) == []
    assert clean(rows(("", ""))) == []


def test_each_row_problem_is_named_by_its_position() -> None:
    assert problems(
        rows(
            ("", "2030-03-31"),
            ("试点运行", ""),
            ("验收", "2030-02-30"),
            ("总结", "31/03/2030"),
            ("长" * 201, "2030-04-01"),
        )
    ) == [
        "第 1 个节点：请填写节点名称",
        "第 2 个节点“试点运行”：请选择期限",
        "第 3 个节点“验收”：日期无效",
        "第 4 个节点“总结”：日期无效",
        f"第 5 个节点“{'长' * 40}”：名称最多 200 字",
    ]
    assert problems(rows(("制定方案", "2030-03-31"), ("制定方案", "2030-04-30"))) == [
        "节点“制定方案”重复"
    ]
    many = rows(*[(f"节点{i}", "2030-03-31") for i in range(MAX_MILESTONES + 1)])
    assert problems(many) == [f"阶段节点最多 {MAX_MILESTONES} 个"]


def test_the_issue_page_offers_rows_with_a_date_picker(client_for: Any) -> None:
    body = client_for("coordinator").get("/tasks/issue/").content.decode()
    assert '<fieldset class="rows-field"><legend>阶段节点' in body
    assert '<input type="date" name="milestones-deadline" value=""' in body
    assert '<input type="text" name="milestones-title" value=""' in body
    assert "<template data-row-template>" in body
    assert (
        '<button type="button" class="btn btn-secondary" data-row-add hidden>添加节点</button>'
        in body
    )
    assert "名称:年-月-日" not in body
    assert "<script>" not in body


def issue_data(city: dict[str, Any], *pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "title": "优化水电气报装",
        "content": "报装时间压缩至 5 个工作日",
        "source": "evaluation_feedback",
        "departments": [city["market"].pk],
        "deadline": "2030-06-28",
        **rows(*pairs),
    }


def test_issuing_with_two_rows_creates_two_milestones(city: Any, client_for: Any) -> None:
    data = issue_data(city, ("制定方案", "2030-03-31"), ("试点运行", "2030-05-15"))
    response = client_for("coordinator").post("/tasks/issue/", data)
    assert response.status_code == 302
    task = WorkTask.objects.get()
    assert list(task.milestones.values_list("title", "deadline", "position")) == [
        ("制定方案", D(2030, 3, 31), 0),
        ("试点运行", D(2030, 5, 15), 1),
    ]


def test_a_bad_row_keeps_the_form_and_writes_nothing(city: Any, client_for: Any) -> None:
    data = issue_data(city, ("制定方案", "2030-03-31"), ("试点运行", ""))
    response = client_for("coordinator").post("/tasks/issue/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        '<div class="form-errors" data-testid="errors-milestones">'
        "第 2 个节点“试点运行”：请选择期限</div>"
    ) in body
    # The rows come back as entered.
    assert 'name="milestones-title" value="制定方案"' in body
    assert 'name="milestones-deadline" value="2030-03-31"' in body
    assert 'name="milestones-title" value="试点运行"' in body
    assert WorkTask.objects.count() == 0


def test_a_milestone_after_the_deadline_is_refused(city: Any, client_for: Any) -> None:
    data = issue_data(city, ("验收", "2030-07-01"))
    response = client_for("coordinator").post("/tasks/issue/", data)
    assert response.status_code == 200
    assert "阶段节点“验收”的期限应在下发日期与完成期限之间" in response.content.decode()
    assert 'name="milestones-deadline" value="2030-07-01"' in response.content.decode()
    assert WorkTask.objects.count() == 0
