"""Bench for issue 19: a full recompute of every engine definition over all built-in datasets.

    .venv/bin/python bench/engine_recompute.py [--rows 10000000] [--other-rows 1000000] [--markdown]

10 million government-service cases and 1 million records in each of the 11 other built-in
datasets are generated in DuckDB (vectorised SQL over ``range()``, deterministic hashes for the
random parts) and written straight into the store tables the engine reads (``records_<code>``),
with the default catalogue, 13 districts, 3 parks and 60 departments in the app database.
Then, each in its own process (clean peak memory), side by side:

- Sizhen: ``compute.compute()``, the full recompute (fused definition groups, values written to
  the app database, scoring), run twice: the first run in a fresh process writes every value,
  the second is the steady state of a running worker. Also the fused queries alone.
- straightforward: the same definitions compiled one by one (``compile_definition``: one
  query per definition, no fusion), queries only.
- floor: one hand-written DuckDB query per dataset computing all its definitions at every level
  of the region tree (the ancestor bridge and ``dim_calendar`` as the engine uses them).

The floor's values are compared with every value Sizhen wrote, so the floor computes the same.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ingest_engine  # noqa: E402
from bench.ingest_engine import (  # noqa: E402
    DEPARTMENTS,
    REGIONS,
    create_organisations,
    gov_cases_select,
    setup_django,
)

PARKS = {"P449951": "449901", "P449952": "449903", "P449953": "449907"}
RECORD_REGIONS = [*REGIONS, *PARKS]

# Deterministic pseudo-random helpers for the generator: u = uniform [0, 1), n = integer in
# [lo, hi], stamp = a working-hours timestamp within the 1,000 days from 2023-01-02, later = a
# timestamp lo..hi days (and some minutes) after t, pick = one element of a list.
MACROS = f"""
CREATE OR REPLACE TEMP MACRO u(i, k) AS (hash(i, k) % 1000003)::DOUBLE / 1000003;
CREATE OR REPLACE TEMP MACRO n(i, k, lo, hi) AS (lo + hash(i, k) % (hi - lo + 1))::BIGINT;
CREATE OR REPLACE TEMP MACRO stamp(i, k) AS TIMESTAMP '2023-01-02 08:00:00'
    + to_days(n(i, k, 0, 999)::INTEGER) + to_minutes(n(i, k + 1000, 0, 600));
CREATE OR REPLACE TEMP MACRO later(t, i, k, lo, hi) AS t
    + to_days(n(i, k, lo, hi)::INTEGER) + to_minutes(n(i, k + 1000, 10, 480));
