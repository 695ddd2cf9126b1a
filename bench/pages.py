"""Bench for issue 4: the indicator page and the cockpit, side by side in one run.

    .venv/bin/python bench/pages.py [--records 2000000] [--seconds 20] [--workers 3] [--markdown]

Data: 20 regions (a city and 19 districts) × 100 indicators (BE, BE01..BE18, 81 leaves) ×
120 monthly periods of precomputed ``IndicatorValue`` rows. Each scenario runs in its own
process against a temp SQLite database, with the production settings (DEBUG off):

1. server time of the pages through the Django test client, in-process;
2. the straightforward alternative: the same figures computed per request from raw records in
   DuckDB (one SQL per request), and the floor: a raw SQL read of the precomputed values;
3. throughput under gunicorn (sync workers) on 127.0.0.1, driven by wrk (or a threaded
   http.client load generator when wrk is missing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CITY = "449900"
DISTRICTS = [f"4499{i:02d}" for i in range(1, 20)]
REGIONS = [CITY, *DISTRICTS]
FIRST_LEVEL = [f"BE{i:02d}" for i in range(1, 19)]
MONTHS = 120
FIRST_MONTH = (2016, 11)  # 120 months up to 2026-10
INDICATOR_REQUESTS = 200
COCKPIT_REQUESTS = 50
RAW_REQUESTS = 200


def leaf_codes() -> list[str]:
    """81 leaves spread over the 18 first-level indicators: 100 indicators in all."""
    codes = []
    for i in range(81):
        parent = FIRST_LEVEL[i % 18]
        codes.append(f"{parent}.{i // 18 + 1:02d}")
    return codes


ALL_CODES = ["BE", *FIRST_LEVEL, *leaf_codes()]


def bench_env(workdir: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "SIZHEN_DATA_DIR": str(workdir),
        "SIZHEN_ANALYTICS_DIR": str(workdir / "analytics"),
        "SIZHEN_LOG_LEVEL": "WARNING",
    }


def setup_django(workdir: Path) -> None:
    os.environ.update(bench_env(workdir))
    import django

    django.setup()


def months() -> list:
    import datetime as dt

    year, month = FIRST_MONTH
    out = []
    for i in range(MONTHS):
        m = year * 12 + month - 1 + i
        out.append(dt.date(m // 12, m % 12 + 1, 1))
    return out


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return {
        "n": len(ordered),
        "median_ms": statistics.median(ordered),
        "p95_ms": p95,
        "max_ms": ordered[-1],
    }


# --- scenarios (each in its own process) ------------------------------------------------------


def scenario_prepare(workdir: Path, args: argparse.Namespace) -> dict:
    setup_django(workdir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return seed(workdir)


def seed(workdir: Path) -> dict:
    """The pages' data and a leader's session (in ``workdir/session.json``) in the configured
    database, migrated already; regions that exist are kept (bench/soak.py seeds the intake's
    first)."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("collectstatic", verbosity=0, interactive=False)
    from sizhen.accounts.models import User
    from sizhen.core.roles import Role
    from sizhen.indicators.catalogue.choices import Frequency, SourceKind
    from sizhen.indicators.catalogue.models import (
        EvaluationCycle,
        Goalpost,
        Indicator,
        IndicatorValue,
    )
    from sizhen.organisations import services as org
    from sizhen.organisations.choices import RegionLevel
    from sizhen.organisations.models import Region

    start = time.perf_counter()
    root = Region.objects.filter(code=CITY).first() or org.create_region(
        actor=None, code=CITY, name="示范市", level=RegionLevel.CITY
    )
    regions = [root] + [
        Region.objects.filter(code=code).first()
        or org.create_region(
            actor=None, code=code, name=f"区{code}", level=RegionLevel.DISTRICT, parent=root
        )
        for code in DISTRICTS
    ]
    be = Indicator.objects.create(
        code="BE",
        name="营商环境总分",
        direction="higher_is_better",
        level=0,
        frequency=Frequency.MONTH,
        source_kind=SourceKind.COMPOSITE,
    )
    first = {
        code: Indicator.objects.create(
            code=code,
            name=f"一级指标{code}",
            parent=be,
            level=1,
            direction="higher_is_better",
            frequency=Frequency.MONTH,
            source_kind=SourceKind.COMPOSITE,
            sort_order=i,
        )
        for i, code in enumerate(FIRST_LEVEL)
    }
    leaves = Indicator.objects.bulk_create(
        [
            Indicator(
                code=code,
                name=f"指标{code}",
                parent=first[code.split(".")[0]],
                level=2,
                direction="lower_is_better" if i % 3 == 0 else "higher_is_better",
                frequency=Frequency.MONTH,
                source_kind=SourceKind.RECORDS,
                unit="天",
            )
            for i, code in enumerate(leaf_codes())
        ]
    )
    indicators = [be, *first.values(), *leaves]
    cycle = EvaluationCycle.objects.create(
        code="2026", name="2026年度", starts_on=months()[-10], ends_on=months()[-1], is_current=True
    )
    Goalpost.objects.bulk_create(
        [Goalpost(indicator=i, cycle=cycle, best=100, worst=0, target=80) for i in indicators]
    )
    rng = random.Random(4)
    periods = months()
    batch: list = []
    total = 0
    for indicator in indicators:
        kind = indicator.source_kind
        for period in periods:
            values = [rng.uniform(40, 100) for _ in DISTRICTS]
            order = sorted(range(len(values)), key=lambda k: -values[k])
            ranks = {k: r + 1 for r, k in enumerate(order)}
            city_value = sum(values) / len(values)
            for region, value, rank in [(root, city_value, None)] + [
                (regions[k + 1], values[k], ranks[k]) for k in range(len(values))
            ]:
                batch.append(
                    IndicatorValue(
                        indicator=indicator,
                        region=region,
                        period=period,
                        frequency=Frequency.MONTH,
                        source_kind=kind,
                        value=value,
                        observations=1000,
                        score=value,
                        rank=rank,
                        rank_total=len(DISTRICTS) if rank else None,
                    )
                )
            if len(batch) >= 20_000:
                IndicatorValue.objects.bulk_create(batch)
                total += len(batch)
                batch = []
    IndicatorValue.objects.bulk_create(batch)
    total += len(batch)
    leader = User(username="leader", role=Role.LEADER, full_name="市领导")
    leader.set_password("Bench-Password-2026")
    leader.must_change_password = False
    leader.save()
    client = Client()
    client.force_login(leader)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    (workdir / "session.json").write_text(
        json.dumps({"name": settings.SESSION_COOKIE_NAME, "value": cookie})
    )
    return {
        "seconds": time.perf_counter() - start,
        "values": total,
        "indicators": len(indicators),
        "regions": len(regions),
    }


