"""Work tasks in headless Chromium: the coordinator issues a task, the department officer
receives it, reports progress and submits it, the coordinator approves it and looks at the
board, the statistics and the overdue list. Screenshots go to artifacts/screenshots/tasks-*.png
(artifacts/ is not committed)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, FilePayload, Page, expect, sync_playwright

from sizhen.organisations.models import Department
from sizhen.work_tasks.models import TaskAssignment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/setup.sh --browser`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def logins(transactional_db: Any) -> dict[str, str]:
    out = io.StringIO()
    call_command("demo", "--if-empty", "--logins-json", stdout=out)
    return {entry["username"]: entry["password"] for entry in json.loads(out.getvalue())}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    # The live server runs in this process: uploads land in the test's own directory.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    new_page = context.new_page()
    new_page.set_default_timeout(15_000)
    yield new_page
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base_url}/")


def log_out(page: Page) -> None:
    page.click("form[action$='/logout/'] button")


def test_issue_receive_answer_approve(page: Page, live_server: Any, logins: dict[str, str]) -> None:
    base = live_server.url
    market = Department.objects.get(code="SZ-SCJG")

    log_in(page, base, "coordinator", logins["coordinator"])
    page.goto(f"{base}/tasks/issue/")
    # A form without a unit is refused with the reason, and nothing is issued.
    page.fill("#id_title", "浏览器测试：优化获得用水流程")
    page.fill("#id_content", "将用水报装时间压缩至 3 个工作日")
    page.fill("#id_working_days", "5")
    page.get_by_test_id("submit-issue").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("请至少选择一个承办部门或县市区")
    assert not TaskAssignment.objects.filter(task__title__startswith="浏览器测试").exists()
    page.select_option("#id_source", "evaluation_feedback")
    page.select_option("#id_departments", str(market.pk))
    shot(page, "tasks-issue-coordinator")
    page.get_by_test_id("submit-issue").click()
    expect(page.get_by_test_id("status")).to_have_text("待签收")
    expect(page.get_by_test_id("unit")).to_contain_text("市场监督管理局")
    assignment = TaskAssignment.objects.get(task__title="浏览器测试：优化获得用水流程")
    detail = f"{base}/tasks/{assignment.pk}/"
    expect(page).to_have_url(detail)
    log_out(page)

    log_in(page, base, "lead_dept", logins["lead_dept"])
    page.goto(f"{base}/tasks/mine/")
    page.get_by_role("link", name="浏览器测试：优化获得用水流程").click()
    expect(page).to_have_url(detail)
    page.get_by_test_id("do-receive").click()
    expect(page.get_by_test_id("status")).to_have_text("办理中")
    page.get_by_test_id("progress-content").fill("已梳理报装环节，完成系统改造")
    page.get_by_test_id("progress-percent").fill("100")
    page.get_by_test_id("progress-files").set_input_files(
        files=[FilePayload(name="改造说明.pdf", mimeType="application/pdf", buffer=b"%PDF-1.4 ok")]
    )
    page.get_by_test_id("do-progress").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("已梳理报装环节，完成系统改造")
    expect(page.get_by_test_id("timeline")).to_contain_text("改造说明.pdf")
    page.get_by_test_id("do-submit").click()
    expect(page.get_by_test_id("status")).to_have_text("待审核")
    shot(page, "tasks-answered-department")
    page.goto(f"{base}/tasks/mine/")
    expect(page.locator("table.data")).to_contain_text("浏览器测试：优化获得用水流程")
    expect(page.locator("table.data")).to_contain_text("待审核")
    shot(page, "tasks-mine-department")
    log_out(page)

    log_in(page, base, "coordinator", logins["coordinator"])
    page.goto(detail)
    page.get_by_test_id("do-approve").click()
    expect(page.get_by_test_id("status")).to_have_text("已完成")
    expect(page.get_by_test_id("timeliness")).to_contain_text("提前完成")
    expect(page.get_by_test_id("timeline")).to_contain_text("审核通过")
    shot(page, "tasks-approved-coordinator")
    assignment.refresh_from_db()
    assert (assignment.status, assignment.timeliness) == ("approved", "early")

    page.goto(f"{base}/tasks/board/")
    expect(page.get_by_test_id("board-approved")).to_contain_text("浏览器测试：优化获得用水流程")
    shot(page, "tasks-board-coordinator")
    page.goto(f"{base}/tasks/statistics/")
    expect(page.get_by_test_id("summary")).to_contain_text("按期完成率")
    shot(page, "tasks-statistics-coordinator")
    # The overdue tab lists open tasks past their deadline only (the demo city has some).
    page.get_by_role("link", name="任务列表").click()
    page.get_by_test_id("task-tabs").get_by_role("link", name="逾期未完成").click()
    expect(page.get_by_test_id("task-tabs").locator("a.active")).to_have_text("逾期未完成")
    expect(page.locator("table.data")).to_contain_text("已逾期")
    expect(page.locator("table.data")).not_to_contain_text("浏览器测试：优化获得用水流程")
    shot(page, "tasks-overdue-coordinator")
