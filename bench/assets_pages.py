"""Bench of the data-asset pages (issue 14): median server time of the catalogue and of the
lineage pages with 200 datasets and 500 indicators, cached (the versioned cache, decision 0013)
side by side with the straightforward version (the same selectors computed on every request,
``SIZHEN_VERSIONED_CACHE_ENTRIES=0``).

    .venv/bin/python bench/assets_pages.py [--requests 50] [--markdown]

Data, in a temp SQLite database with the production settings (DEBUG off): a city with 20
districts; 200 datasets (the 12 built-in ones and 188 more, each with a schema and a profile)
with 30 finished loads each over the last 180 days; 500 indicators (the root, 20 first-level
composites, the built-in definitions' leaves and fillers) with 12 monthly values for each of the
21 regions (126,000 values). Server time is measured around the Django test client's request,
in process (URL routing, middleware, view, template)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pages import bench_env, percentiles  # noqa: E402

DATASETS = 200
INDICATORS = 500
LOADS_PER_DATASET = 30
MONTHS = 12


def seed() -> dict[str, str]:
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    from sizhen.accounts.models import User
    from sizhen.assets.models import AssetProfile
    from sizhen.core.roles import Role
    from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
    from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS
    from sizhen.indicators.ingestion.models import Dataset, DatasetVersion, LoadBatch
    from sizhen.organisations import services as org
    from sizhen.organisations.choices import DepartmentType, RegionLevel

    root = org.create_region(actor=None, code="449900", name="示范市", level=RegionLevel.CITY)
    regions = [root] + [
        org.create_region(
            actor=None,
            code=f"4499{i:02d}",
            name=f"第{i}区",
            level=RegionLevel.DISTRICT,
            parent=root,
        )
        for i in range(1, 21)
    ]
    owner = org.create_department(
        actor=None, code="SZ-SJZY", name="数据局", type=DepartmentType.CITY_DEPARTMENT, region=root
    )
    fields = [
        {"name": "record_id", "label": "记录编号", "type": "string", "required": True},
        {"name": "region_code", "label": "区划代码", "type": "string", "required": True},
        {"name": "occurred_at", "label": "发生时间", "type": "datetime", "required": True},
        {"name": "amount", "label": "金额", "type": "number", "required": False},
        {"name": "contact_phone", "label": "联系电话", "type": "string", "required": False},
    ]
    for i in range(DATASETS - Dataset.objects.count()):
        dataset = Dataset.objects.create(code=f"bench_{i:03d}", name=f"测试数据集{i:03d}")
        DatasetVersion.objects.create(dataset=dataset, version=1, key="record_id", fields=fields)
    datasets = list(Dataset.objects.order_by("code"))
    AssetProfile.objects.bulk_create(
        AssetProfile(dataset=d, owner_department=owner, source_system="测试来源系统")
        for d in datasets
    )
    now = timezone.now()
    batches = []
    for d in datasets:
        for n in range(LOADS_PER_DATASET):
            finished = now - dt.timedelta(days=6 * n + (d.pk % 5))
            batches.append(
                LoadBatch(
                    dataset=d, schema_version=1, channel="api", status="loaded",
                    content_hash=f"{d.pk}-{n}", rows_total=1000, imported=990, rejected=10,
                    created_at=finished, finished_at=finished,
                )
            )  # fmt: skip
    LoadBatch.objects.bulk_create(batches, batch_size=2000)
    be = Indicator.objects.create(code="BE", name="营商环境总分", direction="higher_is_better",
                                  source_kind="composite")  # fmt: skip
    firsts = [
        Indicator.objects.create(
            code=f"BE{i:02d}",
            name=f"一级指标{i:02d}",
            parent=be,
            level=1,
            direction="higher_is_better",
            source_kind="composite",
        )
        for i in range(1, 21)
    ]
    codes = [d["indicator"] for d in DEFINITIONS]
    leaves = []
    for i in range(INDICATORS - 21):
        code = codes[i] if i < len(codes) else f"BX{i:03d}"
        leaves.append(
            Indicator(
                code=code, name=f"指标{code}", parent=firsts[i % 20], level=2,
                direction="higher_is_better",
                source_kind="records" if i < len(codes) else "filling",
            )
        )  # fmt: skip
    Indicator.objects.bulk_create(leaves)
    values = []
    for indicator in Indicator.objects.all():
        for region in regions:
            for m in range(MONTHS):
                values.append(
                    IndicatorValue(
                        indicator=indicator, region=region, period=dt.date(2025, m + 1, 1),
                        frequency="month", source_kind=indicator.source_kind, value=float(m),
                    )
                )  # fmt: skip
    IndicatorValue.objects.bulk_create(values, batch_size=5000)
    user = User(username="coordinator", role=Role.COORDINATOR, full_name="营商办", department=owner)
    user.set_password("Bench-Password-2026")
    user.must_change_password = False
    user.save()
    return {"indicator": codes[0], "dataset": DEFINITIONS[0]["dataset"]}


def measure(client: object, url: str, requests: int) -> dict:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sizhen-assets-bench-") as tmp:
        workdir = Path(tmp)
        os.environ.update(bench_env(workdir))
        import django

        django.setup()
        from django.conf import settings
        from django.test import Client

        from sizhen.accounts.models import User
        from sizhen.core import versions

        started = time.perf_counter()
        targets = seed()
        seconds = time.perf_counter() - started
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username="coordinator"))
        pages = [
            ("catalogue", "/assets/"),
            ("catalogue, datasets only, page 3", "/assets/?kind=dataset&page=3"),
            ("indicator lineage", f"/assets/indicators/{targets['indicator']}/"),
            ("dataset lineage", f"/assets/datasets/{targets['dataset']}/"),
        ]
        rows = []
        for name, url in pages:
            settings.SIZHEN_VERSIONED_CACHE_ENTRIES = 0
            plain = measure(client, url, max(10, args.requests // 5))
            settings.SIZHEN_VERSIONED_CACHE_ENTRIES = 1000
            versions.clear_all()
            client.get(url)  # the first request fills the entry
            cached = measure(client, url, args.requests)
            rows.append((name, cached, plain))
    print(f"seeded {DATASETS} datasets, {INDICATORS} indicators in {seconds:.1f} s")
    if args.markdown:
        print("| page | cached median (p95) | straightforward median (p95) | speed-up |")
        print("|---|---|---|---|")
    for name, cached, plain in rows:
        speedup = plain["median_ms"] / cached["median_ms"]
        if args.markdown:
            print(
                f"| {name} | {cached['median_ms']:.1f} ms ({cached['p95_ms']:.1f}) "
                f"| {plain['median_ms']:.1f} ms ({plain['p95_ms']:.1f}) | {speedup:.1f}× |"
            )
        else:
            print(
                f"{name:36} cached {cached['median_ms']:7.1f} ms  "
                f"straightforward {plain['median_ms']:7.1f} ms  ({speedup:.1f}×)"
            )


if __name__ == "__main__":
    main()
