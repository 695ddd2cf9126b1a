"""Running the same definitions on Apache Spark (scale-out). The records and dimension tables
are exported as Parquet (the format a province's data lake holds them in) and registered in a
Spark session through Ibis; ``compile_group`` then produces the identical expression."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

SPARK_TABLES = ("dim_region_ancestor", "dim_calendar")


def export_parquet(
    con: duckdb.DuckDBPyConnection, directory: Path, datasets: list[str]
) -> dict[str, Path]:
    """Write the records of ``datasets`` and the dimension tables as Parquet files."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for table in [*(f"records_{d}" for d in datasets), *SPARK_TABLES]:
        path = directory / f"{table}.parquet"
        con.execute(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT PARQUET)")
        paths[table] = path
    return paths


def spark_backend(paths: dict[str, Path], *, master: str = "local[2]") -> Any:
    """An Ibis PySpark backend with each Parquet file registered under its table name."""
    import ibis
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("sizhen-engine")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    backend = ibis.pyspark.connect(session)
    for name, path in paths.items():
        backend.read_parquet(str(path), table_name=name)
    return backend