CREATE OR REPLACE TEMP MACRO pick(l, i, k) AS l[1 + (hash(i, k) % len(l))::INTEGER];
CREATE OR REPLACE TEMP MACRO region(i) AS pick({RECORD_REGIONS!r}, i, 1);
CREATE OR REPLACE TEMP MACRO department(i) AS pick({DEPARTMENTS!r}, i, 2);
"""

# One SELECT per dataset, with the schema's field names; columns may use earlier aliases.
GENERATORS = {
    "enterprise_startup": """SELECT 'S' || i AS serial_no,
        '91449900' || lpad(i::VARCHAR, 10, '0') AS uscc, '示范企业' || i AS enterprise_name,
        region(i) AS region_code, pick(['全程网办', '窗口', '混合'], i, 3) AS channel,
        stamp(i, 4) AS submitted_at,
        CASE WHEN u(i, 5) < 0.97 THEN later(submitted_at, i, 6, 0, 8) END AS completed_at,
        n(i, 7, 1, 5) AS procedures,
        CASE WHEN u(i, 8) < 0.8 THEN 0 ELSE round(u(i, 9) * 800, 2) END AS cost""",
    "bidding": """SELECT 'ZB' || i AS project_id, '招标项目' || i AS project_name,
        region(i) AS region_code, pick(['工程', '货物', '服务'], i, 3) AS category,
        stamp(i, 4) AS announced_at,
        CASE WHEN u(i, 5) < 0.95 THEN later(announced_at, i, 6, 20, 60) END AS awarded_at,
        CASE WHEN u(i, 7) < 0.9 THEN later(awarded_at, i, 8, 1, 30) END AS contract_signed_at,
        pick(['是', '是', '是', '否'], i, 9) AS paperless,
        pick(['是', '否', '否'], i, 10) AS remote_evaluation,
        CASE WHEN u(i, 11) < 0.9 THEN pick(['是', '是', '否'], i, 12) END AS winner_is_local,
        CASE WHEN u(i, 13) < 0.9 THEN pick(['现金', '保函', '电子保函', '免收'], i, 14) END
            AS deposit_mode,
        round(1e5 + u(i, 15) * 5e7, 2) AS budget""",
    "utility_connections": """SELECT 'BZ' || i AS application_id,
        pick(['电力', '电力', '用水', '用气'], i, 3) AS utility, region(i) AS region_code,
        department(i) AS department_code,
        pick(['低压', '高压', '居民', '非居民'], i, 4) AS customer_type,
        stamp(i, 5) AS applied_at,
        CASE WHEN u(i, 6) < 0.95 THEN later(applied_at, i, 7, 1, 20) END AS connected_at,
        n(i, 8, 1, 4) AS procedures,
        CASE WHEN u(i, 9) < 0.7 THEN 0 ELSE round(u(i, 10) * 20000, 2) END AS cost""",
    "construction_permits": """SELECT 'GC' || i AS project_id, '建设项目' || i AS project_name,
        region(i) AS region_code, department(i) AS department_code,
        pick(['社会投资低风险', '社会投资一般', '政府投资', '带方案出让'], i, 3) AS project_type,
        stamp(i, 4) AS applied_at,
        CASE WHEN u(i, 5) < 0.9 THEN later(applied_at, i, 6, 10, 60) END AS permitted_at,
        CASE WHEN u(i, 7) < 0.7 THEN later(permitted_at, i, 8, 60, 400) END AS completed_at,
        n(i, 9, 5, 20) AS procedures, n(i, 10, 0, 6) AS inspections,
        round(1e6 + u(i, 11) * 1e8, 2) AS construction_value,
        round(construction_value * u(i, 12) * 0.03, 2) AS fees""",
    "property_registrations": """SELECT 'DJ' || i AS registration_id,
        region(i) AS region_code, department(i) AS department_code,
        pick(['转移登记', '转移登记', '抵押登记', '首次登记', '变更登记'], i, 3)
            AS registration_type,
        pick(['企业', '个人'], i, 4) AS applicant_type,
        pick(['网上', '窗口', '银行网点'], i, 5) AS channel, stamp(i, 6) AS applied_at,
        CASE WHEN u(i, 7) < 0.97 THEN later(applied_at, i, 8, 0, 10) END AS completed_at,
        n(i, 9, 1, 5) AS procedures, round(2e5 + u(i, 10) * 5e6, 2) AS property_value,
        round(property_value * u(i, 11) * 0.05, 2) AS fees""",
    "tax_filings": """SELECT 'SB' || i AS filing_id, region(i) AS region_code,
        department(i) AS department_code,
        pick(['企业', '个体工商户'], i, 3) AS taxpayer_type,
        pick(['增值税', '企业所得税', '个人所得税', '社会保险费', '其他'], i, 4) AS tax_type,
        pick(['电子税务局', '电子税务局', '移动端', '自助办税终端', '办税服务厅'], i, 5)
            AS channel,
        stamp(i, 6) AS filed_at""",
    "court_cases": """SELECT '(2024)案' || i AS case_id, region(i) AS region_code,
        department(i) AS department_code,
        pick(['商事一审', '商事一审', '执行', '执行', '破产'], i, 3) AS case_kind,
        stamp(i, 4) AS filed_at,
        CASE WHEN u(i, 5) < 0.85
            THEN later(filed_at, i, 6, 30, CASE case_kind WHEN '破产' THEN 700 ELSE 200 END)
        END AS concluded_at,
        CASE WHEN concluded_at IS NOT NULL THEN CASE case_kind
            WHEN '商事一审' THEN pick(['判决', '调解', '撤诉', '驳回'], i, 7)
            WHEN '执行' THEN pick(['执行完毕', '和解履行', '终结本次执行'], i, 7)
            ELSE pick(['破产清算', '重整', '和解'], i, 7) END
        END AS outcome,
        round(1e4 + u(i, 8) * 1e7, 2) AS claim_amount,
        CASE WHEN concluded_at IS NOT NULL THEN round(claim_amount * u(i, 9), 2) END
            AS recovered_amount""",
    "labour_cases": """SELECT 'LD' || i AS case_id, region(i) AS region_code,
        department(i) AS department_code,
        pick(['争议调解仲裁', '争议调解仲裁', '劳动保障监察'], i, 3) AS case_kind,
        stamp(i, 4) AS accepted_at,
        CASE WHEN u(i, 5) < 0.9 THEN later(accepted_at, i, 6, 5, 90) END AS closed_at,
        CASE WHEN closed_at IS NOT NULL THEN CASE case_kind
            WHEN '争议调解仲裁' THEN pick(['调解成功', '调解成功', '仲裁裁决', '撤回', '不予受理'], i, 7)
            ELSE pick(['责令改正', '行政处罚', '撤销立案'], i, 7) END
        END AS outcome""",
    "procurement": """SELECT 'CG' || i AS procurement_id, '采购项目' || i AS project_name,
        region(i) AS region_code, department(i) AS department_code,
        pick(['公开招标', '竞争性磋商', '竞争性谈判', '询价', '单一来源', '框架协议'], i, 3)
            AS method,
        pick(['是', '是', '是', '否'], i, 4) AS electronic, stamp(i, 5) AS announced_at,
        CASE WHEN u(i, 6) < 0.97 THEN later(announced_at, i, 7, 20, 40) END AS evaluated_at,
        CASE WHEN u(i, 8) < 0.97 THEN later(evaluated_at, i, 9, 1, 5) END
            AS result_published_at,
        CASE WHEN u(i, 10) < 0.95 THEN later(result_published_at, i, 11, 5, 30) END
            AS contract_signed_at,
        CASE WHEN contract_signed_at IS NOT NULL THEN round(1e4 + u(i, 12) * 1e7, 2) END
            AS contract_amount,
        round(contract_amount * u(i, 13) * 0.1, 2) AS performance_bond,
        round(contract_amount * u(i, 14) * 0.3, 2) AS advance_payment""",
    "ip_pledges": """SELECT 'ZY' || i AS pledge_id, region(i) AS region_code,
        pick(['专利', '商标', '版权', '组合'], i, 3) AS ip_type, stamp(i, 4) AS registered_at,
        round(1e5 + u(i, 5) * 5e7, 2) AS amount""",
    "market_supervision": """SELECT 'JG' || i AS record_id, region(i) AS region_code,
        department(i) AS department_code,
        pick(['双随机抽查', '行政处罚', '信用评价'], i, 3) AS record_kind,
        stamp(i, 4) AS concluded_at,
        CASE WHEN record_kind = '双随机抽查' THEN pick(['是', '否', '否'], i, 5) END AS joint,
        CASE WHEN record_kind = '行政处罚' THEN pick(['是', '是', '是', '否'], i, 6) END
            AS published,
        CASE WHEN record_kind = '信用评价' THEN pick(['A', 'B', 'B', 'C', 'D'], i, 7) END
            AS grade""",
}


def prepare(workdir: Path, rows: int, other_rows: int) -> dict[str, Any]:
    """App database (city, parks, departments, default catalogue, built-in datasets) and the
    store's record tables, filled straight from the generators."""
    setup_django(workdir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from sizhen.indicators.catalogue.imports import load_default_catalogue
    from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
    from sizhen.indicators.ingestion.engine import store
    from sizhen.indicators.ingestion.engine.schemas import BUILTIN_BY_CODE

    create_organisations(PARKS)
    load_default_catalogue(actor=None)
    ensure_builtin_datasets()
    timings = {}
    with store.open_store() as con:
        con.execute(MACROS)
        selects = {"gov_service_cases": gov_cases_select(rows), **GENERATORS}
        for code, select in selects.items():
            start = time.perf_counter()
            spec = BUILTIN_BY_CODE[code]
            store.ensure_records_table(con, code, spec["fields"])
            if code != "gov_service_cases":
                select = f"{select}\n FROM range({other_rows}) t(i)"
            key = spec["key"]
            con.execute(
                f"INSERT INTO {store.records_table(code)} BY NAME SELECT *, 0::BIGINT AS _batch_id, "
                f"hash({key}) AS _row_hash, now()::TIMESTAMP AS _loaded_at FROM ({select})"
            )
            timings[code] = time.perf_counter() - start
        con.execute("CHECKPOINT")
    return timings


# --- the floor: one hand-written query per dataset -------------------------------------------
# Each query aggregates the records once per region and period ("leaf"), then rolls the sums
# and counts up the region tree through the ancestor bridge; a median needs every record
# joined to its ancestors. Working days come from dim_calendar, as in the engine.

CALENDAR = """JOIN dim_calendar s ON s.date = r.{start}::DATE
        JOIN dim_calendar e ON e.date = r.{end}::DATE"""


def _rolled(leaf: str, outer: str, grouping: str = "GROUP BY ALL") -> str:
    """``leaf`` selects region_code, the period columns and partial sums from the records;
    ``outer`` the values from sums of the partials (``p``), per ancestor and period."""
    return f"""WITH leaf AS ({leaf})
        SELECT a.ancestor_code AS region, {outer}
        FROM leaf JOIN dim_region_ancestor a ON a.region_code = leaf.region_code
        {grouping}"""


def _mean(part: str) -> str:
    return f"sum({part}_sum) / NULLIF(sum({part}_n), 0)"


def _share(part: str) -> str:
    return f"100.0 * sum({part}_yes) / NULLIF(sum({part}_n), 0)"


def _partial_mean(part: str, value: str, condition: str = "TRUE") -> str:
    return (
        f"sum({value}) FILTER (WHERE {condition}) AS {part}_sum, "
        f"count({value}) FILTER (WHERE {condition}) AS {part}_n"
    )


def _partial_share(part: str, condition: str, numerator: str) -> str:
    return (
        f"count(*) FILTER (WHERE {condition} AND {numerator}) AS {part}_yes, "
        f"count(*) FILTER (WHERE {condition}) AS {part}_n"
    )


def _partial_ratio(part: str, numerator: str, denominator: str, condition: str = "TRUE") -> str:
    where = f"{condition} AND {denominator} > 0"
    return (
        f"sum({numerator}) FILTER (WHERE {where}) AS {part}_yes, "
        f"sum({denominator}) FILTER (WHERE {where}) AS {part}_n"
    )


QUARTER_AND_YEAR = "GROUPING SETS ((region_code, quarter), (region_code, year))"
OUTER_QUARTER_AND_YEAR = "GROUP BY GROUPING SETS ((region, quarter), (region, year))"
WORKDAYS = "e.workday_index - s.workday_index"

# dataset -> (SQL, [(indicator, value column, period column)])
FLOOR: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "gov_service_cases": (
        _rolled(
            f"""SELECT region_code, date_trunc('month', completed_at)::DATE AS month,
                count(*) AS n,
                count(*) FILTER (WHERE {WORKDAYS} <= promised_limit) AS on_time,
                {_partial_mean("days", WORKDAYS)}, {_partial_mean("visits", "visits")},
                count(*) FILTER (WHERE channel IN ('网上', '移动端') AND visits = 0) AS online,
                {_partial_ratio("compression", "promised_limit", "statutory_limit")}
            FROM records_gov_service_cases r
            {CALENDAR.format(start="accepted_at", end="completed_at")}
            WHERE status = '办结' AND completed_at IS NOT NULL
            GROUP BY ALL""",
            f"""month, sum(n) AS v15_06, 100.0 * sum(on_time) / sum(n) AS v15_03,
                {_mean("days")} AS v15_07, 100.0 * sum(online) / sum(n) AS v15_01,
                {_mean("visits")} AS v15_04,
                100.0 * (1 - sum(compression_yes) / NULLIF(sum(compression_n), 0)) AS v15_02""",
        ),
        [
            ("BE15.06", "v15_06", "month"),
            ("BE15.03", "v15_03", "month"),
            ("BE15.07", "v15_07", "month"),
            ("BE15.01", "v15_01", "month"),
            ("BE15.04", "v15_04", "month"),
            ("BE15.02", "v15_02", "month"),
        ],
    ),
    "enterprise_startup": (
        f"""WITH base AS (
            SELECT region_code, date_trunc('month', completed_at)::DATE AS month,
                {WORKDAYS} AS days, procedures, cost, channel
            FROM records_enterprise_startup r
            {CALENDAR.format(start="submitted_at", end="completed_at")}
            WHERE completed_at IS NOT NULL),
        leaf AS (
            SELECT region_code, month, {_partial_mean("days", "days")},
                {_partial_mean("procedures", "procedures")}, {_partial_mean("cost", "cost")},
                {_partial_share("online", "TRUE", "channel = '全程网办'")}
            FROM base GROUP BY ALL),
        medians AS (
            SELECT a.ancestor_code AS region, month, quantile_cont(days, 0.5) AS v01_05
            FROM base JOIN dim_region_ancestor a ON a.region_code = base.region_code
            GROUP BY ALL),
        rolled AS (
            SELECT a.ancestor_code AS region, month, {_mean("days")} AS v01_02,
                {_mean("procedures")} AS v01_01, {_mean("cost")} AS v01_03,
                {_share("online")} AS v01_04
            FROM leaf JOIN dim_region_ancestor a ON a.region_code = leaf.region_code
            GROUP BY ALL)
        SELECT * FROM rolled JOIN medians USING (region, month)""",
        [
            ("BE01.02", "v01_02", "month"),
            ("BE01.05", "v01_05", "month"),
            ("BE01.01", "v01_01", "month"),
            ("BE01.03", "v01_03", "month"),
            ("BE01.04", "v01_04", "month"),
        ],
    ),
    "utility_connections": (
        _rolled(
            f"""SELECT region_code, date_trunc('month', connected_at)::DATE AS month,
                {_partial_mean("p_power", "procedures", "utility = '电力'")},
                {_partial_mean("d_power", WORKDAYS, "utility = '电力'")},
                {_partial_mean("c_power", "cost", "utility = '电力'")},
                {_partial_mean("p_water", "procedures", "utility = '用水'")},
                {_partial_mean("d_water", WORKDAYS, "utility = '用水'")},
                {_partial_mean("p_gas", "procedures", "utility = '用气'")},
                {_partial_mean("d_gas", WORKDAYS, "utility = '用气'")},
                {_partial_mean("c_water_gas", "cost", "utility IN ('用水', '用气')")}
            FROM records_utility_connections r
            {CALENDAR.format(start="applied_at", end="connected_at")}
            WHERE connected_at IS NOT NULL AND customer_type <> '居民'
            GROUP BY ALL""",
            f"""month, {_mean("p_power")} AS v03_01, {_mean("d_power")} AS v03_02,
                {_mean("c_power")} AS v03_03, {_mean("p_water")} AS v04_01,
                {_mean("d_water")} AS v04_02, {_mean("p_gas")} AS v04_03,
                {_mean("d_gas")} AS v04_04, {_mean("c_water_gas")} AS v04_05""",
        ),
        [
            ("BE03.01", "v03_01", "month"),
            ("BE03.02", "v03_02", "month"),
            ("BE03.03", "v03_03", "month"),
            ("BE04.01", "v04_01", "month"),
            ("BE04.02", "v04_02", "month"),
            ("BE04.03", "v04_03", "month"),
            ("BE04.04", "v04_04", "month"),
            ("BE04.05", "v04_05", "month"),
        ],
    ),
    "construction_permits": (
        _rolled(
            f"""SELECT region_code, date_trunc('quarter', completed_at)::DATE AS quarter,
                date_trunc('year', completed_at)::DATE AS year,
                {_partial_mean("procedures", "procedures")}, {_partial_mean("days", WORKDAYS)},
                {_partial_ratio("fees", "fees", "construction_value")}
            FROM records_construction_permits r
            {CALENDAR.format(start="applied_at", end="completed_at")}
            WHERE completed_at IS NOT NULL
            GROUP BY {QUARTER_AND_YEAR}""",
            f"""quarter, year, {_mean("procedures")} AS v02_01, {_mean("days")} AS v02_02,
                {_share("fees")} AS v02_03""",
            OUTER_QUARTER_AND_YEAR,
        ),
        [
            ("BE02.01", "v02_01", "quarter"),
            ("BE02.02", "v02_02", "quarter"),
            ("BE02.03", "v02_03", "year"),
        ],
    ),
    "property_registrations": (
        _rolled(
            f"""SELECT region_code, date_trunc('quarter', completed_at)::DATE AS quarter,
                date_trunc('year', completed_at)::DATE AS year,
                {_partial_mean("procedures", "procedures")}, {_partial_mean("days", WORKDAYS)},
                {_partial_ratio("fees", "fees", "property_value")}
            FROM records_property_registrations r
            {CALENDAR.format(start="applied_at", end="completed_at")}
            WHERE completed_at IS NOT NULL AND registration_type = '转移登记'
            GROUP BY {QUARTER_AND_YEAR}""",
            f"""quarter, year, {_mean("procedures")} AS v05_01, {_mean("days")} AS v05_02,
                {_share("fees")} AS v05_03""",
            OUTER_QUARTER_AND_YEAR,
        ),
        [
            ("BE05.01", "v05_01", "quarter"),
            ("BE05.02", "v05_02", "quarter"),
            ("BE05.03", "v05_03", "year"),
        ],
    ),
    "tax_filings": (
        _rolled(
            f"""SELECT region_code, date_trunc('month', filed_at)::DATE AS month,
                {_partial_share("online", "TRUE", "channel IN ('电子税务局', '移动端')")}
            FROM records_tax_filings GROUP BY ALL""",
            f"""month, {_share("online")} AS v08_05""",
        ),
        [("BE08.05", "v08_05", "month")],
    ),
    "court_cases": (
        _rolled(
            f"""SELECT region_code, date_trunc('quarter', concluded_at)::DATE AS quarter,
                date_trunc('year', concluded_at)::DATE AS year,
                {_partial_mean("trial", "concluded_at::DATE - filed_at::DATE", "case_kind = '商事一审'")},
                {_partial_share("executed", "case_kind = '执行'", "outcome IN ('执行完毕', '和解履行')")},
                {_partial_mean("bankrupt", "concluded_at::DATE - filed_at::DATE", "case_kind = '破产'")},
                {_partial_ratio("recovered", "recovered_amount", "claim_amount", "case_kind = '破产'")}
            FROM records_court_cases
            WHERE concluded_at IS NOT NULL
            GROUP BY {QUARTER_AND_YEAR}""",
            f"""quarter, year, {_mean("trial")} AS v10_01, {_share("executed")} AS v10_04,
                {_mean("bankrupt")} / 365 AS v11_01, {_share("recovered")} AS v11_03""",
            OUTER_QUARTER_AND_YEAR,
        ),
        [
            ("BE10.01", "v10_01", "quarter"),
            ("BE10.04", "v10_04", "quarter"),
            ("BE11.01", "v11_01", "year"),
            ("BE11.03", "v11_03", "year"),
        ],
    ),
    "labour_cases": (
        _rolled(
            f"""SELECT region_code, date_trunc('quarter', closed_at)::DATE AS closed_quarter,
                date_trunc('quarter', accepted_at)::DATE AS accepted_quarter,
                {
                _partial_share(
                    "mediated",
                    "closed_at IS NOT NULL AND case_kind = '争议调解仲裁' AND outcome <> '不予受理'",
                    "outcome = '调解成功'",
                )
            },
                {_partial_share("closed", "case_kind = '劳动保障监察'", "closed_at IS NOT NULL")}
            FROM records_labour_cases
            GROUP BY GROUPING SETS ((region_code, closed_quarter), (region_code, accepted_quarter))""",
            f"""closed_quarter, accepted_quarter, {_share("mediated")} AS v12_01,
                {_share("closed")} AS v12_03""",
            "GROUP BY GROUPING SETS ((region, closed_quarter), (region, accepted_quarter))",
        ),
        [("BE12.01", "v12_01", "closed_quarter"), ("BE12.03", "v12_03", "accepted_quarter")],
    ),
    "procurement": (
        _rolled(
            f"""SELECT region_code, date_trunc('quarter', result_published_at)::DATE AS quarter,
                {_partial_share("electronic", "TRUE", "electronic = '是'")},
                {_partial_mean("published", "result_published_at::DATE - evaluated_at::DATE")},
                {_partial_mean("signed", "contract_signed_at::DATE - result_published_at::DATE")},
                {_partial_ratio("bond", "performance_bond", "contract_amount", "contract_signed_at IS NOT NULL")},
                {_partial_ratio("advance", "advance_payment", "contract_amount", "contract_signed_at IS NOT NULL")}
            FROM records_procurement
            WHERE result_published_at IS NOT NULL
            GROUP BY ALL""",
            f"""quarter, {_share("electronic")} AS v13_01, {_mean("published")} AS v13_02,
                {_mean("signed")} AS v13_03, {_share("bond")} AS v13_04,
                {_share("advance")} AS v13_05""",
        ),
        [
            ("BE13.01", "v13_01", "quarter"),
            ("BE13.02", "v13_02", "quarter"),
            ("BE13.03", "v13_03", "quarter"),
            ("BE13.04", "v13_04", "quarter"),
            ("BE13.05", "v13_05", "quarter"),
        ],
    ),
    "bidding": (
        _rolled(
            f"""SELECT region_code, date_trunc('month', awarded_at)::DATE AS month,
                {_partial_share("paperless", "TRUE", "paperless = '是'")},
                {
                _partial_share(
                    "guarantee",
                    "deposit_mode IN ('现金', '保函', '电子保函')",
                    "deposit_mode = '电子保函'",
                )
            },
                {
                _partial_share("outsider", "winner_is_local IS NOT NULL", "winner_is_local = '否'")
            },
                {_partial_mean("days", "awarded_at::DATE - announced_at::DATE")}
            FROM records_bidding
            WHERE awarded_at IS NOT NULL
            GROUP BY ALL""",
            f"""month, {_share("paperless")} AS v14_01, {_share("guarantee")} AS v14_02,
                {_share("outsider")} AS v14_03, {_mean("days")} AS v14_05""",
        ),
        [
            ("BE14.01", "v14_01", "month"),
            ("BE14.02", "v14_02", "month"),
            ("BE14.03", "v14_03", "month"),
            ("BE14.05", "v14_05", "month"),
        ],
    ),
    "ip_pledges": (
        _rolled(
            """SELECT region_code, date_trunc('year', registered_at)::DATE AS year,
                sum(amount) AS amount
            FROM records_ip_pledges GROUP BY ALL""",
            "year, sum(amount) * 1e-8 AS v16_04",
        ),
        [("BE16.04", "v16_04", "year")],
    ),
    "market_supervision": (
        _rolled(
            f"""SELECT region_code, date_trunc('quarter', concluded_at)::DATE AS quarter,
                {_partial_share("joint", "record_kind = '双随机抽查'", "joint = '是'")},
                {_partial_share("credit", "record_kind = '信用评价'", "grade IN ('A', 'B')")},
                {_partial_share("published", "record_kind = '行政处罚'", "published = '是'")}
            FROM records_market_supervision GROUP BY ALL""",
            f"""quarter, {_share("joint")} AS v17_02, {_share("credit")} AS v17_03,
                {_share("published")} AS v17_04""",
        ),
        [
            ("BE17.02", "v17_02", "quarter"),
            ("BE17.03", "v17_03", "quarter"),
            ("BE17.04", "v17_04", "quarter"),
        ],
    ),
}


