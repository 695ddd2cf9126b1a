"""Persona fixtures shared by every test: a small fictional city with two districts, a park,
departments, enterprises and one user of every role (two district officers in different
districts). Test clients are logged in without the password form (it is tested on its own)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sizhen.core.roles import Role

PASSWORD = "Persona#2026ok"


@pytest.fixture(autouse=True)
def _fresh_reference_caches() -> None:
    """Per-process reference caches (sizhen/core/refcache.py) and versioned caches
    (sizhen/core/versions.py) start empty in every test: a row cached by an earlier test was
    rolled back with it, and so was the version its entries were filed under."""
    from sizhen.core import refcache, versions

    refcache.clear_all()
    versions.clear_all()


@pytest.fixture
def city(db: Any) -> dict[str, Any]:
    from sizhen.organisations import services as org
    from sizhen.organisations.choices import DepartmentType, RegionLevel
    from sizhen.organisations.validators import build_uscc

    system = None
    root = org.create_region(actor=system, code="449900", name="示范市", level=RegionLevel.CITY)
    district_a = org.create_region(
        actor=system, code="449901", name="东湖区", level=RegionLevel.DISTRICT, parent=root
    )
    district_b = org.create_region(
        actor=system, code="449902", name="西山区", level=RegionLevel.DISTRICT, parent=root
    )
    park = org.create_region(
        actor=system, code="P449951", name="高新区", level=RegionLevel.PARK, parent=district_a
    )
    office = org.create_department(
        actor=system, code="SZ-YSB", name="营商环境建设局", type=DepartmentType.OFFICE, region=root
    )
    market = org.create_department(
        actor=system,
        code="SZ-SCJG",
        name="市场监督管理局",
        type=DepartmentType.CITY_DEPARTMENT,
        region=root,
    )
    tax = org.create_department(
        actor=system, code="SZ-SW", name="税务局", type=DepartmentType.CITY_DEPARTMENT, region=root
    )
    a_dept = org.create_department(
        actor=system,
        code="DH-SCJG",
        name="东湖区市场监督管理局",
        type=DepartmentType.DISTRICT_DEPARTMENT,
        region=district_a,
    )
    b_dept = org.create_department(
        actor=system,
        code="XS-SCJG",
        name="西山区市场监督管理局",
        type=DepartmentType.DISTRICT_DEPARTMENT,
        region=district_b,
    )
    enterprise_a = org.create_enterprise(
        actor=system,
        uscc=build_uscc("449901", "MA0000011"),
        name="东湖示范科技有限公司",
        industry_code="I6510",
        region=district_a,
        size="small",
        contact_name="张三",
        contact_phone="13800001111",
    )
    enterprise_park = org.create_enterprise(
        actor=system,
        uscc=build_uscc("449901", "MA0000022"),
        name="高新示范制造有限公司",
        industry_code="C3971",
        region=park,
        size="medium",
        contact_phone="13800002222",
    )
    enterprise_b = org.create_enterprise(
        actor=system,
        uscc=build_uscc("449902", "MA0000033"),
        name="西山示范物流有限公司",
        industry_code="G5430",
        region=district_b,
        size="micro",
        contact_phone="13900003333",
    )
    return {
        "root": root,
        "district_a": district_a,
        "district_b": district_b,
        "park": park,
        "office": office,
        "market": market,
        "tax": tax,
        "a_dept": a_dept,
        "b_dept": b_dept,
        "enterprise_a": enterprise_a,
        "enterprise_park": enterprise_park,
        "enterprise_b": enterprise_b,
    }


def _user(username: str, role: str, **fields: Any) -> Any:
    from sizhen.accounts.models import User

    user = User(username=username, role=role, full_name=fields.pop("full_name", username), **fields)
    user.set_password(PASSWORD)
    user.must_change_password = False
    user.save()
    return user


@pytest.fixture
def personas(city: dict[str, Any]) -> dict[str, Any]:
    return {
        "leader": _user("leader", Role.LEADER, department=city["office"]),
        "coordinator": _user("coordinator", Role.COORDINATOR, department=city["office"]),
        "lead_department": _user("lead_dept", Role.LEAD_DEPARTMENT, department=city["market"]),
        "responsible_department": _user(
            "resp_dept", Role.RESPONSIBLE_DEPARTMENT, department=city["a_dept"]
        ),
        "district_a": _user("district_a", Role.DISTRICT_OFFICER, region=city["district_a"]),
        "district_b": _user("district_b", Role.DISTRICT_OFFICER, region=city["district_b"]),
        "enterprise": _user("ent_a", Role.ENTERPRISE, enterprise=city["enterprise_a"]),
        "enterprise_b": _user("ent_b", Role.ENTERPRISE, enterprise=city["enterprise_b"]),
        "sysadmin": _user("sysadmin", Role.SYSADMIN, department=city["office"]),
    }


@pytest.fixture
def client_for(personas: dict[str, Any]) -> Any:
    """client_for("district_a") -> a Client logged in as that persona; None -> anonymous."""

    def make(name: str | None) -> Client:
        client = Client()
        if name is not None:
            client.force_login(personas[name])
        return client

    return make
