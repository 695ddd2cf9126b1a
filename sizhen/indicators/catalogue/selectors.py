"""Reads of the indicator catalogue (``get_*``/``list_*``): cycles, the catalogue tree and its
export."""

from __future__ import annotations

from dataclasses import dataclass

from sizhen.core.access import VIEW, Actor
from sizhen.core.xlsx import build_workbook
from sizhen.indicators.catalogue.defaults import NAME_SEPARATOR
from sizhen.indicators.catalogue.models import (
    EvaluationCycle,
    Goalpost,
    Indicator,
)


def get_current_cycle() -> EvaluationCycle | None:
    return EvaluationCycle.objects.filter(is_current=True).order_by("-starts_on").first()


def list_cycles() -> list[EvaluationCycle]:
    return list(EvaluationCycle.objects.all())


def leaf_codes() -> set[str]:
    parents = set(Indicator.objects.exclude(parent=None).values_list("parent__code", flat=True))
    return set(Indicator.objects.exclude(code__in=parents).values_list("code", flat=True))


@dataclass
class CatalogueRow:
    indicator: Indicator
    depth: int
    is_leaf: bool
    goalpost: Goalpost | None


def list_catalogue(actor: Actor, cycle: EvaluationCycle | None = None) -> list[CatalogueRow]:
    """The visible indicators in tree order (depth first), with the cycle's goalposts."""
    indicators = list(
        Indicator.objects.visible_to(actor, VIEW)
        .select_related("parent", "lead_department")
        .prefetch_related("responsible_departments")
    )
    goalposts = {g.indicator_id: g for g in Goalpost.objects.filter(cycle=cycle)} if cycle else {}
    children: dict[int | None, list[Indicator]] = {}
    for indicator in indicators:
        children.setdefault(indicator.parent_id, []).append(indicator)
    known = {i.pk for i in indicators}
    rows: list[CatalogueRow] = []

    def walk(node: Indicator, depth: int) -> None:
        kids = children.get(node.pk, [])
        rows.append(CatalogueRow(node, depth, not kids, goalposts.get(node.pk)))
        for kid in kids:
            walk(kid, depth + 1)

    for indicator in indicators:
        if indicator.parent_id is None or indicator.parent_id not in known:
            walk(indicator, 0)
    return rows


CATALOGUE_EXPORT_HEADERS = (
    "指标编码",
    "指标名称",
    "英文名称",
    "上级指标",
    "层级",
    "单位",
    "方向",
    "频度",
    "数据来源",
    "牵头部门",
    "责任部门",
    "权重",
    "最优值",
    "最差值",
    "目标值",
    "取值依据",
    "评价周期",
    "版本",
    "启用",
    "指标定义",
)


def catalogue_workbook(actor: Actor) -> tuple[bytes, int]:
    """The visible catalogue as XLSX (one row per indicator) and the number of rows."""
    cycle = get_current_cycle()
    rows = list_catalogue(actor, cycle)
    data = [
        [
            r.indicator.code,
            r.indicator.name,
            r.indicator.name_en,
            r.indicator.parent.code if r.indicator.parent_id else "",  # type: ignore[union-attr]
            r.indicator.level,
            r.indicator.unit,
            r.indicator.get_direction_display(),
            r.indicator.get_frequency_display(),
            r.indicator.get_source_kind_display(),
            r.indicator.lead_department.name if r.indicator.lead_department_id else "",  # type: ignore[union-attr]
            NAME_SEPARATOR.join(d.name for d in r.indicator.responsible_departments.all()),
            r.indicator.weight,
            r.goalpost.best if r.goalpost else None,
            r.goalpost.worst if r.goalpost else None,
            r.goalpost.target if r.goalpost else None,
            r.goalpost.note if r.goalpost else "",
            cycle.code if cycle and r.goalpost else "",
            r.indicator.version,
            "是" if r.indicator.is_active else "否",
            r.indicator.definition,
        ]
        for r in rows
    ]
    return build_workbook([("指标体系", CATALOGUE_EXPORT_HEADERS, data)]), len(data)