# --- scenarios (each in its own process) ------------------------------------------------------


def scenario_sizhen_compute(workdir: Path) -> dict:
    """The first full recompute in a fresh process (writes every value), then the steady state
    of a long-running worker (a second full recompute; values unchanged)."""
    setup_django(workdir)
    from sizhen.indicators.catalogue.models import IndicatorValue
    from sizhen.indicators.ingestion.compute import compute

    IndicatorValue.objects.all().delete()  # a reused workdir: the first run writes every value
    start, cpu = time.perf_counter(), _cpu()
    report = compute()
    cold, cold_cpu = time.perf_counter() - start, _cpu() - cpu
    start, cpu = time.perf_counter(), _cpu()
    again = compute()
    warm, warm_cpu = time.perf_counter() - start, _cpu() - cpu
    assert not report.skipped, report.skipped
    return {
        "seconds": warm,
        "cpu": warm_cpu,
        "cold_seconds": cold,
        "cold_cpu": cold_cpu,
        "definitions": report.definitions,
        "values": report.values,
        "values_rewritten": again.values,
    }


def _cpu() -> float:
    """CPU seconds of this process (all threads): less sensitive than wall time to the other
    processes on a shared machine."""
    times = os.times()
    return times.user + times.system


def _groups() -> list[list[dict]]:
    from sizhen.indicators.ingestion.engine.compile import group_key
    from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS

    groups: dict[tuple, list[dict]] = {}
    for definition in DEFINITIONS:
        groups.setdefault(group_key(definition), []).append(definition)
    return list(groups.values())


