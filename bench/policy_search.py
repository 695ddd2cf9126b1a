"""Bench for issue 13 (policy library): search on 10,000 policies (target ≤ 50 ms median server
time) on SQLite and PostgreSQL side by side with a naive LIKE scan, and matching every policy to
100,000 enterprises (target ≤ 10 s) against the straightforward per-enterprise loop.

    .venv/bin/python bench/policy_search.py [--policies 10000] [--enterprises 100000]
        [--rounds 5] [--markdown]

SQLite runs in a temp database; PostgreSQL too when BENCH_DATABASE_URL names one (it is
flushed first). Each backend runs in its own process (one Django database per process), with
the production settings. Policies are written like the demo's (sizhen/demo/policies_step.py:
its topics, issuers and paragraphs, varied at random), through the services' bulk path, so the
index is the one the platform writes; then published by the workflow engine.

Measured, per query of a fixed list of 30 policy officers' queries, ``rounds`` times:
1. ``search_policies`` (the service behind the page and the API: segmentation, synonyms, the
   ranked index query with the count, the page's rows, highlighted titles and snippets);
2. the naive alternative: every query word as ``title LIKE %w% OR body LIKE %w%`` (AND across
   words), newest first, count and first page — and how many policies each finds, to show what
   the segmentation and synonyms add (小微 finds 小型微型企业);
3. the floor: the index query alone (``search.ranked``), no snippets.
Matching: reading 100,000 enterprises and matching them all with ``Matcher`` (bit sets per
distinct industry code, size and region), against the per-enterprise loop over every policy on
a sample, extrapolated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = (
    "留抵退税", "小微企业 融资", "首贷 贴息", "专精特新", "一件事一次办", "稳岗返还",
    "研发费用加计扣除", "数字化转型 补助", "个体工商户 房租", "政府采购 中小企业",
    "知识产权质押", "首违不罚", "人才 安家补贴", "免申即享", "拿地即开工", "获得电力",
    "出口退税", "高新技术企业 奖励", "企业开办", "信用修复", "小微", "技改",
    "保证金 电子保函", "社会保险费 缓缴", "应急转贷", "小巨人", "联合验收", "绿色工厂",
    "东湖区 若干措施", "营商环境",
)  # fmt: skip


def setup_django(workdir: Path, database_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "SIZHEN_DATA_DIR": str(workdir),
            "SIZHEN_ANALYTICS_DIR": str(workdir / "analytics"),
            "SIZHEN_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def build(policies: int, enterprises: int) -> dict[str, Any]:
    import datetime as dt

    from django.core.management import call_command
    from django.db import transaction

    from sizhen.accounts.models import User
    from sizhen.core.roles import Role
    from sizhen.core.workflow import execute_transitions
    from sizhen.demo import data
    from sizhen.demo.policies_step import ISSUERS, TOPICS, _body
    from sizhen.organisations.models import Enterprise, Region
    from sizhen.organisations.validators import build_uscc
    from sizhen.thinktank.models import Policy
    from sizhen.thinktank.search import clear_index
    from sizhen.thinktank.services import PolicyData, create_policies_in_bulk

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    clear_index()
    rng = random.Random(13)
    root = Region(code=data.CITY_CODE, name=data.CITY_NAME, level="city")
    root.path = root.compute_path()
    root.save()
    regions = {root.code: root}
    for spec in data.REGIONS:
        parent = regions[spec.parent]
        region = Region(code=spec.code, name=spec.name, level=spec.level, parent=parent)
        region.path = region.compute_path()
        region.depth = parent.depth + 1
        region.save()
        regions[spec.code] = region
    coordinator = User.objects.create(username="bench", role=Role.COORDINATOR, full_name="营商办")
    started = time.perf_counter()
    rows = []
    for n in range(policies):
        topic = rng.choice(TOPICS)
        issuer = rng.choice([i for i in ISSUERS if i.level in topic.levels])
        year = rng.randint(2016, 2026)
        published = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        title = rng.choice(topic.titles).format(place=issuer.place, doc=issuer.doc)
        rows.append(
            PolicyData(
                title=title if n % 3 else f"{title}（{year}年）",
                issuer=issuer.name,
                level=issuer.level,
                doc_number=f"{issuer.prefix}〔{year}〕{n}号",
                published_on=published,
                effective_on=published,
                expires_on=None if rng.random() < 0.7 else dt.date(year + 3, 12, 31),
                body=_body(topic, issuer, rng, published, None, ""),
                industries=list(topic.industries),
                sizes=list(topic.sizes),
                regions=[regions[issuer.region]] if issuer.region in regions else [],
                tags=list(topic.tags),
            )
        )
    with transaction.atomic():
        created: list[Policy] = []
        for start in range(0, len(rows), 1000):
            created += create_policies_in_bulk(
                rows[start : start + 1000], actor=None, publish=False
            )
        indexed = time.perf_counter() - started
        execute_transitions(created, "publish", actor=coordinator)
    built = time.perf_counter() - started
    chars = sum(len(r.body) for r in rows)
    industries = [code for code, _ in data.INDUSTRIES]
    sizes = ["large", "medium", "small", "micro", "small", "micro", "micro"]
    leafs = list(regions.values())
    Enterprise.objects.bulk_create(
        [
            Enterprise(
                uscc=build_uscc("449901", f"MA{n:07d}"),
                name=f"企业{n}",
                industry_code=rng.choice(industries),
                size=rng.choice(sizes),
                region=rng.choice(leafs),
            )
            for n in range(enterprises)
        ],
        batch_size=5000,
    )
    return {
        "policies": policies,
        "body_chars": chars,
        "index_seconds": indexed,
        "build_seconds": built,
        "enterprises": enterprises,
    }


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def naive(query: str) -> tuple[int, list[int]]:
    from django.db.models import Q

    from sizhen.thinktank.models import Policy
    from sizhen.thinktank.workflow import PUBLISHED_STATES

    qs = Policy.objects.filter(status__in=PUBLISHED_STATES)
    for word in query.split():
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return qs.count(), list(qs.order_by("-published_on", "-pk").values_list("pk", flat=True)[:20])


def measure(rounds: int) -> dict[str, Any]:
    from sizhen.thinktank import search
    from sizhen.thinktank.selectors import readable_policies, search_policies
    from sizhen.thinktank.text import parse_query

    search_policies(None, "预热")  # the tokenizer's dictionary loads once per process
    times: dict[str, list[float]] = {"sizhen": [], "naive": [], "floor": []}
    found: dict[str, tuple[int, int]] = {}
    for _ in range(rounds):
        for query in QUERIES:
            t = time.perf_counter()
            result = search_policies(None, query, limit=20)
            times["sizhen"].append(time.perf_counter() - t)
            t = time.perf_counter()
            count, _page = naive(query)
            times["naive"].append(time.perf_counter() - t)
            t = time.perf_counter()
            search.ranked(parse_query(query), readable_policies(None), 20, 0)
            times["floor"].append(time.perf_counter() - t)
            found[query] = (result.total, count)
    return {
        "search": {
            name: {"median_ms": _median_ms(v), "p95_ms": _p95_ms(v)} for name, v in times.items()
        },
        "found": found,
    }


def matching(sample: int) -> dict[str, Any]:
    from sizhen.organisations.models import Enterprise
    from sizhen.thinktank.matching import Matcher

    t = time.perf_counter()
    rows = list(
        Enterprise.objects.values_list("pk", "industry_code", "size", "region__path").iterator(
            chunk_size=10000
        )
    )
    read = time.perf_counter() - t
    t = time.perf_counter()
    matcher = Matcher.today()
    load = time.perf_counter() - t
    t = time.perf_counter()
    counts = matcher.match_all(rows)
    match = time.perf_counter() - t
    rules = [
        (p.industries, set(p.sizes), [r.path for r in p.regions.all()]) for p in matcher.policies
    ]
    t = time.perf_counter()
    loop_counts = {}
    for pk, code, size, path in rows[:sample]:
        loop_counts[pk] = sum(
            1
            for industries, sizes, paths in rules
            if (not industries or any(code.startswith(c) for c in industries))
            and (not sizes or size in sizes)
            and (not paths or any(path.startswith(p) for p in paths))
        )
    loop = (time.perf_counter() - t) * len(rows) / sample
    assert all(loop_counts[pk] == counts[pk] for pk in loop_counts), "the two matchers disagree"
    return {
        "enterprises": len(rows),
        "policies": len(matcher.policies),
        "read_seconds": read,
        "load_seconds": load,
        "match_seconds": match,
        "total_seconds": read + load + match,
        "loop_seconds_extrapolated": loop,
        "matches_per_enterprise": statistics.mean(counts.values()),
    }


def run_backend(args: argparse.Namespace) -> None:
    """In a child process: build on one database and print the JSON report."""
    with tempfile.TemporaryDirectory(prefix="sizhen-bench-policies-") as tmp:
        workdir = Path(tmp)
        url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
        setup_django(workdir, url)
        from django.db import connection

        built = build(args.policies, args.enterprises)
        report = {
            "backend": connection.vendor,
            "data": built,
            **measure(args.rounds),
            "matching": matching(args.loop_sample),
        }
        print(json.dumps(report, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loop-sample", type=int, default=1_000)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_backend(args)
        return
    reports = []
    urls = [
        "",
        *([os.environ["BENCH_DATABASE_URL"]] if os.environ.get("BENCH_DATABASE_URL") else []),
    ]
    for url in urls:
        command = [sys.executable, __file__, "--child", "--database-url", url,
                   "--policies", str(args.policies), "--enterprises", str(args.enterprises),
                   "--rounds", str(args.rounds), "--loop-sample", str(args.loop_sample)]  # fmt: skip
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        reports.append(json.loads(out.strip().splitlines()[-1]))
    print_report(reports)
    print("\n" + json.dumps(reports, ensure_ascii=False))


def print_report(reports: list[dict[str, Any]]) -> None:
    print("| backend | policies (index built) | search: sizhen median / p95 | naive LIKE median / p95 "
          "| floor (index query) median | target |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in reports:
        s, d = r["search"], r["data"]
        print(
            f"| {r['backend']} | {d['policies']:,} ({d['body_chars'] / 1e6:.1f} M chars, "
            f"indexed in {d['index_seconds']:.0f} s) | {s['sizhen']['median_ms']:.1f} / "
            f"{s['sizhen']['p95_ms']:.1f} ms | {s['naive']['median_ms']:.1f} / "
            f"{s['naive']['p95_ms']:.1f} ms | {s['floor']['median_ms']:.1f} ms | ≤ 50 ms median |"
        )
    print()
    print("| backend | enterprises | policies in force | read | matcher | match all | total "
          "| per-enterprise loop (extrapolated) | target |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in reports:
        m = r["matching"]
        print(
            f"| {r['backend']} | {m['enterprises']:,} | {m['policies']:,} | {m['read_seconds']:.2f} s "
            f"| {m['load_seconds']:.2f} s | {m['match_seconds']:.2f} s | {m['total_seconds']:.2f} s "
            f"| {m['loop_seconds_extrapolated']:.1f} s | ≤ 10 s |"
        )
    print()
    first = reports[0]["found"]
    print("| query | found by sizhen | by naive LIKE |")
    print("|---|---|---|")
    for query in ("小微", "技改", "留抵退税", "小微企业 融资", "首贷 贴息", "东湖区 若干措施"):
        ours, like = first[query]
        print(f"| {query} | {ours} | {like} |")


if __name__ == "__main__":
    main()
