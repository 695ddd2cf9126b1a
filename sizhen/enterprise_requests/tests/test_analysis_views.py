"""The analysis pages: scope, filters, XLSX exports, reports and publication."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from sizhen.core.models import AuditEvent, Job
from sizhen.enterprise_requests.tests.test_analysis import _plant

URL = "/requests/analysis/"
OCT = {"first": "2025-10", "last": "2025-10"}


@pytest.fixture
def planted(city: dict[str, Any]) -> Any:
    return _plant(city)


def _sheet(response: Any) -> list[tuple[Any, ...]]:
    wb = load_workbook(io.BytesIO(response.content))
    return [tuple(row) for row in wb.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.django_db
def test_coordinator_sees_kpis_charts_and_tables(planted, client_for):
    response = client_for("coordinator").get(URL, {"first": "2025-09", "last": "2025-11"})
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["total"].total == 9
    assert 'data-chart="chart-district"' in body and "vendor/echarts-5.6.0.min.js" in body
    assert [r.label for r in response.context["sections"][2]["rows"]] == [
        "东湖区",
        "西山区",
        "市级/未指定区域",
    ]
    assert "刻章（2）" in body  # September's keywords


@pytest.mark.django_db
def test_district_officer_counts_only_their_district(planted, client_for):
    response = client_for("district_a").get(URL, {"first": "2025-09", "last": "2025-11"})
    assert response.status_code == 200
    assert response.context["total"].total == 5
    assert [r.label for r in response.context["sections"][2]["rows"]] == ["东湖区"]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["enterprise", None])
def test_enterprise_and_anonymous_are_refused(planted, client_for, persona):
    before = AuditEvent.objects.filter(action="export.xlsx").count()
    response = client_for(persona).get(URL, {**OCT, "export": "district"})
    assert response.status_code in (404, 302)
    if persona == "enterprise":
        assert response.status_code == 404
        assert client_for(persona).get(URL + "reports/").status_code == 404
    assert AuditEvent.objects.filter(action="export.xlsx").count() == before


@pytest.mark.django_db
def test_bad_filters_show_chinese_errors_and_fall_back(planted, client_for):
    response = client_for("coordinator").get(URL, {"first": "2025-11", "last": "2025-09"})
    assert response.status_code == 200
    assert "起始月份不能晚于截止月份" in response.content.decode()
    response = client_for("coordinator").get(URL, {"first": "2025-13", "channel": "fax"})
    body = response.content.decode()
    assert "月份格式应为 YYYY-MM" in body and "请选择有效的渠道" in body


@pytest.mark.django_db
def test_xlsx_export_by_department_and_trend(planted, client_for, city):
    client = client_for("coordinator")
    response = client.get(URL, {"first": "2025-09", "last": "2025-11", "export": "department"})
    assert response.status_code == 200
    rows = _sheet(response)
    assert rows[0][:4] == ("主办单位", "诉求量", "响应率(%)", "解决率(%)")
    by_name = {r[0]: r for r in rows[1:]}
    # a_dept: r1, r7 in time of r1, r2, r4, r7; r1, r7 solved and satisfied of r1, r2, r7.
    assert by_name[city["a_dept"].name][:5] == (city["a_dept"].name, 4, 50.0, 66.7, 66.7)
    assert by_name[city["market"].name][1] == 3
    response = client.get(URL, {"first": "2025-09", "last": "2025-11", "export": "trend"})
    rows = _sheet(response)
    assert rows[0] == ("诉求分类", "2025-09", "2025-10", "2025-11", "明显上升")
    assert rows[1][1:4] == (2, 1, 1)
    assert AuditEvent.objects.filter(action="export.xlsx").count() == 2
    assert client.get(URL, {"export": "nothing"}).status_code == 404


@pytest.mark.django_db
def test_filter_by_channel_on_the_page(planted, client_for):
    response = client_for("coordinator").get(
        URL, {"first": "2025-09", "last": "2025-11", "channel": "hotline_12345"}
    )
    assert response.context["total"].total == 3


@pytest.mark.django_db
def test_reports_page_generate_and_download(planted, client_for, tmp_path):
    from sizhen.core.jobs import run_pending

    with override_settings(DATA_DIR=tmp_path):
        leader = client_for("leader")
        assert leader.get(URL + "reports/").status_code == 200
        assert leader.post(URL + "reports/generate/", {"month": "2025-10"}).status_code == 404
        assert Job.objects.count() == 0
        coordinator = client_for("coordinator")
        response = coordinator.post(URL + "reports/generate/", {"month": "2025/10"}, follow=True)
        assert "月份格式应为 YYYY-MM" in response.content.decode()
        assert Job.objects.count() == 0
        coordinator.post(URL + "reports/generate/", {"month": "2025-10"})
        assert run_pending() == 1
        assert "2025-10" in coordinator.get(URL + "reports/").content.decode()
        response = leader.get(URL + "reports/2025-10/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:2] == b"PK"
        assert leader.get(URL + "reports/2025-11/").status_code == 404
        assert client_for("district_a").get(URL + "reports/2025-10/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona",
    [
        "leader",
        "coordinator",
        "lead_department",
        "responsible_department",
        "district_a",
        "sysadmin",
        "enterprise",
    ],
)
def test_menu_offers_the_analysis_to_exactly_those_it_serves(personas, client_for, persona):
    from sizhen.core.navigation import MODULES_BY_SLUG

    item = next(
        i for i in MODULES_BY_SLUG["requests"].items if i.url_name.endswith("analysis:index")
    )
    assert item.label == "诉求分析"
    offered = personas[persona].role in item.roles
    assert client_for(persona).get(URL).status_code == (200 if offered else 404)
    assert offered == (persona != "enterprise")
    module_page = client_for(persona).get("/m/requests/").content.decode()
    assert (f'href="{URL}"' in module_page) == offered
