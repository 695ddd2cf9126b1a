"""Searchable pickers (检索选择框) for choosing among many departments, regions, indicators or
enterprises (docs/decisions/0012-pickers.md).

The widgets render a plain ``<select>`` that works without JavaScript: options grouped in
``<optgroup>`` (departments by region, indicators by their first-level indicator), and, in the
select's ``data-picker-search`` attribute, each option's code and the pinyin initials of its
name (``{"value": ["code", "initials"]}``; the options themselves keep their plain markup).
``static/js/picker.js`` turns every ``select[data-picker]`` into a Tom Select box that searches
the name, the code and the initials, on page load and after each htmx swap.

The app that owns a model says how its objects are grouped (a ``Describe`` function, e.g.
``sizhen.organisations.pickers``); core knows nothing of departments or indicators."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms

from sizhen.core.pinyin import search_initials

PLACEHOLDER = "输入名称、代码或拼音首字母搜索"
NO_MATCH = "无匹配项"


@dataclass(frozen=True)
class PickerEntry:
    """How one object appears in a picker: the group it is listed under (``""``: none), the
    groups' order (``rank`` of the group, compared between groups), its code, and the names
    whose pinyin initials find it (the option's label when empty)."""

    group: str
    rank: tuple[Any, ...] = ()
    code: str = ""
    names: tuple[str, ...] = ()


#: Describes the objects of a model choice field, in the order given, in one go (so that a
#: describer can read what it needs with one query rather than one per option).
Describe = Callable[[Sequence[Any]], Sequence[PickerEntry]]


class SearchableSelect(forms.Select):
    """A ``<select data-picker>`` of a model choice field, grouped and searchable."""

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        choices: Any = (),
        *,
        describe: Describe | None = None,
    ) -> None:
        base = {"data-picker": True, "data-placeholder": PLACEHOLDER, "data-no-match": NO_MATCH}
        super().__init__({**base, **(attrs or {})}, choices)
        self.describe = describe

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        search = {
            str(option["value"]): option["picker_search"]
            for _group, options, _index in widget["optgroups"]
            for option in options
            if "picker_search" in option
        }
        if search:
            widget["attrs"]["data-picker-search"] = json.dumps(
                search, ensure_ascii=False, separators=(",", ":")
            )
        return context

    def optgroups(
        self, name: str, value: list[str], attrs: dict[str, Any] | None = None
    ) -> list[tuple[str | None, list[dict[str, Any]], int | None]]:
        if self.describe is None:
            return super().optgroups(name, value, attrs)
        leading: list[tuple[Any, Any]] = []
        listed: list[tuple[Any, Any]] = []
        for option_value, option_label in self.choices:
            # The empty choice ("请选择", "全部") has no object and stays on top, ungrouped.
            if getattr(option_value, "instance", None) is None:
                leading.append((option_value, option_label))
            else:
                listed.append((option_value, option_label))
        entries = self.describe([option_value.instance for option_value, _ in listed])
        grouped: dict[str, list[tuple[Any, Any, PickerEntry]]] = {}
        ranks: dict[str, tuple[Any, ...]] = {}
        for (option_value, option_label), entry in zip(listed, entries, strict=True):
            grouped.setdefault(entry.group, []).append((option_value, option_label, entry))
            ranks.setdefault(entry.group, entry.rank)

        chosen = False

        def option(
            option_value: Any,
            label: Any,
            index: int,
            subindex: int | None,
            entry: PickerEntry | None = None,
        ) -> dict[str, Any]:
            nonlocal chosen
            text = "" if option_value is None else str(option_value)
            selected = (not chosen or self.allow_multiple_selected) and text in value
            chosen = chosen or selected
            made = self.create_option(name, option_value, label, selected, index, subindex, attrs)
            if entry is not None:
                # Read by get_context, not rendered on the option.
                made["picker_search"] = [
                    entry.code,
                    search_initials(*(entry.names or (str(label),))),
                ]
            return made

        groups: list[tuple[str | None, list[dict[str, Any]], int | None]] = []
        for option_value, option_label in leading:
            index = len(groups)
            groups.append((None, [option(option_value, option_label, index, None)], index))
        # A stable sort: objects keep the queryset's order within a group.
        for group in sorted(grouped, key=lambda group: ranks[group]):
            index = len(groups)
            if not group:
                for option_value, option_label, entry in grouped[group]:
                    index = len(groups)
                    groups.append(
                        (None, [option(option_value, option_label, index, None, entry)], index)
                    )
                continue
            members = [
                option(option_value, option_label, index, subindex, entry)
                for subindex, (option_value, option_label, entry) in enumerate(grouped[group])
            ]
            groups.append((group, members, index))
        return groups


class SearchableSelectMultiple(forms.SelectMultiple, SearchableSelect):
    """The multiple-choice picker: a ``<select multiple data-picker>`` (Ctrl-click without
    JavaScript), chosen items shown as removable tags with JavaScript."""


def picker(describe: Describe, *, multiple: bool = False) -> SearchableSelect:
    """The single or multiple picker of the objects ``describe`` groups."""
    if multiple:
        return SearchableSelectMultiple(describe=describe)
    return SearchableSelect(describe=describe)
