"""The indicator picker (issue 17, point 8): each indicator under its first-level indicator
(一级指标), the groups in the catalogue's order, code and name searchable; the tree is read in
one query whatever the number of options."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from sizhen.core.tests.pickers import read_picker
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker

pytestmark = pytest.mark.django_db


def _indicator(code: str, name: str, parent: Indicator | None, sort_order: int = 0) -> Indicator:
    level = 0 if parent is None else parent.level + 1
    return Indicator.objects.create(
        code=code,
        name=name,
        parent=parent,
        level=level,
        sort_order=sort_order,
        direction="higher_is_better",
    )


@pytest.fixture
def tree() -> dict[str, Indicator]:
    root = _indicator("BE", "营商环境总分", None)
    # 获得电力 comes first in the catalogue although its code sorts after 开办企业.
    power = _indicator("BE02", "获得电力", root, sort_order=1)
    starting = _indicator("BE01", "开办企业", root, sort_order=2)
    power_cost = _indicator("BE02.01", "用电报装成本", power)
    return {
        "root": root,
        "power": power,
        "starting": starting,
        "starting_time": _indicator("BE01.01", "开办时间", starting),
        "power_cost": power_cost,
        # A third level, found by walking up the tree.
        "high_voltage": _indicator("BE02.01.1", "高压用户报装成本", power_cost),
    }


class PickForm(forms.Form):
    indicators = forms.ModelMultipleChoiceField(
        queryset=Indicator.objects.order_by("code"), widget=indicator_picker(multiple=True)
    )


def test_indicators_are_listed_under_their_first_level_indicator(
    tree: dict[str, Indicator], django_assert_num_queries: Any
) -> None:
    form = PickForm(initial={"indicators": [tree["starting_time"].pk]})
    with django_assert_num_queries(2):
        html = str(form["indicators"])

    picker = read_picker(html)
    pk = {name: str(indicator.pk) for name, indicator in tree.items()}
    assert picker.rows == [
        (None, [(pk["root"], "BE 营商环境总分", False)]),
        (
            "BE02 获得电力",
            [
                (pk["power"], "BE02 获得电力", False),
                (pk["power_cost"], "BE02.01 用电报装成本", False),
                (pk["high_voltage"], "BE02.01.1 高压用户报装成本", False),
            ],
        ),
        (
            "BE01 开办企业",
            [
                (pk["starting"], "BE01 开办企业", False),
                (pk["starting_time"], "BE01.01 开办时间", True),
            ],
        ),
    ]
    assert picker.search == {
        pk["root"]: ["BE", "yshjzf"],
        pk["power"]: ["BE02", "hddl"],
        pk["power_cost"]: ["BE02.01", "ydbzcb"],
        pk["high_voltage"]: ["BE02.01.1", "gyyhbzcb"],
        pk["starting"]: ["BE01", "kbqy"],
        pk["starting_time"]: ["BE01.01", "kbsj"],
    }