def _queries(fused: bool) -> dict:
    import ibis

    from sizhen.indicators.ingestion.engine import store
    from sizhen.indicators.ingestion.engine.compile import compile_definition, compile_group
    from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS

    with store.open_store() as con:
        store.sync_dimensions(con)
        backend = ibis.duckdb.from_connection(con)
        start, cpu = time.perf_counter(), _cpu()
        if fused:
            rows = sum(compile_group(backend, g).to_pyarrow().num_rows for g in _groups())
            queries = len(_groups())
        else:
            rows = sum(compile_definition(backend, d).to_pyarrow().num_rows for d in DEFINITIONS)
            queries = len(DEFINITIONS)
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
        return {"seconds": seconds, "cpu": cpu, "queries": queries, "result_rows": rows}


def scenario_sizhen_queries(workdir: Path) -> dict:
    """The fused group queries alone, as compute() runs them (no app database)."""
    setup_django(workdir)
    _queries(fused=True)  # warm-up: the steady state, as for compute()
    return _queries(fused=True)


def scenario_per_definition(workdir: Path) -> dict:
    """Straightforward: one compiled query per definition (compile_definition), no fusion."""
    setup_django(workdir)
    _queries(fused=False)
    return _queries(fused=False)


def _run_floor() -> tuple[float, float, list[tuple[str, str, str, float]], int]:
    from sizhen.indicators.ingestion.engine import store

    with store.open_store() as con:
        store.sync_dimensions(con)
        results = {}
        start, cpu = time.perf_counter(), _cpu()
        for dataset, (sql, _) in FLOOR.items():
            results[dataset] = con.sql(sql).to_arrow_table()
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    values = []
    for dataset, (_, columns) in FLOOR.items():
        table = results[dataset].to_pydict()
        for indicator, value_column, period_column in columns:
            for region, period, value in zip(
                table["region"], table[period_column], table[value_column], strict=True
            ):
                if period is not None and value is not None:
                    values.append((indicator, region, period.isoformat(), float(value)))
    return seconds, cpu, values, len(FLOOR)


