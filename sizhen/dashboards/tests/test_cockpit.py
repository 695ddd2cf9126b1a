"""The leader cockpit (领导驾驶舱) and big screen (大屏): exact figures on a small tree, the
heat-map export and its audit, the placeholders and the authorisation matrix."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from sizhen.core.models import AuditEvent
from sizhen.dashboards import selectors_cockpit
from sizhen.dashboards.selectors_cockpit import ScoreChange
from sizhen.indicators.choices import SourceKind
from sizhen.indicators.models import Indicator, IndicatorValue
from sizhen.organisations import services as org
from sizhen.organisations.choices import RegionLevel

FEB, MAR, APR = dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)
COCKPIT, BIGSCREEN = "/dashboards/cockpit/", "/dashboards/bigscreen/"


def _score(indicator, region, period, score, rank=None, kind=SourceKind.COMPOSITE):
    return IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        period=period,
        frequency="month",
        source_kind=kind,
        value=score,
        score=score,
        rank=rank,
        rank_total=3 if rank else None,
    )


@pytest.fixture
def tree(city: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    """BE -> BE01 开办企业, BE02 纳税; composite scores of the city and three districts for
    February and March 2026. The park under 东湖区 and a records row of April must not count."""
    root, east, west = city["root"], city["district_a"], city["district_b"]
    south = org.create_region(
        actor=None, code="449903", name="南湖区", level=RegionLevel.DISTRICT, parent=root
    )
    be = Indicator.objects.create(code="BE", name="营商环境总分", direction="higher_is_better")
    be01 = Indicator.objects.create(
        code="BE01", name="开办企业", parent=be, level=1, direction="higher_is_better", sort_order=1
    )
    be02 = Indicator.objects.create(
        code="BE02", name="纳税", parent=be, level=1, direction="higher_is_better", sort_order=2
    )
    _score(be, root, FEB, 70)
    _score(be, root, MAR, 75)
    _score(be, root, APR, 99, kind=SourceKind.RECORDS)
    _score(be01, root, FEB, 60)
    _score(be01, root, MAR, 68)
    _score(be02, root, FEB, 80)
    _score(be02, root, MAR, 77)
    for region, feb, feb_rank, mar, mar_rank in (
        (east, 78, 1, 80, 1),
        (west, 70, 2, 65, 3),
        (south, 60, 3, 72, 2),
    ):
        _score(be, region, FEB, feb, feb_rank)
        _score(be, region, MAR, mar, mar_rank)
    _score(be01, east, MAR, 85, 1)
    _score(be02, east, MAR, 75, 1)
    _score(be01, south, MAR, 70, 2)
    _score(be01, west, MAR, 60, 3)
    _score(be02, west, MAR, 70, 2)
    park = IndicatorValue.objects.create(
        indicator=be, region=city["park"], period=MAR, frequency="month",
        source_kind=SourceKind.COMPOSITE, value=99, score=99, rank=1, rank_total=1,
    )  # fmt: skip
    return {"be": be, "be01": be01, "be02": be02, "south": south, "park": park, **city}


@pytest.fixture(autouse=True)
def no_alert_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The monitoring app is being built alongside; its Alert model stays out of these figures
    unless a test stands one in."""
    monkeypatch.setattr(selectors_cockpit, "alert_model", lambda: None)


def _payload(response, element_id: str) -> Any:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match is not None
    return json.loads(match.group(1))


def _changes(items: list[ScoreChange]) -> list[tuple[str, float, float, float]]:
    return [(c.code, c.previous, c.current, c.change) for c in items]


# -- figures --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_latest_index_and_history(tree, client_for):
    response = client_for("leader").get(COCKPIT)
    assert response.status_code == 200
    c = response.context["c"]
    assert (c.index.period, c.index.score, c.index.source_kind) == (MAR, 75, "composite")
    assert (c.period_label, c.previous_label) == ("2026-03", "2026-02")
    assert c.previous_index.score == 70
    assert c.index_change == 5
    assert [(p.label, p.score) for p in c.history] == [("2026-02", 70), ("2026-03", 75)]
    assert (c.coverage, c.previous_coverage) == (2, 2)
    assert _payload(response, "history-chart") == {
        "type": "line",
        "unit": "分",
        "categories": ["2026-02", "2026-03"],
        "series": [{"name": "示范市", "data": [70.0, 75.0]}],
    }
    text = response.content.decode()
    assert 'data-testid="index-score">75.00</div>' in text
    assert 'data-testid="index-change">+5.00</div>' in text
    assert 'data-testid="coverage">2/2</div><small>上期 2/2</small>' in text


