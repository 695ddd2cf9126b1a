"""Bench for issue 3: ingestion and the indicator engine, side by side in one run.

    .venv/bin/python bench/ingest_engine.py --rows 10000000 [--xlsx-rows 100000] [--markdown]

Each scenario runs in its own process (clean peak memory): Sizhen's real path, the
straightforward pandas implementation, and hand-written DuckDB SQL (the floor). Prints a table;
--markdown prints it ready for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REGIONS = [f"4499{i:02d}" for i in range(1, 14)]
DEPARTMENTS = [f"D{i:03d}" for i in range(60)]


def setup_django(workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["SIZHEN_ANALYTICS_DIR"] = str(workdir / "analytics")
    os.environ["SIZHEN_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def create_organisations(parks: dict[str, str] | None = None) -> None:
    """The city, its 13 districts, the given parks (code -> parent district) and 60 departments."""
    from sizhen.organisations import services as org
    from sizhen.organisations.choices import DepartmentType, RegionLevel

    root = org.create_region(actor=None, code="449900", name="示范市", level=RegionLevel.CITY)
    regions = [
        org.create_region(
            actor=None, code=code, name=f"区{code}", level=RegionLevel.DISTRICT, parent=root
        )
        for code in REGIONS
    ]
    by_code = {r.code: r for r in regions}
    for code, parent in (parks or {}).items():
        org.create_region(
            actor=None,
            code=code,
            name=f"园区{code}",
            level=RegionLevel.PARK,
            parent=by_code[parent],
        )
    for i, code in enumerate(DEPARTMENTS):
        org.create_department(
            actor=None,
            code=code,
            name=f"部门{code}",
            type=DepartmentType.DISTRICT_DEPARTMENT,
            region=regions[i % 13],
        )


def prepare(workdir: Path, rows: int, xlsx_rows: int) -> None:
    """Database with a city, the built-in datasets and catalogue leaves; the CSV/XLSX files."""
    setup_django(workdir)
    import duckdb
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from sizhen.indicators.catalogue.models import Indicator
    from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets

    create_organisations()
    ensure_builtin_datasets()
    be = Indicator.objects.create(code="BE", name="总分", direction="higher_is_better")
    parent = Indicator.objects.create(
        code="BE15", name="政务服务", parent=be, direction="higher_is_better"
    )
    for code in ["BE15.01", "BE15.02", "BE15.03", "BE15.06", "BE15.07"]:
        Indicator.objects.create(
            code=code, name=code, parent=parent, direction="higher_is_better", source_kind="records"
        )
    generate_csv(workdir / "cases.csv", rows, 0)
    generate_csv(workdir / "delta.csv", 10_000, rows)  # 10k new cases in two recent months
    generate_xlsx(workdir / "cases.xlsx", xlsx_rows)
    con = duckdb.connect()
    con.close()


def gov_cases_select(rows: int, offset: int = 0) -> str:
    """SQL generating ``rows`` government-service cases with the schema's field names and types
    (13 districts, 60 departments, 500 items, completions spread over 1,000 days)."""
    day_span = 1000 if offset == 0 else 40
    base = "2023-01-02" if offset == 0 else "2026-08-01"
    return f"""SELECT 'C' || (i + {offset}) AS case_id, 'I' || (i % 500) AS item_code,
        '事项' || (i % 500) AS item_name, '4499' || lpad(((i % 13) + 1)::VARCHAR, 2, '0') AS region_code,
        'D' || lpad((i % 60)::VARCHAR, 3, '0') AS department_code,
        CASE WHEN i % 3 = 0 THEN '个人' ELSE '企业' END AS applicant_type,
        (['窗口', '网上', '移动端', '自助终端'])[1 + (i % 4)] AS channel,
        TIMESTAMP '{base} 09:00:00' + INTERVAL (i % {day_span}) DAY AS submitted_at,
        TIMESTAMP '{base} 10:00:00' + INTERVAL (i % {day_span}) DAY AS accepted_at,
        TIMESTAMP '{base} 16:00:00' + INTERVAL (i % {day_span} + (i * 7) % 11) DAY AS completed_at,
        20::BIGINT AS statutory_limit, (1 + (i % 7))::BIGINT AS promised_limit,
        ((i * 13) % 3)::BIGINT AS visits, '办结' AS status
        FROM range({rows}) t(i)"""


def generate_csv(path: Path, rows: int, offset: int) -> None:
    """The generated cases as a CSV file with the Chinese headers source systems send."""
    import duckdb

    from sizhen.indicators.ingestion.engine.schemas import GOV_SERVICE_CASES

    labels = ", ".join(f'{f["name"]} AS "{f["label"]}"' for f in GOV_SERVICE_CASES["fields"])
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT {labels} FROM ({gov_cases_select(rows, offset)})) TO '{path}' (HEADER)"
    )
    con.close()


def generate_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("办件")
    ws.append(
        [
            "办件编号",
            "事项编码",
            "事项名称",
            "区划代码",
            "实施机构编码",
            "申请人类型",
            "办件来源",
            "申请时间",
            "受理时间",
            "办结时间",
            "法定时限",
            "承诺时限",
            "跑动次数",
            "办件状态",
        ]
    )
    for i in range(rows):
        ws.append(
            [
                f"X{i}",
                f"I{i % 500}",
                f"事项{i % 500}",
                REGIONS[i % 13],
                DEPARTMENTS[i % 60],
                "企业",
                "网上",
                "2025-03-03 09:00:00",
                "2025-03-03 10:00:00",
                "2025-03-07 16:00:00",
                20,
                5,
                0,
                "办结",
            ]
        )
    wb.save(path)


# --- scenarios (each in its own process) ------------------------------------------------------


def scenario_sizhen_import(workdir: Path) -> dict:
    setup_django(workdir)
    from sizhen.indicators.ingestion import loads
    from sizhen.indicators.ingestion.models import Dataset

    start = time.perf_counter()
    batch, _ = loads.submit_file(
        actor=None,
        dataset=Dataset.objects.get(code="gov_service_cases"),
        source=workdir / "cases.csv",
        file_name="cases.csv",
        enqueue_job=False,
    )
    batch = loads.run_load(batch.pk)
    elapsed = time.perf_counter() - start
    assert batch.status == "loaded", batch.message
    return {"seconds": elapsed, "rows": batch.imported}


def scenario_sizhen_xlsx(workdir: Path) -> dict:
    setup_django(workdir)
    from sizhen.indicators.ingestion import loads
    from sizhen.indicators.ingestion.models import Dataset

    start = time.perf_counter()
    batch, _ = loads.submit_file(
        actor=None,
        dataset=Dataset.objects.get(code="gov_service_cases"),
        source=workdir / "cases.xlsx",
        file_name="cases.xlsx",
        enqueue_job=False,
    )
    batch = loads.run_load(batch.pk)
    assert batch.status == "loaded", batch.message
    return {"seconds": time.perf_counter() - start, "rows": batch.imported + batch.updated}


def scenario_openpyxl_xlsx(workdir: Path) -> dict:
    import openpyxl

    start = time.perf_counter()
    wb = openpyxl.load_workbook(workdir / "cases.xlsx", read_only=True)
    rows = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True)) - 1
    return {"seconds": time.perf_counter() - start, "rows": rows}


def scenario_calamine_floor(workdir: Path) -> dict:
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    rows = CalamineWorkbook.from_path(str(workdir / "cases.xlsx")).get_sheet_by_index(0).to_python()
    return {"seconds": time.perf_counter() - start, "rows": len(rows) - 1}


def scenario_pandas_import(workdir: Path) -> dict:
    """The straightforward alternative: pandas reads, validates column by column, dedups."""
    import pandas as pd

    start = time.perf_counter()
    df = pd.read_csv(workdir / "cases.csv", dtype=str, keep_default_na=False)
    errors = 0
    for column in ["申请时间", "受理时间", "办结时间"]:
        parsed = pd.to_datetime(
            df[column].replace("", None), errors="coerce", format="%Y-%m-%d %H:%M:%S"
        )
        errors += int((parsed.isna() & (df[column] != "")).sum())
        df[column] = parsed
    for column in ["法定时限", "承诺时限", "跑动次数"]:
        numeric = pd.to_numeric(df[column], errors="coerce")
        errors += int(numeric.isna().sum())
        df[column] = numeric
    errors += int((~df["区划代码"].isin(REGIONS)).sum())
    errors += int((~df["实施机构编码"].isin(DEPARTMENTS)).sum())
    errors += int((~df["办件来源"].isin(["窗口", "网上", "移动端", "自助终端"])).sum())
    errors += int(df["办件编号"].duplicated().sum())
    df.to_parquet(workdir / "pandas_store.parquet")
    return {"seconds": time.perf_counter() - start, "rows": len(df), "errors": errors}


def scenario_duckdb_floor_import(workdir: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(workdir / "floor.duckdb"))
    con.execute("SET threads = 2")
    start = time.perf_counter()
    con.execute(
        f"CREATE OR REPLACE TABLE cases AS SELECT * FROM read_csv('{workdir / 'cases.csv'}')"
    )
    rows = con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
    return {"seconds": time.perf_counter() - start, "rows": rows}


def scenario_sizhen_compute(workdir: Path) -> dict:
    """The first full recompute in a fresh process (writes every value), then the steady
    state of a long-running worker (a second full recompute; values unchanged)."""
    setup_django(workdir)
    from sizhen.indicators.ingestion.compute import compute

    start = time.perf_counter()
    report = compute()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    compute()
    warm = time.perf_counter() - start
    return {"seconds": warm, "cold_seconds": cold, "values": report.values}


def scenario_sizhen_incremental(workdir: Path) -> dict:
    setup_django(workdir)
    from sizhen.indicators.ingestion import loads
    from sizhen.indicators.ingestion.compute import compute
    from sizhen.indicators.ingestion.models import Dataset

    start = time.perf_counter()
    batch, _ = loads.submit_file(
        actor=None,
        dataset=Dataset.objects.get(code="gov_service_cases"),
        source=workdir / "delta.csv",
        file_name="delta.csv",
        enqueue_job=False,
    )
    batch = loads.run_load(batch.pk)
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    report = compute(touched=[tuple(p) for p in batch.touched], batch=batch)
    return {
        "seconds": time.perf_counter() - start,
        "load_seconds": load_seconds,
        "values": report.values,
    }


def scenario_pandas_compute(workdir: Path) -> dict:
    """Straightforward pandas: the same five indicators per district and month, then the city."""
    import numpy as np
    import pandas as pd

    setup_django(workdir)
    from sizhen.core.workcalendar import get_calendar

    start = time.perf_counter()
    df = pd.read_parquet(workdir / "pandas_store.parquet")
    days = get_calendar().days(pd.Timestamp("2022-12-01").date(), pd.Timestamp("2027-12-31").date())
    index = pd.Series(
        np.cumsum([d.is_workday for d in days]), index=pd.to_datetime([d.date for d in days])
    )
    done = df[df["办件状态"] == "办结"].copy()
    done["days"] = (
        index.reindex(done["办结时间"].dt.normalize()).to_numpy()
        - index.reindex(done["受理时间"].dt.normalize()).to_numpy()
    )
    done["on_time"] = done["days"] <= done["承诺时限"]
    done["online"] = done["办件来源"].isin(["网上", "移动端"]) & (done["跑动次数"] == 0)
    done["month"] = done["办结时间"].dt.to_period("M")
    results = []
    for keys in (["区划代码", "month"], ["month"]):
        g = done.groupby(keys)
        results.append(
            pd.DataFrame(
                {
                    "completed": g.size(),
                    "on_time": g["on_time"].mean() * 100,
                    "avg_days": g["days"].mean(),
                    "online": g["online"].mean() * 100,
                    "compression": (1 - g["承诺时限"].sum() / g["法定时限"].sum()) * 100,
                }
            )
        )
    values = sum(len(r) * 5 for r in results)
    return {"seconds": time.perf_counter() - start, "values": values}


def scenario_pandas_rowwise_compute(workdir: Path) -> dict:
    """The naive pandas way: working days per row through the calendar API (apply), on the
    first 500,000 completed cases only (the full 10 million would take tens of minutes)."""
    import pandas as pd

    setup_django(workdir)
    from sizhen.core.workcalendar import get_calendar

    calendar = get_calendar()
    df = pd.read_parquet(workdir / "pandas_store.parquet")
    done = df[df["办件状态"] == "办结"].head(500_000).copy()
    start = time.perf_counter()
    done["days"] = done.apply(
        lambda r: calendar.working_days_between(r["受理时间"].date(), r["办结时间"].date()).days,
        axis=1,
    )
    done["on_time"] = done["days"] <= done["承诺时限"]
    done["month"] = done["办结时间"].dt.to_period("M")
    done.groupby(["区划代码", "month"]).agg(on_time=("on_time", "mean"), days=("days", "mean"))
    return {"seconds": time.perf_counter() - start, "rows_measured": len(done)}


def scenario_duckdb_floor_compute(workdir: Path) -> dict:
    """Hand-written SQL over the same store: the five indicators, every level, one query each."""
    setup_django(workdir)
    from sizhen.indicators.ingestion.engine import store

    con = store.connect()
    store.sync_dimensions(con)
    start = time.perf_counter()
    rows = con.execute(
        """
        WITH c AS (
          SELECT r.region_code, date_trunc('month', r.completed_at)::DATE AS period,
                 e.workday_index - s.workday_index AS days, r.promised_limit, r.statutory_limit,
                 (r.channel IN ('网上', '移动端') AND r.visits = 0) AS online
          FROM records_gov_service_cases r
          JOIN dim_calendar s ON s.date = r.accepted_at::DATE
          JOIN dim_calendar e ON e.date = r.completed_at::DATE
          WHERE r.status = '办结' AND r.completed_at IS NOT NULL)
        SELECT a.ancestor_code, period, count(*), avg((days <= promised_limit)::INT) * 100, avg(days),
               avg(online::INT) * 100, (1 - sum(promised_limit) / sum(statutory_limit)) * 100
        FROM c JOIN dim_region_ancestor a ON a.region_code = c.region_code
        GROUP BY ALL
        """
    ).fetchall()
    return {"seconds": time.perf_counter() - start, "values": len(rows) * 5}


SCENARIOS = {
    name[len("scenario_") :]: fn for name, fn in globals().items() if name.startswith("scenario_")
}


def run_scenario(name: str, workdir: Path, *extra: str, script: str = __file__) -> dict:
    """Run ``script --scenario name`` in a fresh process; its last output line is the result."""
    proc = subprocess.run(
        [sys.executable, script, "--scenario", name, "--workdir", str(workdir), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scenario {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--scenario")
    parser.add_argument("--workdir")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.scenario:
        result = SCENARIOS[args.scenario](Path(args.workdir))
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="sizhen-bench-") as tmp:
        workdir = Path(tmp)
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--scenario",
                "prepare",
                "--workdir",
                tmp,
                "--rows",
                str(args.rows),
                "--xlsx-rows",
                str(args.xlsx_rows),
            ],
            check=True,
        ) if False else None
        prepare_process = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.argv=['x'];"
                f"from bench.ingest_engine import prepare; from pathlib import Path;"
                f"prepare(Path({tmp!r}), {args.rows}, {args.xlsx_rows})",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if prepare_process.returncode != 0:
            raise SystemExit(prepare_process.stderr[-3000:])
        print(f"prepared {args.rows:,} rows in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        order = [
            (
                "CSV import + validation",
                "sizhen_import",
                "pandas_import",
                "duckdb_floor_import",
                args.rows,
            ),
            (
                "full recompute",
                "sizhen_compute",
                "pandas_compute",
                "duckdb_floor_compute",
                args.rows,
            ),
            ("XLSX import", "sizhen_xlsx", "openpyxl_xlsx", "calamine_floor", args.xlsx_rows),
            ("incremental recompute after 10k-row load", "sizhen_incremental", None, None, 10_000),
        ]
        table = []
        for label, ours, alternative, floor, n in order:
            row = {"label": label, "rows": n}
            for key, scenario in (("sizhen", ours), ("alternative", alternative), ("floor", floor)):
                row[key] = run_scenario(scenario, workdir) if scenario else None
            table.append(row)
        rowwise = run_scenario("pandas_rowwise_compute", workdir)
        print_table(table, args.markdown)
        rate = rowwise["rows_measured"] / rowwise["seconds"]
        compute_row = table[1]
        print(
            f"\nfull recompute, first run in a fresh process (writes every value): "
            f"{compute_row['sizhen']['cold_seconds']:.2f} s"
        )
        print(
            f"pandas row-wise (working days via the calendar API per row): "
            f"{rowwise['rows_measured']:,} rows in {rowwise['seconds']:.1f} s = {rate:,.0f} rows/s, "
            f"i.e. {args.rows / rate:,.0f} s projected for {args.rows:,} rows "
            f"({args.rows / rate / compute_row['sizhen']['seconds']:,.0f}× Sizhen)"
        )


def _fmt(result: dict | None, rows: int) -> str:
    if not result:
        return "—"
    rate = rows / result["seconds"] if result["seconds"] else 0
    return f"{result['seconds']:.2f} s ({rate:,.0f} rows/s, {result['peak_mb']:,.0f} MB)"


def print_table(table: list[dict], markdown: bool) -> None:
    header = [
        "measure",
        "rows",
        "Sizhen",
        "straightforward",
        "floor (raw engine)",
        "vs straightforward",
        "vs floor",
    ]
    lines = []
    for row in table:
        ours, alt, floor = row["sizhen"], row["alternative"], row["floor"]
        lines.append(
            [
                row["label"],
                f"{row['rows']:,}",
                _fmt(ours, row["rows"]),
                _fmt(alt, row["rows"]),
                _fmt(floor, row["rows"]),
                f"{alt['seconds'] / ours['seconds']:.1f}× faster" if alt else "—",
                f"{ours['seconds'] / floor['seconds']:.1f}× the floor" if floor else "—",
            ]
        )
        if ours and "load_seconds" in ours:
            lines[-1][2] += f"; the 10k-row load itself {ours['load_seconds']:.2f} s"
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        for line in [header, *lines]:
            print("  ".join(line))


if __name__ == "__main__":
    main()
