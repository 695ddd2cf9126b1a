"""Drafts proposed from red alerts (红色预警 → 提醒函建议稿): one per region and indicator, none
for a lower severity, made by the system through the services, audited, shown to the
coordinator as 草稿（建议） with its alert, then edited, sent or discarded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.core.jobs import run_pending
from sizhen.core.models import AuditEvent, DocumentCounter, Job, Notification
from sizhen.monitoring import detection
from sizhen.monitoring.models import Alert
from sizhen.monitoring.services import ScanFinding, apply_scan_findings
from sizhen.reports.jobs import PROPOSE_JOB, propose_letters_job
from sizhen.reports.models import LetterStatus, ReminderLetter
from sizhen.reports.services import PROPOSED_ACTION
from sizhen.reports.tests.conftest import PERIOD

pytestmark = pytest.mark.django_db

LIST_URL = "/monitoring/letters/"


def _alert(lagging: dict[str, Any], *, severity: str = "red", **fields: Any) -> Alert:
    values = {
        "indicator": lagging["indicator"],
        "region": lagging["region"],
        "kind": "goalpost_breach",
        "period": PERIOD,
        "severity": severity,
        "value": 12.5,
        "expected": 5.0,
        "method": "goalpost",
        "score": 3.0,
        "explanation": "开办企业时间未达目标",
        **fields,
    }
    return Alert.objects.create(**values)


def _propose(*alerts: Alert) -> dict[str, int]:
    return propose_letters_job(None, alert_ids=[a.pk for a in alerts])


def test_a_red_alert_gets_one_unnumbered_draft_by_the_system(
    lagging: dict[str, Any], personas: dict[str, Any], today: dt.date,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    alert = _alert(lagging)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = _propose(alert)

    assert outcome == {"red_alerts": 1, "proposed": 1}
    letter = ReminderLetter.objects.get()
    assert (letter.status, letter.proposed, letter.source_alert, letter.number) == (
        LetterStatus.DRAFT, True, alert, None,
    )  # fmt: skip
    assert (letter.region, letter.indicator, letter.period) == (
        lagging["region"], lagging["indicator"], PERIOD,
    )  # fmt: skip
    assert letter.status_label == "草稿（建议）"
    assert letter.requested_action == PROPOSED_ACTION
    assert letter.content["number"] == "示范营商提醒〔2026〕\u3000号"
    # The system writes in the name of the city's coordinating office.
    assert letter.content["organ"] == "示范市营商环境建设局"
    assert letter.pdf.read().startswith(b"%PDF-")
    assert DocumentCounter.objects.filter(last_number__gt=0).count() == 0
    event = AuditEvent.objects.get(action="reports.letter_proposed")
    assert (event.actor_id, event.object_id) == (None, str(letter.pk))
    assert event.after["source_alert"] == alert.pk
    notes = Notification.objects.filter(category="reminder_letter_proposal")
    assert list(notes.values_list("recipient__username", "subject")) == [
        ("coordinator", "红色预警生成 1 份提醒函建议稿")
    ]
    assert notes.get().body == "东湖区“开办企业时间”（2026年2月）"


def test_exactly_one_draft_per_region_and_indicator(
    lagging: dict[str, Any], personas: dict[str, Any], today: dt.date
) -> None:
    first = _alert(lagging)
    second = _alert(lagging, kind="benchmark_lag", method="benchmark")

    assert _propose(first, second) == {"red_alerts": 2, "proposed": 1}
    assert _propose(first, second) == {"red_alerts": 2, "proposed": 0}

    assert ReminderLetter.objects.count() == 1
    assert AuditEvent.objects.filter(action="reports.letter_proposed").count() == 1


@pytest.mark.parametrize("severity", ["orange", "yellow", "blue"])
def test_no_draft_below_the_highest_severity(
    lagging: dict[str, Any], personas: dict[str, Any], today: dt.date, severity: str
) -> None:
    alert = _alert(lagging, severity=severity)

    assert _propose(alert) == {"red_alerts": 0, "proposed": 0}
    assert ReminderLetter.objects.count() == 0
    assert AuditEvent.objects.filter(action="reports.letter_proposed").count() == 0


def test_no_draft_while_a_letter_is_open_or_for_a_good_extreme(
    lagging: dict[str, Any], personas: dict[str, Any], today: dt.date
) -> None:
    # 开办企业时间 is lower-is-better: a red extreme far *below* the others is good news.
    good = _alert(lagging, kind="cross_sectional_extreme", method="modified_z", expected=20.0)
    assert _propose(good) == {"red_alerts": 1, "proposed": 0}

    bad = _alert(lagging, kind="abnormal_change", method="hampel_change", expected=8.0)
    assert _propose(bad)["proposed"] == 1
    ReminderLetter.objects.update(status=LetterStatus.SENT, deadline=dt.date(2026, 3, 16))
    later = _alert(lagging, kind="level_shift", method="level_shift", expected=8.0)

    # A sent letter whose feedback is not due yet is still open.
    assert _propose(later)["proposed"] == 0
    assert ReminderLetter.objects.count() == 1


def test_a_discarded_proposal_is_not_proposed_again_for_its_alert(
    lagging: dict[str, Any], personas: dict[str, Any], today: dt.date
) -> None:
    from sizhen.reports.services import discard_letter

    alert = _alert(lagging)
    _propose(alert)
    discard_letter(ReminderLetter.objects.get(), actor=personas["coordinator"], reason="已电话提醒")

    assert _propose(alert)["proposed"] == 0
    assert list(ReminderLetter.objects.values_list("status", flat=True)) == ["discarded"]


def test_the_scan_publishes_and_the_job_proposes(
    lagging: dict[str, Any], personas: dict[str, Any], today: dt.date
) -> None:
    finding = detection.Finding(
        kind="goalpost_breach",
        region=lagging["region"].pk,
        period=PERIOD,
        value=12.5,
        expected=5.0,
        lower=None,
        upper=5.0,
        method="goalpost",
        score=3.0,
        severity="red",
        explanation="开办企业时间未达目标",
    )
    item = ScanFinding(indicator=lagging["indicator"], region=lagging["region"], finding=finding)

    apply_scan_findings([item])

    alert = Alert.objects.get()
    assert list(Job.objects.filter(name=PROPOSE_JOB).values_list("kwargs", flat=True)) == [
        {"alert_ids": [alert.pk]}
    ]
    assert run_pending() == 1
    assert ReminderLetter.objects.get().source_alert == alert
    # Seen again unchanged: nothing is raised, nothing more is queued.
    apply_scan_findings([item])
    assert Job.objects.filter(name=PROPOSE_JOB).count() == 1


@pytest.fixture
def proposal(lagging: dict[str, Any], personas: dict[str, Any], today: dt.date) -> Any:
    _propose(_alert(lagging))
    return ReminderLetter.objects.get()


def test_coordinator_sees_the_proposal_with_its_alert(client_for: Any, proposal: Any) -> None:
    client = client_for("coordinator")

    listing = client.get(f"{LIST_URL}?status=proposed").content.decode()
    page = client.get(f"{LIST_URL}{proposal.pk}/").content.decode()

    assert "草稿（建议）" in listing
    assert f'href="/monitoring/alerts/{proposal.source_alert_id}/"' in listing
    assert "红色预警" in listing
    assert 'data-testid="proposal-note"' in page
    assert f'href="/monitoring/alerts/{proposal.source_alert_id}/"' in page
    assert "请贵区会同市市场监督管理局（该指标牵头部门）深入分析该指标落后的原因" in page
    assert "（待编号）" not in client.get(f"{LIST_URL}?status=sent").content.decode()


@pytest.mark.parametrize("persona", ["district_a", "lead_department", "leader"])
def test_proposals_stay_with_the_office(client_for: Any, proposal: Any, persona: str) -> None:
    client = client_for(persona)

    assert "（待编号）" not in client.get(LIST_URL).content.decode()
    assert client.get(f"{LIST_URL}{proposal.pk}/").status_code == 404
    assert client.get(f"{LIST_URL}{proposal.pk}/download/pdf/").status_code == 404


def test_editing_a_proposal_adopts_and_numbers_it(
    client_for: Any, proposal: Any, personas: dict[str, Any]
) -> None:
    response = client_for("coordinator").post(
        f"{LIST_URL}{proposal.pk}/edit/",
        {"period": "2026-02", "requested_action": "请优化开办流程。", "deadline_days": "5"},
    )

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.number, proposal.proposed, proposal.status) == (
        "示范营商提醒〔2026〕1号", False, LetterStatus.DRAFT,
    )  # fmt: skip
    assert proposal.requested_action == "请优化开办流程。"
    assert proposal.deadline == dt.date(2026, 3, 9)
    assert proposal.content["number"] == "示范营商提醒〔2026〕1号"
    event = AuditEvent.objects.get(action="reports.letter_updated")
    assert event.actor_id == personas["coordinator"].pk
    assert (event.before["proposed"], event.after["proposed"]) == (True, False)
    assert event.before["number"] is None


def test_sending_a_proposal_numbers_it(
    client_for: Any, proposal: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("coordinator").post(f"{LIST_URL}{proposal.pk}/send/")

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.number, proposal.proposed) == (
        LetterStatus.SENT, "示范营商提醒〔2026〕1号", False,
    )  # fmt: skip
    assert proposal.content["number"] == "示范营商提醒〔2026〕1号"
    assert list(
        Notification.objects.filter(category="reminder_letter")
        .order_by("recipient__username")
        .values_list("recipient__username", flat=True)
    ) == ["district_a", "lead_dept"]


def test_discard_needs_a_reason_and_the_office(client_for: Any, proposal: Any) -> None:
    url = f"{LIST_URL}{proposal.pk}/discard/"

    assert client_for("lead_department").post(url, {"reason": "无"}).status_code == 404
    assert client_for("district_a").post(url, {"reason": "无"}).status_code == 404
    refused = client_for("coordinator").post(url, {"reason": " "}, follow=True)
    proposal.refresh_from_db()
    assert proposal.status == LetterStatus.DRAFT
    assert "“作废”需要填写理由" in refused.content.decode()
    assert AuditEvent.objects.filter(action="reminder_letter.discard").count() == 0

    response = client_for("coordinator").post(url, {"reason": "已当面提醒"})

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == LetterStatus.DISCARDED
    assert proposal.number is None
    event = AuditEvent.objects.get(action="reminder_letter.discard")
    assert event.after == {"status": "discarded"}
