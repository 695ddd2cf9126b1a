"""Bench for issue 18: the planted-problem evaluation of the alert scan (recall and false alerts).

    .venv/bin/python bench/alerts_planted.py [--seeds 1 2 3 4 5 6 7 8] [--markdown] [--list-false]

For each seed, in a temp SQLite database with the production settings (``BENCH_DATABASE_URL``
for another database): a city with 10 districts and 4 parks (two under the city, two under a
district), series of 12–48 months (some regions start later), and held-out government-service
case records simulated by ``sizhen.monitoring.simulation`` (districts 200–600 cases a month,
parks 25–60; handling working days with seasonality and the Spring Festival; on time = handling
days ≤ promised limit), aggregated into the monthly values of BE15.07 平均办理时间 (mean handling
working days) and BE15.03 按时办结率 (on-time rate %) per region and rolled up the tree, and
written as ``IndicatorValue`` rows with the numerators, denominators and case counts the engine
writes. Six problems are planted per seed: a delay of every case of a region by 1 or 2 working
days (mean handling time + 1 or + 2) or 5 or 8 more points of late cases (on-time rate − 5 or
− 8), at districts and parks, at various months, among them a park 16 months into its series.

The platform's scan, ``scan_indicator_values([month])``, then checks every month as it
arrives, once in the per-indicator mode and once in bulk mode (forced with
``SIZHEN_ALERT_EXACT_SERIES``). Reported, per mode:

- recall: a planted problem is found when the scan of one of its first 2k months (k = the
  level-shift test's ``level_shift_points``, 3; the case-weighted test judges runs of k to 2k
  months) raises an alert on its indicator for its region whose period is one of its first k
  months (the first shifted month, or one of the next k − 1: the run a level-shift test
  reports starts there); the months from the first shifted one to that scan are reported, and
  how many were found on either indicator (a delay also pushes cases past their limit);
- false alerts: the share of clean region-months (no planted problem in the region or a region
  below it started by that month) for which the scan of that month raised any alert on either
  indicator, by kind and by region level; region-months of a planted region after its k months
  are neither (counted apart);
- parity: the two modes' findings compared field by field (differences printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alerts_scan import setup_django

MONTHS = 48
FIRST = dt.date(2022, 1, 1)
CITY = "449900"
DISTRICTS = [f"4499{i:02d}" for i in range(1, 11)]
#: Parks and the region each belongs to (two directly under the city, two under a district).
PARKS = {"P449951": CITY, "P449952": CITY, "P449953": "449903", "P449954": "449905"}
K = 3


def world(seed: int) -> tuple[list, list]:
    """The seed's regions (volumes, pace, late share, first month) and planted problems."""
    from sizhen.monitoring.simulation import Plant, SimRegion

    rng = np.random.default_rng(1000 + seed)
    late_start = set(rng.choice(DISTRICTS, size=4, replace=False))
    regions = [SimRegion(CITY, "city", None, 0, 0)]
    for code in DISTRICTS:
        start = int(rng.integers(0, MONTHS - 12 + 1)) if code in late_start else 0
        regions.append(
            SimRegion(
                code,
                "district",
                CITY,
                float(rng.uniform(200, 600)),
                start,
                float(rng.uniform(0.8, 1.2)),
                float(rng.uniform(0.005, 0.04)),
            )
        )
    park_starts = [0, int(rng.integers(6, 28)), int(rng.integers(12, 28)), 30]
    for (code, parent), start in zip(PARKS.items(), rng.permutation(park_starts), strict=True):
        regions.append(
            SimRegion(
                code,
                "park",
                parent,
                float(rng.uniform(25, 60)),
                int(start),
                float(rng.uniform(0.8, 1.2)),
                float(rng.uniform(0.005, 0.04)),
            )
        )
    by_code = {r.code: r for r in regions}
    # room for the evaluation: 12 months before a plant and the 2k months it may take after
    parks = [code for code in PARKS if by_code[code].start <= MONTHS - 16 - 2 * K + 1]
    parks = [str(p) for p in rng.permutation(parks)]
    clean_districts = [d for d in DISTRICTS if d not in PARKS.values()]
    # a district that started later, 16 months into its series (else one from the start)
    young = [d for d in clean_districts if 0 < by_code[d].start <= MONTHS - 16 - 2 * K + 1]
    short = young[0] if young else clean_districts[0]
    room = [d for d in clean_districts if d != short and by_code[d].start <= MONTHS - 12 - 2 * K]
    districts = [str(d) for d in rng.permutation(room)]

    def at(code: str, months_in: int | None = None) -> int:
        """Month index of a plant: ``months_in`` months into the region's series, else any
        month with 12 months of history before it and the 2k months after it."""
        start = by_code[code].start
        if months_in is not None:
            return start + months_in - 1
        return int(rng.integers(start + 12, MONTHS - 2 * K + 1))

    plants = [
        Plant(parks[0], at(parks[0], 16), "delay", 1.0),  # the case: a park, 16 months in
        Plant(parks[1], at(parks[1]), "lateness", 5.0),
        Plant(districts[0], at(districts[0]), "delay", 1.0),
        Plant(districts[1], at(districts[1]), "lateness", 5.0),
        Plant(short, at(short, 16), "delay", 2.0),
    ]
    third = parks[2] if len(parks) > 2 else districts[2]
    plants.append(Plant(third, at(third), "lateness", 8.0))
    return regions, plants


