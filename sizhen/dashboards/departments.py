"""Departments as a dimension on the indicator page and the cockpit (issue 18): who handles
the records behind a figure, how each department's line stands, ranked within its tier.

The figures are ``DepartmentIndicatorValue`` rows the engine writes (indicators/ingestion/
compute.py); the viewer's scope decides which rows exist here at all (a department sees its
own, a city department its line, a district its region's departments)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sizhen.core.access import Actor
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import DepartmentIndicatorValue, Indicator, IndicatorValue
from sizhen.organisations.models import Department, Region

CITY_TIER = "市级部门（全市条线）"
#: A tier with more rows than this starts folded.
FOLD_AFTER = 15
DISTRICT_TIER = "县市区部门"


def short(number: float) -> str:
    """Two decimals at most, no trailing zeros: 723 件, 82.5 %, 0.63 次."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass
class Cell:
    value: float | None
    rank: int | None
    rank_total: int | None
    observations: int
    previous: float | None = None
    unit: str = ""

    @property
    def value_text(self) -> str:
        return "—" if self.value is None else f"{short(self.value)}{self.unit}"

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return ""
        return f"{'+' if change > 0 else ''}{short(change)}"

    @property
    def rank_text(self) -> str:
        return f"{self.rank}/{self.rank_total}" if self.rank else "—"

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def laggard(self) -> bool:
        """Last of at least three in its tier."""
        return bool(self.rank and self.rank_total and self.rank_total >= 3) and (
            self.rank == self.rank_total
        )


@dataclass
class DepartmentRow:
    department: Department
    tier: str
    #: (leaf, its figure or None) in the order of ``DepartmentFigures.leaves``.
    cells: list[tuple[Indicator, Cell | None]]

    @property
    def mean_rank_share(self) -> float:
        """Mean of rank/total over the leaves the department has figures for (sort key)."""
        shares = [c.rank / c.rank_total for _, c in self.cells if c and c.rank and c.rank_total]
        return sum(shares) / len(shares) if shares else 2.0


@dataclass
class ResponsibleRow:
    """A leaf whose sources do not record the handling department: the department answering
    for it (the filling task's, else the indicator's lead department) and the figure it
    answers for at the page's region."""

    indicator: Indicator
    department: str
    source: str
    period_label: str
    value_text: str
    status: str


@dataclass
class DepartmentFigures:
    period: dt.date | None
    leaves: list[Indicator] = field(default_factory=list)
    rows: list[DepartmentRow] = field(default_factory=list)
    #: Why there are no rows (shown instead of an empty table).
    reason: str = ""
    responsible: list[ResponsibleRow] = field(default_factory=list)

    def tiers(self) -> list[tuple[str, list[DepartmentRow], bool]]:
        """(tier, rows, shown open): a long tier (every district's departments at the city
        level) starts folded so the city departments' lines stay in view."""
        out: dict[str, list[DepartmentRow]] = {}
        for row in self.rows:
            out.setdefault(row.tier, []).append(row)
        return [(tier, rows, len(rows) <= FOLD_AFTER) for tier, rows in out.items()]

    def export_rows(self) -> list[list[object]]:
        rows: list[list[object]] = []
        for row in self.rows:
            for leaf, cell in row.cells:
                if cell is None:
                    continue
                rows.append(
                    [
                        row.tier,
                        row.department.code,
                        row.department.name,
                        f"{leaf.code} {leaf.name}",
                        None if cell.value is None else round(cell.value, 2),
                        leaf.unit,
                        cell.observations,
                        cell.rank,
                        cell.rank_total,
                    ]
                )
        return rows


EXPORT_HEADERS = [
    "层级",
    "部门编码",
    "部门",
    "指标",
    "数值",
    "单位",
    "样本数",
    "排名",
    "参与排名数",
]


def _leaves(indicator: Indicator) -> tuple[list[Indicator], list[Indicator]]:
    """(leaves with department figures, leaves without) of a first-level indicator, or the
    leaf itself."""
    if indicator.children.exists():
        children = list(
            indicator.children.filter(is_active=True)
            .select_related("lead_department")
            .order_by("sort_order", "code")
        )
    else:
        children = [indicator]
    with_figures = set(
        DepartmentIndicatorValue.objects.filter(indicator__in=children)
        .values_list("indicator_id", flat=True)
        .distinct()
    )
    return (
        [c for c in children if c.pk in with_figures],
        [c for c in children if c.pk not in with_figures],
    )


def _responsible(
    leaves: list[Indicator], region: Region, period: dt.date | None, actor: Actor
) -> list[ResponsibleRow]:
    """For each leaf without department figures, whom it is answered by and its latest figure
    at the region up to ``period``: the filling task's department and state for filled values,
    the lead department for imported and survey ones."""
    from sizhen.core.periods import Period
    from sizhen.dashboards.selectors import preferred_by_period
    from sizhen.indicators.filling.models import FillingTask

    rows = []
    for leaf in leaves:
        values = IndicatorValue.objects.visible_to(actor).filter(indicator=leaf, region=region)
        if period is not None:
            values = values.filter(period__lte=period)
        by_period = preferred_by_period(list(values.order_by("-period")[:40]))
        latest = by_period[max(by_period)] if by_period else None
        department = leaf.lead_department.name if leaf.lead_department else "—"
        status = ""
        if latest is not None and latest.source_kind == SourceKind.FILLING:
            task = (
                FillingTask.objects.filter(indicator=leaf, region=region, period=latest.period)
                .select_related("department")
                .first()
            )
            if task is not None:
                department = task.department.name if task.department else department
                status = task.get_status_display()
        rows.append(
            ResponsibleRow(
                indicator=leaf,
                department=department,
                source=latest.get_source_kind_display()
                if latest
                else leaf.get_source_kind_display(),
                period_label=Period.containing(latest.period, leaf.frequency).label
                if latest
                else "—",
                value_text="—"
                if latest is None or latest.value is None
                else f"{short(latest.value)}{leaf.unit}",
                status=status or ("—" if latest is None else "已报送"),
            )
        )
    return rows


