"""Authorisation matrix: every organisations endpoint, every persona, plus anonymous.

A logged-in persona that is refused gets 404 (never 403: a refused object looks like a missing
one) and leaves exactly one ``access.denied`` audit event; nothing changes. Anonymous visitors
are sent to the login page (pages) or get 401 (API)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from sizhen.core.models import AuditEvent
from sizhen.organisations.choices import DepartmentType, RegionLevel
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.tests.conftest import (
    ENTERPRISE_HEADER,
    audit_count,
    org_state,
    upload,
    xlsx_bytes,
)
from sizhen.organisations.validators import build_uscc

PERSONAS = [
    "leader",
    "coordinator",
    "lead_department",
    "responsible_department",
    "district_a",
    "district_b",
    "enterprise",
    "enterprise_b",
    "sysadmin",
    None,
]
STAFF = {
    "leader",
    "coordinator",
    "lead_department",
    "responsible_department",
    "district_a",
    "district_b",
    "sysadmin",
}
SYSADMIN = {"sysadmin"}
ENTERPRISE_EDITORS = {"sysadmin", "coordinator", "district_a", "district_b"}
#: Who sees 西山区 (district B) and what lies in it.
SEES_DISTRICT_B = {"leader", "coordinator", "lead_department", "district_b", "sysadmin"}
#: Who may change what lies in 西山区.
CHANGES_ENTERPRISE_B = {"sysadmin", "coordinator", "district_b"}
USCC_B = build_uscc("449902", "MA0000033")
BOGUS_TOKEN = "0" * 32


def _status(persona: str | None, allowed: set[str], ok: int = 200) -> int:
    if persona is None:
        return 302
    return ok if persona in allowed else 404


PAGES: list[tuple[str, set[str]]] = [
    ("/org/regions/", STAFF),
    ("/org/regions/?export=xlsx", STAFF),
    ("/org/regions/?level=district&within=449900", STAFF),
    ("/org/regions/449902/", SEES_DISTRICT_B),
    ("/org/regions/new/", SYSADMIN),
    ("/org/regions/449902/edit/", SYSADMIN),
    ("/org/regions/import/", SYSADMIN),
    ("/org/regions/import/template/", SYSADMIN),
    ("/org/departments/", STAFF),
    ("/org/departments/?export=xlsx", STAFF),
    ("/org/departments/XS-SCJG/", SEES_DISTRICT_B),
    ("/org/departments/new/", SYSADMIN),
    ("/org/departments/XS-SCJG/edit/", SYSADMIN),
    ("/org/departments/import/", SYSADMIN),
    ("/org/departments/import/template/", SYSADMIN),
    ("/org/enterprises/", STAFF),
    ("/org/enterprises/?export=xlsx", STAFF),
    ("/org/enterprises/?size=micro&industry=G&is_active=1", STAFF),
    (f"/org/enterprises/{USCC_B}/", SEES_DISTRICT_B),
    ("/org/enterprises/new/", ENTERPRISE_EDITORS),
    (f"/org/enterprises/{USCC_B}/edit/", CHANGES_ENTERPRISE_B),
    ("/org/enterprises/import/", ENTERPRISE_EDITORS),
    ("/org/enterprises/import/template/", ENTERPRISE_EDITORS),
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("url", "allowed"), PAGES, ids=[p[0] for p in PAGES])
def test_pages(client_for, persona, url, allowed):
    before, denied = org_state(), audit_count("access.denied")
    response = client_for(persona).get(url)
    expected = _status(persona, allowed)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == f"/accounts/login/?next={quote(url, safe='/')}"
    assert audit_count("access.denied") == denied + (1 if expected == 404 else 0)
    assert org_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("slug", ["regions", "departments", "enterprises"])
def test_error_report_download_needs_change_rights_and_the_own_token(client_for, persona, slug):
    allowed = ENTERPRISE_EDITORS if slug == "enterprises" else SYSADMIN
    denied = audit_count("access.denied")
    response = client_for(persona).get(f"/org/{slug}/import/{BOGUS_TOKEN}/report/")
    if persona is None:
        assert response.status_code == 302
        assert audit_count("access.denied") == denied
    elif persona in allowed:
        # Allowed to import, but this token is not theirs: plain 404, not an access denial.
        assert response.status_code == 404
        assert audit_count("access.denied") == denied
    else:
        assert response.status_code == 404
        assert audit_count("access.denied") == denied + 1


@pytest.mark.django_db
def test_anonymous_is_redirected_to_login_with_next(client_for):
    response = client_for(None).get("/org/enterprises/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/org/enterprises/"


# --- writes ---------------------------------------------------------------------------------


def _region_payload(city: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": "449903",
        "name": "南岭区",
        "level": RegionLevel.DISTRICT,
        "parent": city["root"].pk,
        "sort_order": "3",
        "is_active": "on",
    }


def _department_payload(city: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": "DH-SW",
        "name": "东湖区税务局",
        "type": DepartmentType.DISTRICT_DEPARTMENT,
        "region": city["district_a"].pk,
        "sort_order": "0",
        "is_active": "on",
    }


NEW_USCC = build_uscc("449901", "MA0000044")


def _enterprise_payload(city: dict[str, Any]) -> dict[str, Any]:
    return {
        "uscc": NEW_USCC,
        "name": "东湖新创有限公司",
        "industry_code": "I6510",
        "region": city["district_a"].pk,
        "size": "small",
        "contact_phone": "13800004444",
        "is_active": "on",
    }


CREATES = [
    ("/org/regions/new/", _region_payload, SYSADMIN, lambda: Region.objects.filter(code="449903")),
    (
        "/org/departments/new/",
        _department_payload,
        SYSADMIN,
        lambda: Department.objects.filter(code="DH-SW"),
    ),
    (
        "/org/enterprises/new/",
        _enterprise_payload,
        {"sysadmin", "coordinator", "district_a"},
        lambda: Enterprise.objects.filter(uscc=NEW_USCC),
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("url", "payload", "allowed", "created"), CREATES, ids=[c[0] for c in CREATES]
)
def test_create(client_for, city, persona, url, payload, allowed, created):
    before, denied, events = org_state(), audit_count("access.denied"), audit_count()
    response = client_for(persona).post(url, payload(city))
    if persona in allowed:
        assert response.status_code == 302
        assert created().count() == 1
        assert response["Location"].endswith("/")
        assert audit_count() == events + 1
        return
    assert created().count() == 0
    assert org_state() == before
    if persona is None:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif persona == "district_b" and url == "/org/enterprises/new/":
        # May create enterprises, but only in 西山区: the 东湖区 choice is refused on the form.
        assert response.status_code == 400
        assert "请选择您管辖范围内的区划" in response.content.decode()
        assert audit_count() == events
    else:
        assert response.status_code == 404
        assert audit_count("access.denied") == denied + 1
        assert audit_count() == events + 1


def _edited_region(city: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": "449902",
        "name": "西山新区",
        "level": RegionLevel.DISTRICT,
        "parent": city["root"].pk,
        "sort_order": "0",
        "is_active": "on",
    }


def _edited_department(city: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": "XS-SCJG",
        "name": "西山区市场监管局",
        "type": DepartmentType.DISTRICT_DEPARTMENT,
        "region": city["district_b"].pk,
        "sort_order": "0",
        "is_active": "on",
    }


def _edited_enterprise(city: dict[str, Any]) -> dict[str, Any]:
    return {
        "uscc": USCC_B,
        "name": "西山示范物流集团有限公司",
        "industry_code": "G5430",
        "region": city["district_b"].pk,
        "size": "micro",
        "contact_phone": "13900003333",
        "is_active": "on",
    }


EDITS = [
    (
        "/org/regions/449902/edit/",
        _edited_region,
        SYSADMIN,
        lambda: Region.objects.get(code="449902").name,
        "西山新区",
    ),
    (
        "/org/departments/XS-SCJG/edit/",
        _edited_department,
        SYSADMIN,
        lambda: Department.objects.get(code="XS-SCJG").name,
        "西山区市场监管局",
    ),
    (
        f"/org/enterprises/{USCC_B}/edit/",
        _edited_enterprise,
        CHANGES_ENTERPRISE_B,
        lambda: Enterprise.objects.get(uscc=USCC_B).name,
        "西山示范物流集团有限公司",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("url", "payload", "allowed", "current", "new_name"), EDITS, ids=[e[0] for e in EDITS]
)
def test_edit(client_for, city, persona, url, payload, allowed, current, new_name):
    before, denied, events = org_state(), audit_count("access.denied"), audit_count()
    response = client_for(persona).post(url, payload(city))
    if persona in allowed:
        assert response.status_code == 302
        assert current() == new_name
        assert audit_count() == events + 1
        return
    assert org_state() == before
    if persona is None:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert audit_count() == events
    else:
        assert response.status_code == 404
        assert audit_count("access.denied") == denied + 1
        assert audit_count() == events + 1


def _region_file() -> bytes:
    return xlsx_bytes(
        ["区划代码", "名称", "层级", "上级区划代码"], [["449903", "南岭区", "区", "449900"]]
    )


def _department_file() -> bytes:
    return xlsx_bytes(
        ["部门编码", "名称", "类型", "所属区划代码"],
        [["DH-SW", "东湖区税务局", "县市区部门", "449901"]],
    )


def _enterprise_file() -> bytes:
    return xlsx_bytes(
        ENTERPRISE_HEADER,
        [
            [
                NEW_USCC,
                "东湖新创有限公司",
                "449901",
                "I6510",
                "小型",
                "",
                "",
                "13800004444",
                "",
                "是",
            ]
        ],
    )


IMPORTS = [
    ("/org/regions/import/", _region_file, SYSADMIN, lambda: Region.objects.filter(code="449903")),
    (
        "/org/departments/import/",
        _department_file,
        SYSADMIN,
        lambda: Department.objects.filter(code="DH-SW"),
    ),
    (
        "/org/enterprises/import/",
        _enterprise_file,
        {"sysadmin", "coordinator", "district_a"},
        lambda: Enterprise.objects.filter(uscc=NEW_USCC),
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("url", "make_file", "allowed", "created"), IMPORTS, ids=[i[0] for i in IMPORTS]
)
def test_import(client_for, persona, url, make_file, allowed, created):
    before, denied, events = org_state(), audit_count("access.denied"), audit_count()
    response = client_for(persona).post(url, {"file": upload(make_file()), "action": "import"})
    if persona in allowed:
        assert response.status_code == 200
        assert created().count() == 1
        assert audit_count() == events + 1
        return
    assert created().count() == 0
    assert org_state() == before
    if persona is None:
        assert response.status_code == 302
        assert audit_count() == events
    elif persona == "district_b" and url == "/org/enterprises/import/":
        assert response.status_code == 400
        assert "区划 449901 不在您的管辖范围内" in response.content.decode()
        assert audit_count() == events
    else:
        assert response.status_code == 404
        assert audit_count("access.denied") == denied + 1
        assert audit_count() == events + 1


# --- API ------------------------------------------------------------------------------------

ALL_REGIONS = ["449900", "449901", "P449951", "449902"]
ALL_DEPARTMENTS = ["SZ-SCJG", "SZ-SW", "SZ-YSB", "DH-SCJG", "XS-SCJG"]
USCC_A = build_uscc("449901", "MA0000011")
USCC_PARK = build_uscc("449901", "MA0000022")

API_LISTS = {
    "/api/v1/regions": (
        "code",
        {
            "leader": ALL_REGIONS,
            "coordinator": ALL_REGIONS,
            "sysadmin": ALL_REGIONS,
            "lead_department": ALL_REGIONS,
            "responsible_department": ["449900", "449901", "P449951"],
            "district_a": ["449900", "449901", "P449951"],
            "district_b": ["449900", "449902"],
            "enterprise": [],
            "enterprise_b": [],
        },
    ),
    "/api/v1/departments": (
        "code",
        {
            "leader": ALL_DEPARTMENTS,
            "coordinator": ALL_DEPARTMENTS,
            "sysadmin": ALL_DEPARTMENTS,
            "lead_department": ALL_DEPARTMENTS,
            "responsible_department": ["DH-SCJG"],
            "district_a": ["DH-SCJG"],
            "district_b": ["XS-SCJG"],
            "enterprise": ALL_DEPARTMENTS,
            "enterprise_b": ALL_DEPARTMENTS,
        },
    ),
    "/api/v1/enterprises": (
        "uscc",
        {
            "leader": sorted([USCC_A, USCC_PARK, USCC_B]),
            "coordinator": sorted([USCC_A, USCC_PARK, USCC_B]),
            "sysadmin": sorted([USCC_A, USCC_PARK, USCC_B]),
            "lead_department": sorted([USCC_A, USCC_PARK, USCC_B]),
            "responsible_department": sorted([USCC_A, USCC_PARK]),
            "district_a": sorted([USCC_A, USCC_PARK]),
            "district_b": [USCC_B],
            "enterprise": [USCC_A],
            "enterprise_b": [USCC_B],
        },
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("url", list(API_LISTS))
def test_api_lists(client_for, persona, url):
    response = client_for(persona).get(url)
    if persona is None:
        assert response.status_code == 401
        return
    key, expected = API_LISTS[url]
    assert response.status_code == 200
    items = [item[key] for item in response.json()["items"]]
    if url == "/api/v1/departments":
        assert sorted(items) == sorted(expected[persona])
    else:
        assert items == expected[persona]
    assert response.json()["meta"]["count"] == len(expected[persona])


API_DETAILS = [
    ("/api/v1/regions/449902", SEES_DISTRICT_B),
    ("/api/v1/departments/XS-SCJG", SEES_DISTRICT_B | {"enterprise", "enterprise_b"}),
    (f"/api/v1/enterprises/{USCC_B}", SEES_DISTRICT_B | {"enterprise_b"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("url", "allowed"), API_DETAILS, ids=[d[0] for d in API_DETAILS])
def test_api_details(client_for, persona, url, allowed):
    denied = audit_count("access.denied")
    response = client_for(persona).get(url)
    if persona is None:
        assert response.status_code == 401
        assert audit_count("access.denied") == denied
    elif persona in allowed:
        assert response.status_code == 200
        assert audit_count("access.denied") == denied
    else:
        assert response.status_code == 404
        assert audit_count("access.denied") == denied + 1


@pytest.mark.django_db
def test_api_enterprise_phone_is_masked_even_for_editors(client_for):
    body = client_for("sysadmin").get(f"/api/v1/enterprises/{USCC_B}").json()
    assert body["contact_phone_masked"] == "139****3333"
    assert "13900003333" not in str(body)


# --- cross-district --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "other"), [("district_a", "enterprise_b"), ("district_b", "enterprise_a")]
)
def test_cross_district_edit_is_404_unchanged_and_audited(
    client_for, city, personas, persona, other
):
    enterprise = city[other]
    client = client_for(persona)
    before = org_state()
    denied = audit_count("access.denied")
    for method, url in [
        ("get", f"/org/enterprises/{enterprise.uscc}/"),
        ("get", f"/org/enterprises/{enterprise.uscc}/edit/"),
        ("post", f"/org/enterprises/{enterprise.uscc}/edit/"),
        ("get", f"/api/v1/enterprises/{enterprise.uscc}"),
    ]:
        data = (
            {"uscc": enterprise.uscc, "name": "篡改", "region": enterprise.region_id}
            if method == "post"
            else None
        )
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, url
    assert org_state() == before
    assert audit_count("access.denied") == denied + 4
    events = list(
        AuditEvent.objects.filter(action="access.denied", actor=personas[persona])
        .order_by("id")
        .values_list("object_type", "object_id", "message", "after")
    )
    assert events == [
        ("organisations.enterprise", enterprise.uscc, "无权查看", {"action": "view"}),
        ("organisations.enterprise", enterprise.uscc, "无权修改", {"action": "change"}),
        ("organisations.enterprise", enterprise.uscc, "无权修改", {"action": "change"}),
        ("organisations.enterprise", enterprise.uscc, "无权查看", {"action": "view"}),
    ]
