"""Bar charts in headless Chromium: the value axis starts at zero, so that a bar of 1 request
beside one of 5 keeps its height (an axis starting at the smallest value drew it as nothing),
and the unit and the labels are kept inside the chart. Read from the drawn ECharts instance.
Screenshot: artifacts/screenshots/charts-requests-analysis.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from sizhen.enterprise_requests.choices import Channel
from sizhen.enterprise_requests.models import RequestCategory
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

#: The drawn chart's value axis and grid, and the height in pixels of a bar of each value.
AXIS = """selector => {
  const chart = echarts.getInstanceByDom(document.querySelector(selector));
  const option = chart.getOption();
  const zero = chart.convertToPixel({ yAxisIndex: 0 }, 0);
  return {
    min: option.yAxis[0].min,
    name: option.yAxis[0].name,
    containLabel: option.grid[0].containLabel,
    values: option.series[0].data.map(point => point.value),
    heights: option.series[0].data.map(
      point => zero - chart.convertToPixel({ yAxisIndex: 0 }, point.value)),
  };
}"""


def test_request_bars_of_one_and_five_both_show_from_zero(
    page: Page, live_server: Any, personas: dict[str, Any]
) -> None:
    from sizhen.enterprise_requests import services

    # Its own category: an earlier transactional test may have flushed the migrated taxonomy.
    topic = RequestCategory.objects.create(code="9901", name="测试分类")
    for number in range(5):
        services.submit_request(
            actor=personas["enterprise"],
            channel=Channel.PORTAL,
            text=f"第{number}件：开办企业刻章需要跑{number}次",
            category=topic,
        )
    services.submit_request(
        actor=personas["coordinator"],
        channel=Channel.STAFF_WINDOW,
        text="专窗登记：水电气报装材料重复提交",
        category=topic,
        enterprise=personas["enterprise"].enterprise,
    )

    log_in(page, live_server.url, "coordinator")
    page.goto(f"{live_server.url}/requests/analysis/")
    selector = '[data-chart="chart-channel"]'
    expect(page.locator(f"{selector} canvas")).to_have_count(1)
    page.wait_for_function(
        "s => window.echarts && echarts.getInstanceByDom(document.querySelector(s))",
        arg=selector,
    )
    axis = page.evaluate(AXIS, selector)

    assert axis["values"] == [5, 1]
    assert axis["min"] == 0
    assert axis["name"] == "件"
    assert axis["containLabel"] is True
    five, one = axis["heights"]
    assert one > 0
    # Bars in proportion to their values: the bar of 5 is five times the bar of 1.
    assert five == pytest.approx(5 * one, rel=0.02)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#by-channel").screenshot(path=str(SCREENSHOTS / "charts-requests-analysis.png"))
