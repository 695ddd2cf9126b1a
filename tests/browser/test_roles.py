"""Every role logs in through the real login form in headless Chromium and sees its own home
page and navigation; a phone-width screen gets the navigation toggle; a wrong password is
refused with the error shown. Screenshots go to artifacts/screenshots/ for people to look at."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in this thread, and Django then refuses ORM calls
# from it (SynchronousOnlyOperation) although nothing here is async; the test thread and the
# live server thread use separate connections, so the check guards nothing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from sizhen.accounts.models import LoginFailure

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

STAFF_MODULES = [
    ("monitoring", "监测分析"),
    ("requests", "企业诉求"),
    ("surveys", "问卷调查"),
    ("tasks", "工作任务"),
    ("rectification", "整改清单"),
    ("knowledge", "营商智库"),
    ("assets", "数据资产"),
    ("training", "营商培训"),
]
SYSTEM = ("system", "系统管理")
ENTERPRISE_MODULES = [("requests", "企业诉求"), ("surveys", "问卷调查"), ("knowledge", "营商智库")]

#: username -> (role label on the page, scope label, navigation entries in order)
EXPECTED: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "leader": ("市领导", "全市", STAFF_MODULES),
    "coordinator": ("营商办", "全市", [*STAFF_MODULES, SYSTEM]),
    "lead_dept": ("指标牵头部门", "市场监督管理局", STAFF_MODULES),
    "resp_dept": ("责任部门", "东湖区市场监督管理局", STAFF_MODULES),
    # District officers reach their own enterprises through 系统管理 → 企业.
    "district_dh": ("县市区/园区", "东湖区", [*STAFF_MODULES, SYSTEM]),
    "district_xs": ("县市区/园区", "西山区", [*STAFF_MODULES, SYSTEM]),
    "enterprise": ("企业", "东湖示范科技有限公司", ENTERPRISE_MODULES),
    "sysadmin": ("系统管理员", "全市", [*STAFF_MODULES, SYSTEM]),
}


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
    """Loads the demo city and returns username -> password as `demo --logins-json` prints."""
    out = io.StringIO()
    call_command("demo", "--if-empty", "--logins-json", stdout=out)
    return {entry["username"]: entry["password"] for entry in json.loads(out.getvalue())}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
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


@pytest.mark.parametrize("username", list(EXPECTED))
def test_each_role_sees_its_home_page_and_navigation(
    username: str, page: Page, live_server: Any, logins: dict[str, str]
) -> None:
    role_label, scope_label, modules = EXPECTED[username]

    log_in(page, live_server.url, username, logins[username])

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("role")).to_have_text(role_label)
    expect(page.get_by_test_id("scope")).to_have_text(scope_label)
    expect(page.get_by_test_id("who")).to_contain_text(role_label)
    nav = page.locator("#sidenav a.nav-module")
    assert nav.evaluate_all("els => els.map(e => e.dataset.module)") == [m for m, _ in modules]
    for slug, label in modules:
        expect(page.locator(f'#sidenav a[data-module="{slug}"]')).to_contain_text(label)
        expect(page.get_by_test_id(f"tile-{slug}")).to_contain_text(label)
    shot(page, f"home-{username}")

    # A module still being built says so on its own page; the nav marks it "建设中".
    pending = page.locator("#sidenav a.nav-module.pending")
    if pending.count():
        slug = pending.first.get_attribute("data-module")
        pending.first.click()
        expect(page).to_have_url(f"{live_server.url}/m/{slug}/")
        expect(page.get_by_test_id("placeholder")).to_contain_text("尚未上线")
        expect(page.locator("h1")).to_contain_text(dict(modules)[slug or ""])
        shot(page, f"placeholder-{username}")
    else:
        expect(page.locator("#sidenav")).not_to_contain_text("建设中")

    # Pages of modules the role does not have answer 404, the same as pages that do not exist.
    hidden = {m for m, _ in [*STAFF_MODULES, SYSTEM]} - {m for m, _ in modules}
    for slug in sorted(hidden):
        response = page.goto(f"{live_server.url}/m/{slug}/")
        assert response is not None and response.status == 404, slug
        expect(page.locator("h1")).to_have_text("未找到")
    if SYSTEM not in modules:
        response = page.goto(f"{live_server.url}/system/")
        assert response is not None and response.status == 404


def test_system_pages_differ_between_sysadmin_coordinator_and_district(
    page: Page, live_server: Any, logins: dict[str, str]
) -> None:
    log_in(page, live_server.url, "sysadmin", logins["sysadmin"])
    page.locator('#sidenav a[data-module="system"]').click()
    expect(page).to_have_url(f"{live_server.url}/system/")
    tiles = page.locator(".tiles .tile h2")
    expect(tiles).to_have_text(
        ["行政区划", "部门", "企业", "用户", "接口令牌", "工作日历", "后台任务", "审计日志"]
    )
    shot(page, "system-sysadmin")
    page.click("form[action$='/logout/'] button")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")

    log_in(page, live_server.url, "coordinator", logins["coordinator"])
    page.goto(f"{live_server.url}/system/")
    expect(page.locator(".tiles .tile h2")).to_have_text(
        ["行政区划", "部门", "企业", "用户", "工作日历", "后台任务"]
    )
    page.click("form[action$='/logout/'] button")

    log_in(page, live_server.url, "district_dh", logins["district_dh"])
    page.goto(f"{live_server.url}/system/")
    expect(page.locator(".tiles .tile h2")).to_have_text(["企业"])


def test_phone_width_shows_the_navigation_toggle(
    browser: Browser, live_server: Any, logins: dict[str, str]
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        phone = context.new_page()
        log_in(phone, live_server.url, "district_dh", logins["district_dh"])
        expect(phone.get_by_test_id("role")).to_have_text("县市区/园区")
        toggle = phone.locator("button.nav-toggle")
        expect(toggle).to_be_visible()
        expect(phone.locator("#sidenav")).to_be_hidden()
        shot(phone, "phone-home-district_dh")
        toggle.click()
        expect(phone.locator("#sidenav")).to_be_visible()
        expect(phone.locator('#sidenav a[data-module="monitoring"]')).to_be_visible()
        shot(phone, "phone-nav-open-district_dh")
    finally:
        context.close()


def test_wrong_password_shows_the_error_and_logs_nobody_in(
    page: Page, live_server: Any, logins: dict[str, str]
) -> None:
    assert LoginFailure.objects.count() == 0

    log_in(page, live_server.url, "leader", logins["leader"] + "x")

    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.locator("#sidenav")).to_have_count(0)
    shot(page, "login-wrong-password")
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["leader"]
    response = page.goto(f"{live_server.url}/")
    assert response is not None
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
