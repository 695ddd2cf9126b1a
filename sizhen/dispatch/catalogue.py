"""Reads of the dispatch catalogue (派单目录): the shipped defaults, the categories, the entries
in the database as the suggester's catalogue documents, and department label matching."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sizhen.dispatch.engine import CatalogueDoc
from sizhen.dispatch.models import DispatchCatalogueEntry
from sizhen.organisations.models import Department

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CATALOGUE = DATA_DIR / "default_catalogue.csv"
CATEGORIES = DATA_DIR / "categories.csv"


@dataclass(frozen=True)
class DefaultRow:
    name: str
    short_name: str
    responsibilities: str
    matters: list[str]
    keywords: list[str]


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    keywords: list[str]


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split("|") if part.strip()]


@lru_cache(maxsize=1)
def default_rows() -> list[DefaultRow]:
    with DEFAULT_CATALOGUE.open(encoding="utf-8", newline="") as handle:
        return [
            DefaultRow(
                name=row["name"].strip(),
                short_name=row["short_name"].strip(),
                responsibilities=row["responsibilities"].strip(),
                matters=_split(row["typical_matters"]),
                keywords=_split(row["keywords"]),
            )
            for row in csv.DictReader(handle)
        ]


@lru_cache(maxsize=1)
def categories() -> list[Category]:
    """Request categories (诉求类别) the suggester proposes, with their keywords."""
    with CATEGORIES.open(encoding="utf-8", newline="") as handle:
        return [
            Category(row["code"].strip(), row["name"].strip(), _split(row["keywords"]))
            for row in csv.DictReader(handle)
        ]


def category_choices() -> list[tuple[str, str]]:
    return [(c.code, c.name) for c in categories()]


def category_name(code: str) -> str:
    return next((c.name for c in categories() if c.code == code), code)


def category_docs() -> list[CatalogueDoc]:
    return [
        CatalogueDoc(label=c.code, name=c.name, keywords=list(c.keywords)) for c in categories()
    ]


def _city_departments() -> Iterable[Department]:
    # Dispatch by name targets the city-level unit; districts repeat the same names.
    return Department.objects.filter(is_active=True, region__parent__isnull=True).order_by(
        "sort_order", "code"
    )


def match_department(name: str, short_name: str = "") -> Department | None:
    """The platform's city-level department with this full name, else this short name."""
    departments = list(_city_departments())
    for candidate in (name, short_name):
        candidate = (candidate or "").strip()
        if not candidate:
            continue
        for department in departments:
            if department.name == candidate:
                return department
        for department in departments:
            if department.short_name and department.short_name == candidate:
                return department
    return None


def resolve_label(label: str) -> Department | None:
    """A CSV or API label: a department code, or its full or short Chinese name."""
    label = (label or "").strip()
    if not label:
        return None
    by_code = Department.objects.filter(code=label).first()
    if by_code is not None:
        return by_code
    return match_department(label, label)


def departments_by_code(codes: Iterable[str]) -> dict[str, Department]:
    codes = [c for c in codes if c]
    if not codes:
        return {}
    return {d.code: d for d in Department.objects.filter(code__in=codes)}


def department_docs() -> list[CatalogueDoc]:
    """Every active catalogue entry as a document labelled with its department's code. Before
    any entry exists, the city-level departments' own responsibilities stand in."""
    entries = list(
        DispatchCatalogueEntry.objects.filter(is_active=True, department__is_active=True)
        .select_related("department")
        .order_by("department__code")
    )
    if entries:
        return [
            CatalogueDoc(
                label=entry.department.code,
                name=entry.department.name,
                short_name=entry.department.short_name,
                responsibilities=entry.responsibilities or entry.department.responsibilities,
                matters=entry.matter_lines,
                keywords=entry.keyword_lines,
            )
            for entry in entries
        ]
    return [
        CatalogueDoc(
            label=d.code,
            name=d.name,
            short_name=d.short_name,
            responsibilities=d.responsibilities,
        )
        for d in _city_departments()
        if d.responsibilities
    ]
