"""Drill-down to the source records (明细记录): the extract job reads the analytical store for the
region's subtree and period, masks personal data, and the page and the XLSX show only that;
a district officer never reaches another district's records. Also the indicator page's open
alerts and the (empty) lists of tasks and rectification items."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from sizhen.core.jobs import run_pending
from sizhen.core.models import AuditEvent, Job
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.ingestion import extracts
from sizhen.indicators.ingestion.datasets import create_dataset_version
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.engine.schemas import GOV_SERVICE_CASES, field
from sizhen.indicators.ingestion.models import Dataset, RecordExtract
from sizhen.monitoring.models import Alert

MAR = dt.date(2026, 3, 1)
URL = "/dashboards/indicators/BE15.06/records/"
PERSONAL_FIELDS = [
    field("applicant_name", "申请人姓名"),
    field("contact_phone", "联系电话"),
    field("id_number", "证件号码"),
    field("remark", "备注"),
]
COLUMNS = [
    "case_id",
    "region_code",
    "status",
    "completed_at",
    "applicant_name",
    "contact_phone",
    "id_number",
    "remark",
]


def _case(case_id: str, region: str, completed: dt.datetime | None, status: str = "办结") -> list:
    digits = case_id[-2:]
    return [
        case_id,
        region,
        status,
        completed,
        "王小明",
        f"139000000{digits}",
        f"4499011990010112{digits}",
        f"申请人电话137123456{digits}，身份证44990119800101{digits}3X",
    ]


CASES = [
    _case("C01", "449901", dt.datetime(2026, 3, 5, 10, 0)),
    _case("C02", "P449951", dt.datetime(2026, 3, 20, 9, 30)),
    _case("C03", "449902", dt.datetime(2026, 3, 10, 8, 0)),
    _case("C04", "449901", dt.datetime(2026, 4, 1, 0, 0)),  # next month
    _case("C05", "449901", dt.datetime(2026, 3, 6, 0, 0), status="受理"),  # not counted
    _case("C06", "449901", None, status="受理"),
]


@pytest.fixture
def drill(city: dict[str, Any], personas: dict[str, Any], settings: Any, tmp_path: Any) -> dict:
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    dataset = Dataset.objects.get(code="gov_service_cases")
    version = create_dataset_version(
        dataset,
        actor=personas["sysadmin"],
        fields=[*GOV_SERVICE_CASES["fields"], *PERSONAL_FIELDS],
        key="case_id",
        region_field="region_code",
        department_field="department_code",
    )
    with store.open_store() as con:
        store.ensure_records_table(con, "gov_service_cases", version.fields)
        con.executemany(
            f"INSERT INTO records_gov_service_cases ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})",
            CASES,
        )
    # What the worker's recompute stores: the cases reach the end of March (a complete month).
    Dataset.objects.filter(pk=dataset.pk).update(watermarks={"completed_at": "2026-03-31"})
    root = Indicator.objects.create(code="BE", name="营商环境总分", direction="higher_is_better")
    parent = Indicator.objects.create(
        code="BE15", name="政务服务", parent=root, level=1, direction="higher_is_better"
    )
    leaf = Indicator.objects.create(
        code="BE15.06",
        name="办结量",
        parent=parent,
        level=2,
        unit="件",
        direction="higher_is_better",
        source_kind="records",
    )
    for region, value in ((city["root"], 3), (city["district_a"], 2), (city["district_b"], 1)):
        IndicatorValue.objects.create(
            indicator=leaf,
            region=region,
            period=MAR,
            frequency="month",
            source_kind="records",
            value=value,
        )
    return {"leaf": leaf, "parent": parent, **city}


def _extract_for(client: Any, region: str) -> RecordExtract:
    response = client.post(f"{URL}?region={region}&period=2026-03")
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?region={region}&period=2026-03"
    assert run_pending() == 1
    return RecordExtract.objects.get()


def _case_ids(extract: RecordExtract) -> list[str]:
    return [row[0] for row in extract.rows]


# -- the extract ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_district_officer_extract_holds_only_their_subtree(drill, client_for):
    client = client_for("district_a")
    pending = client.get(f"{URL}?region=449901&period=2026-03")
    assert pending.status_code == 200
    assert pending.context["extract"] is None

    extract = _extract_for(client, "449901")

    # Their district and its park, March, 办结 only, newest first; 西山区's C03 never.
    assert _case_ids(extract) == ["C02", "C01"]
    assert extract.matched == 2
    assert extract.state == "ready"
    assert extract.region == drill["district_a"]
    assert Job.objects.get().status == "succeeded"
    [event] = AuditEvent.objects.filter(action="indicators.record_extract.request")
    assert event.actor.username == "district_a"
    assert event.after == {"indicator": "BE15.06", "region": "449901", "period": "2026-03-01"}

    page = client.get(f"{URL}?region=449901&period=2026-03")
    text = page.content.decode()
    assert "C02" in text and "C01" in text and "C03" not in text
    assert "已抽取 2 条" in text


@pytest.mark.django_db
def test_city_extract_for_the_coordinator_holds_every_district(drill, client_for):
    extract = _extract_for(client_for("coordinator"), "449900")
    assert _case_ids(extract) == ["C02", "C03", "C01"]
    # A district officer does not see the city's extract, which holds other districts' records.
    assert not RecordExtract.objects.visible_to(_persona("district_a")).exists()
    assert list(RecordExtract.objects.visible_to(_persona("leader"))) == [extract]


def _persona(username: str) -> Any:
    from sizhen.accounts.models import User

    return User.objects.get(username=username)


@pytest.mark.django_db
def test_personal_data_is_masked_on_the_page_and_in_the_export(drill, client_for):
    client = client_for("coordinator")
    extract = _extract_for(client, "449901")
    assert [label for _, label in extract.columns][-4:] == [
        "申请人姓名",
        "联系电话",
        "证件号码",
        "备注",
    ]
    row = dict(zip([name for name, _ in extract.columns], extract.rows[1], strict=True))
    assert row["case_id"] == "C01"
    assert row["completed_at"] == "2026-03-05 10:00"
    assert row["applicant_name"] == "王**"
    assert row["contact_phone"] == "139****0001"
    assert row["id_number"] == "449***********1201"
    assert row["remark"] == "申请人电话137****5601，身份证449***********013X"

    page = client.get(f"{URL}?region=449901&period=2026-03").content.decode()
    response = client.get(f"{URL}?region=449901&period=2026-03&export=xlsx")
    assert response.status_code == 200
    sheet = [
        list(r)
        for r in load_workbook(io.BytesIO(response.content))
        .worksheets[0]
        .iter_rows(values_only=True)
    ]
    assert len(sheet) == 3
    exported = "".join(str(cell) for r in sheet for cell in r)
    for text in (page, exported):
        # No whole mobile number, ID number or given name survives anywhere.
        assert re.search(r"1[3-9]\d{9}", text) is None
        assert re.search(r"\d{17}[\dXx]", text) is None
        assert "王小" not in text
    [event] = AuditEvent.objects.filter(action="export.xlsx")
    assert event.after == {"export": "records", "region": "449901", "period": "2026-03", "rows": 2}


def test_masking_rules():
    assert extracts.field_kind("contact_phone", "联系电话") == "phone"
    assert extracts.field_kind("id_number", "证件号码") == "id"
    assert extracts.field_kind("applicant_name", "申请人姓名") == "name"
    assert extracts.field_kind("legal_representative", "法定代表人") == "name"
    assert extracts.field_kind("applicant_type", "申请人类型") == ""
    assert extracts.field_kind("item_name", "事项名称") == ""
    assert extracts.mask_cell("phone", "139-0000-1234") == "139****1234"
    assert extracts.mask_cell("id", "44990119900101123X") == "449***********123X"
    assert extracts.mask_cell("name", "欧阳修") == "欧**"
    assert extracts.mask_cell("name", "李") == "李*"
    assert (
        extracts.mask_cell("", "电话13712345678，证件440101199001011234")
        == "电话137****5678，证件440***********1234"
    )
    assert extracts.mask_cell("", 13712345678) == "137****5678"
    assert extracts.mask_cell("", 42) == 42
    assert extracts.mask_cell("", dt.date(2026, 3, 1)) == "2026-03-01"
    assert extracts.mask_cell("phone", None) is None


# -- access -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_other_district_and_city_records_answer_404_for_a_district_officer(drill, client_for):
    client = client_for("district_a")
    before = AuditEvent.objects.filter(action="access.denied").count()
    for url in (
        f"{URL}?region=449902&period=2026-03",
        f"{URL}?region=449900&period=2026-03",
        f"{URL}?region=449902&period=2026-03&export=xlsx",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{URL}?region=449902&period=2026-03").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == before + 4
    denied = AuditEvent.objects.filter(action="access.denied").order_by("-pk").first()
    assert (denied.object_type, denied.object_id) == ("organisations.region", "449902")
    assert not RecordExtract.objects.exists()
    assert not Job.objects.exists()

    # Their own park is part of their subtree.
    assert client.get(f"{URL}?region=P449951&period=2026-03").status_code == 200
    # Without a region they land on their own district, not the city.
    assert client.get(f"{URL}?period=2026-03").context["region"].code == "449901"


@pytest.mark.django_db
def test_extract_of_another_district_is_not_shown_to_a_district_officer(drill, client_for):
    _extract_for(client_for("coordinator"), "449902")
    assert (
        client_for("district_b").get(f"{URL}?region=449902&period=2026-03").context["extract"]
        == RecordExtract.objects.get()
    )
    assert client_for("district_a").get(f"{URL}?region=449902&period=2026-03").status_code == 404
    assert (
        client_for("district_a").get(f"{URL}?region=449902&period=2026-03&export=xlsx").status_code
        == 404
    )
    assert not AuditEvent.objects.filter(action="export.xlsx").exists()


@pytest.mark.django_db
def test_roles_bad_input_and_indicators_without_records(drill, client_for):
    assert client_for("enterprise").get(f"{URL}?region=449901").status_code == 404
    anonymous = client_for(None).get(URL)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    coordinator = client_for("coordinator")
    assert coordinator.get(f"{URL}?region=449901&period=2026-13").status_code == 404
    assert coordinator.get(f"{URL}?region=449901&period=abc").status_code == 404
    assert coordinator.get(f"{URL}?region=449901&export=pdf").status_code == 404
    # No extract yet: nothing to export.
    assert coordinator.get(f"{URL}?region=449901&export=xlsx").status_code == 404
    # The default period is the latest with a value.
    assert coordinator.get(f"{URL}?region=449901").context["period"] == MAR

    composite = "/dashboards/indicators/BE15/records/?region=449900&period=2026-03"
    page = coordinator.get(composite)
    assert page.status_code == 200
    assert page.context["source"] is None
    assert 'data-testid="no-source"' in page.content.decode()
    assert coordinator.post(composite).status_code == 404
    assert not RecordExtract.objects.exists()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_pending_extract_is_not_requested_twice(drill, client_for):
    client = client_for("coordinator")
    client.post(f"{URL}?region=449901&period=2026-03")
    client.post(f"{URL}?region=449901&period=2026-03")
    assert RecordExtract.objects.count() == 1
    assert Job.objects.count() == 1
    assert AuditEvent.objects.filter(action="indicators.record_extract.request").count() == 1
    page = client.get(f"{URL}?region=449901&period=2026-03")
    assert page.context["pending"] is True
    assert '<meta http-equiv="refresh" content="3">' in page.content.decode()


@pytest.mark.django_db
def test_sub_regions_lead_city_to_district(drill, client_for):
    page = client_for("coordinator").get(f"{URL}?region=449900&period=2026-03")
    rows = [(s["region"].code, s["value"], s["url"]) for s in page.context["sub_regions"]]
    assert rows == [
        ("449901", "2.00", f"{URL}?region=449901&period=2026-03"),
        ("449902", "1.00", f"{URL}?region=449902&period=2026-03"),
    ]
    district = client_for("district_a").get(f"{URL}?region=449901&period=2026-03")
    assert [s["region"].code for s in district.context["sub_regions"]] == ["P449951"]


# -- the indicator page -----------------------------------------------------------------------


def _alert(indicator, region, kind, status="open", severity="red") -> Alert:
    return Alert.objects.create(
        indicator=indicator,
        region=region,
        kind=kind,
        period=MAR,
        status=status,
        severity=severity,
        value=1,
        method="zscore",
        score=3,
        explanation=f"{region.name}{kind}",
        impact=1 if severity == "red" else 0.5,
    )


@pytest.mark.django_db
def test_indicator_page_shows_open_alerts_scoped_and_the_records_link(drill, client_for):
    leaf = drill["leaf"]
    a = _alert(leaf, drill["district_a"], "abnormal_change")
    b = _alert(leaf, drill["district_b"], "level_shift", severity="yellow")
    _alert(leaf, drill["district_a"], "goalpost_breach", status="resolved")
    _alert(drill["parent"], drill["district_a"], "benchmark_lag")

    page = client_for("coordinator").get("/dashboards/indicators/BE15.06/")
    assert [x.pk for x in page.context["alerts"]] == [a.pk, b.pk]
    text = page.content.decode()
    assert f'href="/monitoring/alerts/{a.pk}/"' in text
    assert "模块上线后显示" not in text
    assert "本区划暂无与本指标相关的未完成任务" in text
    assert page.context["records_url"] == f"{URL}?region=449900&period=2026-03"

    district = client_for("district_a").get("/dashboards/indicators/BE15.06/")
    assert [x.pk for x in district.context["alerts"]] == [a.pk]
    # The city figure is visible to them, its records are not.
    assert district.context["records_url"] == ""
    own = client_for("district_a").get("/dashboards/indicators/BE15.06/?region=449901")
    assert own.context["records_url"] == f"{URL}?region=449901&period=2026-03"
    assert [x.pk for x in own.context["alerts"]] == [a.pk]
    # A composite indicator has no records to drill into.
    parent = client_for("coordinator").get("/dashboards/indicators/BE15/")
    assert parent.context["records_url"] == ""
