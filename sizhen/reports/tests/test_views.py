from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.core.models import AuditEvent, Notification
from sizhen.reports import services
from sizhen.reports.models import LetterStatus, ReminderLetter
from sizhen.reports.tests.conftest import PERIOD

pytestmark = pytest.mark.django_db

LIST_URL = "/monitoring/letters/"
NEW_URL = "/monitoring/letters/new/"


def _form(lagging: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "indicator": lagging["indicator"].pk,
        "region": lagging["region"].pk,
        "period": "2026-02",
        "requested_action": "请提出整改措施。",
        "deadline_days": "10",
        **overrides,
    }


@pytest.fixture
def letter(personas: dict[str, Any], lagging: dict[str, Any], today: dt.date) -> ReminderLetter:
    return services.create_letter(
        actor=personas["coordinator"],
        indicator=lagging["indicator"],
        region=lagging["region"],
        period=PERIOD,
        requested_action="请提出整改措施。",
        deadline_days=10,
    )


def test_coordinator_creates_a_letter(
    client_for: Any, lagging: dict[str, Any], today: dt.date
) -> None:
    client = client_for("coordinator")
    assert client.get(NEW_URL).status_code == 200

    response = client.post(NEW_URL, _form(lagging))

    letter = ReminderLetter.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/monitoring/letters/{letter.pk}/"
    assert letter.number == "示范营商提醒〔2026〕1号"
    assert letter.period == PERIOD
    assert letter.requested_action == "请提出整改措施。"
    page = client.get(response["Location"]).content.decode()
    assert "示范营商提醒〔2026〕1号" in page
    assert "2026年3月16日" in page
    assert 'data-testid="send"' in page


@pytest.mark.parametrize("persona", ["district_a", "enterprise", "lead_department", "leader"])
def test_others_cannot_create(
    client_for: Any, persona: str, lagging: dict[str, Any], today: dt.date
) -> None:
    client = client_for(persona)

    assert client.get(NEW_URL).status_code == 404
    assert client.post(NEW_URL, _form(lagging)).status_code == 404
    assert ReminderLetter.objects.count() == 0


def test_anonymous_is_sent_to_login(client_for: Any, lagging: dict[str, Any]) -> None:
    response = client_for(None).post(NEW_URL, _form(lagging))

    assert response.status_code == 302
    assert "/login" in response["Location"]
    assert ReminderLetter.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"indicator": "999999"}, "indicator", "所选指标不存在"),
        ({"deadline_days": "-3"}, "deadline_days", "反馈期限应为 1 至 60 个工作日"),
        ({"deadline_days": "abc"}, "deadline_days", "反馈期限应为整数个工作日"),
        ({"period": "2026年2月"}, "period", "期间格式应为 年-月，如 2026-03"),
        ({"requested_action": ""}, "requested_action", "请填写整改要求"),
        ({"period": "2025-02"}, "region", "该区划在所选期间没有该指标的数值，无法生成提醒函"),
    ],
)
def test_bad_input_gives_chinese_errors_and_creates_nothing(
    client_for: Any,
    lagging: dict[str, Any],
    today: dt.date,
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = client_for("coordinator").post(NEW_URL, _form(lagging, **overrides))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    assert ReminderLetter.objects.count() == 0
    assert AuditEvent.objects.filter(action="reports.letter_created").count() == 0


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("coordinator", True),
        ("sysadmin", True),
        ("leader", True),
        ("lead_department", True),
        ("responsible_department", False),
        # The letter is about 东湖区: its district officer reads it, 西山区's does not.
        ("district_a", True),
        ("district_b", False),
    ],
)
def test_list_is_scoped(
    client_for: Any, letter: ReminderLetter, persona: str, visible: bool
) -> None:
    response = client_for(persona).get(LIST_URL)

    assert response.status_code == 200
    assert ("示范营商提醒〔2026〕1号" in response.content.decode()) is visible


