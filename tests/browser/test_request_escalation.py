"""The first-contact clock and the escalation tier on a request's page in headless Chromium: the
lead unit sees that it has not called the enterprise in time and that the request went up to
its head, records the call, and the page then shows the late contact and the call in the
history. Screenshot: artifacts/screenshots/request-escalation.png."""

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

from sizhen.core.models import TransitionHistory
from sizhen.core.workcalendar import working_days_back
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
from sizhen.enterprise_requests.tests.factories import portal_request
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def test_the_unit_sees_the_clock_and_the_tier_and_records_its_call(
    page: Page, live_server: Any, personas: dict[str, Any], city: dict[str, Any]
) -> None:
    today = timezone.localdate()
    since = working_days_back(today, 4)
    dispatched = timezone.make_aware(dt.datetime.combine(since, dt.time(10)))
    # Its own category: an earlier transactional test may have flushed the migrated taxonomy.
    topic, _ = RequestCategory.objects.get_or_create(code="9903", defaults={"name": "测试分类"})
    request = portal_request(
        personas["enterprise"], text="办理食品经营许可证需要多次往返窗口", category=topic
    )
    services.dispatch_request(request, actor=personas["coordinator"], department=city["a_dept"])
    TransitionHistory.objects.filter(object_id=str(request.pk), action="dispatch").update(
        at=dispatched
    )
    EnterpriseRequest.objects.filter(pk=request.pk).update(
        dispatched_at=dispatched, first_contact_due=dispatched + dt.timedelta(hours=12)
    )
    services.escalate_idle_requests()

    log_in(page, live_server.url, "resp_dept")
    page.goto(f"{live_server.url}/requests/{request.pk}/")
    expect(page.get_by_test_id("first-contact")).to_contain_text("超时未联系")
    expect(page.get_by_test_id("escalation")).to_contain_text("一级：提级单位负责人")
    expect(page.get_by_test_id("escalation")).to_contain_text(
        f"自 {since:%Y-%m-%d} 起无办理进展 4 个工作日，满 7 个工作日将二级：提级市级专班"
    )
    expect(page.get_by_test_id("escalation-badge")).to_have_text("一级：提级单位负责人")

    page.select_option("select[name=method]", "phone")
    page.fill("input[name=note][placeholder]", "已与企业联系人张三通话，约定明日上门核实")
    page.get_by_test_id("do-contact").click()
    expect(page.locator(".messages")).to_contain_text("已记录首次联系企业")
    expect(page.get_by_test_id("first-contact")).to_contain_text("超时联系")
    expect(page.get_by_test_id("first-contact")).not_to_contain_text("超时未联系")
    # The call is progress: the count starts again today; the tier reached stays.
    expect(page.get_by_test_id("escalation")).to_contain_text("无办理进展 0 个工作日")
    expect(page.get_by_test_id("escalation-badge")).to_have_text("一级：提级单位负责人")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("电话联系：已与企业联系人张三通话，约定明日上门核实")
    expect(timeline).to_contain_text("升级督办")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "request-escalation.png"), full_page=True)