def _indicator_urls(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"/dashboards/indicators/{rng.choice(ALL_CODES)}/?region={rng.choice(REGIONS)}"
        for _ in range(n)
    ]


def scenario_client(workdir: Path, args: argparse.Namespace) -> dict:
    """Server time through the test client: the whole Django stack, no socket."""
    setup_django(workdir)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sizhen.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="leader"))

    def timed(urls: list[str]) -> list[float]:
        out = []
        for url in urls:
            t = time.perf_counter()
            response = client.get(url)
            out.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        return out

    from django.test.utils import override_settings

    timed(_indicator_urls(10, 99) + ["/dashboards/cockpit/"] * 3)  # warm caches and templates
    loadavg = os.getloadavg()[0]
    urls = _indicator_urls(INDICATOR_REQUESTS, 1)

    def measured(urls: list[str]) -> tuple[list[float], float]:
        # CPU seconds of this process per request: what bounds throughput on a shared machine,
        # and less disturbed by other processes than the wall-clock latency.
        cpu_start = time.process_time()
        times = timed(urls)
        return times, (time.process_time() - cpu_start) * 1000 / len(urls)

    # Every request computes its figures (the versioned cache off, core/versions.py): a first
    # visit, or the page as it was before the cache.
    with override_settings(SIZHEN_VERSIONED_CACHE_ENTRIES=0):
        computed, computed_cpu = measured(urls)
        cockpit_computed = timed(["/dashboards/cockpit/"] * COCKPIT_REQUESTS)
    timed([*urls, "/dashboards/cockpit/"])  # fill the cache: the first visit of each page
    indicator_times, cpu_ms = measured(urls)
    result = {
        "indicator": percentiles(indicator_times),
        "indicator_cpu_ms": cpu_ms,
        "indicator_computed": percentiles(computed),
        "indicator_computed_cpu_ms": computed_cpu,
        "loadavg_before": loadavg,
        "cockpit": percentiles(timed(["/dashboards/cockpit/"] * COCKPIT_REQUESTS)),
        "cockpit_computed": percentiles(cockpit_computed),
    }
    queries = {}
    for label, url in (
        ("leaf BE01.01, a district", f"/dashboards/indicators/BE01.01/?region={DISTRICTS[0]}"),
        ("first-level BE01, the city", f"/dashboards/indicators/BE01/?region={CITY}"),
        ("root BE, the city", f"/dashboards/indicators/BE/?region={CITY}"),
        ("cockpit", "/dashboards/cockpit/"),
    ):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            client.get(url)
            ms = (time.perf_counter() - t) * 1000
        queries[label] = {"queries": len(ctx.captured_queries), "ms": ms}
    result["queries"] = queries
    result["by_kind"] = {
        kind: percentiles(timed([url] * 30))
        for kind, url in (
            ("leaf", f"/dashboards/indicators/BE01.01/?region={DISTRICTS[0]}"),
            ("first-level", f"/dashboards/indicators/BE01/?region={CITY}"),
            ("root BE", f"/dashboards/indicators/BE/?region={CITY}"),
        )
    }
    # The floor: the page's two reads of precomputed values as raw SQL, no ORM, no template.
    from sizhen.indicators.catalogue.models import IndicatorValue

    table = IndicatorValue._meta.db_table
    rng = random.Random(2)
    ids = dict(connection.cursor().execute("SELECT code, id FROM indicators_indicator").fetchall())
    region_ids = dict(
        connection.cursor().execute("SELECT code, id FROM organisations_region").fetchall()
    )
    floor = []
    for _ in range(RAW_REQUESTS):
        ind, reg = ids[rng.choice(ALL_CODES)], region_ids[rng.choice(REGIONS)]
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT period, value FROM {table} WHERE indicator_id = %s AND region_id = %s "
                "ORDER BY period",
                [ind, reg],
            )
            series = cur.fetchall()
            cur.execute(
                f"SELECT region_id, value, score, rank FROM {table} "
                "WHERE indicator_id = %s AND period = %s AND rank IS NOT NULL ORDER BY rank",
                [ind, series[-1][0]],
            )
            ranking = cur.fetchall()
        floor.append((time.perf_counter() - t) * 1000)
        assert len(series) == MONTHS and len(ranking) == len(DISTRICTS)
    result["floor"] = percentiles(floor)
    return result


