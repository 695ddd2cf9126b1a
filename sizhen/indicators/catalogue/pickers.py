"""The searchable picker of indicators (``sizhen.core.widgets``): each indicator listed under
its first-level indicator (一级指标), searchable by code, name and pinyin initials. Forms of
every app that pick indicators use it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sizhen.core.widgets import PickerEntry, SearchableSelect, picker
from sizhen.indicators.catalogue.models import Indicator


class _Node(NamedTuple):
    parent_id: int | None
    level: int
    code: str
    name: str
    sort_order: int


def describe_indicators(indicators: Sequence[Indicator]) -> list[PickerEntry]:
    # The whole tree in one query (a catalogue holds hundreds of indicators, not more): the
    # first-level ancestor of a deep indicator is a walk up in memory.
    tree = {
        pk: _Node(parent_id, level, code, name, sort_order)
        for pk, parent_id, level, code, name, sort_order in Indicator.objects.values_list(
            "pk", "parent_id", "level", "code", "name", "sort_order"
        )
    }
    entries = []
    for indicator in indicators:
        group, rank = "", ((),)
        at: int | None = indicator.pk
        seen: set[int] = set()
        while at is not None and at in tree and at not in seen:
            seen.add(at)
            node = tree[at]
            if node.level == 1:
                rank_key: tuple[Any, ...] = (node.sort_order, node.code)
                group, rank = f"{node.code} {node.name}", (rank_key,)
                break
            at = node.parent_id
        entries.append(
            PickerEntry(group=group, rank=rank, code=indicator.code, names=(indicator.name,))
        )
    return entries


def indicator_picker(*, multiple: bool = False) -> SearchableSelect:
    return picker(describe_indicators, multiple=multiple)