def scenario_floor(workdir: Path) -> dict:
    """Hand-written DuckDB SQL, one query per dataset; its values saved for the check."""
    setup_django(workdir)
    _run_floor()
    seconds, cpu, values, queries = _run_floor()
    (workdir / "floor_values.json").write_text(json.dumps(values))
    return {"seconds": seconds, "cpu": cpu, "queries": queries, "values": len(values)}


def scenario_check(workdir: Path) -> dict:
    """Every non-null value Sizhen wrote against the floor's, and the other way round."""
    setup_django(workdir)
    from sizhen.indicators.catalogue.models import IndicatorValue

    floor = {(i, r, p): v for i, r, p, v in json.loads((workdir / "floor_values.json").read_text())}
    ours = {
        (code, region, period.isoformat()): value
        for code, region, period, value in IndicatorValue.objects.filter(
            source_kind="records", value__isnull=False
        ).values_list("indicator__code", "region__code", "period", "value")
    }
    missing = sorted(set(floor) ^ set(ours))
    different = [
        (key, ours[key], floor[key])
        for key in set(floor) & set(ours)
        if not math.isclose(ours[key], floor[key], rel_tol=1e-9, abs_tol=1e-9)
    ]
    return {
        "seconds": 0.0,
        "compared": len(set(floor) & set(ours)),
        "indicators": len({k[0] for k in ours}),
        "only_one_side": [list(k) for k in missing[:10]],
        "only_one_side_count": len(missing),
        "different": [[list(k), a, b] for k, a, b in sorted(different)[:10]],
        "different_count": len(different),
    }