def scenario_raw(workdir: Path, args: argparse.Namespace) -> dict:
    """The straightforward alternative: compute the page's figures from raw records per request."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    start = time.perf_counter()
    # gov_service_cases-like rows: 500 service items, 19 districts, 120 months.
    con.execute(
        f"""CREATE TABLE cases AS SELECT
        'C' || i AS case_no, hash(i) % 500 AS item_no,
        '4499' || lpad(((hash(i + 1) % 19) + 1)::VARCHAR, 2, '0') AS region_code,
        TIMESTAMP '2016-11-01 09:00:00' + INTERVAL (hash(i + 2) % 3650) DAY
            + INTERVAL ((i * 7) % 480) MINUTE AS accepted_at,
        TIMESTAMP '2016-11-01 16:00:00' + INTERVAL (hash(i + 2) % 3650 + (i * 7) % 11) DAY
            AS finished_at,
        1 + (i % 7) AS promised_days, (i * 13) % 3 AS visits,
        CASE WHEN i % 3 = 0 THEN '个人' ELSE '企业' END AS applicant_type
        FROM range({args.records}) t(i)"""
    )
    build = time.perf_counter() - start
    metrics = [
        "avg(date_diff('hour', accepted_at, finished_at) / 24.0)",
        "avg(CASE WHEN date_diff('day', accepted_at, finished_at) <= promised_days "
        "THEN 100.0 ELSE 0 END)",
        "avg(visits)",
        "avg(CASE WHEN visits = 0 THEN 100.0 ELSE 0 END)",
    ]
    sql = """
    WITH scoped AS (
        SELECT date_trunc('month', accepted_at) AS period, region_code, {metric_inputs}
        FROM cases WHERE item_no % 100 = ?
    ),
    series AS (
        SELECT 'series' AS part, period, NULL AS region_code, {metric} AS value
        FROM scoped WHERE region_code LIKE ? GROUP BY period
    ),
    latest AS (
        SELECT 'ranking' AS part, period, region_code, {metric} AS value FROM scoped
        WHERE period = (SELECT max(period) FROM scoped) GROUP BY period, region_code
    )
    SELECT * FROM series UNION ALL
    SELECT part, period, region_code, value FROM latest ORDER BY part, period, value DESC
    """
    rng = random.Random(3)
    times: list[float] = []
    row_counts: list[int] = []
    for n in range(RAW_REQUESTS + 5):
        metric = metrics[n % len(metrics)]
        code = rng.choice(REGIONS)
        query = sql.format(
            metric_inputs="accepted_at, finished_at, promised_days, visits", metric=metric
        )
        t = time.perf_counter()
        rows = con.execute(
            query, [rng.randrange(100), "4499%" if code == CITY else code]
        ).fetchall()
        if n >= 5:  # the first few warm DuckDB
            times.append((time.perf_counter() - t) * 1000)
        assert rows, "no rows"
        row_counts.append(len(rows))
    return {
        "rows_per_answer": statistics.mean(row_counts),
        "raw": percentiles(times),
        "records": args.records,
        "build_seconds": build,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, cookie: str, proc: subprocess.Popen) -> None:
    import http.client

    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited early")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/dashboards/cockpit/", headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"cockpit answered {response.status} under gunicorn")
            return
        except (ConnectionRefusedError, OSError):
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not become ready")


def _run_wrk(port: int, cookie: str, paths: list[str], seconds: int, workdir: Path) -> dict:
    script = workdir / f"paths-{len(paths)}.lua"
    lua_paths = ", ".join(f'"{p}"' for p in paths)
    script.write_text(
        f"local paths = {{{lua_paths}}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\n'
        "end\n"
        "done = function(summary, latency, requests)\n"
        "  for _, p in ipairs({50, 90, 95, 99}) do\n"
        '    io.write(string.format("P%d %f\\n", p, latency:percentile(p) / 1000))\n'
        "  end\n"
        '  io.write(string.format("REQS %d ERRS %d NON2XX %d\\n", summary.requests,\n'
        "    summary.errors.connect + summary.errors.read + summary.errors.write\n"
        "    + summary.errors.timeout, summary.errors.status))\n"
        "end\n"
    )
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c4",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            "-H",
            f"Cookie: {cookie}",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {f"p{m[0]}_ms": float(m[1]) for m in re.findall(r"^P(\d+) ([\d.]+)$", out, re.M)}
    counts = re.search(r"REQS (\d+) ERRS (\d+) NON2XX (\d+)", out)
    return {
        "tool": "wrk -t2 -c4",
        "rps": rps,
        **pct,
        "requests": int(counts[1]),
        "socket_errors": int(counts[2]),
        "non_2xx": int(counts[3]),
    }


def _run_python_load(port: int, cookie: str, paths: list[str], seconds: int) -> dict:
    import http.client

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = offset
        local, bad = [], 0
        while time.time() < stop:
            t = time.perf_counter()
            conn.request("GET", paths[i % len(paths)], headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            local.append((time.perf_counter() - t) * 1000)
            bad += response.status != 200
            i += 1
        with lock:
            latencies.extend(local)
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(k * 37,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = percentiles(latencies)
    return {
        "tool": "python http.client, 4 threads",
        "rps": len(latencies) / seconds,
        "p50_ms": stats["median_ms"],
        "p95_ms": stats["p95_ms"],
        "requests": len(latencies),
        "non_2xx": errors[0],
    }


def scenario_load(workdir: Path, args: argparse.Namespace) -> dict:
    """Throughput under gunicorn on loopback; gunicorn is always stopped at the end."""
    session = json.loads((workdir / "session.json").read_text())
    cookie = f"{session['name']}={session['value']}"
    port = _free_port()
    env = {**os.environ, **bench_env(workdir)}
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_ready(port, cookie, proc)
        indicator_paths = _indicator_urls(500, 5)
        cockpit_paths = ["/dashboards/cockpit/"]
        use_wrk = shutil.which("wrk") is not None
        results: dict = {"loadavg_before": os.getloadavg()[0]}
        for label, paths, seconds in (
            ("indicator", indicator_paths, args.seconds),
            ("cockpit", cockpit_paths, max(5, args.seconds // 2)),
        ):
            if use_wrk:
                results[label] = _run_wrk(port, cookie, paths, seconds, workdir)
            else:
                results[label] = _run_python_load(port, cookie, paths, seconds)
        results["workers"] = args.workers
        # Other processes on the box (e.g. test runs) share the 2 cores; recorded, not hidden.
        results["loadavg_after"] = os.getloadavg()[0]
        return results
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


SCENARIOS = {
    "prepare": scenario_prepare,
    "client": scenario_client,
    "raw": scenario_raw,
    "load": scenario_load,
}


def run_scenario(name: str, workdir: Path, args: argparse.Namespace) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--scenario",
            name,
            "--workdir",
            str(workdir),
            "--records",
            str(args.records),
            "--seconds",
            str(args.seconds),
            "--workers",
            str(args.workers),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scenario {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--scenario")
    parser.add_argument("--workdir")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(SCENARIOS[args.scenario](Path(args.workdir), args)))
        return
    with tempfile.TemporaryDirectory(prefix="sizhen-bench-pages-") as tmp:
        workdir = Path(tmp)
        results = {name: run_scenario(name, workdir, args) for name in SCENARIOS}
    print_report(results, args.markdown)
    print("\n" + json.dumps(results))


def _ms(stats: dict) -> str:
    return f"{stats['median_ms']:.1f} / {stats['p95_ms']:.1f}"


def print_report(results: dict, markdown: bool) -> None:
    prep, client, raw, load = (results[k] for k in ("prepare", "client", "raw", "load"))
    print(
        f"data: {prep['regions']} regions × {prep['indicators']} indicators × {MONTHS} months = "
        f"{prep['values']:,} IndicatorValue rows (built in {prep['seconds']:.1f} s); "
        f"raw records {raw['records']:,} (built in {raw['build_seconds']:.1f} s)"
    )
    header = ["measure", "requests", "median / p95 ms", "target"]
    rows = [
        [
            "indicator page, test client (mixed codes/regions), figures cached",
            str(client["indicator"]["n"]),
            _ms(client["indicator"]),
            "≤ 50 / ≤ 150",
        ],
        [
            "indicator page, test client, figures computed (cache off; first visit)",
            str(client["indicator_computed"]["n"]),
            _ms(client["indicator_computed"]),
            "≤ 50 / ≤ 150",
        ],
        *[
            [f"  of which {kind} page only", str(stats["n"]), _ms(stats), ""]
            for kind, stats in client["by_kind"].items()
        ],
        [
            "cockpit, test client, figures cached",
            str(client["cockpit"]["n"]),
            _ms(client["cockpit"]),
            "≤ 200 median",
        ],
        [
            "cockpit, test client, figures computed (cache off)",
            str(client["cockpit_computed"]["n"]),
            _ms(client["cockpit_computed"]),
            "≤ 200 median",
        ],
        [
            "straightforward: series + ranking from raw records in DuckDB, one SQL",
            str(raw["raw"]["n"]),
            _ms(raw["raw"]),
            "—",
        ],
        [
            "floor: raw SQL read of the precomputed values",
            str(client["floor"]["n"]),
            _ms(client["floor"]),
            "—",
        ],
    ]
    for label in ("indicator", "cockpit"):
        r = load[label]
        rows.append(
            [
                f"gunicorn {load['workers']} sync workers, {label}, {r['tool']}",
                f"{r['requests']:,} ({r['non_2xx']} non-2xx)",
                f"{r['rps']:.1f} req/s; p50 {r['p50_ms']:.1f}, p95 {r['p95_ms']:.1f}",
                "≥ 100 req/s" if label == "indicator" else "—",
            ]
        )
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in rows:
            print("| " + " | ".join(line) + " |")
    else:
        for line in [header, *rows]:
            print("  ".join(line))
    print(
        f"\n1-minute load average before/after the gunicorn run: "
        f"{load['loadavg_before']:.2f} / {load['loadavg_after']:.2f} (the bench itself adds ~2)"
    )
    print(
        f"in-process: {client['indicator_cpu_ms']:.1f} ms CPU per indicator page (mixed, figures "
        f"cached), {client['indicator_computed_cpu_ms']:.1f} ms computed; "
        f"1-minute load average before: {client['loadavg_before']:.2f}"
    )
    print("queries per page:")
    for label, q in client["queries"].items():
        print(f"  {label}: {q['queries']} queries, {q['ms']:.1f} ms")


if __name__ == "__main__":
    main()
