"""Evidence (佐证材料) on a progress report through the page: the kinds people send (CSV, XLSX,
DOCX, PDF, images) are accepted by their content; a refused file is named beside the file field
and the report's text, progress, milestone and tick stay on the form."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sizhen.core.tests.files import CSV_UTF8, PDF, PNG, ooxml
from sizhen.work_tasks import services
from sizhen.work_tasks.models import TaskAssignment, TaskFile
from sizhen.work_tasks.tests.support import NATIONAL_DAY_ISSUE, assignment_for, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(city: Any, personas: Any, clock: Any) -> TaskAssignment:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["market"]], milestones=[("印发方案", dt.date(2025, 9, 30))])
    assignment = assignment_for(task, city["market"])
    services.receive_assignment(assignment, actor=personas["lead_department"])
    return assignment


def _report(client: Any, market: TaskAssignment, upload: SimpleUploadedFile) -> Any:
    return client.post(
        f"/tasks/{market.pk}/progress/",
        {
            "content": "方案已印发，附台账",
            "percent": "60",
            "milestone": str(market.task.milestones.get().pk),
            "milestone_done": "on",
            "files": [upload],
        },
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("台账.csv", CSV_UTF8),
        ("台账（分号）.csv", "区划;数值\r\n东湖区;12\r\n".encode("gbk")),
        ("台账.xlsx", ooxml("xl/workbook.xml")),
        ("通知.docx", ooxml("word/document.xml")),
        ("方案.pdf", PDF),
        ("现场.png", PNG),
        ("现场.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 16),
    ],
)
def test_evidence_people_send_is_accepted(
    market: TaskAssignment, client_for: Any, name: str, content: bytes
) -> None:
    response = _report(client_for("lead_department"), market, SimpleUploadedFile(name, content))
    assert response.status_code == 302
    report = market.reports.get()
    assert (report.content, report.percent, report.milestone_done) == (
        "方案已印发，附台账",
        60,
        True,
    )
    assert list(TaskFile.objects.values_list("name", "report")) == [(name, report.pk)]


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("程序.exe", b"MZ\x90\x00", "文件“程序.exe”的类型不允许上传（允许："),
        ("台账.csv", b"\x00\x01\x02,\x03", "文件“台账.csv”的内容不是 CSV 文件，类型不允许上传"),
        ("台账.xlsx", PDF, "文件“台账.xlsx”的内容不是 Excel 文件，类型不允许上传"),
        (
            "通知.docx",
            b"PK\x03\x04 not a zip",
            "文件“通知.docx”的内容不是 Word 文件，类型不允许上传",
        ),
        ("现场.png", b"GIF89a" + b"\x00" * 8, "文件“现场.png”的内容不是 图片 文件，类型不允许上传"),
    ],
)
def test_a_refused_file_is_named_beside_the_field_and_the_report_stays(
    market: TaskAssignment, client_for: Any, name: str, content: bytes, error: str
) -> None:
    response = _report(client_for("lead_department"), market, SimpleUploadedFile(name, content))
    assert response.status_code == 200
    page = response.content.decode()
    beside = page.split('data-testid="progress-files"', 1)[1].split("</label>", 1)[1]
    assert beside.startswith(
        '<div data-testid="progress-files-errors"><ul class="errorlist" id="id_files_error">'
        f"<li>{error}"
    )
    assert ">方案已印发，附台账</textarea>" in page
    assert 'value="60"' in page
    assert f'<option value="{market.task.milestones.get().pk}" selected>' in page
    assert 'name="milestone_done" value="on" checked>' in page
    assert (market.reports.count(), TaskFile.objects.count()) == (0, 0)
