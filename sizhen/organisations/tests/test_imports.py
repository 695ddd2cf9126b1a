from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sizhen.core.models import AuditEvent
from sizhen.organisations import forms
from sizhen.organisations.imports import (
    EXAMPLE_USCC,
    import_departments,
    import_enterprises,
    import_regions,
)
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.tests.conftest import (
    ENTERPRISE_HEADER,
    audit_count,
    org_state,
    upload,
    xlsx_bytes,
)
from sizhen.organisations.validators import build_uscc

USCC_A = build_uscc("449901", "MA0000011")
USCC_PARK = build_uscc("449901", "MA0000022")
USCC_B = build_uscc("449902", "MA0000033")
NEW_1 = build_uscc("449901", "MA0000101")
NEW_2 = build_uscc("449902", "MA0000102")


def _row(uscc, name, region, industry="", size="", phone="", established="", active="是"):
    return [uscc, name, region, industry, size, "", "", phone, established, active]


def _good_rows():
    return [
        _row(NEW_1, "东湖新创有限公司", "449901", "I6510", "小型", "13800001001", "2021-03-04"),
        _row(USCC_A, "东湖示范科技股份有限公司", "449901", "I6510", "中型", "13800001111"),
        _row(NEW_2, "西山新物流有限公司", "449902", "G5430", "微型", "0755-12345678"),
        _row(USCC_PARK, "高新示范制造有限公司", "P449951", "C3971", "中型", "13800002222"),
    ]


@pytest.mark.django_db
def test_good_file_creates_and_updates_exactly_the_right_rows(city, personas):
    coordinator = personas["coordinator"]
    b_before = Enterprise.objects.filter(uscc=USCC_B).values().get()
    report = import_enterprises(xlsx_bytes(ENTERPRISE_HEADER, _good_rows()), actor=coordinator)
    assert report.ok
    assert (report.total, report.created, report.updated, report.unchanged) == (4, 2, 1, 1)
    rows = {
        e.uscc: (
            e.name,
            e.region.code,
            e.industry_code,
            e.size,
            e.contact_phone,
            e.established_on,
            e.is_active,
        )
        for e in Enterprise.objects.select_related("region")
    }
    assert rows == {
        NEW_1: (
            "东湖新创有限公司",
            "449901",
            "I6510",
            "small",
            "13800001001",
            dt.date(2021, 3, 4),
            True,
        ),
        USCC_A: (
            "东湖示范科技股份有限公司",
            "449901",
            "I6510",
            "medium",
            "13800001111",
            None,
            True,
        ),
        NEW_2: ("西山新物流有限公司", "449902", "G5430", "micro", "0755-12345678", None, True),
        USCC_PARK: (
            "高新示范制造有限公司",
            "P449951",
            "C3971",
            "medium",
            "13800002222",
            None,
            True,
        ),
        USCC_B: ("西山示范物流有限公司", "449902", "G5430", "micro", "13900003333", None, True),
    }
    # The enterprise not in the file is untouched, to the timestamp.
    assert Enterprise.objects.filter(uscc=USCC_B).values().get() == b_before
    # Contact name was a column in the file and empty: the row is the record, so it is cleared.
    assert Enterprise.objects.get(uscc=USCC_A).contact_name == ""
    events = list(AuditEvent.objects.filter(actor=coordinator).values_list("action", "after"))
    assert events == [("enterprise.import", {"total": 4, "created": 2, "updated": 1})]


@pytest.mark.django_db
def test_columns_missing_from_the_file_are_left_unchanged(city, personas):
    data = xlsx_bytes(
        ["统一社会信用代码", "企业名称", "所属区划代码"], [[USCC_A, "新名称", "449901"]]
    )
    report = import_enterprises(data, actor=personas["sysadmin"])
    assert (report.ok, report.updated) == (True, 1)
    enterprise = Enterprise.objects.get(uscc=USCC_A)
    assert (enterprise.name, enterprise.contact_name, enterprise.contact_phone) == (
        "新名称",
        "张三",
        "13800001111",
    )