def setup_catalogue() -> None:
    from django.core.management import call_command

    from sizhen.monitoring.simulation import create_indicators
    from sizhen.organisations import services as org
    from sizhen.organisations.choices import RegionLevel

    call_command("migrate", verbosity=0)
    city = org.create_region(actor=None, code=CITY, name="示范市", level=RegionLevel.CITY)
    made = {CITY: city}
    for i, code in enumerate(DISTRICTS, start=1):
        made[code] = org.create_region(
            actor=None, code=code, name=f"区县{i:02d}", level=RegionLevel.DISTRICT, parent=city
        )
    for i, (code, parent) in enumerate(PARKS.items(), start=1):
        made[code] = org.create_region(
            actor=None, code=code, name=f"园区{i}", level=RegionLevel.PARK, parent=made[parent]
        )
    create_indicators()


def write_values(values: list) -> None:
    from sizhen.indicators.catalogue.models import IndicatorValue
    from sizhen.monitoring.models import Alert
    from sizhen.monitoring.simulation import store_values

    Alert.objects.all().delete()
    IndicatorValue.objects.all().delete()
    store_values(values)


def run_mode(mode: str, months: list[dt.date]) -> dict[dt.date, list[tuple]]:
    """Findings of the scan of each month, as comparable tuples."""
    from django.conf import settings

    from sizhen.monitoring import scan
    from sizhen.monitoring.models import Alert

    settings.SIZHEN_ALERT_EXACT_SERIES = 0 if mode == "bulk" else 10**9
    Alert.objects.all().delete()
    captured: list = []
    original = scan.apply_scan_findings

    def capture(findings: list, **kwargs: object) -> object:
        captured.extend(findings)
        return original(findings, **kwargs)

    scan.apply_scan_findings = capture  # type: ignore[assignment]
    out: dict[dt.date, list[tuple]] = {}
    try:
        for month in months:
            captured.clear()
            now = dt.datetime.combine(month + dt.timedelta(days=40), dt.time(2), tzinfo=dt.UTC)
            scan.scan_indicator_values([month], now=now)
            out[month] = sorted(
                (
                    item.indicator.code,
                    item.region.code,
                    item.finding.kind,
                    item.finding.period,
                    item.finding.method,
                    item.finding.severity,
                    round(item.finding.value, 6),
                    round(item.finding.score, 6),
                    item.finding.explanation,
                )
                for item in captured
            )
    finally:
        scan.apply_scan_findings = original  # type: ignore[assignment]
    return out


def evaluate(regions: list, plants: list, found: dict[dt.date, list[tuple]]) -> dict:
    from sizhen.monitoring.simulation import month_of

    index_of = {month_of(FIRST, i): i for i in range(MONTHS)}
    level = {r.code: r.level for r in regions}
    parent = {r.code: r.parent for r in regions}
    start = {r.code: r.start for r in regions}
    ancestors: dict[str, set[str]] = defaultdict(set)
    for code in level:
        p = parent[code]
        while p is not None:
            ancestors[code].add(p)
            p = parent[p]
    # first month index at which each region's records include a planted problem
    tainted: dict[str, int] = {}
    for plant in plants:
        for code in {plant.region, *ancestors[plant.region]}:
            tainted[code] = min(tainted.get(code, MONTHS), plant.start)
    alerted: dict[tuple[str, int], list[tuple]] = defaultdict(list)
    for month, rows in found.items():
        for row in rows:
            alerted[(row[1], index_of[month])].append(row)
    recall = []
    for plant in plants:
        window = range(plant.start, plant.start + K)
        seen = [
            (t, row)
            for t in range(plant.start, plant.start + 2 * K)
            for row in alerted.get((plant.region, t), [])
            if index_of[row[3]] in window
        ]
        hits = [(t, row) for t, row in seen if row[0] == plant.indicator]
        recall.append(
            {
                "region": plant.region,
                "level": level[plant.region],
                "kind": plant.kind,
                "size": plant.size,
                "months_in": plant.start - start[plant.region] + 1,
                "found": bool(hits),
                "found_any_indicator": bool(seen),
                "months_to_alert": min((t - plant.start + 1 for t, _ in hits), default=None),
                "how": sorted({(row[2], row[4]) for _, row in hits}),
            }
        )
    false_alerts: list = []
    clean = Counter()
    false = Counter()
    by_kind: Counter = Counter()
    after_window = Counter()
    for code in level:
        for t in range(start[code] if level[code] != "city" else 0, MONTHS):
            if level[code] == "city" and t < min(start.values()):
                continue
            rows = alerted.get((code, t), [])
            if t >= tainted.get(code, MONTHS):
                if code in {p.region for p in plants} and t >= _plant_of(plants, code).start + K:
                    after_window["months"] += 1
                    after_window["alerted"] += bool(rows)
                continue
            age = "first 12 months" if t - start[code] < 12 else "12+ months"
            for key in (level[code], age, "all"):
                clean[key] += 1
                false[key] += bool(rows)
            for kind in {row[2] for row in rows}:
                by_kind[kind] += 1
            if rows:
                false_alerts.append((code, t, [row[:8] for row in rows]))
    return {
        "recall": recall,
        "clean": dict(clean),
        "false": dict(false),
        "false_by_kind": dict(by_kind),
        "after_window": dict(after_window),
        "false_alerts": false_alerts,
    }


