"""The default catalogue (默认指标目录): ``data/catalogue.csv``, read and checked row by row, and
the goalpost check it shares with edits. docs/catalogue.md explains how each ambiguous cell of
the reference was resolved."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from sizhen.core.errors import ServiceError
from sizhen.indicators.catalogue.choices import Direction, Frequency, SourceKind

CATALOGUE_CSV = Path(__file__).resolve().parent / "data" / "catalogue.csv"
CSV_COLUMNS = (
    "code",
    "name",
    "name_en",
    "parent",
    "unit",
    "direction",
    "frequency",
    "source_kind",
    "lead_department_name",
    "responsible_department_names",
    "best",
    "worst",
    "weight",
    "definition",
    "goalpost_note",
)
NAME_SEPARATOR = "、"


_CODE = re.compile(r"^BE(\d{2}(\.\d{2})?)?$")


class CatalogueError(ServiceError, ValueError):
    """The catalogue file or a cycle code is unusable; the message says why, in Chinese."""


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name: str
    name_en: str
    parent: str
    unit: str
    direction: str
    frequency: str
    source_kind: str
    lead_department_name: str
    responsible_department_names: tuple[str, ...]
    best: float | None
    worst: float | None
    weight: float
    definition: str
    goalpost_note: str
    is_leaf: bool


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_catalogue(path: Path | None = None) -> list[CatalogueEntry]:
    """The cleaned catalogue, checked row by row; raises CatalogueError listing every problem."""
    with open(path or CATALOGUE_CSV, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = set(CSV_COLUMNS) - set(rows[0] if rows else ())
    if missing:
        raise CatalogueError("目录文件为空或缺少列：" + "、".join(sorted(missing)))
    problems: list[str] = []
    parents = {row["parent"].strip() for row in rows}
    seen: set[str] = set()
    entries: list[CatalogueEntry] = []
    for line, row in enumerate(rows, start=2):
        code, parent = row["code"].strip(), row["parent"].strip()
        where = f"第 {line} 行（{code or '无编码'}）"
        if not _CODE.match(code) or code in seen:
            problems.append(f"{where}：编码无效或重复")
        is_root_row = not seen
        if (not parent) != is_root_row or (parent and parent not in seen):
            problems.append(f"{where}：上级指标须为之前出现的指标（仅第一行为顶级）")
        seen.add(code)
        is_leaf = code not in parents
        try:
            best, worst = _number(row["best"]), _number(row["worst"])
            weight = _number(row["weight"])
        except ValueError:
            problems.append(f"{where}：最优值、最差值或权重不是数字")
            continue
        if row["direction"] not in Direction.values or row["frequency"] not in Frequency.values:
            problems.append(f"{where}：方向或频度无效")
        if row["source_kind"] not in SourceKind.values:
            problems.append(f"{where}：数据来源无效")
        if (row["source_kind"] == SourceKind.COMPOSITE) == is_leaf:
            problems.append(f"{where}：末级指标不能是“下级指标合成”，上级指标必须是")
        if not row["name"].strip() or not row["unit"].strip():
            problems.append(f"{where}：名称和单位不能为空")
        if weight is None or weight < 0:
            problems.append(f"{where}：权重应为非负数")
        if is_leaf:
            problem = goalpost_problem(row["direction"], best, worst)
            if problem:
                problems.append(f"{where}：{problem}")
        entries.append(
            CatalogueEntry(
                code=code,
                name=row["name"].strip(),
                name_en=row["name_en"].strip(),
                parent=parent,
                unit=row["unit"].strip(),
                direction=row["direction"],
                frequency=row["frequency"],
                source_kind=row["source_kind"],
                lead_department_name=row["lead_department_name"].strip(),
                responsible_department_names=tuple(
                    n.strip()
                    for n in row["responsible_department_names"].split(NAME_SEPARATOR)
                    if n.strip()
                ),
                best=best,
                worst=worst,
                weight=weight or 0.0,
                definition=row["definition"].strip(),
                goalpost_note=row["goalpost_note"].strip()[:200],
                is_leaf=is_leaf,
            )
        )
    if problems:
        raise CatalogueError("；".join(problems))
    return entries


def goalpost_problem(direction: str, best: float | None, worst: float | None) -> str:
    """Why best/worst cannot score a leaf with this direction ("" when they can)."""
    if best is None or worst is None:
        return "末级指标须有最优值和最差值"
    if best == worst:
        return "最优值与最差值不能相同"
    if direction == Direction.LOWER_IS_BETTER and best > worst:
        return "负向指标（越低越好）的最优值应小于最差值"
    if direction == Direction.HIGHER_IS_BETTER and best < worst:
        return "正向指标（越高越好）的最优值应大于最差值"
    return ""