def department_figures(
    indicator: Indicator, region: Region, period: dt.date | None, *, actor: Actor
) -> DepartmentFigures:
    """The departments' figures for ``indicator`` (or each of its leaves) at ``period``: below
    the city only the departments of the region's subtree; the leaves whose sources record no
    department, with the department answering for each."""
    leaves, others = _leaves(indicator)
    responsible = _responsible(others, region, period, actor)
    if not leaves:
        lead = indicator.lead_department.name if indicator.lead_department else ""
        return DepartmentFigures(
            period,
            reason="该指标的数据来源未记录办理部门，暂无分部门排名；各项由下列部门负责报送"
            + (f"（牵头部门：{lead}）" if lead else ""),
            responsible=responsible,
        )
    visible = DepartmentIndicatorValue.objects.visible_to(actor).filter(indicator__in=leaves)
    if region.parent_id is not None:
        visible = visible.filter(department__region__path__startswith=region.path)
    if period is None:
        latest = visible.order_by("-period").values_list("period", flat=True).first()
        if latest is None:
            return DepartmentFigures(
                None, leaves, reason="暂无您可查看的分部门数据", responsible=responsible
            )
        period = latest
    previous = _previous(leaves, period)
    values = visible.filter(period__in=[period, *previous.values()]).select_related(
        "department", "department__region"
    )
    units = {leaf.pk: leaf.unit for leaf in leaves}
    cells: dict[int, dict[int, Cell]] = {}
    earlier: dict[tuple[int, int], float | None] = {}
    departments: dict[int, Department] = {}
    for v in values:
        if v.period == period:
            departments[v.department_id] = v.department
            cells.setdefault(v.department_id, {})[v.indicator_id] = Cell(
                v.value, v.rank, v.rank_total, v.observations, unit=units[v.indicator_id]
            )
        else:
            earlier[(v.department_id, v.indicator_id)] = v.value
    rows = []
    for department_id, by_leaf in cells.items():
        for leaf_id, cell in by_leaf.items():
            cell.previous = earlier.get((department_id, leaf_id))
        department = departments[department_id]
        tier = CITY_TIER if department.region.parent_id is None else DISTRICT_TIER
        rows.append(
            DepartmentRow(department, tier, [(leaf, by_leaf.get(leaf.pk)) for leaf in leaves])
        )
    rows.sort(
        key=lambda r: (
            r.tier != CITY_TIER,
            r.mean_rank_share,
            r.department.region.path,
            r.department.code,
        )
    )
    reason = "" if rows else "本期暂无您可查看的分部门数据"
    return DepartmentFigures(period, leaves, rows, reason, responsible)


def _previous(leaves: list[Indicator], period: dt.date) -> dict[int, dt.date]:
    from sizhen.core.periods import Period

    return {leaf.pk: Period.containing(period, leaf.frequency).shift(-1).start for leaf in leaves}


@dataclass
class LineRow:
    """A city department's line in the cockpit: how many indicators it has figures for, on how
    many it is last among city departments, and where it stands worst."""

    department: Department
    indicators: int
    last: int
    worst: DepartmentIndicatorValue

    @property
    def worst_share(self) -> float:
        return _share(self.worst)

    @property
    def worst_text(self) -> str:
        w = self.worst
        if (w.rank_total or 0) < 2:
            return f"{w.indicator.name}（无可比的市级部门）"
        return (
            f"{w.indicator.name} {'—' if w.value is None else short(w.value)}{w.indicator.unit}"
            f"（第 {w.rank}/{w.rank_total} 名）"
        )


def _share(value: DepartmentIndicatorValue) -> float:
    """rank/total, 0 where the department is alone in its tier on that indicator."""
    total = value.rank_total or 0
    return (value.rank or 0) / total if total >= 2 else 0.0


def lines_for_cockpit(period: dt.date, *, actor: Actor, limit: int = 10) -> list[LineRow]:
    """Each city department (its whole line) with figures in ``period``, those last on most
    indicators first, then those standing worst."""
    values = (
        DepartmentIndicatorValue.objects.visible_to(actor)
        .filter(period=period, department__region__parent__isnull=True, rank__isnull=False)
        .select_related("department", "indicator")
    )
    by_department: dict[int, list[DepartmentIndicatorValue]] = {}
    for v in values:
        by_department.setdefault(v.department_id, []).append(v)
    rows = []
    for items in by_department.values():
        # Where it is compared with no other department it is not "worst" at anything.
        compared = [v for v in items if (v.rank_total or 0) >= 2] or items
        worst = max(compared, key=lambda v: (_share(v), v.indicator.code))
        last = sum(1 for v in items if Cell(v.value, v.rank, v.rank_total, 0).laggard)
        rows.append(LineRow(worst.department, len(items), last, worst))
    rows.sort(key=lambda r: (-r.last, -r.worst_share, r.department.code))
    return rows[:limit]
