"""Searchable pickers (issue 17, point 8) in headless Chromium: the coordinator dispatches an
enterprise request by typing pinyin initials and a code into the department pickers, which list
the departments under their region, the city's first; the saved request names the departments
picked. Nothing the pickers load or do is blocked by the Content-Security-Policy, and no script
fails. Chromium comes from tests/browser/conftest.py; screenshot:
artifacts/screenshots/pickers-dispatch.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import Channel
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
from sizhen.organisations import services as org
from sizhen.organisations.choices import DepartmentType
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def submitted(city: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    """A request of enterprise A waiting for dispatch, and housing bureaus in the city and in
    each district beside the fixtures' market and tax bureaus."""
    # Its own category: an earlier transactional test may have flushed the migrated taxonomy.
    topic, _ = RequestCategory.objects.get_or_create(code="9902", defaults={"name": "测试分类"})
    request, _ = services.submit_request(
        actor=personas["enterprise"],
        channel=Channel.PORTAL,
        text="厂房报建审批材料反复退回，请协调",
        category=topic,
    )
    housing = {
        code: org.create_department(
            actor=None, code=code, name=name, type=kind, region=city[region]
        )
        for code, name, kind, region in (
            ("SZ-ZJ", "住房和城乡建设局", DepartmentType.CITY_DEPARTMENT, "root"),
            ("DH-ZJ", "东湖区住房和城乡建设局", DepartmentType.DISTRICT_DEPARTMENT, "district_a"),
            ("XS-ZJ", "西山区住房和城乡建设局", DepartmentType.DISTRICT_DEPARTMENT, "district_b"),
        )
    }
    return {**city, **personas, "request": request, "housing": housing}


def picker(page: Page, select_id: str) -> Locator:
    """The Tom Select box that stands for the <select> of this id."""
    return page.locator(f"#{select_id} + .ts-wrapper")


def listed(page: Page, select_id: str) -> list[tuple[str, list[str]]]:
    """The open list of a picker: each group's header with the options shown under it."""
    groups: list[list[Any]] = page.eval_on_selector_all(
        f"#{select_id}-ts-dropdown .optgroup",
        """groups => groups.map(g => [
            g.querySelector('.optgroup-header').textContent.trim(),
            [...g.querySelectorAll('.option')].map(o => o.textContent.trim()),
        ])""",
    )
    return [(header, options) for header, options in groups]


def test_dispatch_by_pinyin_initials_and_code(
    page: Page, live_server: Any, submitted: dict[str, Any]
) -> None:
    violations: list[str] = []
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", keep)
    page.on("pageerror", lambda error: errors.append(str(error)))
    request: EnterpriseRequest = submitted["request"]
    market, dh_housing = submitted["market"], submitted["housing"]["DH-ZJ"]

    log_in(page, live_server.url, "coordinator")
    page.goto(f"{live_server.url}/requests/{request.pk}/")

    # The lead unit (主办): a single picker whose search box sits in its list.
    lead = picker(page, "id_department")
    lead.locator(".ts-control").click()
    search = lead.locator(".ts-dropdown input.dropdown-input")
    expect(search).to_be_focused()
    expect(search).to_have_attribute("placeholder", "输入名称、代码或拼音首字母搜索")
    # Every department is listed under its region, the city's own first.
    assert [group for group, _ in listed(page, "id_department")] == ["市级部门", "东湖区", "西山区"]
    search.fill("不存在的单位")
    expect(page.locator("#id_department-ts-dropdown .no-results")).to_have_text("无匹配项")
    # 市场监督管理局 by its initials "scjd": the city's bureau and both districts' match.
    search.fill("scjd")
    expect(page.locator("#id_department-ts-dropdown .option")).to_have_count(3)
    assert listed(page, "id_department") == [
        ("市级部门", ["市场监督管理局SZ-SCJG"]),
        ("东湖区", ["东湖区市场监督管理局DH-SCJG"]),
        ("西山区", ["西山区市场监督管理局XS-SCJG"]),
    ]
    page.locator("#id_department-ts-dropdown .optgroup", has_text="市级部门").locator(
        ".option", has_text="市场监督管理局"
    ).click()
    expect(lead.locator(".ts-control .item")).to_have_text("市场监督管理局")
    expect(page.locator("#id_department")).to_have_value(str(market.pk))

    # A co-handling unit (协办) by its code, chosen with the keyboard.
    co = picker(page, "id_co_departments")
    co_input = page.locator("#id_co_departments-ts-control")
    co_input.click()
    co_input.press_sequentially("dh-zj")
    expect(page.locator("#id_co_departments-ts-dropdown .option")).to_have_count(1)
    assert listed(page, "id_co_departments") == [("东湖区", ["东湖区住房和城乡建设局DH-ZJ"])]
    co_input.press("Enter")
    expect(co.locator(".ts-control .item")).to_have_count(1)
    expect(co.locator(".ts-control .item")).to_contain_text("东湖区住房和城乡建设局")
    co_input.press("Escape")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "pickers-dispatch.png"), full_page=True)
    page.get_by_test_id("do-dispatch").click()
    expect(page.get_by_test_id("lead")).to_have_text(
        "市场监督管理局（协办：东湖区住房和城乡建设局）"
    )

    request.refresh_from_db()
    assert request.status == "dispatched"
    assert request.lead_department_id == market.pk
    assert list(request.co_departments.all()) == [dh_housing]
    assert violations == []
    assert errors == []
