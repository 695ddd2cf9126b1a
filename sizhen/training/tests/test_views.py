"""The training pages: who may open what, the learning flow (preview, file with byte ranges,
progress), the exam flow (start, autosave, submit, result, report) and the wrong-answer
book, each write audited and each refusal changing nothing."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from sizhen.core.models import AuditEvent
from sizhen.training import services
from sizhen.training.models import Attempt, Material, MaterialProgress, WrongAnswer

pytestmark = pytest.mark.django_db

PAGES = [
    "training:mine",
    "training:material_list",
    "training:course_list",
    "training:exam_list",
    "training:wrong_book",
    "training:stats",
]
MANAGER_PAGES = [
    "training:question_list",
    "training:question_create",
    "training:question_import",
    "training:material_create",
    "training:course_create",
    "training:exam_create",
]

# A WebM's EBML header and an MP4's ftyp box are what the upload check reads.
WEBM = b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 4


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize(
    "persona",
    [
        "leader",
        "coordinator",
        "lead_department",
        "responsible_department",
        "district_a",
        "sysadmin",
    ],
)
def test_staff_open_the_learning_pages(client_for: Any, persona: str) -> None:
    client = client_for(persona)
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    manager = persona in ("coordinator", "sysadmin")
    for name in MANAGER_PAGES:
        assert client.get(reverse(name)).status_code == (200 if manager else 404), name


def test_enterprises_and_anonymous_are_refused(client_for: Any) -> None:
    enterprise, anonymous = client_for("enterprise"), client_for(None)
    for name in PAGES + MANAGER_PAGES:
        assert enterprise.get(reverse(name)).status_code == 404, name
        response = anonymous.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_video_material_is_played_with_byte_ranges_and_watching_it_to_the_end_is_recorded(
    client_for: Any, personas: dict[str, Any], media: None
) -> None:
    coordinator = client_for("coordinator")
    response = coordinator.post(
        reverse("training:material_create"),
        {
            "title": "开办企业解读视频", "kind": "video", "audience": "common", "minutes": 3,
            "sort_order": 1, "upload": SimpleUploadedFile("jiedu.webm", WEBM, "video/webm"),
        },
    )  # fmt: skip
    material = Material.objects.get(title="开办企业解读视频")
    assert response.status_code == 302
    person = client_for("responsible_department")
    page = person.get(reverse("training:material_detail", args=[material.pk]))
    assert b"<video" in page.content
    progress = MaterialProgress.objects.get(
        material=material, user=personas["responsible_department"]
    )
    assert progress.watched_at is None and progress.finished_at is None
    ranged = person.get(
        reverse("training:material_file", args=[material.pk]), HTTP_RANGE="bytes=4-11"
    )
    assert ranged.status_code == 206
    assert ranged["Content-Range"] == f"bytes 4-11/{len(WEBM)}"
    assert ranged.content == WEBM[4:12]
    assert ranged["Content-Type"] == "video/webm"
    # The platform's own pages may frame a file (the PDF preview), nobody else.
    assert ranged["X-Frame-Options"] == "SAMEORIGIN"
    assert ranged["Content-Security-Policy"] == "frame-ancestors 'self'"
    whole = person.get(reverse("training:material_file", args=[material.pk]))
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == WEBM
    answer = person.post(
        reverse("training:material_progress", args=[material.pk]),
        {"event": "watched"},
        HTTP_ACCEPT="application/json",
    )
    assert answer.json() == {"status": "finished", "label": "已学完"}
    progress.refresh_from_db()
    assert progress.watched_at is not None and progress.finished_at is not None
    assert (
        AuditEvent.objects.filter(action="training.progress", object_id=str(material.pk)).count()
        == 2
    )


def test_a_renamed_file_is_refused_and_nothing_is_stored(client_for: Any, media: None) -> None:
    response = client_for("coordinator").post(
        reverse("training:material_create"),
        {
            "title": "伪装视频", "kind": "video", "audience": "common", "minutes": 3,
            "sort_order": 1, "upload": SimpleUploadedFile("x.mp4", b"MZ" + b"\x00" * 64),
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert "不是 MP4 视频 文件" in response.content.decode()
    assert not Material.objects.exists()


def test_word_material_is_previewed_as_its_text(client_for: Any, media: None) -> None:
    from sizhen.core.documents import docx_bytes, new_docx

    document = new_docx()
    document.add_paragraph("开办企业指标解读：全程网办，一个工作日办结。")
    client_for("coordinator").post(
        reverse("training:material_create"),
        {
            "title": "开办企业指标解读", "kind": "document", "audience": "common", "minutes": 5,
            "sort_order": 1,
            "upload": SimpleUploadedFile("jiedu.docx", docx_bytes(document)),
        },
    )  # fmt: skip
    material = Material.objects.get()
    page = client_for("district_a").get(reverse("training:material_detail", args=[material.pk]))
    assert "开办企业指标解读：全程网办，一个工作日办结。" in page.content.decode()


def test_a_department_person_takes_an_exam_through_the_pages(
    client_for: Any, personas: dict[str, Any], exam: Any
) -> None:
    client = client_for("responsible_department")
    start = client.post(reverse("training:exam_start", args=[exam.pk]))
    attempt = Attempt.objects.get(user=personas["responsible_department"])
    assert start["Location"] == reverse("training:attempt_detail", args=[attempt.pk])
    paper = client.get(start["Location"]).content.decode()
    assert "data-autosave-url" in paper
    by_kind = {a.snapshot["kind"]: a.position for a in attempt.answers.all()}
    saved = client.post(
        reverse("training:attempt_answer", args=[attempt.pk]),
        {"position": by_kind["single"], f"q{by_kind['single']}": "B"},
    )
    assert saved.status_code == 200 and saved.json()["response"] == ["B"]
    # Another person cannot write into this attempt: 404, and nothing changes.
    intruder = client_for("lead_department").post(
        reverse("training:attempt_answer", args=[attempt.pk]),
        {"position": by_kind["fill"], f"q{by_kind['fill']}": "一网通办"},
    )
    assert intruder.status_code == 404
    assert attempt.answers.get(position=by_kind["fill"]).response == []
    # The fill-in answer travels with the submit form (no script needed).
    submitted = client.post(
        reverse("training:attempt_submit", args=[attempt.pk]),
        {f"q{by_kind['fill']}": "一网通办", f"q{by_kind['true_false']}": "A"},
        follow=True,
    )
    assert "已交卷：得分 5/10（百分制 50.0），不及格" in submitted.content.decode()
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.percent) == (
        "submitted",
        Decimal("5.00"),
        Decimal("50.0"),
    )
    result = client.get(reverse("training:attempt_detail", args=[attempt.pk])).content.decode()
    assert "不及格" in result and "解析：判断一" in result
    book = client.get(reverse("training:wrong_book")).content.decode()
    assert "判断一" in book and "多选一" in book and "单选一" not in book
    assert WrongAnswer.objects.filter(user=personas["responsible_department"]).count() == 2
    workbook = client_for("coordinator").get(
        reverse("training:exam_report", args=[exam.pk, "xlsx"])
    )
    sheet = load_workbook(io.BytesIO(workbook.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "东湖区市场监督管理局" and rows[1][4] == 5 and rows[1][7] == "不及格"
    docx = client_for("coordinator").get(reverse("training:exam_report", args=[exam.pk, "docx"]))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"


def test_results_are_scoped_to_the_people_one_may_see(
    client_for: Any, personas: dict[str, Any], exam: Any
) -> None:
    for name in ("responsible_department", "lead_department"):
        attempt = services.start_attempt(exam, actor=personas[name])
        services.submit_attempt(attempt, actor=personas[name])

    def people(persona: str) -> int:
        body = client_for(persona).get(reverse("training:exam_detail", args=[exam.pk]))
        return len(body.context["results"]["rows"])

    assert people("coordinator") == 2
    assert people("lead_department") == 1  # 市场监督管理局: its own person
    assert people("district_a") == 1  # 东湖区: the person of 东湖区市场监督管理局
    assert people("district_b") == 0
    other = Attempt.objects.get(user=personas["lead_department"])
    assert (
        client_for("district_b")
        .get(reverse("training:attempt_detail", args=[other.pk]))
        .status_code
        == 404
    )
