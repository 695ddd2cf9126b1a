"""GET /api/v1/indicators, /indicators/{code} and /indicators/{code}/values: exact rows, filters,
format errors, 404s, and scoping (staff only; a district officer sees no other district)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.core.models import AuditEvent
from sizhen.indicators.catalogue import imports
from sizhen.indicators.catalogue.choices import Frequency, SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.tests.test_catalogue import CYCLE

pytestmark = pytest.mark.django_db

BASE = "/api/v1/indicators"


@pytest.fixture
def loaded(city: dict[str, Any]) -> imports.CatalogueLoadReport:
    return imports.load_default_catalogue(CYCLE, actor=None)


@pytest.fixture
def values(city: dict[str, Any], loaded: Any) -> list[IndicatorValue]:
    """按时办结率 (on-time completion rate) for the city, both districts and the park."""
    indicator = Indicator.objects.get(code="BE15.03")
    rows = [
        (city["root"], dt.date(2025, 5, 1), 96.5, 82.5, None, None),
        (city["root"], dt.date(2025, 6, 1), 97.0, 85.0, None, None),
        (city["district_a"], dt.date(2025, 6, 1), 98.0, 90.0, 1, 2),
        (city["district_b"], dt.date(2025, 6, 1), 91.0, 55.0, 2, 2),
        (city["park"], dt.date(2025, 7, 1), 99.0, 95.0, 1, 1),
    ]
    return [
        IndicatorValue.objects.create(
            indicator=indicator,
            region=region,
            period=period,
            frequency=Frequency.MONTH,
            source_kind=SourceKind.RECORDS,
            value=value,
            score=score,
            rank=rank,
            rank_total=total,
            observations=100,
        )
        for region, period, value, score, rank, total in rows
    ]


def _row(
    code: str, name: str, period: str, value: float, score: float, rank: Any, total: Any
) -> dict[str, Any]:
    return {
        "region_code": code,
        "region_name": name,
        "period": period,
        "frequency": "month",
        "value": value,
        "score": score,
        "rank": rank,
        "rank_total": total,
        "source_kind": "records",
    }


CITY_MAY = _row("449900", "示范市", "2025-05", 96.5, 82.5, None, None)
CITY_JUNE = _row("449900", "示范市", "2025-06", 97.0, 85.0, None, None)
A_JUNE = _row("449901", "东湖区", "2025-06", 98.0, 90.0, 1, 2)
B_JUNE = _row("449902", "西山区", "2025-06", 91.0, 55.0, 2, 2)
PARK_JULY = _row("P449951", "高新区", "2025-07", 99.0, 95.0, 1, 1)


def test_the_catalogue_lists_every_indicator_in_order(
    client_for: Any, city: dict[str, Any], loaded: Any
) -> None:
    response = client_for("district_a").get(BASE)
    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"count": 105, "limit": 500, "offset": 0}
    codes = [item["code"] for item in body["items"]]
    assert codes[:3] == ["BE", "BE01", "BE01.01"]
    assert len(codes) == 105
    assert [i["code"] for i in body["items"] if i["parent_code"] == "BE"] == [
        f"BE{n:02d}" for n in range(1, 19)
    ]
    start_up_time = next(i for i in body["items"] if i["code"] == "BE01.02")
    assert {k: v for k, v in start_up_time.items() if k != "definition"} == {
        "code": "BE01.02",
        "name": "开办时间",
        "name_en": "Start-up time (mean)",
        "parent_code": "BE01",
        "level": 2,
        "is_leaf": True,
        "unit": "工作日",
        "direction": "lower_is_better",
        "frequency": "month",
        "source_kind": "records",
        "lead_department": {"code": "SZ-SCJG", "name": "市场监督管理局"},
        "responsible_departments": [{"code": "SZ-SW", "name": "税务局"}],
        "weight": 1.0,
        "version": 1,
        "is_active": True,
        "goalpost": {"cycle": CYCLE, "best": 0.5, "worst": 100.0, "target": None},
    }
    children = client_for("leader").get(BASE, {"parent": "BE15"}).json()["items"]
    assert [i["code"] for i in children] == [f"BE15.{n:02d}" for n in range(1, 11)]
    assert client_for("leader").get(BASE, {"level": 1}).json()["meta"]["count"] == 18


def test_one_indicator(client_for: Any, loaded: Any) -> None:
    body = client_for("lead_department").get(f"{BASE}/BE15").json()
    assert (body["code"], body["is_leaf"], body["source_kind"], body["goalpost"]) == (
        "BE15",
        False,
        "composite",
        None,
    )
    assert client_for("lead_department").get(f"{BASE}/BE99.01").status_code == 404


@pytest.mark.parametrize("persona", ["enterprise", "enterprise_b"])
def test_enterprises_get_404_everywhere(client_for: Any, values: Any, persona: str) -> None:
    client = client_for(persona)
    for url in (BASE, f"{BASE}/BE15.03", f"{BASE}/BE15.03/values"):
        response = client.get(url)
        assert response.status_code == 404, url
    assert AuditEvent.objects.filter(action="access.denied").count() == 3


def test_anonymous_callers_get_401(client_for: Any, values: Any) -> None:
    assert client_for(None).get(f"{BASE}/BE15.03/values").status_code == 401


def test_values_are_exact_rows_in_period_and_region_order(client_for: Any, values: Any) -> None:
    response = client_for("coordinator").get(f"{BASE}/BE15.03/values")
    assert response.status_code == 200
    assert response.json() == {
        "indicator": "BE15.03",
        "meta": {"count": 5, "limit": 500, "offset": 0},
        "items": [CITY_MAY, CITY_JUNE, A_JUNE, B_JUNE, PARK_JULY],
    }


def test_values_filter_by_region_and_months(client_for: Any, values: Any) -> None:
    client = client_for("coordinator")
    url = f"{BASE}/BE15.03/values"
    assert client.get(url, {"region": "449902"}).json()["items"] == [B_JUNE]
    assert client.get(url, {"from": "2025-06", "to": "2025-06"}).json()["items"] == [
        CITY_JUNE,
        A_JUNE,
        B_JUNE,
    ]
    assert client.get(url, {"from": "2025-06"}).json()["items"] == [
        CITY_JUNE,
        A_JUNE,
        B_JUNE,
        PARK_JULY,
    ]
    assert client.get(url, {"to": "2025-05"}).json()["items"] == [CITY_MAY]
    assert client.get(url, {"region": "449900", "to": "2025-06"}).json()["items"] == [
        CITY_MAY,
        CITY_JUNE,
    ]
    assert client.get(url, {"source_kind": "filling"}).json()["items"] == []
    page = client.get(url, {"limit": 2, "offset": 2}).json()
    assert (page["meta"], page["items"]) == (
        {"count": 5, "limit": 2, "offset": 2},
        [A_JUNE, B_JUNE],
    )


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"from": "2025-6"}, "参数 from 的格式应为 YYYY-MM（如 2025-06），收到“2025-6”"),
        ({"to": "2025-13"}, "参数 to 的格式应为 YYYY-MM（如 2025-06），收到“2025-13”"),
        ({"from": "June"}, "参数 from 的格式应为 YYYY-MM（如 2025-06），收到“June”"),
        ({"from": "2025-07", "to": "2025-06"}, "参数 from 不能晚于 to"),
    ],
)
def test_bad_months_are_400_with_a_clear_message(
    client_for: Any, values: Any, query: dict[str, str], detail: str
) -> None:
    response = client_for("coordinator").get(f"{BASE}/BE15.03/values", query)
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_unknown_indicator_or_region_is_404(client_for: Any, values: Any) -> None:
    client = client_for("coordinator")
    assert client.get(f"{BASE}/BE99.99/values").status_code == 404
    assert client.get(f"{BASE}/BE15.03/values", {"region": "000000"}).status_code == 404


def test_a_district_officer_never_gets_another_districts_values(
    client_for: Any, personas: dict[str, Any], values: Any
) -> None:
    client = client_for("district_a")
    url = f"{BASE}/BE15.03/values"
    # Their own subtree (district and park) and the city figure, never 西山区.
    assert client.get(url).json()["items"] == [CITY_MAY, CITY_JUNE, A_JUNE, PARK_JULY]
    assert client.get(url, {"from": "2025-06", "to": "2025-06"}).json()["items"] == [
        CITY_JUNE,
        A_JUNE,
    ]
    denied = client.get(url, {"region": "449902"})
    assert denied.status_code == 404
    [event] = AuditEvent.objects.filter(action="access.denied")
    assert (event.actor_id, event.object_type, event.object_id) == (
        personas["district_a"].pk,
        "organisations.region",
        "449902",
    )
    assert client_for("district_b").get(url).json()["items"] == [CITY_MAY, CITY_JUNE, B_JUNE]
