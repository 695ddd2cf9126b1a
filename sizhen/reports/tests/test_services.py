from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from docx import Document

from sizhen.core.models import AuditEvent, DocumentCounter, Notification
from sizhen.reports import services
from sizhen.reports.models import LetterStatus, ReminderLetter
from sizhen.reports.tests.conftest import PERIOD

pytestmark = pytest.mark.django_db

ACTION = "请分析开办企业时间偏长的原因，提出整改措施。"


def _create(personas: dict[str, Any], lagging: dict[str, Any], **overrides: Any) -> Any:
    fields = {
        "actor": personas["coordinator"],
        "indicator": lagging["indicator"],
        "region": lagging["region"],
        "period": PERIOD,
        "requested_action": ACTION,
        "deadline_days": 10,
        **overrides,
    }
    return services.create_letter(**fields)


def _docx_text(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables]
    return paragraphs, tables


def test_letter_docx_states_indicator_value_and_deadline(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date, city: dict[str, Any]
) -> None:
    letter = _create(personas, lagging)

    assert letter.number == "示范营商提醒〔2026〕1号"
    assert letter.department == city["market"]
    # 10 working days counted from the day after Monday 2 March 2026.
    assert letter.deadline == dt.date(2026, 3, 16)
    assert letter.deadline_provisional is False
    assert letter.status == LetterStatus.DRAFT
    paragraphs, tables = _docx_text(letter.docx.read())
    text = "\n".join(paragraphs)
    assert "开办企业时间" in text
    assert "东湖区" in text
    assert "数值为 12.50" in text
    assert "在 2 个参评区划中排名第 2 位" in text
    assert "全市数值为 10.25" in text
    assert "2026年3月16日" in text
    assert "市场监督管理局：" in paragraphs
    assert tables[0] == [
        ["排名", "区划", "数值", "得分"],
        ["1", "西山区", "8.00", "90.00"],
        ["2", "东湖区", "12.50", "60.00"],
    ]
    assert tables[1] == [["标杆城市", "数值"], ["深圳市", "1.50"], ["全市", "10.25"]]


def test_letter_pdf_is_a_pdf_with_the_cjk_font_embedded(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date
) -> None:
    letter = _create(personas, lagging)

    data = letter.pdf.read()
    assert data.startswith(b"%PDF-")
    assert len(data) > 1024
    # reportlab registers the face as "WQY" but embeds it under its PostScript name.
    assert b"WenQuanYiMicroHei" in data
    assert letter.pdf.name == "letters/2026-0001.pdf"
    assert letter.docx.name == "letters/2026-0001.docx"


def test_letter_snapshot_keeps_the_figures(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date
) -> None:
    letter = _create(personas, lagging)
    letter.refresh_from_db()

    content = letter.content
    assert (content["value"], content["score"], content["rank"], content["rank_total"]) == (
        12.5,
        60.0,
        2,
        2,
    )
    assert content["city_value"] == 10.25
    assert content["benchmarks"] == [{"city": "深圳市", "value": 1.5}]
    assert [(d["region"], d["rank"], d["is_addressed"]) for d in content["districts"]] == [
        ("西山区", 1, False),
        ("东湖区", 2, True),
    ]
    assert content["deadline"] == "2026-03-16"
    assert content["period_label"] == "2026年2月"


def test_creation_is_audited_once(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date
) -> None:
    letter = _create(personas, lagging)

    events = AuditEvent.objects.filter(action="reports.letter_created")
    assert events.count() == 1
    event = events.get()
    assert event.object_id == str(letter.pk)
    assert event.actor_id == personas["coordinator"].pk
    assert event.after["number"] == "示范营商提醒〔2026〕1号"
    assert event.after["department"] == "SZ-SCJG"


def test_numbers_are_sequential_per_year(
    personas: dict[str, Any],
    lagging: dict[str, Any],
    today: dt.date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _create(personas, lagging)
    second = _create(personas, lagging)
    monkeypatch.setattr(services.timezone, "localdate", lambda *a, **k: dt.date(2027, 1, 4))
    next_year = _create(personas, lagging)

    assert [first.number, second.number, next_year.number] == [
        "示范营商提醒〔2026〕1号",
        "示范营商提醒〔2026〕2号",
        "示范营商提醒〔2027〕1号",
    ]
    assert dict(
        DocumentCounter.objects.filter(scheme="reminder_letter").values_list("year", "last_number")
    ) == {2026: 2, 2027: 1}


def test_region_without_value_creates_nothing(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date, city: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as error:
        _create(personas, lagging, region=city["park"])

    assert error.value.message_dict == {
        "region": ["该区划在所选期间没有该指标的数值，无法生成提醒函"]
    }
    assert ReminderLetter.objects.count() == 0
    assert DocumentCounter.objects.filter(last_number__gt=0).count() == 0
    assert AuditEvent.objects.filter(action="reports.letter_created").count() == 0


def test_negative_days_refused_by_the_service(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date
) -> None:
    with pytest.raises(ValidationError) as error:
        _create(personas, lagging, deadline_days=-1)

    assert error.value.message_dict == {"deadline_days": ["反馈期限应为 1 至 60 个工作日"]}
    assert ReminderLetter.objects.count() == 0


def test_indicator_without_lead_department_refused(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date
) -> None:
    indicator = lagging["indicator"]
    indicator.lead_department = None
    indicator.save()

    with pytest.raises(ValidationError) as error:
        _create(personas, lagging)

    assert error.value.message_dict == {"indicator": ["该指标未设置牵头部门，无法生成提醒函"]}
    assert ReminderLetter.objects.count() == 0


def test_mark_sent_is_audited_and_notifies_the_department(
    personas: dict[str, Any],
    lagging: dict[str, Any],
    today: dt.date,
    django_capture_on_commit_callbacks: Any,
) -> None:
    letter = _create(personas, lagging)

    with django_capture_on_commit_callbacks(execute=True):
        services.mark_sent(letter, actor=personas["coordinator"])

    letter.refresh_from_db()
    assert letter.status == LetterStatus.SENT
    assert letter.sent_at is not None
    assert letter.sent_by == personas["coordinator"]
    event = AuditEvent.objects.get(action="reminder_letter.send")
    assert event.object_id == str(letter.pk)
    assert event.before == {"status": "draft"}
    assert event.after == {
        "status": "sent",
        "sent_at": letter.sent_at.isoformat(),
        "sent_by": personas["coordinator"].pk,
    }
    assert event.message == f"发送提醒函 {letter.number}"
    notes = Notification.objects.filter(category="reminder_letter")
    assert list(notes.values_list("recipient__username", "subject")) == [
        ("lead_dept", "收到提醒函 示范营商提醒〔2026〕1号")
    ]
    assert notes.get().link == f"/monitoring/letters/{letter.pk}/"


def test_mark_sent_twice_refused(
    personas: dict[str, Any],
    lagging: dict[str, Any],
    today: dt.date,
    django_capture_on_commit_callbacks: Any,
) -> None:
    letter = _create(personas, lagging)
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_sent(letter, actor=personas["coordinator"])
    sent_at = ReminderLetter.objects.get(pk=letter.pk).sent_at

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as error,
    ):
        services.mark_sent(letter, actor=personas["sysadmin"])

    assert error.value.messages == ["该提醒函已发送，不能重复发送"]
    assert ReminderLetter.objects.get(pk=letter.pk).sent_at == sent_at
    assert AuditEvent.objects.filter(action="reminder_letter.send").count() == 1
    assert Notification.objects.filter(category="reminder_letter").count() == 1
