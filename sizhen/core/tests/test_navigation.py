"""The menu as people follow it: every menu entry opens a page whose title and heading are the
entry's name, and every page below the home page shows where it is (breadcrumbs)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.urls import reverse

from sizhen.core.navigation import MODULES, breadcrumbs
from sizhen.core.roles import Role

pytestmark = pytest.mark.django_db

TITLE = re.compile(r"<title>(.*?) · 四诊 · 营商环境监测平台</title>", re.S)
HEADING = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
#: A wall display: the whole screen is the page, without the site's layout.
FULL_SCREEN = {"dashboards:bigscreen"}
CRUMBS = re.compile(r'<nav class="breadcrumbs"[^>]*><ol>(.*?)</ol></nav>', re.S)


def text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def page_names(body: str) -> tuple[str, str]:
    title = TITLE.search(body)
    heading = HEADING.search(body)
    assert title is not None and heading is not None
    return text(title.group(1)), text(heading.group(1))


def crumbs(body: str) -> list[str]:
    found = CRUMBS.search(body)
    return [text(li) for li in re.findall(r"<li[^>]*>(.*?)</li>", found.group(1))] if found else []


@pytest.mark.parametrize(
    ("persona", "role", "expected"),
    [
        ("coordinator", Role.COORDINATOR, 59),
        ("sysadmin", Role.SYSADMIN, 60),
        ("enterprise", Role.ENTERPRISE, 6),
    ],
)
def test_every_menu_entry_opens_a_page_of_its_name(
    client_for: Any, persona: str, role: str, expected: int
) -> None:
    client = client_for(persona)
    walked = []
    wrong = []
    for module in MODULES:
        for item in module.items:
            if role not in item.roles:
                continue
            response = client.get(reverse(item.url_name))
            assert response.status_code == 200, item.url_name
            walked.append(item.url_name)
            body = response.content.decode()
            title, heading = page_names(body)
            trail = crumbs(body)
            # A menu page named as its module (整改清单) is named once in the trail.
            expected_trail = ["首页", *([] if module.label == item.label else [module.label])]
            expected_trail.append(item.label)
            if item.url_name in FULL_SCREEN:
                # The wall display names its city before the title, and has no trail.
                heading = heading.removeprefix("示范市")
                trail = trail or expected_trail
            if (title, heading, trail) != (item.label, item.label, expected_trail):
                wrong.append((item.label, title, heading, trail))
    assert wrong == [], "\n".join(map(str, wrong))
    assert len(walked) == expected


def test_module_pages_and_pages_below_menu_pages_have_breadcrumbs(
    client_for: Any, personas: dict[str, Any]
) -> None:
    client = client_for("coordinator")
    assert crumbs(client.get("/").content.decode()) == []
    assert crumbs(client.get("/m/tasks/").content.decode()) == ["首页", "工作任务"]
    assert crumbs(client.get("/system/").content.decode()) == ["首页", "系统管理"]
    user = personas["district_a"]
    body = client.get(f"/accounts/users/{user.pk}/").content.decode()
    assert crumbs(body)[:3] == ["首页", "系统管理", "用户"]
    # A page no menu entry leads to hangs under the home page.
    assert crumbs(client.get("/accounts/password/").content.decode()) == ["首页", "修改密码"]
    assert crumbs(client_for(None).get("/accounts/login/").content.decode()) == []


def test_breadcrumbs_follow_the_role() -> None:
    home = ("首页", "/")
    # Under 全部任务 for staff; an enterprise sees no task menu.
    trail, current = breadcrumbs("/tasks/12/", "work_tasks:detail", Role.COORDINATOR)
    assert [(c.label, c.url) for c in trail] == [
        home,
        ("工作任务", "/m/tasks/"),
        ("全部任务", "/tasks/"),
    ]
    assert current == ""
    trail, _ = breadcrumbs("/requests/12/", "enterprise_requests:detail", Role.ENTERPRISE)
    assert [(c.label, c.url) for c in trail] == [home, ("企业诉求", "/m/requests/")]
    trail, current = breadcrumbs("/system/audit/", "core:audit_list", Role.SYSADMIN)
    assert [(c.label, c.url) for c in trail] == [home, ("系统管理", "/system/")]
    assert current == "审计日志"
    assert breadcrumbs("/", "core:home", Role.LEADER) == ([], "")
    assert breadcrumbs("/accounts/login/", "accounts:login", None) == ([], "")


def test_a_menu_page_named_as_its_module_is_one_crumb() -> None:
    """整改清单 is both the module and its list: the trail names it once, linking the list."""
    home = ("首页", "/")
    trail, current = breadcrumbs("/rectification/", "rectification:item_list", Role.COORDINATOR)
    assert ([(c.label, c.url) for c in trail], current) == ([home], "整改清单")
    trail, current = breadcrumbs("/rectification/7/", "rectification:item_detail", Role.COORDINATOR)
    assert ([(c.label, c.url) for c in trail], current) == (
        [home, ("整改清单", "/rectification/")],
        "",
    )
