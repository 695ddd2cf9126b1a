"""Bench for issue 4: an alert scan over 100,000 series (target ≤ 10 s), side by side in one run.

    .venv/bin/python bench/alerts_scan.py [--indicators 1000] [--regions 100] [--months 36]
        [--exact-sample 5] [--markdown]

Data, in a temp SQLite database with the production settings: a province-sized catalogue of
``--indicators`` monthly leaf indicators × ``--regions`` regions (a city and its districts) ×
``--months`` months of values = 100,000 series and 3.6 million ``IndicatorValue`` rows by
default, seasonal with Spring Festival dips, with planted spikes, drops, level shifts and
extreme districts, and goalposts for every indicator. Measured:

1. the platform's scan, ``scan_indicator_values()`` (bulk mode, chosen automatically above
   ``SIZHEN_ALERT_EXACT_SERIES``): read, detection, and the alert upsert, then a rescan of the
   same data (alerts updated or unchanged, none duplicated);
2. the straightforward alternative: the per-indicator mode (``find_indicator``: one ORM read
   and one call of the series rule per indicator) on ``--exact-sample`` indicators,
   extrapolated to all series;
3. the raw engine: ``series.check_series`` alone on the in-memory frame, and the plain cursor
   read of the values alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FESTIVAL = {2023: 1, 2024: 2, 2025: 1, 2026: 2}


def setup_django(workdir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
            or f"sqlite:///{workdir / 'bench.sqlite3'}",
            "SIZHEN_DATA_DIR": str(workdir),
            "SIZHEN_ANALYTICS_DIR": str(workdir / "analytics"),
            "SIZHEN_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def months(n: int) -> list[dt.date]:
    out = []
    for i in range(n):
        m = 2023 * 12 + i  # from 2023-01
        out.append(dt.date(m // 12, m % 12 + 1, 1))
    return out


def build(args: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.db import connection, transaction

    from sizhen.indicators.catalogue.choices import Frequency, SourceKind
    from sizhen.indicators.catalogue.models import (
        EvaluationCycle,
        Goalpost,
        Indicator,
        IndicatorValue,
    )
    from sizhen.organisations import services as org
    from sizhen.organisations.choices import RegionLevel

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    city = org.create_region(actor=None, code="440000", name="示范省会", level=RegionLevel.CITY)
    regions = [city] + [
        org.create_region(
            actor=None, code=f"44{i:04d}", name=f"区县{i}", level=RegionLevel.DISTRICT, parent=city
        )
        for i in range(1, args.regions)
    ]
    root = Indicator.objects.create(
        code="BE", name="总分", level=0, frequency=Frequency.MONTH, source_kind="composite"
    )
    first = [
        Indicator.objects.create(
            code=f"BE{i:02d}",
            name=f"一级{i}",
            parent=root,
            level=1,
            frequency=Frequency.MONTH,
            source_kind=SourceKind.COMPOSITE,
        )
        for i in range(1, 19)
    ]
    leaves = Indicator.objects.bulk_create(
        [
            Indicator(
                code=f"{first[i % 18].code}.{i // 18 + 1:03d}",
                name=f"指标{i}",
                parent=first[i % 18],
                level=2,
                direction="higher_is_better",
                frequency=Frequency.MONTH,
                source_kind=SourceKind.RECORDS,
                unit="件",
            )
            for i in range(args.indicators)
        ]
    )
    cycle = EvaluationCycle.objects.create(
        code="2026", name="2026年度", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31)
    )
    Goalpost.objects.bulk_create(
        [Goalpost(indicator=i, cycle=cycle, best=200, worst=0, target=50) for i in leaves]
    )
    periods = months(args.months)
    season = np.array(
        [
            (1.08 if p.month in (3, 6, 9) else 1.0)
            * (1.15 if p.month == 12 else 1.0)
            * (0.6 if FESTIVAL.get(p.year) == p.month else 1.0)
            for p in periods
        ]
    )
    rng = np.random.default_rng(7)
    table = IndicatorValue._meta.db_table
    sql = (
        f"INSERT INTO {table} (indicator_id, region_id, period, frequency, source_kind, value, "
        "observations, computed_at) VALUES (%s, %s, %s, 'month', 'records', %s, 0, %s)"
    )
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    planted = {"spike": 0, "drop": 0, "shift": 0, "extreme": 0}
    total = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for n, indicator in enumerate(leaves):
            level = rng.uniform(80, 120, size=len(regions))
            block = (
                level[:, None]
                * season[None, :]
                * (1 + rng.normal(0, 0.01, (len(regions), len(periods))))
            )
            kind = n % 50  # every 50th indicator gets one planted anomaly of each kind
            if kind == 0:
                block[1, -1] *= 1.6
                planted["spike"] += 1
            elif kind == 1:
                block[2, -1] *= 0.5
                planted["drop"] += 1
            elif kind == 2:
                block[3, -3:] *= 1.4
                planted["shift"] += 1
            elif kind == 3:
                block[4, -1] = 400.0
                planted["extreme"] += 1
            rows = [
                (indicator.pk, region.pk, period, float(block[r, t]), now)
                for r, region in enumerate(regions)
                for t, period in enumerate(periods)
            ]
            cursor.executemany(sql, rows)
            total += len(rows)
    return {
        "seconds": time.perf_counter() - start,
        "values": total,
        "series": len(leaves) * len(regions),
        "indicators": len(leaves),
        "regions": len(regions),
        "months": len(periods),
        "planted": planted,
    }


def timed_scan() -> dict:
    from django.db import connection

    from sizhen.monitoring import bulk, scan
    from sizhen.monitoring.models import Alert

    parts: dict[str, float] = {}
    original = {
        "load_values": bulk.load_values,
        "find_series": scan.find_series,
        "apply_scan_findings": scan.apply_scan_findings,
    }

    def wrap(name: str, module: object) -> None:
        inner = original[name]

        def timed(*a: object, **k: object) -> object:
            t = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - t

        setattr(module, name, timed)

    # A worker process has its URL configuration loaded after its first job; the digest's
    # links would otherwise charge the first scan with importing every app's URLs (~2 s).
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
    wrap("load_values", bulk)
    wrap("find_series", scan)
    wrap("apply_scan_findings", scan)
    load = os.getloadavg()[0]
    t = time.perf_counter()
    result = scan.scan_indicator_values()
    seconds = time.perf_counter() - t
    bulk.load_values = original["load_values"]  # type: ignore[assignment]
    scan.find_series = original["find_series"]  # type: ignore[assignment]
    scan.apply_scan_findings = original["apply_scan_findings"]  # type: ignore[assignment]
    connection.close()
    kinds: dict[str, int] = {}
    for kind in Alert.objects.values_list("kind", flat=True):
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "seconds": seconds,
        "parts": parts,
        "result": result.as_dict(),
        "alerts_by_kind": kinds,
        "loadavg_before": load,
    }


PLANTED = {
    0: (1, "abnormal_change"),
    1: (2, "abnormal_change"),
    2: (3, "level_shift"),
    3: (4, "cross_sectional_extreme"),
}


def planted_found(data: dict) -> dict:
    """How many of the planted anomalies the scan reported, with the right kind and region
    (the leaves and regions are built in a fixed order, see build())."""
    from sizhen.monitoring.models import Alert

    first = [f"BE{i:02d}" for i in range(1, 19)]
    wanted = set()
    for n in range(data["indicators"]):
        if n % 50 in PLANTED:
            region_index, kind = PLANTED[n % 50]
            code = f"{first[n % 18]}.{n // 18 + 1:03d}"
            wanted.add((code, f"44{region_index:04d}", kind))
    found = set(Alert.objects.values_list("indicator__code", "region__code", "kind"))
    return {"planted": len(wanted), "found": len(wanted & found), "alerts": len(found)}


def exact_sample(args: argparse.Namespace, series_total: int) -> dict:
    """The straightforward path: the per-indicator mode, one indicator at a time."""
    from sizhen.indicators.catalogue.models import Indicator
    from sizhen.monitoring.rules import RuleBook
    from sizhen.monitoring.scan import _leaf_indicators, find_indicator
    from sizhen.organisations.models import Region

    regions = {r.pk: r for r in Region.objects.all()}
    rules = RuleBook()
    sample = [i for i in _leaf_indicators() if isinstance(i, Indicator)][: args.exact_sample]
    t = time.perf_counter()
    findings = 0
    for indicator in sample:
        found, _ = find_indicator(indicator, regions, None, rules.for_indicator(indicator))
        findings += len(found)
    seconds = time.perf_counter() - t
    series = len(sample) * len(regions)
    return {
        "series": series,
        "seconds": seconds,
        "per_series_ms": seconds * 1000 / series,
        "extrapolated_seconds": seconds / series * series_total,
        "findings": findings,
    }


def raw_engine() -> dict:
    from sizhen.indicators.catalogue.models import Indicator
    from sizhen.monitoring import bulk
    from sizhen.monitoring.scan import _leaf_indicators
    from sizhen.monitoring.series import check_series

    leaves = [i for i in _leaf_indicators() if isinstance(i, Indicator)]
    t = time.perf_counter()
    frame = bulk.load_values(leaves)
    read = time.perf_counter() - t
    series = frame.assign(series_id=frame["indicator_id"] * 10_000_000 + frame["region_id"])[
        ["series_id", "period", "value"]
    ]
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        found = check_series(series)
        runs.append(time.perf_counter() - t)
    return {
        "read_seconds": read,
        "rows": len(frame),
        "scan_many_seconds": statistics.median(runs),
        "findings": len(found),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=1000)
    parser.add_argument("--regions", type=int, default=100)
    parser.add_argument("--months", type=int, default=40)
    parser.add_argument("--exact-sample", type=int, default=5)
    parser.add_argument("--force-bulk", action="store_true", help="bulk mode at any size")
    parser.add_argument("--workdir", help="keep the database here and reuse it on the next run")
    parser.add_argument("--only-scan", action="store_true", help="skip the exact and raw rows")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sizhen-bench-alerts-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        built = workdir / "built.json"
        setup_django(workdir)
        if args.force_bulk:
            from django.conf import settings

            settings.SIZHEN_ALERT_EXACT_SERIES = 0
        if built.exists():  # --workdir of an earlier run: reuse its data, drop its alerts
            from sizhen.monitoring.models import Alert

            Alert.objects.all().delete()
            data = json.loads(built.read_text())
        else:
            data = build(args)
            built.write_text(json.dumps(data))
        first = timed_scan()
        first["planted"] = planted_found(data)
        again = timed_scan()
        if args.only_scan:
            print(json.dumps({"scan": first, "rescan": again}, default=str))
            return
        exact = exact_sample(args, data["series"])
        raw = raw_engine()
    report = {"data": data, "scan": first, "rescan": again, "exact": exact, "raw": raw}
    print_report(report, args.markdown)
    print("\n" + json.dumps(report, default=str))


def print_report(r: dict, markdown: bool) -> None:
    d = r["data"]
    print(
        f"data: {d['indicators']:,} leaf indicators × {d['regions']} regions × {d['months']} months "
        f"= {d['series']:,} series, {d['values']:,} values (built in {d['seconds']:.0f} s); "
        f"planted {d['planted']}"
    )
    rows = []
    for label, key in (
        ("platform scan (bulk mode), first", "scan"),
        ("platform scan, rescan", "rescan"),
    ):
        s = r[key]
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in s["parts"].items())
        rows.append(
            [
                label,
                f"{s['seconds']:.2f} s",
                f"{parts}; {s['result']}; load avg {s['loadavg_before']:.1f}",
            ]
        )
    e = r["exact"]
    rows.append(
        [
            f"straightforward: per-indicator mode on {e['series']:,} series, extrapolated",
            f"{e['extrapolated_seconds']:.0f} s",
            f"{e['per_series_ms']:.1f} ms a series ({e['seconds']:.1f} s measured)",
        ]
    )
    raw = r["raw"]
    rows.append(
        [
            "raw engine: check_series on the in-memory frame",
            f"{raw['scan_many_seconds']:.2f} s",
            f"{raw['findings']} findings",
        ]
    )
    rows.append(
        [
            "raw engine: cursor read of the values",
            f"{raw['read_seconds']:.2f} s",
            f"{raw['rows']:,} rows",
        ]
    )
    print(f"alerts by kind after the first scan: {r['scan']['alerts_by_kind']}")
    p = r["scan"]["planted"]
    print(f"planted anomalies found with the right kind and region: {p['found']} of {p['planted']}")
    if markdown:
        print("| measure | time | detail |\n|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        for row in rows:
            print("  ".join(row))


if __name__ == "__main__":
    main()