@pytest.mark.django_db
def test_districts_and_heat_map_matrix(tree, client_for):
    response = client_for("coordinator").get(COCKPIT)
    c = response.context["c"]
    # The park sits under 东湖区, not under the city: it is not ranked with the districts.
    assert [(d.region.code, d.score, d.rank, d.rank_total) for d in c.districts] == [
        ("449901", 80, 1, 3),
        ("449903", 72, 2, 3),
        ("449902", 65, 3, 3),
    ]
    assert [i.code for i in c.indicators] == ["BE01", "BE02"]
    assert c.matrix == [[85, 75], [70, None], [60, 70]]
    assert _payload(response, "districts-chart") == {
        "type": "bar",
        "unit": "分",
        "categories": ["东湖区", "南湖区", "西山区"],
        "series": [{"name": "总分", "data": [80.0, 72.0, 65.0]}],
        "ranks": [1, 2, 3],
    }
    assert _payload(response, "heatmap-chart") == {
        "type": "heatmap",
        "categories": ["BE01 开办企业", "BE02 纳税"],
        "rows": ["东湖区", "南湖区", "西山区"],
        "data": [[0, 0, 85.0], [1, 0, 75.0], [0, 1, 70.0], [0, 2, 60.0], [1, 2, 70.0]],
        "min": 60.0,
        "max": 85.0,
    }
    table = re.search(
        r'data-testid="heatmap-table">.*?</table>', response.content.decode(), re.S
    ).group(0)
    assert "<td>南湖区</td><td>72.00</td><td>70.0</td><td>—</td>" in table


@pytest.mark.django_db
def test_changes_this_period(tree, client_for):
    response = client_for("leader").get(COCKPIT)
    c = response.context["c"]
    assert _changes(c.indicators_up) == [("BE01", 60, 68, 8)]
    assert _changes(c.indicators_down) == [("BE02", 80, 77, -3)]
    assert _changes(c.districts_up) == [("449903", 60, 72, 12), ("449901", 78, 80, 2)]
    assert _changes(c.districts_down) == [("449902", 70, 65, -5)]
    text = re.search(r'data-testid="changes">.*?</section>', response.content.decode(), re.S)
    assert "<td>449903 南湖区</td><td>60.00</td><td>72.00</td>" in text.group(0)


def test_changes_keep_the_five_largest_each_way():
    current = {k: 50.0 + k for k in range(1, 8)} | {k: 50.0 - k for k in range(11, 18)}
    current[20] = 50.0
    previous = dict.fromkeys(current, 50.0)
    labels = {k: (f"C{k:02d}", f"名称{k}") for k in current}
    up, down = selectors_cockpit._changes(current, previous, labels)
    assert [(c.code, c.change) for c in up] == [
        ("C07", 7),
        ("C06", 6),
        ("C05", 5),
        ("C04", 4),
        ("C03", 3),
    ]
    assert [(c.code, c.change) for c in down] == [
        ("C17", -17),
        ("C16", -16),
        ("C15", -15),
        ("C14", -14),
        ("C13", -13),
    ]


@pytest.mark.django_db
def test_without_overall_index(city, personas, client_for):
    response = client_for("leader").get(COCKPIT)
    assert response.status_code == 200
    c = response.context["c"]
    assert (c.root, c.index, c.history, c.districts, c.matrix) == (None, None, [], [], [])
    assert 'data-testid="no-index"' in response.content.decode()
    assert client_for("leader").get(BIGSCREEN).status_code == 200


# -- alerts and placeholders ----------------------------------------------------------------


@pytest.mark.django_db
def test_placeholders_while_modules_are_missing(tree, client_for):
    response = client_for("leader").get(COCKPIT)
    assert response.context["c"].alerts is None
    text = response.content.decode()
    for placeholder in ("预警模块尚未上线", "工作任务模块尚未上线", "企业诉求模块尚未上线"):
        assert placeholder in text


class _FakeAlerts:
    """Stands in for monitoring.Alert, which another engineer is still building."""

    rows = [
        ("red", "open"),
        ("red", "assigned"),
        ("orange", "acknowledged"),
        ("yellow", "closed"),
        ("blue", "open"),
        ("blue", "resolved"),
    ]

    class objects:  # mirrors the Django manager attribute
        @staticmethod
        def all() -> Any:
            return _FakeAlerts.Query(_FakeAlerts.rows)

    class Query:
        def __init__(self, rows):
            self.rows = rows

        def filter(self, *, status__in):
            return _FakeAlerts.Query([r for r in self.rows if r[1] in status__in])

        def values_list(self, field, *, flat):
            assert (field, flat) == ("severity", True)
            return [r[0] for r in self.rows]