def scenario_prepare(workdir: Path, rows: int = 0, other_rows: int = 0) -> dict:
    start = time.perf_counter()
    timings = prepare(workdir, rows, other_rows)
    return {"seconds": time.perf_counter() - start, "per_dataset": timings}


SCENARIOS = {
    name[len("scenario_") :]: fn for name, fn in globals().items() if name.startswith("scenario_")
}


def run_scenario(name: str, workdir: Path, *extra: str) -> dict:
    return ingest_engine.run_scenario(name, workdir, *extra, script=__file__)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000, help="government-service cases")
    parser.add_argument("--other-rows", type=int, default=1_000_000, help="rows per other dataset")
    parser.add_argument("--scenario")
    parser.add_argument("--workdir", help="keep (or reuse, if prepared) the data in this folder")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.scenario:
        workdir = Path(args.workdir)
        if args.scenario == "prepare":
            result = scenario_prepare(workdir, args.rows, args.other_rows)
        else:
            result = SCENARIOS[args.scenario](workdir)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="sizhen-bench-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if not (workdir / "prepared").exists():
            sizes = ["--rows", str(args.rows), "--other-rows", str(args.other_rows)]
            prepared = run_scenario("prepare", workdir, *sizes)
            print(
                f"prepared {args.rows:,} + 11 × {args.other_rows:,} rows in "
                f"{prepared['seconds']:.1f} s ({prepared['peak_mb']:,.0f} MB)",
                file=sys.stderr,
            )
            (workdir / "prepared").write_text(json.dumps(prepared))
        results = {
            name: run_scenario(name, workdir)
            for name in ("sizhen_compute", "sizhen_queries", "per_definition", "floor", "check")
        }
    report(results, args.rows + 11 * args.other_rows, args.markdown)


