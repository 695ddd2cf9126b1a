"""Alerts over the API and on the pages: filters, scoping and the authorisation matrix."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sizhen.accounts.services import create_api_token
from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.monitoring.models import Alert
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.tests.test_alerts import (
    JUNE,
    add_districts,
    plant_cross_section,
    plant_series,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/alerts"
PAGES = "/monitoring/alerts/"


@pytest.fixture
def alerts(city: dict[str, Any], personas: dict[str, Any]) -> dict[str, Alert]:
    add_districts(city)
    plant_cross_section(city, JUNE, 300.0)
    plant_series(city["district_a"], 180.0)
    scan_indicator_values()
    return {
        "b": Alert.objects.get(region=city["district_b"]),
        "a": Alert.objects.get(region=city["district_a"]),
    }


def _codes(response: Any) -> list[tuple[str, str]]:
    return [(i["indicator_code"], i["region_code"]) for i in response.json()["items"]]


def test_api_lists_alerts_with_their_explanation_ranked_by_impact(
    client_for: Any, alerts: dict[str, Alert]
) -> None:
    response = client_for("coordinator").get(API)

    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["count"] == 2
    ranked = sorted(alerts.values(), key=lambda a: -a.impact)
    assert [i["id"] for i in body["items"]] == [a.pk for a in ranked]
    item = next(i for i in body["items"] if i["id"] == alerts["b"].pk)
    assert {k: item[k] for k in ("kind", "period", "status", "severity", "value", "method")} == {
        "kind": "cross_sectional_extreme",
        "period": "2025-06",
        "status": "open",
        "severity": "red",
        "value": 300.0,
        "method": "modified_z",
    }
    assert item["explanation"] == alerts["b"].explanation
    assert (item["expected"], item["lower"], item["upper"]) == (
        alerts["b"].expected,
        alerts["b"].lower,
        alerts["b"].upper,
    )
    assert len(item["points"]) == 5
    assert item["method_label"] == "修正Z分数"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("indicator=T01", [("T01", "449902")]),
        ("region=449901", [("T02", "449901")]),
        ("period=2025-06", [("T01", "449902")]),
        ("period=2025-12&region=449901", [("T02", "449901")]),
        ("status=resolved", []),
    ],
)
def test_api_filters(client_for: Any, alerts: dict[str, Alert], query: str, expected: Any) -> None:
    response = client_for("leader").get(f"{API}?{query}")

    assert response.status_code == 200
    assert _codes(response) == expected


@pytest.mark.parametrize("query", ["period=2025-13", "period=June", "status=closed"])
def test_api_refuses_bad_filters(client_for: Any, alerts: dict[str, Alert], query: str) -> None:
    response = client_for("coordinator").get(f"{API}?{query}")

    assert response.status_code == 400
    assert "参数" in response.json()["detail"]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("district_a", [("T02", "449901")]), ("district_b", [("T01", "449902")])],
)
def test_api_district_officer_sees_only_own_subtree(
    client_for: Any, alerts: dict[str, Alert], persona: str, expected: Any
) -> None:
    response = client_for(persona).get(API)

    assert response.status_code == 200
    assert _codes(response) == expected


def test_api_refuses_enterprise_and_anonymous(
    client_for: Any, personas: dict[str, Any], alerts: dict[str, Alert]
) -> None:
    assert client_for("enterprise").get(API).status_code == 404
    assert client_for(None).get(API).status_code == 401
    denied = AuditEvent.objects.filter(action="access.denied", actor=personas["enterprise"])
    assert denied.count() == 1


def test_api_machine_token_needs_read_scope(
    personas: dict[str, Any], city: dict[str, Any], alerts: dict[str, Alert]
) -> None:
    _row, reader = create_api_token(
        actor=personas["sysadmin"], name="读取", department=city["a_dept"], scopes=["read"]
    )
    _row, pusher = create_api_token(
        actor=personas["sysadmin"],
        name="推送",
        department=city["a_dept"],
        scopes=["records:write"],
    )

    allowed = Client().get(API, HTTP_AUTHORIZATION=f"Bearer {reader}")
    refused = Client().get(API, HTTP_AUTHORIZATION=f"Bearer {pusher}")

    assert allowed.status_code == 200
    assert _codes(allowed) == [("T02", "449901")]
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("persona", "keys"),
    [
        ("coordinator", {"a", "b"}),
        ("leader", {"a", "b"}),
        ("district_a", {"a"}),
        ("district_b", {"b"}),
    ],
)
def test_list_page_is_scoped(
    client_for: Any, alerts: dict[str, Alert], persona: str, keys: set[str]
) -> None:
    response = client_for(persona).get(PAGES)

    assert response.status_code == 200
    html = response.content.decode()
    shown = {key for key, alert in alerts.items() if f'href="{PAGES}{alert.pk}/"' in html}
    assert shown == keys


def test_list_page_filters_and_refuses_enterprise(
    client_for: Any, alerts: dict[str, Alert]
) -> None:
    page = client_for("coordinator").get(f"{PAGES}?status=resolved")
    assert page.status_code == 200
    assert "没有符合条件的记录" in page.content.decode()
    red = client_for("coordinator").get(f"{PAGES}?severity=red&region={alerts['b'].region_id}")
    assert f'href="{PAGES}{alerts["b"].pk}/"' in red.content.decode()
    assert f'href="{PAGES}{alerts["a"].pk}/"' not in red.content.decode()
    # A district officer is offered only the regions of their own subtree.
    assert "西山区" not in client_for("district_a").get(PAGES).content.decode()
    assert client_for("enterprise").get(PAGES).status_code == 404
    assert client_for(None).get(PAGES).status_code == 302


def test_detail_page_shows_explanation_points_and_buttons(
    client_for: Any, alerts: dict[str, Alert]
) -> None:
    alert = alerts["b"]
    response = client_for("coordinator").get(f"{PAGES}{alert.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert alert.explanation in html
    assert html.count("<td>2025-06</td>") == 5
    assert 'data-testid="do-acknowledge"' in html
    assert 'data-testid="do-dismiss"' in html
    assert 'data-testid="do-resolve"' not in html
    # 交办部门 is offered with its department picker (its guard wants the form's department).
    assert 'data-testid="do-assign"' in html
    assert "承办部门" in html


def test_detail_page_for_district_officer_only_own(
    client_for: Any, personas: dict[str, Any], alerts: dict[str, Alert]
) -> None:
    client = client_for("district_a")
    own = client.get(f"{PAGES}{alerts['a'].pk}/")
    other = client.get(f"{PAGES}{alerts['b'].pk}/")

    assert own.status_code == 200
    assert 'data-testid="do-' not in own.content.decode()
    assert other.status_code == 404
    assert AuditEvent.objects.filter(
        action="access.denied", object_id=str(alerts["b"].pk), actor=personas["district_a"]
    ).exists()
    assert client_for("enterprise").get(f"{PAGES}{alerts['a'].pk}/").status_code == 404


def test_transition_post_moves_the_alert(client_for: Any, alerts: dict[str, Alert]) -> None:
    alert = alerts["b"]
    response = client_for("coordinator").post(
        f"{PAGES}{alert.pk}/acknowledge/", {"status": "open"}, follow=True
    )

    assert response.status_code == 200
    assert "已办理，当前状态：已确认" in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).status == "acknowledged"


def test_assign_from_the_page_names_the_department(
    client_for: Any, city: dict[str, Any], alerts: dict[str, Alert]
) -> None:
    alert = alerts["b"]
    response = client_for("coordinator").post(
        f"{PAGES}{alert.pk}/assign/",
        {"status": "open", "department": city["market"].pk, "note": "请市场监管局核实"},
        follow=True,
    )

    assert response.status_code == 200
    assigned = Alert.objects.get(pk=alert.pk)
    assert (assigned.status, assigned.assigned_department_id) == ("assigned", city["market"].pk)


def test_history_and_audit_log_name_the_states_in_chinese(
    client_for: Any, alerts: dict[str, Alert]
) -> None:
    alert = alerts["b"]
    page = client_for("coordinator").post(
        f"{PAGES}{alert.pk}/acknowledge/", {"status": "open"}, follow=True
    )
    body = page.content.decode()
    assert "<td>待处理 → 已确认</td>" in body
    assert "open → acknowledged" not in body

    audit = client_for("sysadmin").get("/system/audit/?action=预警：确认&object_type=预警")
    assert audit.status_code == 200
    [row] = [[value for value, _link in r] for r in audit.context["rows"]]
    assert row[3:5] == ["预警：确认", "预警"]
    assert row[9] == "状态：待处理"
    assert row[10].split("；")[0] == "状态：已确认"
    text = audit.content.decode()
    for code in ("alert.acknowledge", "acknowledged", "monitoring.alert", '"status"'):
        assert code not in text


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("dismiss", {"status": "open", "note": ""}, "“忽略”需要填写理由"),
        ("resolve", {"status": "open"}, "当前状态“待处理”下不能执行该操作"),
        ("acknowledge", {"status": "assigned"}, "该预警已被他人处理"),
        ("acknowledge", {"status": "bogus"}, "页面状态无效，请刷新后重试"),
    ],
)
def test_refused_transition_post_shows_a_message_and_changes_nothing(
    client_for: Any, alerts: dict[str, Alert], action: str, data: dict[str, str], message: str
) -> None:
    alert = alerts["b"]
    response = client_for("coordinator").post(f"{PAGES}{alert.pk}/{action}/", data, follow=True)

    assert response.status_code == 200
    assert message in response.content.decode()
    after = Alert.objects.get(pk=alert.pk)
    assert (after.status, after.version, after.dismiss_reason) == ("open", 1, "")
    assert not TransitionHistory.objects.filter(workflow="alert").exists()


@pytest.mark.parametrize("persona", ["district_b", "leader", "enterprise"])
def test_transition_post_refused_without_change_scope(
    client_for: Any, alerts: dict[str, Alert], persona: str
) -> None:
    alert = alerts["b"]
    response = client_for(persona).post(f"{PAGES}{alert.pk}/acknowledge/", {"status": "open"})

    assert response.status_code == 404
    assert Alert.objects.get(pk=alert.pk).status == "open"


def test_transition_post_needs_csrf(personas: dict[str, Any], alerts: dict[str, Alert]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["coordinator"])
    alert = alerts["b"]

    response = client.post(f"{PAGES}{alert.pk}/acknowledge/", {"status": "open"})

    assert response.status_code == 403
    assert Alert.objects.get(pk=alert.pk).status == "open"


def test_an_alert_reads_in_plain_chinese_with_the_statistics_one_click_away(
    client_for: Any, alerts: dict[str, Alert]
) -> None:
    """What happened, compared with what, how unusual: the headline; the statistic, its
    threshold and method stay behind 统计依据."""
    alert = alerts["b"]  # 西山区's 300 new enterprises in June 2025 among the districts' ~100
    low = f"{alert.lower:.2f}".rstrip("0").rstrip(".")
    high = f"{alert.upper:.2f}".rstrip("0").rstrip(".")
    assert alert.headline == (
        f"2025-06西山区新设企业数为300，远高于同期其他地区的一般水平（{low}–{high}）；"
        "这样的偏离在以往数据中极为罕见。"
    )
    assert "倍" not in alert.headline and "阈值" not in alert.headline
    html = client_for("coordinator").get(f"{PAGES}{alert.pk}/").content.decode()
    assert f'data-testid="headline">{alert.headline}</p>' in html
    statistics = html.split('data-testid="statistics"', 1)[1].split("</details>", 1)[0]
    assert "<summary>统计依据</summary>" in statistics and alert.explanation in statistics
    # The series finding (东湖区's spike) reads as a change against its own past.
    spike = alerts["a"]
    assert spike.headline.startswith("2025-12东湖区办件量为180，明显高于按以往规律预计的范围（")


def test_the_alert_page_names_the_regions_departments_behind_the_figure(
    client_for: Any, city: dict[str, Any], alerts: dict[str, Alert]
) -> None:
    """部门维度 on an alert: the departments of the alert's region with their figures and
    ranks, read in the viewer's scope (another district's department never shows)."""
    import re

    from sizhen.indicators.catalogue.models import DepartmentIndicatorValue

    alert = alerts["b"]
    for department, value, rank in ((city["b_dept"], 300.0, 2), (city["a_dept"], 100.0, 1)):
        DepartmentIndicatorValue.objects.create(
            indicator=alert.indicator, department=department, period=alert.period,
            frequency="month", value=value, observations=12, rank=rank, rank_total=2,
        )  # fmt: skip
    html = client_for("coordinator").get(f"{PAGES}{alert.pk}/").content.decode()
    section = re.search(r'data-testid="alert-departments">.*?</section>', html, re.S)
    assert section is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.group(0)))
    assert "西山区各部门情况（2025-06）" in text
    assert f"西山区市场监督管理局 300.00{alert.indicator.unit} 2/2 12" in text
    assert "东湖区" not in text
    # The district officer of 东湖区 sees its own alert's departments, not 西山区's page at all.
    own = client_for("district_a").get(f"{PAGES}{alerts['a'].pk}/").content.decode()
    assert 'data-testid="alert-departments"' not in own  # no figure of 东湖区's for its period
