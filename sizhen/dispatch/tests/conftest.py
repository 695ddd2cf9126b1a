from __future__ import annotations

from typing import Any

import pytest

from sizhen.dispatch import services
from sizhen.dispatch.catalogue import default_rows
from sizhen.organisations.choices import DepartmentType


@pytest.fixture(autouse=True)
def _fresh_suggester() -> Any:
    # Each test has its own database; the process-wide loaded model must not leak between them.
    services.reset_cache()
    yield
    services.reset_cache()


@pytest.fixture
def catalogue_city(city: dict[str, Any]) -> dict[str, Any]:
    """The persona city plus the usual city departments, with the default catalogue loaded."""
    from sizhen.organisations import services as org
    from sizhen.organisations.models import Department

    root = city["root"]
    existing = set(Department.objects.values_list("name", flat=True))
    for index, row in enumerate(default_rows()):
        if row.name in existing:
            continue
        org.create_department(
            actor=None,
            code=f"SZ-T{index:02d}",
            name=row.name,
            short_name=row.short_name,
            type=DepartmentType.CITY_DEPARTMENT,
            region=root,
        )
    services.load_default_catalogue(actor=None)
    return city
