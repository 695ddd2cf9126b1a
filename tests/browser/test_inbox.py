"""The inbox in headless Chromium: the title column is wide enough to read, a digest is a short
list of links, the filters narrow the list, and ticking rows (or the whole page) then
"将所选标为已读" marks exactly those. Screenshots go to artifacts/screenshots/inbox-*.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from sizhen.core.models import AuditEvent, Notification
from sizhen.core.notifications import notify
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
LONG_SUBJECT = "关于东湖区市场监督管理局企业开办全程网办率连续三个月低于目标值的督办任务已下发"


def test_inbox_reads_filters_and_marks_selected_rows_read(
    page: Page, live_server: Any, personas: dict[str, Any]
) -> None:
    user = personas["coordinator"]
    notify([user], subject=LONG_SUBJECT, body="请于 5 个工作日内签收。", category="work_task")
    notify(
        [user],
        subject="预警摘要：12 条新预警",
        body="\n".join(f"第 {i} 条" for i in range(1, 7)),
        category="alert_digest",
        items=[
            *[{"text": f"第 {i} 条预警", "link": f"/monitoring/alerts/{i}/"} for i in range(1, 6)],
            {
                "text": "另有 7 条新预警，请在预警列表中查看",
                "link": "/monitoring/alerts/?status=open",
            },
        ],
    )
    notify([user], subject="填报已退回", category="filling")
    notify([personas["district_a"]], subject="别人的消息")

    log_in(page, live_server.url, "coordinator")
    page.goto(f"{live_server.url}/inbox/")
    rows = page.get_by_test_id("message")
    expect(rows).to_have_count(3)
    # The title column holds a long subject on a few lines, not one character a line.
    subject_cell = rows.filter(has_text=LONG_SUBJECT).locator("td.subject")
    box = subject_cell.bounding_box()
    assert box is not None and box["width"] >= 240
    digest = page.get_by_test_id("digest")
    expect(digest.locator("li")).to_have_count(6)
    expect(digest.locator("a").last).to_have_attribute("href", "/monitoring/alerts/?status=open")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "inbox-coordinator.png"), full_page=True)

    # Filter by kind, then mark the one row shown read; the filters are kept afterwards.
    page.select_option("select[name=kind]", "alert_digest")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    rows.first.locator("input[name=ids]").check()
    page.get_by_test_id("mark-selected").click()
    expect(page.locator(".messages")).to_contain_text("已将 1 条消息标为已读")
    expect(page).to_have_url(f"{live_server.url}/inbox/?q=&status=&kind=alert_digest&since=&until=")
    expect(rows.first.locator("td").last).to_have_text("已读")

    # Unread only: the page's select-all ticks the two left, and marks them.
    page.goto(f"{live_server.url}/inbox/?status=unread")
    expect(rows).to_have_count(2)
    page.check("input[data-select-all=ids]")
    expect(page.locator("input[name=ids]:checked")).to_have_count(2)
    page.get_by_test_id("mark-selected").click()
    expect(page.locator(".messages")).to_contain_text("已将 2 条消息标为已读")
    expect(rows).to_have_count(0)

    assert Notification.objects.filter(recipient=user, read_at__isnull=True).count() == 0
    assert Notification.objects.get(subject="别人的消息").read_at is None
    assert AuditEvent.objects.filter(action="notification.mark_read").count() == 2
