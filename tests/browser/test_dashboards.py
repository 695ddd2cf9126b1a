"""The indicator page, the cockpit and the drill-down to records in headless Chromium, on the
demo city with a small set of records: the ECharts charts are drawn with data, a district
officer reaches their own district's masked records and never another district's. Screenshots
go to artifacts/screenshots/ (the directory test_roles.py uses)."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

# See test_roles.py: Playwright's sync API runs an event loop in this thread; the ORM calls
# here (run_pending) use their own connection, so Django's async guard protects nothing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from sizhen.core.jobs import run_pending
from sizhen.indicators.ingestion.models import RecordExtract

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
#: 办结量 (completed cases): computed from the 政务服务办件 records, so it can be drilled into.
INDICATOR = "BE15.06"
DEMO_RECORDS = "3000"

#: Counts the non-empty points of every series of the chart drawn in one element.
CHART_POINTS = """selector => {
  const element = document.querySelector(selector);
  const chart = element && window.echarts && echarts.getInstanceByDom(element);
  if (!chart) { return null; }
  return chart.getOption().series.map(s => (s.data || []).filter(point => {
    const value = point !== null && typeof point === "object" && !Array.isArray(point)
      ? point.value : point;
    return value !== null && value !== undefined && value !== "-";
  }).length);
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/setup.sh --browser`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def logins(transactional_db: Any, settings: Any, tmp_path: Path) -> dict[str, str]:
    """The demo city with a few thousand records loaded and computed, in a store of its own."""
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    out = io.StringIO()
    call_command("demo", "--if-empty", "--records", DEMO_RECORDS, "--logins-json", stdout=out)
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
    expect(page).to_have_url(f"{base_url}/")


def chart_points(page: Page, name: str) -> list[int]:
    selector = f'[data-chart="{name}"]'
    expect(page.locator(f"{selector} canvas")).to_have_count(1)
    page.wait_for_function(
        "s => window.echarts && echarts.getInstanceByDom(document.querySelector(s))", arg=selector
    )
    points = page.evaluate(CHART_POINTS, selector)
    assert points is not None, name
    return points


def test_leader_sees_charts_with_data_on_the_indicator_page_and_the_cockpit(
    page: Page, live_server: Any, logins: dict[str, str]
) -> None:
    log_in(page, live_server.url, "leader", logins["leader"])

    response = page.goto(f"{live_server.url}/dashboards/indicators/{INDICATOR}/")
    assert response is not None and response.status == 200
    expect(page.get_by_test_id("region")).to_have_text("示范市")
    series = chart_points(page, "series-chart")
    # The city's own line has a value for each of the demo's months; the target line follows.
    assert series[0] >= 12
    districts = chart_points(page, "districts-chart")
    # The city's direct children: eight districts and counties and two parks.
    assert districts == [10]
    expect(page.get_by_test_id("districts-table").locator("tbody tr")).to_have_count(10)
    # The open tasks and ledger items of the indicator (however many the demo links to it),
    # with links to the task list and the ledger filtered by it.
    expect(page.get_by_test_id("work-tasks")).to_contain_text(
        re.compile(r"相关工作任务（未完成 \d+ 项）")
    )
    expect(page.get_by_test_id("tasks-link")).to_have_attribute(
        "href", f"/tasks/?indicator={INDICATOR}"
    )
    expect(page.get_by_test_id("ledger")).to_contain_text(
        re.compile(r"相关整改事项（未销号 \d+ 项，已销号 \d+ 项）")
    )
    expect(page.get_by_test_id("ledger-link")).to_have_attribute(
        "href", f"/rectification/?indicator={INDICATOR}"
    )
    expect(page.get_by_test_id("records-link")).to_be_visible()
    shot(page, "dashboards-indicator-leader")

    response = page.goto(f"{live_server.url}/dashboards/cockpit/")
    assert response is not None and response.status == 200
    history = chart_points(page, "history-chart")
    assert history[0] >= 12
    cockpit_districts = chart_points(page, "districts-chart")
    assert len(cockpit_districts) == 1 and 8 <= cockpit_districts[0] <= 10
    heatmap = chart_points(page, "heatmap-chart")
    assert heatmap[0] >= 8
    # Early / on time / late: three bars, zero or not.
    assert chart_points(page, "tasks-chart") == [3]
    assert len(chart_points(page, "requests-chart")) == 1
    shot(page, "dashboards-cockpit-leader")

    # The big screen at the command centre's 1920×1080: every panel drawn, nothing scrolls.
    page.set_viewport_size({"width": 1920, "height": 1080})
    response = page.goto(f"{live_server.url}/dashboards/bigscreen/")
    assert response is not None and response.status == 200
    for name in ("history-chart", "districts-chart", "heatmap-chart", "tasks-chart"):
        assert chart_points(page, name)[0] >= 1, name
    assert len(chart_points(page, "requests-chart")) == 1
    size = page.evaluate("[document.body.scrollWidth, document.body.scrollHeight]")
    assert size == [1920, 1080]
    page.wait_for_timeout(1500)  # let the charts' entry animation finish for the picture
    page.screenshot(path=str(SCREENSHOTS / "dashboards-bigscreen-leader.png"))


def test_district_officer_drills_into_their_own_records_only(
    page: Page, live_server: Any, logins: dict[str, str]
) -> None:
    base = live_server.url
    log_in(page, base, "district_dh", logins["district_dh"])

    # The city page shows the figures (their district only in the ranking), not the records.
    page.goto(f"{base}/dashboards/indicators/{INDICATOR}/")
    expect(page.get_by_test_id("region")).to_have_text("示范市")
    assert chart_points(page, "series-chart")[0] >= 12
    assert chart_points(page, "districts-chart") == [1]
    expect(page.get_by_test_id("records-link")).to_have_count(0)
    shot(page, "dashboards-indicator-district_dh-city")

    # Down to their district, then to the records behind its latest value.
    page.get_by_test_id("districts-table").get_by_role("link", name="东湖区").click()
    expect(page.get_by_test_id("region")).to_have_text("东湖区")
    assert chart_points(page, "series-chart")[0] >= 12
    shot(page, "dashboards-indicator-district_dh")
    page.get_by_test_id("records-link").click()
    expect(page.get_by_test_id("region")).to_have_text("东湖区")
    expect(page.get_by_test_id("extract-state")).to_contain_text("尚未抽取")
    page.get_by_test_id("request-extract").click()
    expect(page.get_by_test_id("extract-state")).to_contain_text("正在后台抽取")

    # The worker's part, run here (with the jobs the demo left queued): the page itself never
    # opens the analytical store.
    assert run_pending() >= 1
    extract = RecordExtract.objects.get()
    assert extract.state == "ready" and extract.rows
    page.reload()
    expect(page.get_by_test_id("extract-state")).to_contain_text("已抽取")
    table = page.get_by_test_id("records-table")
    region_column = [name for name, _ in extract.columns].index("region_code")
    regions = table.locator(f"tbody tr td:nth-child({region_column + 1})").all_inner_texts()
    assert regions and set(regions) <= {"449901", "P449951"}
    assert re.search(r"1[3-9]\d{9}", table.inner_text()) is None
    shot(page, "dashboards-records-district_dh")

    with page.expect_download() as download:
        page.get_by_test_id("export").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    # Another district's records, and the city's (which include them), answer 404.
    period = extract.period.strftime("%Y-%m")
    for region in ("449902", "449900"):
        response = page.goto(
            f"{base}/dashboards/indicators/{INDICATOR}/records/?region={region}&period={period}"
        )
        assert response is not None and response.status == 404, region
        expect(page.locator("h1")).to_have_text("未找到")
    shot(page, "dashboards-records-other-district-404")

    # The cockpit of their own district: the city's index and history, their district's row of
    # the ranking and heat map, nobody else's.
    response = page.goto(f"{base}/dashboards/cockpit/")
    assert response is not None and response.status == 200
    assert chart_points(page, "history-chart")[0] >= 12
    assert chart_points(page, "districts-chart") == [1]
    assert chart_points(page, "heatmap-chart")[0] >= 1
    assert chart_points(page, "tasks-chart") == [3]
    expect(page.get_by_test_id("districts-table").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("districts-table")).to_contain_text("东湖区")
    expect(page.locator("body")).not_to_contain_text("西山区")
    shot(page, "dashboards-cockpit-district_dh")