@pytest.mark.django_db
def test_numbers_typed_into_excel_are_read_as_codes(city, personas):
    data = xlsx_bytes(
        ENTERPRISE_HEADER,
        [
            [
                NEW_1,
                "数字单元格公司",
                449901,
                "",
                "",
                "",
                "",
                13800001001,
                dt.datetime(2020, 1, 31),
                "",
            ]
        ],
    )
    report = import_enterprises(data, actor=personas["sysadmin"])
    assert report.ok, report.errors
    enterprise = Enterprise.objects.get(uscc=NEW_1)
    assert (enterprise.region.code, enterprise.contact_phone, enterprise.established_on) == (
        "449901",
        "13800001001",
        dt.date(2020, 1, 31),
    )


@pytest.mark.django_db
def test_one_bad_row_among_good_ones_writes_nothing(city, personas):
    rows = _good_rows()
    bad = NEW_2[:17] + ("0" if NEW_2[17] != "0" else "1")
    rows[2][0] = bad
    before, events = org_state(), audit_count()
    report = import_enterprises(xlsx_bytes(ENTERPRISE_HEADER, rows), actor=personas["sysadmin"])
    assert not report.ok
    assert [(e.row, e.column, e.code, e.message) for e in report.errors] == [
        (
            4,
            "统一社会信用代码",
            "invalid_uscc",
            f"统一社会信用代码校验位错误：第 18 位应为 {NEW_2[17]}，实为 {bad[17]}",
        )
    ]
    assert (report.created, report.updated) == (0, 0)
    assert org_state() == before
    assert audit_count() == events


@pytest.mark.django_db
def test_duplicate_uscc_within_the_file(city, personas):
    rows = [
        _row(NEW_1, "甲公司", "449901"),
        _row(NEW_2, "乙公司", "449902"),
        _row(NEW_1, "丙公司", "449901"),
    ]
    before = org_state()
    report = import_enterprises(xlsx_bytes(ENTERPRISE_HEADER, rows), actor=personas["sysadmin"])
    assert [(e.row, e.column, e.code, e.message) for e in report.errors] == [
        (4, "统一社会信用代码", "duplicate", f"与第 2 行重复（统一社会信用代码：{NEW_1}）")
    ]
    assert org_state() == before


@pytest.mark.django_db
def test_missing_required_column(city, personas):
    data = xlsx_bytes(["统一社会信用代码", "企业名称"], [[NEW_1, "甲公司"]])
    before, events = org_state(), audit_count()
    report = import_enterprises(data, actor=personas["sysadmin"])
    assert report.fatal == "缺少必填列：所属区划代码（请使用下载的模板）"
    assert report.errors == []
    assert org_state() == before
    assert audit_count() == events


@pytest.mark.django_db
def test_corrupt_file(client_for):
    before, events = org_state(), audit_count()
    response = client_for("sysadmin").post(
        "/org/enterprises/import/",
        {"file": upload(b"this is not a zip file at all", "企业.xlsx"), "action": "import"},
    )
    assert response.status_code == 400
    assert response.context["report"].fatal == "文件不是有效的 Excel（.xlsx）文件，或文件已损坏"
    assert "文件不是有效的 Excel（.xlsx）文件，或文件已损坏" in response.content.decode()
    assert org_state() == before
    assert audit_count() == events


@pytest.mark.django_db
def test_empty_file(city, personas):
    report = import_enterprises(xlsx_bytes(ENTERPRISE_HEADER, []), actor=personas["sysadmin"])
    assert report.fatal == "文件中没有数据行"


@pytest.mark.django_db
def test_district_officer_cannot_import_outside_own_district(city, personas):
    rows = [
        _row(NEW_1, "东湖新创有限公司", "449901"),
        _row(NEW_2, "西山新物流有限公司", "449902"),
        # 西山区's enterprise cannot be pulled into 东湖区 by naming it in a file.
        _row(USCC_B, "西山示范物流有限公司", "449901"),
        _row(USCC_PARK, "高新示范制造有限公司", "P449951"),
    ]
    before, events = org_state(), audit_count()
    report = import_enterprises(xlsx_bytes(ENTERPRISE_HEADER, rows), actor=personas["district_a"])
    assert [(e.row, e.column, e.code, e.message) for e in report.errors] == [
        (3, "所属区划代码", "region_out_of_scope", "区划 449902 不在您的管辖范围内"),
        (
            4,
            "统一社会信用代码",
            "enterprise_out_of_scope",
            "该企业已登记，但不在您的管辖范围内，不能更新",
        ),
    ]
    assert org_state() == before
    assert audit_count() == events