@pytest.mark.django_db
def test_open_alerts_by_severity(tree, client_for, monkeypatch):
    monkeypatch.setattr(selectors_cockpit, "alert_model", lambda: _FakeAlerts)
    response = client_for("leader").get(COCKPIT)
    c = response.context["c"]
    assert [(a.severity, a.label, a.count) for a in c.alerts] == [
        ("red", "红色", 2),
        ("orange", "橙色", 1),
        ("yellow", "黄色", 0),
        ("blue", "蓝色", 1),
    ]
    assert c.alert_total == 4
    text = response.content.decode()
    assert '<td class="sev-red">红色预警</td><td>2</td>' in text
    assert "预警模块尚未上线" not in text


# -- export ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_heat_map_export_content_and_audit(tree, client_for):
    response = client_for("leader").get(COCKPIT + "?export=heatmap")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["排名", "参与排名数", "区划代码", "区划名称", "总分", "BE01 开办企业", "BE02 纳税"],
        [1, 3, "449901", "东湖区", 80, 85, 75],
        [2, 3, "449903", "南湖区", 72, 70, None],
        [3, 3, "449902", "西山区", 65, 60, 70],
    ]
    event = AuditEvent.objects.get(action="export.xlsx")
    assert (event.object_type, event.object_id) == ("indicators.indicator", str(tree["be"].pk))
    assert event.actor.username == "leader"
    assert event.after == {"export": "heatmap", "period": "2026-03", "rows": 3}
    assert client_for("leader").get(COCKPIT + "?export=pdf").status_code == 404
    assert AuditEvent.objects.filter(action="export.xlsx").count() == 1


# -- authorisation --------------------------------------------------------------------------


@pytest.mark.django_db
def test_authorisation_matrix(tree, client_for):
    for name in ("leader", "coordinator", "sysadmin"):
        assert client_for(name).get(COCKPIT).status_code == 200, name
        assert client_for(name).get(BIGSCREEN).status_code == 200, name
    denied = AuditEvent.objects.filter(action="access.denied")
    before = denied.count()
    for name in ("district_a", "enterprise"):
        assert client_for(name).get(COCKPIT).status_code == 404, name
        assert client_for(name).get(COCKPIT + "?export=heatmap").status_code == 404, name
        assert client_for(name).get(BIGSCREEN).status_code == 404, name
    assert denied.count() == before + 6
    assert set(denied.order_by("-pk")[:6].values_list("object_type", flat=True)) == {
        "领导驾驶舱",
        "大屏",
    }
    assert not AuditEvent.objects.filter(action="export.xlsx").exists()
    for url in (COCKPIT, BIGSCREEN, COCKPIT + "?export=heatmap"):
        anonymous = client_for(None).get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/login/")
    assert not AuditEvent.objects.filter(action="export.xlsx").exists()


# -- big screen -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_big_screen_has_no_navigation_and_refreshes(tree, client_for):
    response = client_for("leader").get(BIGSCREEN)
    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["dashboards/bigscreen.html"]
    text = response.content.decode()
    assert '<meta http-equiv="refresh" content="300">' in text
    assert 'class="sidenav"' not in text and 'class="topbar"' not in text
    assert "/static/vendor/echarts-5.6.0.min.js" in text and "/static/js/cockpit.js" in text
    assert 'data-testid="index-score">75.00</div>' in text
    stamp = re.search(r'data-testid="stamp">(.*?)</div>', text, re.S).group(1)
    assert stamp.startswith("数据期间：2026-03 · 数据计算于 ")
    assert "每 300 秒自动刷新" in stamp
    assert _payload(response, "heatmap-chart")["rows"] == ["东湖区", "南湖区", "西山区"]
    for placeholder in ("预警模块尚未上线", "工作任务模块尚未上线", "企业诉求模块尚未上线"):
        assert placeholder in text


def test_alert_model_is_looked_up_in_the_registry(monkeypatch):
    from django.apps import apps

    def missing(app_label: str, model_name: str) -> Any:
        assert (app_label, model_name) == ("monitoring", "Alert")
        raise LookupError(model_name)

    monkeypatch.undo()  # drop the autouse stand-in: this test exercises the real lookup
    monkeypatch.setattr(selectors_cockpit.apps, "get_model", missing)
    assert selectors_cockpit.alert_model() is None
    assert selectors_cockpit.get_alert_counts(None) is None
    monkeypatch.undo()
    try:
        expected = apps.get_model("monitoring", "Alert")
    except LookupError:
        expected = None
    assert selectors_cockpit.alert_model() is expected


@pytest.mark.django_db
def test_coverage_warns_when_fewer_indicators_are_scored(tree, client_for):
    IndicatorValue.objects.filter(indicator=tree["be02"], region=tree["root"], period=MAR).delete()
    response = client_for("leader").get(COCKPIT)
    c = response.context["c"]
    assert (c.coverage, c.previous_coverage) == (1, 2)
    assert _changes(c.indicators_down) == []
    assert 'data-testid="coverage">1/2</div><small>上期 2/2，两期口径不同</small>' in (
        response.content.decode()
    )
