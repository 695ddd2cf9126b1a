"""Bench of the data-asset extract (issue 14): one million records of 政务服务办件 to CSV and to
XLSX, streamed (the job's path: ``ingestion.extracts.stream_records`` fetching 10,000 rows at a
time, masked, into ``core.xlsx.stream_rows_to_file``), side by side with the naive way (fetch
every row into a list, mask, then write the same file). Each scenario runs in its own process,
so its peak memory (ru_maxrss, MB) is its own; the table shows it above the process's size
before the extract started.

    .venv/bin/python bench/assets_extract.py [--rows 1000000] [--markdown]
"""

from __future__ import annotations

import argparse
import datetime as dt
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
sys.path.insert(0, str(ROOT / "bench"))

from pages import bench_env  # noqa: E402

FIELDS = [
    "case_id", "item_code", "item_name", "region_code", "department_code", "applicant_type",
    "channel", "submitted_at", "accepted_at", "completed_at", "statutory_limit",
    "promised_limit", "visits", "status",
]  # fmt: skip
START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(workdir: Path) -> None:
    os.environ.update(bench_env(workdir))
    import django

    django.setup()


def prepare(workdir: Path, rows: int) -> None:
    setup(workdir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from sizhen.indicators.ingestion.engine import store
    from sizhen.indicators.ingestion.models import Dataset

    dataset = Dataset.objects.get(code="gov_service_cases")
    with store.open_store() as con:
        store.ensure_records_table(con, dataset.code, dataset.schema().fields)
        con.execute(
            f"""
            INSERT INTO records_gov_service_cases ({", ".join(FIELDS)})
            SELECT 'C' || lpad(CAST(i AS VARCHAR), 9, '0'), 'IT' || (i % 400),
                   '事项名称' || (i % 400), '4499' || lpad(CAST(1 + i % 8 AS VARCHAR), 2, '0'),
                   'DEP' || (i % 60), CASE WHEN i % 3 = 0 THEN '个人' ELSE '企业' END,
                   CASE WHEN i % 2 = 0 THEN '网上' ELSE '窗口' END,
                   TIMESTAMP '2025-01-01' + INTERVAL (i % 31536000) SECOND,
                   TIMESTAMP '2025-01-01' + INTERVAL (i % 31536000 + 3600) SECOND,
                   TIMESTAMP '2025-01-01' + INTERVAL (i % 31536000 + 86400) SECOND,
                   20, 10, i % 3, '办结'
            FROM range({rows}) t(i)
            """
        )


def scenario(workdir: Path, name: str) -> dict:
    setup(workdir)
    from sizhen.core.xlsx import stream_rows_to_file
    from sizhen.indicators.ingestion.engine import store
    from sizhen.indicators.ingestion.extracts import stream_records
    from sizhen.indicators.ingestion.models import Dataset

    dataset = Dataset.objects.get(code="gov_service_cases")
    codes = [f"4499{i:02d}" for i in range(1, 9)]
    file_format = "csv" if name.endswith("csv") else "xlsx"
    path = workdir / f"{name}.{file_format}"
    before = rss_mb()
    started = time.perf_counter()
    with store.open_store() as con:
        stream = stream_records(
            con, dataset, region_codes=codes, period_field="completed_at", start=START, end=END,
            fields=FIELDS, unmasked=False,
        )  # fmt: skip
        headers = [label for _, label in stream.columns]
        rows = stream.rows if name.startswith("stream") else list(stream.rows)
        written = stream_rows_to_file(path, file_format, headers, rows)
    seconds = time.perf_counter() - started
    return {
        "scenario": name,
        "rows": written,
        "seconds": seconds,
        "peak_mb": rss_mb(),
        "before_mb": before,
        "file_mb": path.stat().st_size / 1024 / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--scenario", default="")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--prepare", action="store_true")
    args = parser.parse_args()
    if args.prepare:
        prepare(Path(args.workdir), args.rows)
        return
    if args.scenario:
        print(json.dumps(scenario(Path(args.workdir), args.scenario)))
        return
    with tempfile.TemporaryDirectory(prefix="sizhen-extract-bench-") as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--prepare", "--rows", str(args.rows), "--workdir", tmp],
            check=True,
        )
        print(
            f"prepared {args.rows:,} records in {time.perf_counter() - started:.1f} s", flush=True
        )
        results = []
        for name in ("stream_csv", "naive_csv", "stream_xlsx", "naive_xlsx"):
            out = subprocess.run(
                [sys.executable, __file__, "--scenario", name, "--workdir", tmp],
                check=True,
                capture_output=True,
                text=True,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    if args.markdown:
        print("| scenario | rows | time | rows/s | peak RSS | above start | file |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            print(
                f"| {r['scenario']} | {r['rows']:,} | {r['seconds']:.1f} s "
                f"| {r['rows'] / r['seconds']:,.0f} | {r['peak_mb']:.0f} MB "
                f"| {r['peak_mb'] - r['before_mb']:.0f} MB | {r['file_mb']:.0f} MB |"
            )


if __name__ == "__main__":
    main()