@pytest.mark.django_db
def test_district_officer_imports_within_own_subtree(city, personas):
    rows = [
        _row(NEW_1, "东湖新创有限公司", "449901"),
        _row(USCC_PARK, "高新改名有限公司", "P449951"),
    ]
    report = import_enterprises(xlsx_bytes(ENTERPRISE_HEADER, rows), actor=personas["district_a"])
    assert (report.ok, report.created, report.updated) == (True, 1, 1)
    assert Enterprise.objects.get(uscc=USCC_PARK).name == "高新改名有限公司"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "column", "code", "message"),
    [
        (
            {3: "C39711"},
            "行业代码",
            "invalid_industry",
            "行业代码应为门类字母（A–T）加 2–4 位数字，如 C3971（当前值：C39711）",
        ),
        (
            {7: "1380000"},
            "联系电话",
            "invalid_phone",
            "电话号码格式不正确（手机 11 位，或区号-号码）（当前值：1380000）",
        ),
        (
            {4: "巨型"},
            "规模",
            "unknown_size",
            "规模应为 大型、中型、小型、微型 之一（当前值：巨型）",
        ),
        ({2: "449999"}, "所属区划代码", "unknown_region", "区划代码 449999 不存在"),
        ({2: ""}, "所属区划代码", "required", "请填写所属区划代码"),
        ({1: ""}, "企业名称", "required", "请填写企业名称"),
        ({1: "长" * 201}, "企业名称", "too_long", "企业名称最多 200 字，当前 201 字"),
        (
            {8: "2021-13-01"},
            "成立日期",
            "invalid_date",
            "成立日期格式应为 年-月-日，如 2020-01-31（当前值：2021-13-01）",
        ),
        ({9: "也许"}, "存续", "invalid_boolean", "存续应填 是 或 否（当前值：也许）"),
        ({0: NEW_1.lower()}, "统一社会信用代码", "invalid_uscc", "统一社会信用代码应使用大写字母"),
        (
            {0: EXAMPLE_USCC},
            "统一社会信用代码",
            "example_row",
            "这是模板中的示例行，请删除后再导入",
        ),
    ],
)
def test_row_errors_name_row_column_and_code(city, personas, change, column, code, message):
    bad = _row(NEW_1, "甲公司", "449901", "I6510", "小型", "13800001001", "2020-01-31")
    for index, value in change.items():
        bad[index] = value
    rows = [_row(NEW_2, "乙公司", "449902"), bad]
    before = org_state()
    report = import_enterprises(xlsx_bytes(ENTERPRISE_HEADER, rows), actor=personas["sysadmin"])
    assert [(e.row, e.column, e.code, e.message) for e in report.errors] == [
        (3, column, code, message)
    ]
    assert org_state() == before


@pytest.mark.django_db
def test_inactive_region_is_refused_for_new_rows(city, personas):
    Region.objects.filter(code="449902").update(is_active=False)
    report = import_enterprises(
        xlsx_bytes(ENTERPRISE_HEADER, [_row(NEW_2, "乙公司", "449902")]), actor=personas["sysadmin"]
    )
    assert [(e.row, e.code, e.message) for e in report.errors] == [
        (2, "region_inactive", "区划 449902（西山区）已停用")
    ]
    # An enterprise already there keeps its region.
    report = import_enterprises(
        xlsx_bytes(
            ENTERPRISE_HEADER,
            [_row(USCC_B, "西山改名有限公司", "449902", "G5430", "微型", "13900003333")],
        ),
        actor=personas["sysadmin"],
    )
    assert (report.ok, report.updated) == (True, 1)