def _plant_of(plants: list, code: str):
    return next(p for p in plants if p.region == code)


def compare(exact: dict, bulk: dict) -> list[str]:
    out = []
    for month in sorted(set(exact) | set(bulk)):
        a, b = set(exact.get(month, [])), set(bulk.get(month, []))
        for row in sorted(a - b):
            out.append(f"{month:%Y-%m} exact only: {row[:8]}")
        for row in sorted(b - a):
            out.append(f"{month:%Y-%m} bulk only: {row[:8]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7, 8])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the raw results too")
    parser.add_argument("--list-false", action="store_true", help="print each false alert")
    args = parser.parse_args()
    from sizhen.monitoring.simulation import month_of, simulate

    results: dict[str, list[dict]] = {"exact": [], "bulk": []}
    differences: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sizhen-bench-planted-") as tmp:
        setup_django(Path(tmp))
        setup_catalogue()
        months = [month_of(FIRST, i) for i in range(MONTHS)]
        for seed in args.seeds:
            regions, plants = world(seed)
            write_values(simulate(regions, MONTHS, plants, seed, FIRST))
            found = {mode: run_mode(mode, months) for mode in ("exact", "bulk")}
            for mode in found:
                result = evaluate(regions, plants, found[mode])
                result["seed"] = seed
                results[mode].append(result)
            differences += [f"seed {seed}: {d}" for d in compare(found["exact"], found["bulk"])]
    elapsed = time.perf_counter() - started
    report(results, differences, args.seeds, elapsed, args.markdown, args.list_false)
    if args.json:
        print(json.dumps(results, default=str))


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f} %)" if whole else "—"


def report(
    results: dict,
    differences: list[str],
    seeds: list[int],
    seconds: float,
    markdown: bool,
    list_false: bool = False,
) -> None:
    rows = []
    for mode, runs in results.items():
        plants = [p for run in runs for p in run["recall"]]
        found = sum(p["found"] for p in plants)
        clean, false, kinds = Counter(), Counter(), Counter()
        for run in runs:
            clean.update(run["clean"])
            false.update(run["false"])
            kinds.update(run["false_by_kind"])
        by_level = "; ".join(
            f"{level} {_share(false[level], clean[level])}"
            for level in ("district", "park", "city")
        )
        by_age = "; ".join(
            f"{age} {_share(false[age], clean[age])}" for age in ("first 12 months", "12+ months")
        )
        recall_by = Counter()
        total_by = Counter()
        for p in plants:
            key = f"{p['level']} {p['kind']} {p['size']:g}"
            total_by[key] += 1
            recall_by[key] += p["found"]
        waits = Counter(p["months_to_alert"] for p in plants if p["found"])
        either = sum(p["found_any_indicator"] for p in plants)
        rows.append(
            [
                mode,
                _share(found, len(plants)),
                _share(either, len(plants)),
                ", ".join(f"{m}: {waits[m]}" for m in sorted(waits)),
                ", ".join(f"{k} {recall_by[k]}/{total_by[k]}" for k in sorted(total_by)),
                _share(false["all"], clean["all"]),
                by_level,
                by_age,
                ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none",
            ]
        )
    header = [
        "scan mode",
        "recall",
        "found on either indicator",
        "months from the first shifted one to the alert: problems",
        "recall by level, planted problem, size",
        "clean region-months alerted",
        "by level",
        "by series age",
        "alerted clean region-months by kind",
    ]
    print(
        f"planted-problem evaluation, seeds {seeds}, {MONTHS} months, "
        f"{len(DISTRICTS)} districts + {len(PARKS)} parks + the city; {seconds:.0f} s"
    )
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        for row in rows:
            for name, cell in zip(header, row, strict=True):
                print(f"  {name}: {cell}")
    missed = [(run["seed"], p) for run in results["exact"] for p in run["recall"] if not p["found"]]
    for seed, p in missed:
        print(
            f"missed (exact), seed {seed}: {p['level']} {p['region']} {p['kind']} {p['size']:g} "
            f"{p['months_in']} months into its series; other indicator: {p['found_any_indicator']}"
        )
    if list_false:
        for run in results["exact"]:
            for _, t, rows in run["false_alerts"]:
                print(f"false alert (exact), seed {run['seed']}, month {t}: {rows}")
    print(f"identical alerts on both paths: {'yes' if not differences else 'no'}")
    for line in differences[:40]:
        print("  " + line)
    if len(differences) > 40:
        print(f"  … {len(differences) - 40} more")


if __name__ == "__main__":
    main()
