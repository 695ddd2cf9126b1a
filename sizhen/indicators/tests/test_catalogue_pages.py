"""Catalogue pages: who may open and change what (an authorisation matrix where every denied
request also asserts nothing changed), the XLSX export, the indicator page with revisions and
benchmarks beside the city's own values, and the benchmark import page."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from sizhen.core.models import AuditEvent
from sizhen.indicators.catalogue import imports, services
from sizhen.indicators.catalogue.choices import Frequency, SourceKind
from sizhen.indicators.catalogue.models import Benchmark, EvaluationCycle, Indicator, IndicatorValue
from sizhen.indicators.tests.test_catalogue import CYCLE, state

STAFF = [
    "leader",
    "coordinator",
    "lead_department",
    "responsible_department",
    "district_a",
    "district_b",
    "sysadmin",
]
EDITORS = {"coordinator", "sysadmin"}
EVERYONE = [*STAFF, "enterprise"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(city: dict[str, Any]) -> imports.CatalogueLoadReport:
    return imports.load_default_catalogue(CYCLE, actor=None)


def _edit_post(name: str = "开办时间（全流程）") -> dict[str, Any]:
    indicator = Indicator.objects.get(code="BE01.02")
    return {
        "name": name,
        "name_en": indicator.name_en,
        "unit": "工作日",
        "direction": indicator.direction,
        "frequency": indicator.frequency,
        "source_kind": indicator.source_kind,
        "lead_department": indicator.lead_department_id or "",
        "responsible_departments": list(
            indicator.responsible_departments.values_list("pk", flat=True)
        ),
        "weight": "1",
        "definition": indicator.definition,
        "is_active": "on",
        "reason": "依据本市实施方案",
    }


def _xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["指标编码", "标杆城市", "期间", "数值", "来源"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- who may open the pages ------------------------------------------------------------------


@pytest.mark.parametrize("persona", EVERYONE)
def test_catalogue_pages_open_for_staff_only(client_for: Any, loaded: Any, persona: str) -> None:
    client = client_for(persona)
    urls = [
        reverse("indicators:catalogue"),
        reverse("indicators:catalogue") + "?export=xlsx",
        reverse("indicators:indicator_detail", args=["BE15.03"]),
        reverse("indicators:benchmark_list"),
        reverse("indicators:cycle_list"),
    ]
    expected = 200 if persona in STAFF else 404
    assert [client.get(url).status_code for url in urls] == [expected] * len(urls)


def test_anonymous_visitors_are_sent_to_the_login_page(client_for: Any, loaded: Any) -> None:
    response = client_for(None).get(reverse("indicators:catalogue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_catalogue_page_shows_the_tree(client_for: Any, loaded: Any) -> None:
    response = client_for("district_a").get(reverse("indicators:catalogue"))
    content = response.content.decode()
    assert "共 18 个一级指标、86 个末级指标" in content
    assert content.count('href="/monitoring/catalogue/BE') == 105
    assert "按时办结率" in content
    # Only editors see the load button.
    assert 'data-testid="load-default"' not in content
    coordinator_page = client_for("coordinator").get(reverse("indicators:catalogue"))
    assert 'data-testid="load-default"' in coordinator_page.content.decode()


def test_the_xlsx_export_has_every_indicator(client_for: Any, loaded: Any) -> None:
    response = client_for("leader").get(reverse("indicators:catalogue") + "?export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("指标编码", "指标名称", "英文名称", "上级指标")
    assert sorted(r[0] for r in rows[1:]) == sorted(
        Indicator.objects.values_list("code", flat=True)
    )
    by_code = {r[0]: r for r in rows[1:]}
    headers = rows[0]
    on_time = dict(zip(headers, by_code["BE15.03"], strict=True))
    assert (on_time["单位"], on_time["方向"], on_time["最优值"], on_time["最差值"]) == (
        "%",
        "正向（越高越好）",
        100,
        80,
    )
    assert (on_time["评价周期"], on_time["牵头部门"], on_time["频度"]) == (CYCLE, None, "月")
    [event] = AuditEvent.objects.filter(action="export.xlsx")
    assert event.after == {"rows": 105}


# --- editing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_editors_can_edit_an_indicator(client_for: Any, loaded: Any, persona: str) -> None:
    client = client_for(persona)
    url = reverse("indicators:indicator_edit", args=["BE01.02"])
    before = state()
    response = client.post(url, _edit_post())
    if persona in EDITORS:
        assert response.status_code == 302
        assert response["Location"] == reverse("indicators:indicator_detail", args=["BE01.02"])
        indicator = Indicator.objects.get(code="BE01.02")
        assert (indicator.name, indicator.version) == ("开办时间（全流程）", 2)
        revision = indicator.revisions.get()
        assert (revision.version, revision.snapshot["name"], revision.reason) == (
            1,
            "开办时间",
            "依据本市实施方案",
        )
        assert AuditEvent.objects.filter(action="indicator.update").count() == 1
    else:
        assert response.status_code == 404
        assert client.get(url).status_code == 404
        assert state() == before
        assert AuditEvent.objects.filter(action="indicator.update").count() == 0
        if persona in STAFF:
            assert AuditEvent.objects.filter(action="access.denied").count() == 2


def test_an_invalid_edit_shows_chinese_errors_and_changes_nothing(
    client_for: Any, loaded: Any
) -> None:
    before = state()
    data = _edit_post()
    data.update({"weight": "-1", "reason": "", "source_kind": SourceKind.COMPOSITE})
    response = client_for("coordinator").post(
        reverse("indicators:indicator_edit", args=["BE01.02"]), data
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["weight"] == ["权重应在 0 到 100 之间"]
    assert errors["reason"] == ["请填写修改说明"]
    assert state() == before
    data = _edit_post()
    data["source_kind"] = SourceKind.COMPOSITE
    response = client_for("coordinator").post(
        reverse("indicators:indicator_edit", args=["BE01.02"]), data
    )
    assert response.status_code == 400
    assert response.context["form"].errors["source_kind"] == [
        "末级指标没有下级指标，不能选择“下级指标合成”"
    ]
    assert state() == before


@pytest.mark.parametrize("persona", ["coordinator", "district_a", "lead_department", "enterprise"])
def test_goalposts_are_edited_by_editors_only(client_for: Any, loaded: Any, persona: str) -> None:
    url = reverse("indicators:goalpost_edit", args=["BE15.07", CYCLE])
    before = state()
    response = client_for(persona).post(
        url, {"best": "0.5", "worst": "15", "target": "", "note": "基线 P99", "reason": "基线到位"}
    )
    goalpost = Indicator.objects.get(code="BE15.07").goalposts.get()
    if persona in EDITORS:
        assert response.status_code == 302
        assert (goalpost.best, goalpost.worst, goalpost.note) == (0.5, 15.0, "基线 P99")
    else:
        assert response.status_code == 404
        assert state() == before


def test_a_goalpost_against_the_direction_is_refused_on_the_form(
    client_for: Any, loaded: Any
) -> None:
    before = state()
    response = client_for("coordinator").post(
        reverse("indicators:goalpost_edit", args=["BE15.07", CYCLE]),
        {"best": "20", "worst": "1", "reason": "试"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["worst"] == ["负向指标（越低越好）的最优值应小于最差值"]
    assert state() == before


@pytest.mark.parametrize("persona", ["coordinator", "district_a", "enterprise"])
def test_loading_the_default_catalogue_from_the_page(
    client_for: Any, city: dict[str, Any], persona: str
) -> None:
    response = client_for(persona).post(reverse("indicators:catalogue_load"))
    if persona in EDITORS:
        assert response.status_code == 302
        assert Indicator.objects.count() == 105
    else:
        assert response.status_code == 404
        assert (Indicator.objects.count(), EvaluationCycle.objects.count()) == (0, 0)


# --- the indicator page ----------------------------------------------------------------------


def test_the_indicator_page_shows_revisions_goalposts_and_benchmarks_beside_own_values(
    client_for: Any, city: dict[str, Any], personas: dict[str, Any], loaded: Any
) -> None:
    indicator = Indicator.objects.get(code="BE01.02")
    services.update_indicator(
        indicator, actor=personas["coordinator"], reason="口径说明", unit="天"
    )
    for region, value in ((city["root"], 2.5), (city["district_b"], 9.75)):
        IndicatorValue.objects.create(
            indicator=indicator,
            region=region,
            period=dt.date(2025, 6, 1),
            frequency=Frequency.MONTH,
            source_kind=SourceKind.RECORDS,
            value=value,
            score=98.0,
            rank=None,
        )
    services.create_benchmark(
        actor=personas["coordinator"],
        indicator=indicator,
        city="深圳市",
        period=dt.date(2025, 6, 1),
        value=0.5,
    )
    services.create_benchmark(
        actor=personas["coordinator"],
        indicator=indicator,
        city="杭州市",
        period=dt.date(2025, 5, 1),
        value=0.8,
    )
    response = client_for("district_a").get(
        reverse("indicators:indicator_detail", args=["BE01.02"])
    )
    content = re.sub(r"\s+", " ", response.content.decode())
    assert "<th>杭州市（标杆）</th><th>深圳市（标杆）</th>" in content
    assert (
        "<td>2025-06</td> <td>2.5</td> <td>98</td> <td>—</td> <td>系统数据计算</td> "
        "<td>—</td><td>0.5</td>" in content
    )
    assert (
        "<td>2025-05</td> <td>—</td> <td>—</td> <td>—</td> <td></td> <td>0.8</td><td>—</td>"
        in content
    )
    # A district officer cannot pick another district's values.
    other = client_for("district_a").get(
        reverse("indicators:indicator_detail", args=["BE01.02"]) + "?region=449902"
    )
    assert "9.75" not in other.content.decode()
    assert "<strong>单位</strong>：工作日 → 天" in content
    assert "口径说明" in content
    assert 'data-testid="edit"' not in content


def test_unknown_indicator_is_404(client_for: Any, loaded: Any) -> None:
    assert (
        client_for("coordinator")
        .get(reverse("indicators:indicator_detail", args=["BE99.99"]))
        .status_code
        == 404
    )


# --- benchmarks ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["coordinator", "leader", "district_a", "enterprise"])
def test_benchmark_import_page(client_for: Any, loaded: Any, persona: str) -> None:
    client = client_for(persona)
    url = reverse("indicators:benchmark_import")
    bad = _xlsx(
        [["BE01.02", "深圳市", "2025-06", 0.5, ""], ["BE01.02", "广州市", "2025-6x", 1, ""]]
    )
    response = client.post(url, {"file": SimpleUploadedFile("标杆.xlsx", bad)})
    if persona not in EDITORS:
        assert response.status_code == 404
        assert client.get(reverse("indicators:benchmark_template")).status_code == 404
        assert Benchmark.objects.count() == 0
        return
    assert response.status_code == 400
    assert [(e.row, e.code) for e in response.context["report"].errors] == [(3, "invalid_period")]
    assert Benchmark.objects.count() == 0
    report = client.get(reverse("indicators:benchmark_import_report"))
    rows = list(load_workbook(io.BytesIO(report.content)).worksheets[0].iter_rows(values_only=True))
    assert rows == [
        ("行号", "列", "说明", "错误代码"),
        (3, "期间", "期间“2025-6x”格式不正确，应为年月，如 2025-06", "invalid_period"),
    ]
    good = _xlsx(
        [["BE01.02", "深圳市", "2025-06", 0.5, ""], ["BE01.02", "广州市", "2025-06", 1, ""]]
    )
    response = client.post(url, {"file": SimpleUploadedFile("标杆.xlsx", good)})
    assert response.status_code == 200
    assert sorted(Benchmark.objects.values_list("city", "value")) == [
        ("广州市", 1.0),
        ("深圳市", 0.5),
    ]
    template = client.get(reverse("indicators:benchmark_template"))
    header = next(
        load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert header == ("指标编码", "标杆城市", "期间", "数值", "来源")


def test_a_non_xlsx_upload_is_refused(client_for: Any, loaded: Any) -> None:
    response = client_for("coordinator").post(
        reverse("indicators:benchmark_import"),
        {"file": SimpleUploadedFile("标杆.csv", b"a,b\n")},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "只支持 .xlsx 格式的 Excel 文件，请使用下载的模板"
    ]
    assert Benchmark.objects.count() == 0


@pytest.mark.parametrize("persona", ["coordinator", "leader", "district_b", "enterprise"])
def test_benchmarks_are_entered_and_edited_by_editors_only(
    client_for: Any, personas: dict[str, Any], loaded: Any, persona: str
) -> None:
    indicator = Indicator.objects.get(code="BE01.02")
    existing = services.create_benchmark(
        actor=personas["coordinator"],
        indicator=indicator,
        city="深圳市",
        period=dt.date(2025, 6, 1),
        value=0.5,
    )
    client = client_for(persona)
    created = client.post(
        reverse("indicators:benchmark_new"),
        {"indicator": indicator.pk, "city": "杭州市", "period": "2025-06", "value": "0.8"},
    )
    edited = client.post(
        reverse("indicators:benchmark_edit", args=[existing.pk]),
        {"indicator": indicator.pk, "city": "深圳市", "period": "2025-06", "value": "0.4"},
    )
    rows = sorted(Benchmark.objects.values_list("city", "value"))
    if persona in EDITORS:
        assert (created.status_code, edited.status_code) == (302, 302)
        assert rows == [("杭州市", 0.8), ("深圳市", 0.4)]
    else:
        assert (created.status_code, edited.status_code) == (404, 404)
        assert rows == [("深圳市", 0.5)]
    listing = client.get(reverse("indicators:benchmark_list"))
    assert listing.status_code == (200 if persona != "enterprise" else 404)


def test_a_benchmark_with_a_bad_month_is_refused(client_for: Any, loaded: Any) -> None:
    indicator = Indicator.objects.get(code="BE01.02")
    response = client_for("coordinator").post(
        reverse("indicators:benchmark_new"),
        {"indicator": indicator.pk, "city": "杭州市", "period": "六月", "value": "x"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["period"] == ["期间“六月”格式不正确，应为年月，如 2025-06"]
    assert errors["value"] == ["数值应为数字"]
    assert Benchmark.objects.count() == 0


# --- cycles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["coordinator", "leader", "enterprise"])
def test_cycles_are_created_by_editors_only(client_for: Any, loaded: Any, persona: str) -> None:
    response = client_for(persona).post(
        reverse("indicators:cycle_list"),
        {
            "code": "2027-2029",
            "name": "2027–2029 年评价周期",
            "starts_on": "2027-01-01",
            "ends_on": "2029-12-31",
            "weighting": "equal",
        },
    )
    codes = sorted(EvaluationCycle.objects.values_list("code", flat=True))
    if persona in EDITORS:
        assert response.status_code == 302
        assert codes == [CYCLE, "2027-2029"]
        assert EvaluationCycle.objects.get(code="2027-2029").goalposts.count() == 86
    else:
        assert response.status_code == 404
        assert codes == [CYCLE]


@pytest.mark.parametrize("persona", ["coordinator", "sysadmin", "leader", "responsible_department"])
def test_edit_forms_open_for_editors_only(
    client_for: Any, personas: dict[str, Any], loaded: Any, persona: str
) -> None:
    benchmark = services.create_benchmark(
        actor=personas["coordinator"],
        indicator=Indicator.objects.get(code="BE01.02"),
        city="深圳市",
        period=dt.date(2025, 6, 1),
        value=0.5,
    )
    urls = [
        reverse("indicators:indicator_edit", args=["BE01.02"]),
        reverse("indicators:goalpost_edit", args=["BE01.02", CYCLE]),
        reverse("indicators:benchmark_new") + "?indicator=BE01.02",
        reverse("indicators:benchmark_edit", args=[benchmark.pk]),
        reverse("indicators:benchmark_import"),
    ]
    expected = 200 if persona in EDITORS else 404
    assert [client_for(persona).get(url).status_code for url in urls] == [expected] * len(urls)
    if persona in EDITORS:
        form = client_for(persona).get(urls[0]).context["form"]
        assert form.initial["name"] == "开办时间"
        assert form.initial["weight"] == 1.0


def test_a_parent_has_no_goalpost_page(client_for: Any, loaded: Any) -> None:
    url = reverse("indicators:goalpost_edit", args=["BE01", CYCLE])
    assert client_for("coordinator").get(url).status_code == 404


def test_benchmarks_can_be_deleted_by_editors_only(
    client_for: Any, personas: dict[str, Any], loaded: Any
) -> None:
    benchmark = services.create_benchmark(
        actor=personas["coordinator"],
        indicator=Indicator.objects.get(code="BE01.02"),
        city="深圳市",
        period=dt.date(2025, 6, 1),
        value=0.5,
    )
    url = reverse("indicators:benchmark_delete", args=[benchmark.pk])
    assert client_for("district_a").post(url).status_code == 404
    assert Benchmark.objects.count() == 1
    assert client_for("coordinator").post(url).status_code == 302
    assert Benchmark.objects.count() == 0
    [event] = AuditEvent.objects.filter(action="benchmark.delete")
    assert event.before == {
        "indicator": "BE01.02",
        "city": "深圳市",
        "period": "2025-06",
        "value": 0.5,
        "source": "",
    }
