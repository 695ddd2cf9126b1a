"""Fixtures of the data-asset tests: the government-service dataset with personal fields and six
records in the analytical store, its indicators (a leaf under a composite under the root), and
one value per region."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.ingestion.datasets import create_dataset_version
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.engine.schemas import GOV_SERVICE_CASES, field
from sizhen.indicators.ingestion.models import Dataset

MAR = dt.date(2026, 3, 1)
PERSONAL_FIELDS = [field("contact_phone", "联系电话"), field("id_number", "证件号码")]
COLUMNS = ["case_id", "region_code", "status", "completed_at", "contact_phone", "id_number"]
CASES = [
    ["C01", "449901", "办结", dt.datetime(2026, 3, 5, 10, 0), "13900000001", "449901199001011201"],
    [
        "C02",
        "P449951",
        "办结",
        dt.datetime(2026, 3, 20, 9, 30),
        "13900000002",
        "449901199001011202",
    ],
    ["C03", "449902", "办结", dt.datetime(2026, 3, 10, 8, 0), "13900000003", "449902199001011203"],
    ["C04", "449901", "办结", dt.datetime(2026, 5, 1, 0, 0), "13900000004", "449901199001011204"],
]


@pytest.fixture
def assets(city: dict[str, Any], personas: dict[str, Any], settings: Any, tmp_path: Any) -> dict:
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    settings.MEDIA_ROOT = tmp_path / "media"
    dataset = Dataset.objects.get(code="gov_service_cases")
    version = create_dataset_version(
        dataset,
        actor=personas["sysadmin"],
        fields=[*GOV_SERVICE_CASES["fields"], *PERSONAL_FIELDS],
        key="case_id",
        region_field="region_code",
        department_field="department_code",
    )
    dataset.refresh_from_db()
    with store.open_store() as con:
        store.ensure_records_table(con, "gov_service_cases", version.fields)
        con.executemany(
            f"INSERT INTO records_gov_service_cases ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})",
            CASES,
        )
    root = Indicator.objects.create(code="BE", name="营商环境总分", direction="higher_is_better")
    parent = Indicator.objects.create(
        code="BE15",
        name="政务服务",
        parent=root,
        level=1,
        direction="higher_is_better",
        source_kind="composite",
    )
    leaf = Indicator.objects.create(
        code="BE15.06",
        name="办结量",
        parent=parent,
        level=2,
        unit="件",
        direction="higher_is_better",
        source_kind="records",
        lead_department=city["market"],
    )
    for region, value in ((city["root"], 3), (city["district_a"], 2), (city["district_b"], 1)):
        IndicatorValue.objects.create(
            indicator=leaf,
            region=region,
            period=MAR,
            frequency="month",
            source_kind="records",
            value=value,
        )
    return {"dataset": dataset, "leaf": leaf, "parent": parent, "root_indicator": root, **city}
