"""The data-asset catalogue and lineage in headless Chromium: the coordinator finds an indicator
in the catalogue, opens its lineage and sees the ECharts graph drawn with every node and the
same relations in the table beside it. Screenshot: artifacts/screenshots/assets-lineage.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from sizhen.assets import services
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
from sizhen.indicators.ingestion.models import Dataset
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

#: The nodes the ECharts graph holds, read from the chart instance.
GRAPH_NODES = """selector => {
  const element = document.querySelector(selector);
  const chart = element && window.echarts && echarts.getInstanceByDom(element);
  return chart ? chart.getOption().series[0].data.map(node => node.name) : null;
}"""


def test_coordinator_opens_the_lineage_of_an_indicator(
    page: Page, live_server: Any, personas: dict[str, Any], city: dict[str, Any]
) -> None:
    # A transactional test before this one may have flushed the migration's built-in datasets.
    ensure_builtin_datasets()
    root = Indicator.objects.create(code="BE", name="营商环境总分", direction="higher_is_better")
    parent = Indicator.objects.create(
        code="BE15", name="政务服务", parent=root, level=1, direction="higher_is_better",
        source_kind="composite",
    )  # fmt: skip
    Indicator.objects.create(
        code="BE15.06", name="办结量", parent=parent, level=2, direction="higher_is_better",
        source_kind="records", lead_department=city["market"],
    )  # fmt: skip
    services.update_profile(
        Dataset.objects.get(code="gov_service_cases"),
        actor=personas["coordinator"],
        owner_department=city["market"],
        source_system="一体化政务服务平台",
        update_frequency="realtime",
        restricted=False,
    )

    log_in(page, live_server.url, "coordinator")
    page.goto(f"{live_server.url}/assets/?kind=indicator&q=办结量")
    expect(page.locator("h1")).to_have_text("数据资源目录")
    page.get_by_role("link", name="办结量").click()
    expect(page.locator("h1")).to_have_text("数据资产：BE15.06 办结量")

    graph = page.get_by_test_id("lineage-graph")
    expect(graph).to_have_attribute("data-drawn", "true")
    assert graph.locator("canvas").count() == 1
    nodes = page.evaluate(GRAPH_NODES, "[data-testid=lineage-graph]")
    assert nodes == [
        "一体化政务服务平台",
        "政务服务办件",
        "BE15.06 办结量",
        "BE15 政务服务",
        "BE 营商环境总分",
    ]
    rows = page.get_by_test_id("lineage-table").locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("来源系统")
    expect(rows.nth(0)).to_contain_text("一体化政务服务平台")
    expect(rows.nth(0)).to_contain_text("政务服务办件")
    expect(rows.nth(3)).to_contain_text("BE 营商环境总分")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "assets-lineage.png"), full_page=True)

    # The table links on: the dataset's own lineage runs downstream to the indicator.
    rows.nth(0).get_by_role("link", name="政务服务办件").click()
    expect(page.locator("h1")).to_have_text("数据资产：政务服务办件")
    expect(page.get_by_test_id("lineage-table")).to_contain_text("BE15.06 办结量")
