from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from sizhen.core.models import AuditEvent
from sizhen.organisations import services
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.tests.conftest import audit_count, org_state
from sizhen.organisations.validators import build_uscc

USCC_A = build_uscc("449901", "MA0000011")
USCC_B = build_uscc("449902", "MA0000033")
NEW_USCC = build_uscc("449901", "MA0000044")


def _names(response, column=1):
    return [row[column][0] for row in response.context["rows"]]


def _options(response, field):
    form = response.context["filterset"].form if "filterset" in response.context else None
    form = form or response.context["form"]
    return [str(value) for value, _ in form.fields[field].choices if value != ""]


# --- lists and filters ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["东湖示范科技有限公司", "西山示范物流有限公司", "高新示范制造有限公司"]),
        ("region=449901", ["东湖示范科技有限公司", "高新示范制造有限公司"]),
        ("region=P449951", ["高新示范制造有限公司"]),
        ("region=449902", ["西山示范物流有限公司"]),
        ("size=micro", ["西山示范物流有限公司"]),
        ("industry=c39", ["高新示范制造有限公司"]),
        ("industry=I", ["东湖示范科技有限公司"]),
        ("is_active=0", []),
        ("q=西山", ["西山示范物流有限公司"]),
        ("region=449901&size=medium", ["高新示范制造有限公司"]),
    ],
)
def test_enterprise_filters(client_for, query, names):
    response = client_for("sysadmin").get(f"/org/enterprises/?{query}")
    assert response.status_code == 200
    assert sorted(_names(response)) == sorted(names)


@pytest.mark.django_db
def test_enterprise_active_filter(client_for, city):
    Enterprise.objects.filter(pk=city["enterprise_b"].pk).update(is_active=False)
    client = client_for("sysadmin")
    assert _names(client.get("/org/enterprises/?is_active=0")) == ["西山示范物流有限公司"]
    assert sorted(_names(client.get("/org/enterprises/?is_active=1"))) == [
        "东湖示范科技有限公司",
        "高新示范制造有限公司",
    ]


@pytest.mark.django_db
def test_region_filter_choices_are_scoped(client_for):
    client = client_for("district_a")
    response = client.get("/org/enterprises/")
    assert _options(response, "region") == ["449900", "449901", "P449951"]
    # Naming a region outside the scope is an invalid filter: nothing is listed.
    response = client.get("/org/enterprises/?region=449902")
    assert response.status_code == 200
    assert _names(response) == []
    assert "所选区划不存在或不在您的数据范围内" in response.content.decode()
    assert "西山示范物流有限公司" not in response.content.decode()


@pytest.mark.django_db
def test_city_root_filter_for_district_officer_still_shows_only_own_district(client_for):
    response = client_for("district_a").get("/org/enterprises/?region=449900")
    assert sorted(_names(response)) == ["东湖示范科技有限公司", "高新示范制造有限公司"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "query", "codes"),
    [
        ("sysadmin", "", ["DH-SCJG", "SZ-SCJG", "SZ-SW", "SZ-YSB", "XS-SCJG"]),
        ("sysadmin", "type=district_department", ["DH-SCJG", "XS-SCJG"]),
        ("sysadmin", "region=449901", ["DH-SCJG"]),
        ("sysadmin", "type=office&region=449900", ["SZ-YSB"]),
        ("district_b", "", ["XS-SCJG"]),
        ("responsible_department", "", ["DH-SCJG"]),
    ],
)
def test_department_filters(client_for, persona, query, codes):
    response = client_for(persona).get(f"/org/departments/?{query}")
    assert _names(response, column=0) == codes


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "query", "codes"),
    [
        ("sysadmin", "", ["449900", "449901", "P449951", "449902"]),
        ("sysadmin", "level=district", ["449901", "449902"]),
        ("sysadmin", "level=park", ["P449951"]),
        ("sysadmin", "within=449901", ["449901", "P449951"]),
        ("district_b", "", ["449900", "449902"]),
    ],
)
def test_region_filters(client_for, persona, query, codes):
    response = client_for(persona).get(f"/org/regions/?{query}")
    assert _names(response, column=0) == codes


@pytest.mark.django_db
def test_export_masks_phone_and_is_audited(client_for):
    response = client_for("coordinator").get("/org/enterprises/?export=xlsx&region=449901")
    assert response.status_code == 200
    rows = [
        list(r)
        for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    ]
    assert rows[0] == [
        "统一社会信用代码",
        "企业名称",
        "行业代码",
        "所属区划",
        "规模",
        "联系人",
        "联系电话",
        "存续",
    ]
    assert sorted(r[6] for r in rows[1:]) == ["138****1111", "138****2222"]
    event = AuditEvent.objects.get(action="export.xlsx")
    assert event.object_type == "organisations.enterprise"
    assert event.after == {"query": "export=xlsx&region=449901", "rows": 2}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "url", "labels"),
    [
        ("sysadmin", "/org/regions/", ["新增", "导入", "下载模板"]),
        ("coordinator", "/org/regions/", []),
        ("sysadmin", "/org/departments/", ["新增", "导入", "下载模板"]),
        ("district_a", "/org/departments/", []),
        ("sysadmin", "/org/enterprises/", ["新增", "导入", "下载模板"]),
        ("coordinator", "/org/enterprises/", ["新增", "导入", "下载模板"]),
        ("district_a", "/org/enterprises/", ["新增", "导入", "下载模板"]),
        ("leader", "/org/enterprises/", []),
        ("lead_department", "/org/enterprises/", []),
    ],
)
def test_page_actions_only_for_those_who_may_change(client_for, persona, url, labels):
    response = client_for(persona).get(url)
    assert [a.label for a in response.context["actions"]] == labels


