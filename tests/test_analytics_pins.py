"""The analytical stack is pinned because its parts break each other (measured 2026-11-22:
ibis-framework 12.0.0 with sqlglot 30.30.0 fails on DuckDB create_table). These tests fail when
someone upgrades one part without the others, before the engine fails in production."""

from __future__ import annotations

from importlib.metadata import version

import duckdb
import ibis
import pandas as pd

PINS = {"ibis-framework": "12.0.0", "sqlglot": "30.0.0", "duckdb": "2.0.0", "pyspark": "4.0.5"}


def test_installed_versions_are_the_pinned_ones():
    assert {name: version(name) for name in PINS} == PINS


def test_ibis_creates_and_reads_a_duckdb_table():
    # The exact operation that sqlglot 30.30 breaks ("DROP VIEW IF EXISTS" parser error).
    backend = ibis.duckdb.connect()
    table = backend.create_table("t", pd.DataFrame({"region": ["a", "b", "a"], "x": [1, 2, 3]}))
    result = table.group_by("region").aggregate(total=table.x.sum()).order_by("region").to_pyarrow()
    assert result.to_pylist() == [{"region": "a", "total": 4}, {"region": "b", "total": 2}]


def test_duckdb_reads_the_csv_layout_the_ingestion_uses(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("\ufeff办件编号,办结时间\nC1,2025-10-10 16:00:00\n".encode())
    con = duckdb.connect()
    rows = con.execute(
        "SELECT * FROM read_csv(?, header = true, columns = {'c0': 'VARCHAR', 'c1': 'VARCHAR'}, "
        "strict_mode = true)",
        [str(path)],
    ).fetchall()
    assert rows == [("C1", "2025-10-10 16:00:00")]