def _cell(result: dict | None, rows: int) -> str:
    if not result:
        return "—"
    rate = rows / result["seconds"] if result["seconds"] else 0
    return (
        f"{result['seconds']:.2f} s, CPU {result['cpu']:.2f} s ({rate / 1e6:,.1f} M rows/s, "
        f"{result['peak_mb']:,.0f} MB)"
    )


def report(results: dict[str, dict], rows: int, markdown: bool) -> None:
    compute, fused, one_by_one, floor, check = (
        results[k] for k in ("sizhen_compute", "sizhen_queries", "per_definition", "floor", "check")
    )
    table = [
        ("full recompute (compute(): queries, values written, scoring)", compute, None),
        ("the queries alone", fused, one_by_one),
    ]
    header = ["measure", "rows", "Sizhen", "straightforward", "floor (raw engine)"]
    header += ["vs straightforward", "vs floor"]
    lines = []
    for label, ours, alternative in table:
        lines.append(
            [
                label,
                f"{rows:,}",
                _cell(ours, rows),
                _cell(alternative, rows),
                _cell(floor, rows),
                f"{alternative['seconds'] / ours['seconds']:.1f}× faster" if alternative else "—",
                f"{ours['seconds'] / floor['seconds']:.1f}× the floor "
                f"(CPU {ours['cpu'] / floor['cpu']:.1f}×)",
            ]
        )
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        for line in [header, *lines]:
            print("  ".join(line))
    print(
        f"\nfull recompute, first run in a fresh process (writes every value): "
        f"{compute['cold_seconds']:.2f} s, CPU {compute['cold_cpu']:.2f} s "
        f"({compute['cold_seconds'] / floor['seconds']:.1f}× the floor); "
        f"{compute['definitions']} definitions, {compute['values']:,} values "
        f"({compute['values_rewritten']} rewritten by the second run)"
    )
    print(
        f"queries: Sizhen {fused['queries']} fused groups, straightforward "
        f"{one_by_one['queries']} (one per definition), floor {floor['queries']} (one per dataset)"
    )
    print(
        f"check against the floor: {check['compared']:,} values of {check['indicators']} "
        f"indicators compared, {check['different_count']} different, "
        f"{check['only_one_side_count']} on one side only"
        + (
            f" {check['different']} {check['only_one_side']}"
            if check["different_count"] or check["only_one_side_count"]
            else ""
        )
    )


if __name__ == "__main__":
    main()
