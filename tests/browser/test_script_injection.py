"""Stored script injection (issue 16): indicator and region names carrying markup reach the
cockpit's and the big screen's charts as text. A leader hovers every heat-map cell and the
other charts; nothing planted runs, the tooltips show the names literally, and the
Content-Security-Policy stops an unescaped event handler on its own. Each role's main pages
then load with no CSP violation (nothing of ours is blocked). Chromium comes from
tests/browser/conftest.py."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any
from urllib.parse import urlsplit

import pytest

# See test_roles.py: Playwright's sync API runs an event loop in this thread; the ORM calls
# here use their own connection, so Django's async guard protects nothing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import ConsoleMessage, Page, expect

from conftest import PASSWORD
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.organisations import services as org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMG_PAYLOAD = "<img src=x onerror=window.__xss=1>"
SCRIPT_PAYLOAD = "<script>window.__xss=2</script>"
REGION_PAYLOAD = "<img src=x onerror=window.__xss=3>西山区"
MARCH = dt.date(2026, 3, 1)

#: The pixel centre of every data point (a bar's middle) of the chart drawn in one element, in
#: the viewport.
POINT_CENTRES = """selector => {
  const element = document.querySelector(selector);
  const chart = echarts.getInstanceByDom(element);
  const box = element.getBoundingClientRect();
  const series = chart.getOption().series[0];
  // A bar's middle: its foot sits on the axis line, which a pointer there may miss.
  const barValue = point => Number(point !== null && typeof point === "object" ? point.value : point);
  return series.data.map((point, index) => {
    const at = series.type === "heatmap"
      ? chart.convertToPixel({seriesIndex: 0}, [point[0], point[1]])
      : chart.convertToPixel({seriesIndex: 0}, [index, barValue(point) / 2]);
    return [box.left + at[0], box.top + at[1]];
  });
}"""


@pytest.fixture
def planted(city: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    """First-level indicators and a district renamed to markup, with March scores for both
    districts, as a coordinator's careless (or hostile) edit would leave them. The city has a
    score of every first-level indicator too, so March is a complete month the cockpit leads
    with (a month missing one is only provisional and draws no heat map)."""
    root, east, west = city["root"], city["district_a"], city["district_b"]
    west = org.update_region(west, actor=personas["coordinator"], name=REGION_PAYLOAD)
    be = Indicator.objects.create(code="BE", name="营商环境总分", direction="higher_is_better")
    level_one = [
        Indicator.objects.create(
            code=f"BE0{n}",
            name=name,
            parent=be,
            level=1,
            direction="higher_is_better",
            sort_order=n,
        )
        for n, name in ((1, IMG_PAYLOAD), (2, SCRIPT_PAYLOAD))
    ]
    for indicator, region, score, rank in (
        (be, root, 75, None),
        (be, east, 80, 1),
        (be, west, 70, 2),
        (level_one[0], root, 72, None),
        (level_one[1], root, 76, None),
        (level_one[0], east, 85, 1),
        (level_one[0], west, 60, 2),
        (level_one[1], east, 75, 2),
        (level_one[1], west, 78, 1),
    ):
        IndicatorValue.objects.create(
            indicator=indicator, region=region, period=MARCH, frequency="month",
            source_kind=SourceKind.COMPOSITE, value=score, score=score, rank=rank,
            rank_total=2 if rank else None,
        )  # fmt: skip
    return {**city, **personas}


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base_url}/")


def csp_violations(page: Page) -> list[str]:
    """Chromium reports every resource or script the policy blocks on the console."""
    seen: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            seen.append(f"{page.url}: {message.text}")

    page.on("console", keep)
    return seen


def hover_every_point(page: Page, name: str) -> list[str]:
    """Hovers each data point of one chart in turn and returns the tooltip texts shown."""
    selector = f'[data-chart="{name}"]'
    page.wait_for_function(
        "s => window.echarts && echarts.getInstanceByDom(document.querySelector(s))", arg=selector
    )
    page.wait_for_timeout(1200)  # the entry animation moves the points until it ends
    page.locator(selector).scroll_into_view_if_needed()
    tooltip = page.locator(f"{selector} > div").last
    texts: list[str] = []
    shown: str | None = None
    for x, y in page.evaluate(POINT_CENTRES, selector):
        page.mouse.move(x, y)
        expect(tooltip).to_be_visible()
        if shown is not None:
            # Neighbouring points differ; the tooltip follows the pointer a moment later.
            expect(tooltip).not_to_have_text(shown)
        shown = tooltip.text_content()
        texts.append(tooltip.inner_text())
    return texts


def assert_nothing_ran(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_planted_names_show_as_text_and_run_nothing_on_the_cockpit_and_big_screen(
    page: Page, live_server: Any, planted: dict[str, Any]
) -> None:
    violations = csp_violations(page)
    log_in(page, live_server.url, "leader")

    response = page.goto(f"{live_server.url}/dashboards/cockpit/")
    assert response is not None and response.status == 200
    assert "script-src 'self';" in response.headers["content-security-policy"]
    heatmap = hover_every_point(page, "heatmap-chart")
    assert sorted(heatmap) == sorted(
        [
            f"东湖区\nBE01 {IMG_PAYLOAD}：85.0",
            f"东湖区\nBE02 {SCRIPT_PAYLOAD}：75.0",
            f"{REGION_PAYLOAD}\nBE01 {IMG_PAYLOAD}：60.0",
            f"{REGION_PAYLOAD}\nBE02 {SCRIPT_PAYLOAD}：78.0",
        ]
    )
    districts = hover_every_point(page, "districts-chart")
    assert [text.split("\n")[0] for text in districts] == ["东湖区", REGION_PAYLOAD]
    expect(page.get_by_test_id("heatmap-table")).to_contain_text(REGION_PAYLOAD)
    assert_nothing_ran(page)
    # The policy alone stops what the unescaped formatter used to do.
    page.evaluate(
        """html => {
          const box = document.createElement("div");
          box.innerHTML = html;
          document.body.appendChild(box);
        }""",
        IMG_PAYLOAD,
    )
    page.wait_for_function("() => document.querySelector('body > div > img[src=x]').complete")
    assert_nothing_ran(page)
    assert len(violations) == 1, violations
    assert "inline event handler violates" in violations[0], violations
    violations.clear()

    page.set_viewport_size({"width": 1920, "height": 1080})
    response = page.goto(f"{live_server.url}/dashboards/bigscreen/")
    assert response is not None and response.status == 200
    assert sorted(hover_every_point(page, "heatmap-chart")) == sorted(heatmap)
    districts = hover_every_point(page, "districts-chart")
    assert [text.split("\n")[0] for text in districts] == ["东湖区", REGION_PAYLOAD]
    assert_nothing_ran(page)
    assert violations == []


#: Links that change something or download a file rather than show a page.
SKIPPED_LINKS = ("export", "logout", "download", "/files/", "/api/", "/open311/")


#: Every role with its own navigation and home page.
ROLES = ("leader", "coordinator", "lead_dept", "resp_dept", "district_a", "ent_a", "sysadmin")


def test_main_pages_of_every_role_load_with_nothing_blocked(
    page: Page, live_server: Any, planted: dict[str, Any]
) -> None:
    """Each role's home page, module pages and every page those link to (one level down;
    a page another role already loaded is not loaded again): no script, style, image or
    connection of ours violates the policy, and no script fails."""
    violations = csp_violations(page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    base = live_server.url
    visited: set[str] = set()
    for role in ROLES:
        page.context.clear_cookies()
        log_in(page, base, role)
        modules = page.locator("#sidenav a.nav-module").evaluate_all("els => els.map(e => e.href)")
        to_visit = [f"{base}/", f"{base}/dashboards/cockpit/", *modules]
        for url in list(to_visit):
            page.goto(url)
            to_visit.extend(
                page.locator("main a[href]").evaluate_all("els => els.map(e => e.href)")
            )
        for url in to_visit:
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != base or any(s in url for s in SKIPPED_LINKS):
                continue
            if parts.path in visited:
                continue
            visited.add(parts.path)
            page.goto(url)
            page.wait_for_load_state("load")
    assert len(visited) >= 50, sorted(visited)
    assert violations == []
    assert errors == []
