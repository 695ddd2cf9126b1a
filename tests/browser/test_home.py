"""The home page as a work queue in headless Chromium: a department officer sees the tasks
waiting for the unit with their count and nearest deadline, and the count opens the list of
exactly those tasks; the leader's home leads to the cockpit. Screenshots go to
artifacts/screenshots/home-queue-*.png."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from sizhen.work_tasks import services
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def test_a_department_follows_its_queue_into_the_filtered_list(
    page: Page, live_server: Any, personas: dict[str, Any], city: dict[str, Any]
) -> None:
    today = timezone.localdate()
    for number, days in ((1, 9), (2, 4)):
        services.issue_task(
            actor=personas["coordinator"],
            title=f"压缩开办时间第{number}项",
            content="按要求办理",
            source="annual_plan",
            units=[city["market"]],
            deadline=today + dt.timedelta(days=days),
        )
    services.issue_task(
        actor=personas["coordinator"],
        title="西山区的任务",
        content="按要求办理",
        source="annual_plan",
        units=[city["b_dept"]],
        deadline=today + dt.timedelta(days=2),
    )

    log_in(page, live_server.url, "lead_dept")
    row = page.get_by_test_id("queue-work_tasks-receive")
    expect(row.get_by_test_id("count")).to_have_text("2")
    expect(row).to_contain_text("待签收的任务")
    expect(row.get_by_test_id("deadline")).to_have_text(
        f"最早期限 {today + dt.timedelta(days=4):%Y-%m-%d}"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home-queue-lead_dept.png"), full_page=True)

    row.get_by_test_id("count").click()
    expect(page).to_have_url(f"{live_server.url}/tasks/mine/?queue=receive")
    expect(page.locator("select[name=queue]")).to_have_value("receive")
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    expect(page.locator("table.data tbody")).not_to_contain_text("西山区的任务")


def test_the_leader_goes_from_home_to_the_cockpit(
    page: Page, live_server: Any, personas: dict[str, Any]
) -> None:
    log_in(page, live_server.url, "leader")
    expect(page.locator("main")).not_to_contain_text("上线后提供")
    page.get_by_test_id("cockpit-links").get_by_text("进入领导驾驶舱").click()
    expect(page).to_have_url(f"{live_server.url}/dashboards/cockpit/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/")
    page.screenshot(path=str(SCREENSHOTS / "home-queue-leader.png"), full_page=True)