@pytest.mark.parametrize("persona", ["enterprise"])
def test_list_refused_to_enterprise(client_for: Any, letter: ReminderLetter, persona: str) -> None:
    assert client_for(persona).get(LIST_URL).status_code == 404


def test_addressed_department_downloads_its_letter(client_for: Any, letter: ReminderLetter) -> None:
    client = client_for("lead_department")

    assert client.get(f"/monitoring/letters/{letter.pk}/").status_code == 200
    docx = client.get(f"/monitoring/letters/{letter.pk}/download/docx/")
    pdf = client.get(f"/monitoring/letters/{letter.pk}/download/pdf/")

    assert docx.status_code == 200
    assert b"".join(docx.streaming_content).startswith(b"PK")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


@pytest.mark.parametrize("persona", ["responsible_department", "district_b", "enterprise"])
def test_others_cannot_open_or_download(
    client_for: Any, letter: ReminderLetter, persona: str
) -> None:
    client = client_for(persona)
    denied_before = AuditEvent.objects.filter(action="access.denied").count()

    assert client.get(f"/monitoring/letters/{letter.pk}/").status_code == 404
    assert client.get(f"/monitoring/letters/{letter.pk}/download/docx/").status_code == 404
    assert client.get(f"/monitoring/letters/{letter.pk}/download/pdf/").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == denied_before + 3


def test_unknown_download_kind_is_404(client_for: Any, letter: ReminderLetter) -> None:
    response = client_for("coordinator").get(f"/monitoring/letters/{letter.pk}/download/exe/")

    assert response.status_code == 404


def test_coordinator_marks_sent(
    client_for: Any, letter: ReminderLetter, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("coordinator").post(f"/monitoring/letters/{letter.pk}/send/")

    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == LetterStatus.SENT
    assert AuditEvent.objects.filter(action="reminder_letter.send").count() == 1
    assert list(
        Notification.objects.filter(category="reminder_letter")
        .order_by("recipient__username")
        .values_list("recipient__username", flat=True)
    ) == ["district_a", "lead_dept"]


@pytest.mark.parametrize("persona", ["leader", "lead_department", "district_a"])
def test_others_cannot_mark_sent(
    client_for: Any, letter: ReminderLetter, persona: str, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(persona).post(f"/monitoring/letters/{letter.pk}/send/")

    assert response.status_code == 404
    letter.refresh_from_db()
    assert letter.status == LetterStatus.DRAFT
    assert letter.sent_at is None
    assert Notification.objects.filter(category="reminder_letter").count() == 0


def test_send_needs_post(client_for: Any, letter: ReminderLetter) -> None:
    response = client_for("coordinator").get(f"/monitoring/letters/{letter.pk}/send/")

    assert response.status_code == 405
    letter.refresh_from_db()
    assert letter.status == LetterStatus.DRAFT


def test_form_prefilled_from_an_alert_link(client_for: Any, lagging: dict[str, Any]) -> None:
    indicator, region = lagging["indicator"], lagging["region"]
    response = client_for("coordinator").get(
        f"{NEW_URL}?indicator={indicator.pk}&region={region.pk}&period=2026-02"
    )

    form = response.context["form"]
    assert form["indicator"].value() == str(indicator.pk)
    assert form["region"].value() == str(region.pk)
    assert form["period"].value() == "2026-02"
    assert ReminderLetter.objects.count() == 0


def test_district_officer_reads_the_letter_to_their_district(
    client_for: Any, letter: ReminderLetter
) -> None:
    client = client_for("district_a")

    page = client.get(f"/monitoring/letters/{letter.pk}/")
    pdf = client.get(f"/monitoring/letters/{letter.pk}/download/pdf/")

    assert page.status_code == 200
    assert "经监测，2026年2月贵区“开办企业时间”指标得分60.0分" in page.content.decode()
    assert 'data-testid="send"' not in page.content.decode()
    assert pdf.status_code == 200
