"""Pickers of departments, regions and enterprises (issue 17, point 8): departments under their
region with the city's own first, regions under their parent, enterprises under their region
with their credit code; the regions are read in one query whatever the number of options."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from sizhen.core.tests.pickers import read_picker
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.pickers import (
    department_picker,
    enterprise_picker,
    region_picker,
    region_select,
)

pytestmark = pytest.mark.django_db


class PickForm(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("code"), widget=department_picker()
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.order_by("code"), widget=department_picker(multiple=True)
    )
    region = forms.ModelChoiceField(
        queryset=Region.objects.order_by("path"), required=False, widget=region_picker()
    )
    enterprise = forms.ModelChoiceField(
        queryset=Enterprise.objects.order_by("name"), widget=enterprise_picker()
    )


def test_departments_are_listed_under_their_region_the_city_first(
    city: dict[str, Any], django_assert_num_queries: Any
) -> None:
    form = PickForm(initial={"department": city["tax"].pk})
    # The departments, then their regions: two queries however many departments there are.
    with django_assert_num_queries(2):
        html = str(form["department"])
    picker = read_picker(html)
    pk = {name: str(city[name].pk) for name in ("office", "market", "tax", "a_dept", "b_dept")}
    assert picker.rows == [
        (None, [("", "---------", False)]),
        (
            "市级部门",
            [
                (pk["market"], "市场监督管理局", False),
                (pk["tax"], "税务局", True),
                (pk["office"], "营商环境建设局", False),
            ],
        ),
        ("东湖区", [(pk["a_dept"], "东湖区市场监督管理局", False)]),
        ("西山区", [(pk["b_dept"], "西山区市场监督管理局", False)]),
    ]
    assert picker.search == {
        pk["market"]: ["SZ-SCJG", "scjdglj"],
        pk["tax"]: ["SZ-SW", "swj twj"],
        pk["office"]: ["SZ-YSB", "yshjjsj"],
        pk["a_dept"]: ["DH-SCJG", "dhqscjdglj dhoscjdglj"],
        pk["b_dept"]: ["XS-SCJG", "xsqscjdglj"],
    }


def test_a_short_name_is_searchable_by_its_initials_too(city: dict[str, Any]) -> None:
    Department.objects.filter(pk=city["market"].pk).update(short_name="市场监管局")
    picker = read_picker(str(PickForm()["departments"]))
    assert picker.search[str(city["market"].pk)] == ["SZ-SCJG", "scjdglj scjgj"]


def test_regions_are_listed_under_their_parent(city: dict[str, Any]) -> None:
    picker = read_picker(str(PickForm(initial={"region": city["park"].pk})["region"]))
    pk = {name: str(city[name].pk) for name in ("root", "district_a", "district_b", "park")}
    assert picker.rows == [
        (None, [("", "---------", False)]),
        (None, [(pk["root"], "示范市", False)]),
        ("示范市", [(pk["district_a"], "东湖区", False), (pk["district_b"], "西山区", False)]),
        ("东湖区", [(pk["park"], "高新区", True)]),
    ]
    assert picker.search == {
        pk["root"]: ["449900", "sfs qfs zfs sff"],
        pk["district_a"]: ["449901", "dhq dho"],
        pk["district_b"]: ["449902", "xsq"],
        pk["park"]: ["P449951", "gxq"],
    }


def test_enterprises_are_listed_under_their_region_with_their_credit_code(
    city: dict[str, Any],
) -> None:
    picker = read_picker(str(PickForm()["enterprise"]))
    a, park, b = (city[name] for name in ("enterprise_a", "enterprise_park", "enterprise_b"))
    assert picker.rows == [
        (None, [("", "---------", True)]),
        ("东湖区", [(str(a.pk), "东湖示范科技有限公司", False)]),
        ("高新区", [(str(park.pk), "高新示范制造有限公司", False)]),
        ("西山区", [(str(b.pk), "西山示范物流有限公司", False)]),
    ]
    assert {value: code for value, (code, _initials) in picker.search.items()} == {
        str(a.pk): a.uscc,
        str(park.pk): park.uscc,
        str(b.pk): b.uscc,
    }
    assert picker.search[str(a.pk)][1].split()[0] == "dhsfkjyxgs"


def test_a_picked_department_is_what_the_form_cleans(city: dict[str, Any]) -> None:
    form = PickForm(
        {
            "department": str(city["a_dept"].pk),
            "departments": [str(city["market"].pk), str(city["b_dept"].pk)],
            "enterprise": str(city["enterprise_b"].pk),
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["department"] == city["a_dept"]
    assert list(form.cleaned_data["departments"]) == [city["market"], city["b_dept"]]


def test_a_page_s_own_region_select_picks_by_code(city: dict[str, Any]) -> None:
    regions = [city["root"], city["district_a"], city["park"]]
    html = region_select("region", regions, "P449951")
    picker = read_picker(html)
    assert picker.attrs["name"] == "region"
    assert picker.rows == [
        (None, [("449900", "示范市", False)]),
        ("示范市", [("449901", "东湖区", False)]),
        ("东湖区", [("P449951", "高新区", True)]),
    ]
    assert picker.search["P449951"] == ["P449951", "gxq"]
