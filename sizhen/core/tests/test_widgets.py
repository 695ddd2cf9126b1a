"""The searchable picker widgets (issue 17, point 8) and the pinyin initials they search: the
<select> they render groups the options in the describer's order, keeps the empty choice on
top, and carries each option's code and initials for static/js/picker.js."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIteratorValue

from sizhen.core.pinyin import initials, search_initials
from sizhen.core.tests.pickers import read_picker
from sizhen.core.widgets import (
    NO_MATCH,
    PLACEHOLDER,
    PickerEntry,
    SearchableSelect,
    SearchableSelectMultiple,
)


def test_initials_read_names_as_words() -> None:
    assert initials("市场监督管理局") == ("scjdglj",)
    assert initials("营商环境总分") == ("yshjzf",)
    # Polyphonic characters (多音字) in their phrase's reading: 重庆 chongqing, 银行 yinhang,
    # 会计 kuaiji, 长安 chang'an (the usual readings of 重, 行, 会 and 长 would give z, x, h, z).
    assert initials("重庆")[0] == "cq"
    assert initials("银行")[0] == "yh"
    assert initials("会计")[0] == "kj"
    assert initials("长安区")[0] == "caq"


def test_initials_also_offer_other_readings_of_a_polyphonic_character() -> None:
    # 单县 is read shan xian; the dictionary's usual reading of 单 is dan.
    assert initials("单县") == ("dx", "cx", "sx")


def test_initials_leave_out_letters_digits_and_punctuation() -> None:
    assert initials("BE01 开办企业") == ("kbqy",)
    assert initials("12345热线") == ("rx",)
    assert initials("获得电力（%）") == ("hddl",)
    assert initials("ABC") == ()
    assert initials("") == ()


def test_initials_are_computed_once_per_text() -> None:
    initials.cache_clear()
    initials("税务局")
    initials("税务局")
    assert initials.cache_info().hits == 1
    assert initials.cache_info().misses == 1


def test_search_initials_join_the_readings_of_every_name_once() -> None:
    assert search_initials("市场监督管理局", "市场监管局", "", "市场监督管理局") == (
        "scjdglj scjgj"
    )


@dataclass
class Thing:
    pk: int
    name: str
    code: str
    area: str


THINGS = [
    Thing(1, "西山区市场监督管理局", "XS-SCJG", "西山区"),
    Thing(2, "市场监督管理局", "SZ-SCJG", "市级部门"),
    Thing(3, "东湖区税务局", "DH-SW", "东湖区"),
    Thing(4, "税务局", "SZ-SW", "市级部门"),
    Thing(5, "营商环境建设局", "SZ-YSB", ""),
]
RANKS = {"": (0,), "市级部门": (1,), "东湖区": (2,), "西山区": (3,)}


def describe(things: Sequence[Thing]) -> list[PickerEntry]:
    return [
        PickerEntry(group=t.area, rank=RANKS[t.area], code=t.code, names=(t.name,)) for t in things
    ]


def choices(empty: str | None) -> list[tuple[Any, str]]:
    """The choices of a model choice field over THINGS, as ModelChoiceIterator makes them."""
    listed = [(ModelChoiceIteratorValue(t.pk, t), t.name) for t in THINGS]
    return [("", empty), *listed] if empty is not None else listed


def test_single_picker_groups_options_in_the_describers_order() -> None:
    widget = SearchableSelect(describe=describe)
    widget.choices = choices("请选择")
    html = widget.render("department", 4, attrs={"id": "id_department"})

    assert html.startswith(
        '<select name="department" data-picker data-placeholder="输入名称、代码或拼音首字母搜索"'
        ' data-no-match="无匹配项" id="id_department" data-picker-search="'
    )
    picker = read_picker(html)
    # The empty choice first, then the ungrouped object, both outside any group; the options
    # keep their plain markup.
    assert picker.rows == [
        (None, [("", "请选择", False)]),
        (None, [("5", "营商环境建设局", False)]),
        ("市级部门", [("2", "市场监督管理局", False), ("4", "税务局", True)]),
        ("东湖区", [("3", "东湖区税务局", False)]),
        ("西山区", [("1", "西山区市场监督管理局", False)]),
    ]
    assert '<option value="2">市场监督管理局</option>' in html
    assert picker.search == {
        "5": ["SZ-YSB", "yshjjsj"],
        "2": ["SZ-SCJG", "scjdglj"],
        "4": ["SZ-SW", "swj twj"],
        "3": ["DH-SW", "dhqswj dhoswj dhqtwj"],
        "1": ["XS-SCJG", "xsqscjdglj"],
    }


def test_single_picker_selects_the_empty_choice_when_nothing_is_chosen() -> None:
    widget = SearchableSelect(describe=describe)
    widget.choices = choices("全部")
    rows = read_picker(widget.render("department", None)).rows
    assert [value for _group, options in rows for value, _label, chosen in options if chosen] == [
        ""
    ]


def test_multiple_picker_marks_every_chosen_option() -> None:
    widget = SearchableSelectMultiple(describe=describe)
    widget.choices = choices(None)
    picker = read_picker(widget.render("departments", [1, 2], attrs={"id": "id_departments"}))
    assert "multiple" in picker.attrs
    assert picker.groups == ["市级部门", "东湖区", "西山区"]
    assert [v for _group, options in picker.rows for v, _label, chosen in options if chosen] == [
        "2",
        "1",
    ]
    assert widget.value_from_datadict({"departments": ["1", "2"]}, {}, "departments") == [
        "1",
        "2",
    ]


def test_plain_choices_render_as_an_ordinary_select() -> None:
    class PickForm(forms.Form):
        thing = forms.TypedChoiceField(
            choices=[(str(t.pk), t.name) for t in THINGS],
            widget=SearchableSelect(describe=describe),
            coerce=int,
        )

    # Plain choices carry no object to describe: no groups and no search fields.
    html = str(PickForm(initial={"thing": 2})["thing"])
    picker = read_picker(html)
    assert picker.groups == []
    assert "data-picker-search" not in picker.attrs
    assert picker.attrs["data-placeholder"] == "输入名称、代码或拼音首字母搜索"
    assert '<option value="2" selected>市场监督管理局</option>' in html
    form = PickForm({"thing": "3"})
    assert form.is_valid()
    assert form.cleaned_data == {"thing": 3}


def test_picker_texts_are_chinese() -> None:
    assert PLACEHOLDER == "输入名称、代码或拼音首字母搜索"
    assert NO_MATCH == "无匹配项"
