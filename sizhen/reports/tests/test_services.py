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
    # The letter is addressed to the region; the lead department acts with it.
    assert "东湖区：" in paragraphs
    assert (
        "经监测，2026年2月贵区“开办企业时间”指标得分60.0分，低于全市平均15.0分，"
        "排名全市第2位（共2个地区）。现将有关情况函告如下。"
    ) in paragraphs
    assert (
        "2026年2月，贵区该指标数值为12.5天，全市为10.25天，标杆城市深圳市为1.5天。近12期走势见图1。"
        in paragraphs
    )
    assert (
        "请贵区会同市市场监督管理局（该指标牵头部门）分析开办企业时间偏长的原因，提出整改措施，"
        "并于2026年3月16日前将整改情况书面反馈市营商环境建设局。"
    ) in paragraphs
    assert tables[0] == [
        ["城市（地区）", "数值（天）", "得分"],
        ["深圳市", "1.5", "—"],
        ["全市", "10.25", "—"],
        ["东湖区", "12.5", "60.0"],
    ]
    assert tables[1] == [
        ["排名", "地区", "数值（天）", "得分"],
        ["1", "西山区", "8", "90.0"],
        ["2", "东湖区", "12.5", "60.0"],
    ]


def test_letter_pdf_is_a_pdf_with_the_cjk_font_embedded(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date
) -> None:
    letter = _create(personas, lagging)

    data = letter.pdf.read()
    assert data.startswith(b"%PDF-")
    assert len(data) > 1024
    # reportlab embeds each face under its PostScript name: 黑体 is WenQuanYi Micro Hei,
    # 仿宋/小标宋 the Arphic Ming face, 楷体 the Arphic Kai face (docs/decisions/0009).
    assert b"WenQuanYiMicroHei" in data
    assert b"UMingCN" in data
    assert b"UKaiCN" in data
    assert b"Helvetica" not in data
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
    # No evaluation cycle holds goalposts for the indicator: the benchmark has no score.
    assert content["benchmarks"] == [{"city": "深圳市", "value": 1.5, "score": None}]
    assert (content["peer_area"], content["peer_mean_score"]) == ("全市", 75.0)
    assert (content["addressee"], content["honorific"]) == ("东湖区", "贵区")
    assert content["series"]["labels"][-2:] == ["2026-01", "2026-02"]
    assert len(content["series"]["labels"]) == 12
    assert content["series"]["region"][-1] == 12.5
    assert content["series"]["city"][-1] == 10.25
    assert content["series"]["benchmarks"] == {"深圳市": [None] * 11 + [1.5]}
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
    notes = Notification.objects.filter(category="reminder_letter").order_by("recipient__username")
    # The region's officers read the letter addressed to them, the lead department acts with them.
    assert list(notes.values_list("recipient__username", "subject")) == [
        ("district_a", "收到提醒函 示范营商提醒〔2026〕1号"),
        ("lead_dept", "收到提醒函 示范营商提醒〔2026〕1号"),
    ]
    assert {note.link for note in notes} == {f"/monitoring/letters/{letter.pk}/"}


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
    # The first sending told the district officer and the lead department; the refusal no one.
    assert Notification.objects.filter(category="reminder_letter").count() == 2


def test_a_letter_on_the_city_figure_goes_to_the_lead_department(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date, city: dict[str, Any]
) -> None:
    letter = _create(personas, lagging, region=city["root"])

    paragraphs, tables = _docx_text(letter.docx.read())
    assert "市市场监督管理局：" in paragraphs
    assert (
        "经监测，2026年2月全市“开办企业时间”指标数值为10.25天。现将有关情况函告如下。"
    ) in paragraphs
    assert (
        "请贵单位作为该指标牵头部门，分析开办企业时间偏长的原因，提出整改措施，"
        "并于2026年3月16日前将整改情况书面反馈市营商环境建设局。"
    ) in paragraphs
    assert tables == [
        [["城市（地区）", "数值（天）", "得分"], ["深圳市", "1.5", "—"], ["全市", "10.25", "—"]]
    ]