@pytest.mark.django_db
def test_two_thousand_rows_import_with_bulk_writes(city, personas, django_assert_max_num_queries):
    rows = [
        _row(build_uscc("449901", f"MB{n:07d}"), f"批量企业{n}", "449901", "C3971", "小型")
        for n in range(2000)
    ]
    rows.append(_row(USCC_A, "东湖示范科技股份有限公司", "449901", "I6510", "小型", "13800001111"))
    data = xlsx_bytes(ENTERPRISE_HEADER, rows)
    # Loading, scoping, the insert batches (SQLite's 999-parameter limit makes them ~75 rows
    # each), one update batch and the audit event: nowhere near one query per row.
    with django_assert_max_num_queries(45):
        report = import_enterprises(data, actor=personas["coordinator"])
    assert (report.ok, report.total, report.created, report.updated) == (True, 2001, 2000, 1)
    assert Enterprise.objects.count() == 2003
    assert AuditEvent.objects.filter(action="enterprise.import").count() == 1
    assert AuditEvent.objects.filter(action="enterprise.create").count() == 3  # the fixture's


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_then_confirm(client_for, settings):
    staging = Path(settings.SIZHEN_IMPORT_STAGING_DIR)
    client = client_for("coordinator")
    data = xlsx_bytes(ENTERPRISE_HEADER, _good_rows())
    before, events = org_state(), audit_count()
    response = client.post("/org/enterprises/import/", {"file": upload(data), "action": "check"})
    assert response.status_code == 200
    assert "共 4 行：将新增 2 条，更新 1 条，1 条无变化。" in response.content.decode()
    assert org_state() == before
    assert audit_count() == events
    token = response.context["token"]
    assert len(token) == 32
    # A clean check keeps only the file (no error report) until it is confirmed.
    assert sorted(p.name for p in staging.iterdir()) == [f"{token}.xlsx"]

    response = client.post("/org/enterprises/import/", {"token": token})
    assert response.status_code == 200
    assert "共 4 行：新增 2 条，更新 1 条，1 条无变化。" in response.content.decode()
    assert Enterprise.objects.count() == 5
    assert audit_count("enterprise.import") == 1
    assert list(staging.iterdir()) == []

    # The staged file is gone: the same confirmation cannot import twice.
    response = client.post("/org/enterprises/import/", {"token": token}, follow=True)
    assert response.redirect_chain == [("/org/enterprises/import/", 302)]
    assert "待导入的文件已失效，请重新上传" in response.content.decode()
    assert audit_count("enterprise.import") == 1


@pytest.mark.django_db
def test_confirm_token_belongs_to_its_session(client_for):
    data = xlsx_bytes(ENTERPRISE_HEADER, _good_rows())
    response = client_for("coordinator").post(
        "/org/enterprises/import/", {"file": upload(data), "action": "check"}
    )
    token = response.context["token"]
    before = org_state()
    other = client_for("sysadmin")
    response = other.post("/org/enterprises/import/", {"token": token})
    assert response.status_code == 302
    assert org_state() == before
    assert other.get(f"/org/enterprises/import/{token}/report/").status_code == 404


