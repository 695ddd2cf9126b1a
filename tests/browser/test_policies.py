"""The enterprise's policies in headless Chromium: the home page's 我可享受的政策 block, the full
list with the reasons each policy applies, a policy's page, and the search with highlighted
words (also for an anonymous visitor). Screenshots go to artifacts/screenshots/policies-*.png."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Page, expect

from sizhen.thinktank import services
from sizhen.thinktank.services import PolicyData
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _policy(actor: Any, title: str, body: str, **fields: Any) -> Any:
    data = PolicyData(
        title=title,
        issuer=fields.pop("issuer", "示范市人民政府办公室"),
        level=fields.pop("level", "city"),
        published_on=dt.date(2025, 3, 1),
        effective_on=dt.date(2025, 3, 1),
        body=body,
        **fields,
    )
    return services.create_policy(data, actor=actor, publish=True)


def test_the_enterprise_finds_its_policies_and_searches_the_library(
    page: Page, live_server: Any, personas: dict[str, Any], city: dict[str, Any]
) -> None:
    office = personas["coordinator"]
    _policy(
        office,
        "东湖区支持软件企业发展若干措施",
        "对软件企业给予房租补贴。\n\n对小型微型企业给予贷款贴息。",
        industries=["I65"],
        regions=[city["district_a"]],
        issuer="东湖区人民政府",
        level="district",
    )
    _policy(
        office, "示范市推行企业开办一件事一次办实施方案", "企业开办一件事一次办，一个工作日办结。"
    )
    _policy(
        office,
        "西山区物流企业扶持办法",
        "物流企业。",
        industries=["G54"],
        regions=[city["district_b"]],
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    log_in(page, live_server.url, "ent_a")
    panel = page.get_by_test_id("panel-policies")
    expect(panel).to_contain_text("我可享受的政策")
    expect(panel).to_contain_text("东湖区支持软件企业发展若干措施")
    expect(panel).not_to_contain_text("西山区物流企业扶持办法")
    page.screenshot(path=str(SCREENSHOTS / "policies-home.png"), full_page=True)

    panel.get_by_role("link", name="全部 2 项").click()
    expect(page).to_have_url(f"{live_server.url}/thinktank/policies/mine/")
    expect(page.get_by_test_id("policy-total")).to_have_text("2")
    items = page.get_by_test_id("my-policy")
    expect(items).to_have_count(2)
    # The district's own, most specific policy comes first, with its reasons.
    expect(items.first).to_contain_text("东湖区支持软件企业发展若干措施")
    expect(items.first.get_by_test_id("reasons")).to_contain_text(
        "行业：政策适用 I65，企业行业代码 I6510"
    )
    expect(items.first.get_by_test_id("reasons")).to_contain_text("区划：政策适用东湖区")
    expect(items.nth(1).get_by_test_id("reasons")).to_contain_text("普惠政策")
    page.screenshot(path=str(SCREENSHOTS / "policies-mine.png"), full_page=True)

    items.first.get_by_role("link").click()
    expect(page.get_by_test_id("policy-title")).to_have_text("东湖区支持软件企业发展若干措施")
    expect(page.get_by_test_id("policy-status")).to_contain_text("现行有效")

    page.goto(f"{live_server.url}/thinktank/policies/?q=小微")
    hits = page.get_by_test_id("hit")
    expect(hits).to_have_count(1)
    expect(hits.first.get_by_test_id("snippet").locator("mark").first).to_have_text("小型微型")
    page.screenshot(path=str(SCREENSHOTS / "policies-search.png"), full_page=True)


def test_an_anonymous_visitor_searches_published_policies(
    page: Page, live_server: Any, personas: dict[str, Any]
) -> None:
    office = personas["coordinator"]
    _policy(
        office,
        "关于进一步加大增值税期末留抵退税政策实施力度的公告",
        "留抵退税。",
        level="national",
        issuer="财政部 税务总局",
    )
    services.create_policy(
        PolicyData(title="留抵退税新规（征求意见稿）", issuer="示范市税务局", level="city"),
        actor=office,
    )
    page.goto(f"{live_server.url}/thinktank/policies/")
    page.fill("input[name=q]", "留抵退税")
    page.get_by_role("button", name="检索").click()
    hits = page.get_by_test_id("hit")
    expect(hits).to_have_count(1)
    expect(hits.first.locator("h3 mark")).to_have_text("留抵退税")
    expect(page.get_by_test_id("result-count")).to_contain_text("相关的政策 1 项")
