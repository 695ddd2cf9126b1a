"""python manage.py compute_indicators [--full] [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.compute import compute
from sizhen.indicators.ingestion.engine.store import StoreBusy
from sizhen.indicators.ingestion.models import LoadBatch


class Command(BaseCommand):
    help = "计算指标值：默认只重算最近一次入库涉及的期间和区划；--full 全量重算"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--full", action="store_true", help="全量重算所有基于业务数据的指标")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["full"]:
                report = compute()
            else:
                batch = (
                    LoadBatch.objects.filter(status=LoadStatus.LOADED)
                    .order_by("-finished_at")
                    .first()
                )
                if batch is None:
                    report = compute()
                else:
                    report = compute(touched=[tuple(p) for p in batch.touched or []], batch=batch)
        except StoreBusy as busy:
            raise CommandError(str(busy)) from busy
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            f"已计算 {report.definitions} 个指标口径，写入 {report.values} 个指标值，"
            f"涉及 {len(report.periods)} 个期间"
        )
        for line in report.skipped:
            self.stdout.write(f"  跳过：{line}")
