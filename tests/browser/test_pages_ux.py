"""Pages a person can live in, in headless Chromium: the Chinese error page in the site's
layout with its ways back, breadcrumbs, the favicon, and milestone rows with a date picker on
the issue form (added and removed by the project's own script, under the Content-Security-
Policy). Screenshots go to artifacts/screenshots/ux-*.png."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from sizhen.work_tasks.models import WorkTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, base_url: str, user: Any) -> list[str]:
    """Logs the browser in with a session made by the test client (the login form has its own
    tests); returns the list the page's console errors are collected in (a script refused by
    the Content-Security-Policy is one)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}]
    )
    # The first page of a fresh browser can take long on a busy machine.
    page.goto(f"{base_url}/", timeout=60_000)
    return errors


def test_error_page_breadcrumbs_and_favicon(
    page: Page, live_server: Any, personas: Any, city: Any
) -> None:
    base = live_server.url
    errors = log_in(page, base, personas["coordinator"])

    page.goto(f"{base}/tasks/")
    crumbs = page.get_by_test_id("breadcrumbs")
    expect(crumbs).to_have_text("首页工作任务全部任务")
    expect(page.locator("h1")).to_have_text("全部任务")
    shot(page, "ux-breadcrumbs-tasks")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon == "/static/favicon.svg"
    answer = page.request.get(f"{base}{icon}")
    assert (answer.status, answer.headers["content-type"]) == (200, "image/svg+xml")

    # A mistyped address: the Chinese page in the site's layout; "返回上一页" goes back.
    page.goto(f"{base}/tasks/no-such-page/")
    expect(page.locator("h1")).to_have_text("未找到")
    expect(page.locator("#sidenav")).to_be_visible()
    shot(page, "ux-404")
    page.get_by_test_id("error-back").click()
    expect(page).to_have_url(f"{base}/tasks/")
    page.goto(f"{base}/tasks/no-such-page/")
    page.get_by_test_id("error-home").click()
    expect(page).to_have_url(f"{base}/")
    crumbs_on_home = page.get_by_test_id("breadcrumbs")
    expect(crumbs_on_home).to_have_count(0)
    assert [e for e in errors if "404" not in e] == []


def test_milestone_rows_with_a_date_picker(
    page: Page, live_server: Any, personas: Any, city: Any
) -> None:
    base = live_server.url
    errors = log_in(page, base, personas["coordinator"])
    page.goto(f"{base}/tasks/issue/")
    rows = page.get_by_test_id("milestones").locator("[data-row]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("input[type=date]")).to_be_visible()

    page.fill("#id_title", "浏览器测试：阶段节点")
    page.fill("#id_content", "按节点推进")
    page.select_option("#id_departments", str(city["market"].pk))
    page.fill("#id_deadline", "2030-06-28")
    rows.nth(0).locator("input[type=text]").fill("制定方案")
    rows.nth(0).locator("input[type=date]").fill("2030-03-31")
    add = page.get_by_role("button", name="添加节点")
    add.click()
    add.click()
    expect(rows).to_have_count(3)
    rows.nth(1).locator("input[type=text]").fill("多余的节点")
    rows.nth(1).get_by_role("button", name="删除").click()
    expect(rows).to_have_count(2)
    rows.nth(1).locator("input[type=text]").fill("试点运行")
    # Left without a date: the server names the row and keeps what was typed.
    page.get_by_test_id("submit-issue").click()
    expect(page.get_by_test_id("errors-milestones")).to_have_text(
        "第 2 个节点“试点运行”：请选择期限"
    )
    assert not WorkTask.objects.exists()
    rows = page.get_by_test_id("milestones").locator("[data-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("input[type=text]")).to_have_value("制定方案")
    rows.nth(1).locator("input[type=date]").fill("2030-05-15")
    page.select_option("#id_departments", str(city["market"].pk))
    shot(page, "ux-milestone-rows")
    page.get_by_test_id("submit-issue").click()
    expect(page.get_by_test_id("status")).to_have_text("待签收")
    task = WorkTask.objects.get()
    assert list(task.milestones.values_list("title", "deadline")) == [
        ("制定方案", dt.date(2030, 3, 31)),
        ("试点运行", dt.date(2030, 5, 15)),
    ]
    assert errors == []