# --- details --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "phone", "editable"),
    [
        ("sysadmin", "13800001111", True),
        ("coordinator", "13800001111", True),
        ("district_a", "13800001111", True),
        ("leader", "138****1111", False),
        ("lead_department", "138****1111", False),
        ("responsible_department", "138****1111", False),
    ],
)
def test_enterprise_detail_shows_full_phone_only_to_editors(client_for, persona, phone, editable):
    response = client_for(persona).get(f"/org/enterprises/{USCC_A}/")
    assert response.status_code == 200
    assert dict(response.context["fields"])["联系电话"] == phone
    body = response.content.decode()
    assert ("13800001111" in body) is editable
    assert bool(response.context["edit_url"]) is editable


@pytest.mark.django_db
def test_region_detail_lists_children_and_departments(client_for):
    response = client_for("district_a").get("/org/regions/449901/")
    children, departments = response.context["sections"]
    assert [row[0][0] for row in children["rows"]] == ["P449951"]
    assert [row[0][0] for row in departments["rows"]] == ["DH-SCJG"]
    assert dict(response.context["fields"])["辖区内企业"] == "2 家"
    assert response.context["edit_url"] == ""


# --- enterprise forms -----------------------------------------------------------------------


def _enterprise_post(city, **changes):
    data = {
        "uscc": NEW_USCC,
        "name": "东湖新创有限公司",
        "industry_code": "I6510",
        "region": city["district_a"].pk,
        "size": "small",
        "address": "东湖路 1 号",
        "contact_name": "李四",
        "contact_phone": "13800004444",
        "established_on": "2021-03-04",
        "is_active": "on",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_enterprise_form_offers_only_regions_in_scope(client_for, city):
    response = client_for("district_a").get("/org/enterprises/new/")
    regions = response.context["form"].fields["region"].queryset
    assert list(regions.values_list("code", flat=True)) == ["449901", "P449951"]
    response = client_for("coordinator").get("/org/enterprises/new/")
    regions = response.context["form"].fields["region"].queryset
    assert list(regions.values_list("code", flat=True)) == ["449900", "449901", "P449951", "449902"]


@pytest.mark.django_db
def test_create_enterprise(client_for, city, personas):
    response = client_for("district_a").post("/org/enterprises/new/", _enterprise_post(city))
    assert response.status_code == 302
    assert response["Location"] == f"/org/enterprises/{NEW_USCC}/"
    enterprise = Enterprise.objects.get(uscc=NEW_USCC)
    assert (enterprise.name, enterprise.region.code, enterprise.contact_phone) == (
        "东湖新创有限公司",
        "449901",
        "13800004444",
    )
    event = AuditEvent.objects.get(action="enterprise.create", actor=personas["district_a"])
    assert event.object_id == str(enterprise.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"uscc": NEW_USCC[:17] + ("0" if NEW_USCC[17] != "0" else "1")},
            "uscc",
            f"统一社会信用代码校验位错误：第 18 位应为 {NEW_USCC[17]}，实为 "
            + ("0" if NEW_USCC[17] != "0" else "1"),
        ),
        ({"uscc": NEW_USCC.lower()}, "uscc", "统一社会信用代码应使用大写字母"),
        ({"uscc": NEW_USCC[:16]}, "uscc", "统一社会信用代码应为 18 位，当前为 16 位"),
        ({"uscc": USCC_B}, "uscc", "该统一社会信用代码已登记，请勿重复新增"),
        ({"uscc": ""}, "uscc", "请填写统一社会信用代码"),
        ({"name": ""}, "name", "请填写企业名称"),
        (
            {"industry_code": "X1"},
            "industry_code",
            "行业代码应为门类字母（A–T）加 2–4 位数字，如 C3971",
        ),
        (
            {"contact_phone": "12345"},
            "contact_phone",
            "电话号码格式不正确（手机 11 位，或区号-号码）",
        ),
        (
            {"established_on": "2021-13-40"},
            "established_on",
            "日期格式应为 年-月-日，如 2020-01-31",
        ),
        ({"region": ""}, "region", "请选择所属区划"),
    ],
)
def test_enterprise_form_errors_in_chinese(client_for, city, changes, field, message):
    before, events = org_state(), audit_count()
    response = client_for("coordinator").post(
        "/org/enterprises/new/", _enterprise_post(city, **changes)
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    assert org_state() == before
    assert audit_count() == events


@pytest.mark.django_db
def test_district_officer_edits_own_enterprise_within_own_subtree(client_for, city):
    client = client_for("district_a")
    url = f"/org/enterprises/{USCC_A}/edit/"
    response = client.get(url)
    assert response.context["form"].initial["contact_phone"] == "13800001111"
    data = _enterprise_post(city, uscc=USCC_A, name="东湖示范科技有限公司", region=city["park"].pk)
    response = client.post(url, data)
    assert response.status_code == 302
    assert Enterprise.objects.get(uscc=USCC_A).region.code == "P449951"
    event = AuditEvent.objects.get(action="enterprise.update")
    assert event.before["region_id"] == city["district_a"].pk
    assert event.after["region_id"] == city["park"].pk

    before = org_state()
    response = client.post(url, data | {"region": city["district_b"].pk})
    assert response.status_code == 400
    assert response.context["form"].errors["region"] == ["请选择您管辖范围内的区划"]
    assert org_state() == before


# --- region and department forms -------------------------------------------------------------


@pytest.mark.django_db
def test_region_edit_moves_subtree(client_for, city):
    services.create_region(
        actor=None,
        code="449951001001",
        name="高新街道",
        level=RegionLevel.TOWN,
        parent=city["park"],
    )
    response = client_for("sysadmin").post(
        "/org/regions/P449951/edit/",
        {
            "code": "P449951",
            "name": "高新区",
            "level": RegionLevel.PARK,
            "parent": city["district_b"].pk,
            "sort_order": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Region.objects.get(code="449951001001").path == "/449900/449902/P449951/449951001001/"


@pytest.mark.django_db
def test_region_parent_cannot_be_own_subtree(client_for, city):
    client = client_for("sysadmin")
    response = client.get("/org/regions/449901/edit/")
    parents = response.context["form"].fields["parent"].queryset
    assert list(parents.values_list("code", flat=True)) == ["449900", "449902"]
    before = org_state()
    response = client.post(
        "/org/regions/449901/edit/",
        {
            "code": "449901",
            "name": "东湖区",
            "level": "district",
            "parent": city["park"].pk,
            "sort_order": "0",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["parent"] == [
        "请选择有效的上级区划（不能是自身或其下级）"
    ]
    assert org_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": "P449903"}, "code", "行政区划代码应为 6 位或 12 位数字"),
        ({"code": "449902"}, "code", "区划代码 449902 已被使用"),
        ({"name": ""}, "name", "请填写名称"),
        ({"level": ""}, "level", "请选择层级"),
        ({"sort_order": "-1"}, "sort_order", "排序应为非负整数"),
        ({"parent": ""}, None, "只能有一个顶级区划（本市）"),
    ],
)
def test_region_form_errors(client_for, city, changes, field, message):
    data = {
        "code": "449903",
        "name": "南岭区",
        "level": "district",
        "parent": city["root"].pk,
        "sort_order": "0",
        "is_active": "on",
    }
    data.update(changes)
    before = org_state()
    response = client_for("sysadmin").post("/org/regions/new/", data)
    assert response.status_code == 400
    form = response.context["form"]
    if field is None:
        # The service's rule, shown on the form (its field is the parent).
        assert form.errors["parent"] == [message]
    else:
        assert form.errors[field] == [message]
    assert org_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": "SZ-SW"}, "code", "部门编码 SZ-SW 已被使用"),
        ({"code": "import"}, "code", "“import”是系统保留字，不能用作部门编码"),
        (
            {"code": "SZ/SW"},
            "code",
            "部门编码应为 1–32 位字母、数字、“-”“_”“.”，且以字母或数字开头（如 SZ-SCJG）",
        ),
        ({"name": "东湖区市场监督管理局"}, "name", "东湖区已有名为“东湖区市场监督管理局”的部门"),
        ({"type": "ministry"}, "type", "请从列表中选择类型"),
    ],
)
def test_department_form_errors(client_for, city, changes, field, message):
    data = {
        "code": "DH-SW",
        "name": "东湖区税务局",
        "type": "district_department",
        "region": city["district_a"].pk,
        "sort_order": "0",
        "is_active": "on",
    }
    data.update(changes)
    before = org_state()
    response = client_for("sysadmin").post("/org/departments/new/", data)
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert org_state() == before


@pytest.mark.django_db
def test_department_edit(client_for, city, personas):
    response = client_for("sysadmin").post(
        "/org/departments/DH-SCJG/edit/",
        {
            "code": "DH-SCJG",
            "name": "东湖区市场监管局",
            "short_name": "东湖市监",
            "type": "district_department",
            "region": city["district_a"].pk,
            "sort_order": "2",
        },
    )
    assert response.status_code == 302
    department = Department.objects.get(code="DH-SCJG")
    assert (
        department.name,
        department.short_name,
        department.sort_order,
        department.is_active,
    ) == (
        "东湖区市场监管局",
        "东湖市监",
        2,
        False,
    )
    event = AuditEvent.objects.get(action="department.update", actor=personas["sysadmin"])
    assert event.after == {
        "name": "东湖区市场监管局",
        "short_name": "东湖市监",
        "sort_order": 2,
        "is_active": False,
    }
