"""Overdue government-service cases (办件超期): cases open at the end of the latest complete
month beyond their promised limit in working days, read from the analytical store, one alert per
department and district under 按时办结率, resolved when they clear and re-opened on return."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from sizhen.core.models import TransitionHistory
from sizhen.core.periods import Period
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.engine.schemas import GOV_SERVICE_CASES
from sizhen.monitoring.models import Alert
from sizhen.monitoring.scan import scan_indicator_values
from sizhen.monitoring.services import create_alert_rule

NOW = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)
OCTOBER = dt.date(2026, 10, 1)
COLUMNS = [f["name"] for f in GOV_SERVICE_CASES["fields"]]

# (case, region, department, item, accepted, completed, promised, status). Working days to
# 2026-10-31 (a Saturday after the National Day make-up day of 10-10): from 10-12 14, from
# 10-26 4, from 10-28 2.
CASES = [
    ("BJ001", "449901", "SZ-SCJG", "企业设立登记", "2026-10-12", None, 3, "受理"),
    ("BJ002", "449901", "SZ-SCJG", "发票领用", "2026-10-26", None, 1, "受理"),
    ("BJ003", "449901", "SZ-SCJG", "企业变更登记", "2026-10-28", None, 5, "受理"),
    ("BJ004", "449901", "SZ-SW", "发票领用", "2026-10-12", "2026-11-03", 5, "办结"),
    ("BJ005", "449901", "SZ-SCJG", "企业设立登记", "2026-09-01", "2026-10-20", 3, "办结"),
    ("BJ006", "449902", "XS-SCJG", "食品经营许可", "2026-10-12", None, 3, "补正"),
    ("BJ007", "449902", "XS-SCJG", "食品经营许可", "2026-10-12", None, 3, "作废"),
    ("BJ008", "449901", "SZ-SCJG", "社保登记", "2026-11-02", None, 0, "受理"),
]


def _row(case: tuple[Any, ...]) -> dict[str, Any]:
    case_id, region, department, item, accepted, completed, promised, status = case
    return {
        "case_id": case_id,
        "item_code": "X",
        "item_name": item,
        "region_code": region,
        "department_code": department,
        "applicant_type": "企业",
        "channel": "窗口",
        "submitted_at": f"{accepted} 09:00:00",
        "accepted_at": f"{accepted} 10:00:00",
        "completed_at": f"{completed} 16:30:00" if completed else None,
        "statutory_limit": 20,
        "promised_limit": promised,
        "visits": 1,
        "status": status,
    }


def write_cases(cases: list[tuple[Any, ...]]) -> None:
    with store.open_store() as con:
        store.sync_dimensions(con)
        store.ensure_records_table(con, "gov_service_cases", GOV_SERVICE_CASES["fields"])
        con.execute(f"DELETE FROM {store.records_table('gov_service_cases')}")
        placeholders = ", ".join("?" for _ in COLUMNS)
        names = ", ".join(COLUMNS)
        for case in cases:
            row = _row(case)
            con.execute(
                f"INSERT INTO {store.records_table('gov_service_cases')} ({names}) "
                f"VALUES ({placeholders})",
                [row[c] for c in COLUMNS],
            )


@pytest.fixture
def on_time_rate(city: dict[str, Any], tmp_path: Path, settings: Any) -> Indicator:
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    Indicator.objects.create(
        code="BE15.06", name="办结量", direction="higher_is_better", source_kind="records", level=2
    )
    return Indicator.objects.create(
        code="BE15.03",
        name="按时办结率",
        direction="higher_is_better",
        source_kind="records",
        level=2,
    )


def test_period_end_is_the_last_day_of_the_previous_month() -> None:
    assert Period.containing(dt.date(2026, 11, 10)).shift(-1).end == dt.date(2026, 10, 31)
    assert Period.containing(dt.date(2026, 3, 1)).shift(-1).end == dt.date(2026, 2, 28)


@pytest.mark.django_db
def test_no_store_means_no_check_and_no_file(on_time_rate: Indicator) -> None:
    result = scan_indicator_values(now=NOW)

    assert (result.created, result.resolved) == (0, 0)
    assert not store.store_path().exists()


@pytest.mark.django_db
def test_overdue_cases_by_department_and_district(
    city: dict[str, Any], on_time_rate: Indicator
) -> None:
    write_cases(CASES)

    result = scan_indicator_values(now=NOW)

    assert result.created == 2
    alerts = {a.subject: a for a in Alert.objects.filter(kind="overdue_cases")}
    assert sorted(alerts) == ["SZ-SCJG", "SZ-SW"]
    market = alerts["SZ-SCJG"]
    assert (market.indicator, market.region, market.department, market.period) == (
        on_time_rate,
        city["district_a"],
        city["market"],
        OCTOBER,
    )
    assert (market.value, market.score, market.severity, market.method) == (
        2.0,
        2.2,
        "red",
        "overdue_cases",
    )
    assert market.explanation == (
        "2026-10 东湖区 市场监督管理局 有 2 件政务服务办件截至 2026-10-31 超过承诺时限仍未办结，"
        "最长超期 11 个工作日；超期最久的办件：BJ001（企业设立登记，超期 11 个工作日）、"
        "BJ002（发票领用，超期 3 个工作日）"
        "（办件承诺时限：按工作日计，超期 5 个工作日为黄色，10 个工作日为红色）"
    )
    assert market.rule["text"] == "适用规则：内置默认值；办件超期最少件数 1"
    tax = alerts["SZ-SW"]
    assert (tax.region, tax.department, tax.value, tax.severity) == (
        city["district_a"],
        city["tax"],
        1.0,
        "orange",
    )
    assert "BJ004（发票领用，超期 9 个工作日）" in tax.explanation

    # The same month seen again updates both, nothing new.
    again = scan_indicator_values(now=NOW)
    assert (again.created, again.updated, again.resolved) == (0, 2, 0)


@pytest.mark.django_db
def test_rule_minimum_and_switch_apply_to_overdue_cases(
    city: dict[str, Any], on_time_rate: Indicator
) -> None:
    write_cases(CASES)
    rule = create_alert_rule(actor=None, indicator=on_time_rate, overdue_cases_minimum=2)

    scan_indicator_values(now=NOW)
    assert list(Alert.objects.values_list("subject", flat=True)) == ["SZ-SCJG"]

    rule.enable_overdue_cases = False
    rule.save()
    write_cases([*CASES, ("BJ009", "449902", "XS-SCJG", "环评审批", "2026-10-12", None, 1, "受理")])
    off = scan_indicator_values(now=NOW)
    assert (off.created, off.updated, off.resolved) == (0, 0, 0)
    assert Alert.objects.get().status == "open"


@pytest.mark.django_db
def test_cleared_cases_resolve_the_alert_and_a_new_overdue_case_reopens_it(
    city: dict[str, Any], on_time_rate: Indicator
) -> None:
    write_cases(CASES)
    scan_indicator_values(now=NOW)
    market = Alert.objects.get(subject="SZ-SCJG")
    finished = [
        (c[0], c[1], c[2], c[3], c[4], "2026-10-30", c[6], "办结")
        if c[0] in {"BJ001", "BJ002"}
        else c
        for c in CASES
    ]
    write_cases(finished)

    cleared = scan_indicator_values(now=NOW)

    assert (cleared.resolved, cleared.updated) == (1, 1)
    assert Alert.objects.get(pk=market.pk).status == "resolved"
    assert Alert.objects.get(subject="SZ-SW").status == "open"
    step = TransitionHistory.objects.get(object_id=str(market.pk))
    assert (step.action, step.to_state, step.actor_label, step.note) == (
        "auto_resolve",
        "resolved",
        "系统",
        "条件已消除",
    )

    write_cases(
        [*finished, ("BJ010", "449901", "SZ-SCJG", "竣工联合验收", "2026-10-12", None, 10, "受理")]
    )
    back = scan_indicator_values(now=NOW)

    assert (back.reopened, back.created) == (1, 0)
    reopened = Alert.objects.get(pk=market.pk)
    assert (reopened.status, reopened.value, reopened.severity) == ("open", 1.0, "blue")
    assert "BJ010（竣工联合验收，超期 4 个工作日）" in reopened.explanation


@pytest.mark.django_db
def test_api_returns_the_explanation_of_overdue_cases(
    client_for: Any, personas: dict[str, Any], on_time_rate: Indicator
) -> None:
    write_cases(CASES)
    scan_indicator_values(now=NOW)

    response = client_for("coordinator").get("/api/v1/alerts?indicator=BE15.03")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["kind"], i["department"], i["region_code"]) for i in items] == [
        ("overdue_cases", "市场监督管理局", "449901"),
        ("overdue_cases", "税务局", "449901"),
    ]
    first = items[0]
    assert first["kind_label"] == "办件超期"
    assert first["method_label"] == "办件承诺时限"
    assert first["explanation"] == Alert.objects.get(subject="SZ-SCJG").explanation
    assert first["rule"] == "适用规则：内置默认值；办件超期最少件数 1"
    assert first["rule_thresholds"] == [["办件超期最少件数", "1"]]
    assert (first["value"], first["expected"], first["period"]) == (2.0, 0.0, "2026-10")

    # A district officer of the other district sees none of them.
    other = client_for("district_b").get("/api/v1/alerts?indicator=BE15.03")
    assert other.json()["items"] == []


@pytest.mark.django_db
def test_department_sees_overdue_cases_about_it_outside_its_region(
    client_for: Any, personas: dict[str, Any], on_time_rate: Indicator
) -> None:
    # The 东湖区 market bureau has cases filed in 西山区: it sees that alert, the 西山区
    # officer sees it by region, the 东湖区 officer does not.
    write_cases([("BJ011", "449902", "DH-SCJG", "食品经营许可", "2026-10-12", None, 3, "受理")])
    scan_indicator_values(now=NOW)
    alert = Alert.objects.get()
    assert (alert.region.code, alert.subject) == ("449902", "DH-SCJG")

    def ids(name: str) -> list[int]:
        response = client_for(name).get("/api/v1/alerts?indicator=BE15.03")
        return [i["id"] for i in response.json()["items"]]

    assert ids("responsible_department") == [alert.pk]
    assert ids("district_b") == [alert.pk]
    assert ids("district_a") == []