@pytest.mark.django_db
def test_error_report_on_page_and_as_xlsx(client_for):
    client = client_for("sysadmin")
    rows = _good_rows()
    rows[1][3] = "X1"
    rows[3][7] = "123"
    before = org_state()
    response = client.post(
        "/org/enterprises/import/",
        {"file": upload(xlsx_bytes(ENTERPRISE_HEADER, rows)), "action": "import"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "校验未通过：2 处错误" in body
    # The Chinese message first, the code after it.
    assert (
        "<td>3</td><td>行业代码</td><td>行业代码应为门类字母（A–T）加 2–4 位数字，如 C3971（当前值：X1）"
        '</td><td class="muted">invalid_industry</td>'
    ) in body
    assert (
        "<td>5</td><td>联系电话</td><td>电话号码格式不正确（手机 11 位，或区号-号码）（当前值：123）"
        '</td><td class="muted">invalid_phone</td>'
    ) in body
    assert org_state() == before
    token = response.context["token"]
    report = client.get(f"/org/enterprises/import/{token}/report/")
    assert report.status_code == 200
    assert (
        report["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["行号", "列", "说明", "错误代码"],
        [
            3,
            "行业代码",
            "行业代码应为门类字母（A–T）加 2–4 位数字，如 C3971（当前值：X1）",
            "invalid_industry",
        ],
        [
            5,
            "联系电话",
            "电话号码格式不正确（手机 11 位，或区号-号码）（当前值：123）",
            "invalid_phone",
        ],
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["企业.xls", "企业.csv", "企业"])
def test_other_file_types_are_refused(client_for, name):
    before = org_state()
    response = client_for("sysadmin").post(
        "/org/enterprises/import/", {"file": upload(b"a,b\n", name), "action": "import"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "file": [
            "只支持 .xlsx 格式的 Excel 文件；.xls、.csv 等请在 Excel 中另存为 .xlsx，或使用下载的模板"
        ]
    }
    assert org_state() == before


@pytest.mark.django_db
def test_upload_size_limit(client_for, monkeypatch):
    assert forms.MAX_UPLOAD_BYTES == 20 * 1024 * 1024
    monkeypatch.setattr(forms, "MAX_UPLOAD_BYTES", 1024 * 1024)
    before = org_state()
    big = upload(b"0" * (1024 * 1024 + 1), "大.xlsx")
    response = client_for("sysadmin").post("/org/enterprises/import/", {"file": big})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "file": ["文件过大（1.0 MB），不能超过 1 MB，请分批导入"]
    }
    assert org_state() == before


@pytest.mark.django_db
def test_no_file(client_for):
    response = client_for("sysadmin").post("/org/enterprises/import/", {"action": "check"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"file": ["请选择要导入的 Excel 文件"]}


@pytest.mark.django_db
def test_enterprise_template(client_for):
    response = client_for("district_a").get("/org/enterprises/import/template/")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["数据", "填写说明", "区划代码"]
    data = [list(r) for r in wb["数据"].iter_rows(values_only=True)]
    assert data[0] == ENTERPRISE_HEADER
    assert data[1][:3] == [EXAMPLE_USCC, "示例：某某科技有限公司", "449901"]
    guide = [list(r) for r in wb["填写说明"].iter_rows(values_only=True)]
    assert guide[0] == ["列名", "是否必填", "说明"]
    assert [g[:2] for g in guide[1:4]] == [
        ["统一社会信用代码", "必填"],
        ["企业名称", "必填"],
        ["所属区划代码", "必填"],
    ]
    regions = [r[0] for r in wb["区划代码"].iter_rows(min_row=2, values_only=True)]
    # Only the district officer's own subtree.
    assert regions == ["449901", "P449951"]


@pytest.mark.django_db
def test_unchanged_template_is_refused(client_for):
    client = client_for("sysadmin")
    template = client.get("/org/enterprises/import/template/").content
    before = org_state()
    response = client.post(
        "/org/enterprises/import/", {"file": upload(template, "模板.xlsx"), "action": "import"}
    )
    assert response.status_code == 400
    assert [(e.row, e.code) for e in response.context["report"].errors] == [(2, "example_row")]
    assert org_state() == before


# --- departments and regions --------------------------------------------------------------

DEPARTMENT_HEADER = ["部门编码", "名称", "简称", "类型", "所属区划代码", "主要职责", "排序", "启用"]


@pytest.mark.django_db
def test_department_import(city, personas):
    rows = [
        ["DH-SW", "东湖区税务局", "东湖税务", "县市区部门", "449901", "", 5, "是"],
        ["SZ-SW", "国家税务总局示范市税务局", "", "市级部门", "449900", "", "", "否"],
    ]
    report = import_departments(xlsx_bytes(DEPARTMENT_HEADER, rows), actor=personas["sysadmin"])
    assert (report.ok, report.created, report.updated) == (True, 1, 1)
    assert Department.objects.filter(code="DH-SW").values_list(
        "name", "short_name", "type", "region__code", "sort_order", "is_active"
    ).get() == ("东湖区税务局", "东湖税务", "district_department", "449901", 5, True)
    assert Department.objects.filter(code="SZ-SW").values_list("name", "is_active").get() == (
        "国家税务总局示范市税务局",
        False,
    )
    assert audit_count("department.import") == 1


@pytest.mark.django_db
def test_department_import_errors(city, personas):
    rows = [
        ["DH-SW", "东湖区市场监督管理局", "", "县市区部门", "449901", "", "", ""],
        ["DH-A", "东湖区甲局", "", "部级", "449901", "", "", ""],
        ["DH-B", "东湖区乙局", "", "县市区部门", "449901", "", "-1", ""],
        ["DH-C", "东湖区乙局", "", "县市区部门", "449901", "", "", ""],
        ["new", "东湖区丙局", "", "县市区部门", "449901", "", "", ""],
    ]
    before = org_state()
    report = import_departments(xlsx_bytes(DEPARTMENT_HEADER, rows), actor=personas["sysadmin"])
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (2, "名称", "duplicate_name"),
        (3, "类型", "unknown_type"),
        (4, "排序", "invalid_number"),
        (5, "名称", "duplicate_name"),
        (6, "部门编码", "invalid_code"),
    ]
    assert report.errors[0].message == "东湖区已有名为“东湖区市场监督管理局”的部门（DH-SCJG）"
    assert report.errors[3].message == "与第 4 行重名（东湖区：东湖区乙局）"
    assert org_state() == before


@pytest.mark.django_db
def test_only_sysadmin_imports_departments_and_regions(city, personas):
    rows = [["DH-SW", "东湖区税务局", "", "县市区部门", "449901", "", "", ""]]
    report = import_departments(xlsx_bytes(DEPARTMENT_HEADER, rows), actor=personas["coordinator"])
    assert report.fatal == "您无权导入此类数据"
    assert not Department.objects.filter(code="DH-SW").exists()


REGION_HEADER = ["区划代码", "名称", "层级", "上级区划代码", "排序", "启用"]


@pytest.mark.django_db
def test_region_import_builds_a_subtree_from_one_file(city, personas):
    rows = [
        ["449903", "南岭区", "区", "449900", 3, "是"],
        ["449903001000", "南岭街道", "乡镇（街道）", "449903", "", ""],
        ["P449953", "南岭园区", "园区", "449903", "", ""],
        ["449902", "西山区（新）", "区", "449900", 2, "是"],
    ]
    report = import_regions(xlsx_bytes(REGION_HEADER, rows), actor=personas["sysadmin"])
    assert (report.ok, report.created, report.updated) == (True, 3, 1), report.errors
    assert dict(Region.objects.values_list("code", "path")) == {
        "449900": "/449900/",
        "449901": "/449900/449901/",
        "P449951": "/449900/449901/P449951/",
        "449902": "/449900/449902/",
        "449903": "/449900/449903/",
        "449903001000": "/449900/449903/449903001000/",
        "P449953": "/449900/449903/P449953/",
    }
    assert Region.objects.get(code="449903001000").depth == 2
    assert Region.objects.get(code="449902").name == "西山区（新）"
    assert audit_count("region.import") == 1


@pytest.mark.django_db
def test_region_import_errors(city, personas):
    rows = [
        ["449800", "邻市", "市", "", "", ""],
        ["P449951", "高新区", "园区", "449902", "", ""],
        ["P449960", "新园区", "区", "449901", "", ""],
        ["449904", "北区", "区", "449999", "", ""],
        ["449905", "东区", "省", "449900", "", ""],
    ]
    before = org_state()
    report = import_regions(xlsx_bytes(REGION_HEADER, rows), actor=personas["sysadmin"])
    assert [(e.row, e.column, e.code, e.message) for e in report.errors] == [
        (2, "上级区划代码", "required", "请填写上级区划代码（只能有一个顶级区划，即本市）"),
        (
            3,
            "上级区划代码",
            "parent_change",
            "导入不调整已有区划的上级；如需迁移，请在该区划的编辑页面修改上级",
        ),
        (4, "区划代码", "invalid_code", "行政区划代码应为 6 位或 12 位数字"),
        (5, "上级区划代码", "unknown_region", "上级区划代码 449999 不存在（新上级须写在本行之前）"),
        (
            6,
            "层级",
            "unknown_level",
            "层级应为 市、区、县（市）、园区、乡镇（街道） 之一（当前值：省）",
        ),
    ]
    assert org_state() == before
