"""python manage.py import_records DATASET FILE [--dry-run] [--lenient] [--json]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadMode, LoadStatus
from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
from sizhen.indicators.ingestion.engine.ingest import FileProblem
from sizhen.indicators.ingestion.engine.store import StoreBusy
from sizhen.indicators.ingestion.models import Dataset


class Command(BaseCommand):
    help = "导入业务数据文件（CSV：UTF-8/UTF-8 BOM/GBK；或 XLSX），默认严格模式：有任何错误整批拒收"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("dataset", help="数据集编码，如 gov_service_cases")
        parser.add_argument("file", help="CSV 或 XLSX 文件路径")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不入库")
        parser.add_argument(
            "--lenient", action="store_true", help="宽松模式：有效行入库，错误行进入隔离区"
        )
        parser.add_argument("--json", action="store_true", help="以 JSON 输出导入报告")
        parser.add_argument("--max-errors", type=int, default=20, help="文本输出最多列出的错误数")

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_builtin_datasets()
        dataset = Dataset.objects.filter(code=options["dataset"]).first()
        if dataset is None:
            codes = "、".join(Dataset.objects.values_list("code", flat=True))
            raise CommandError(f"未知的数据集 {options['dataset']}（可用：{codes}）")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            batch, created = loads.submit_file(
                actor=None,
                dataset=dataset,
                source=path,
                file_name=path.name,
                mode=LoadMode.LENIENT if options["lenient"] else LoadMode.STRICT,
                dry_run=options["dry_run"],
                enqueue_job=False,
            )
            if created or batch.status in (LoadStatus.QUEUED, LoadStatus.RUNNING):
                batch = loads.run_load(batch.pk)
        except FileProblem as problem:
            raise CommandError(str(problem)) from problem
        except StoreBusy as busy:
            raise CommandError(str(busy)) from busy
        errors = list(batch.errors.all()[: 10_000 if options["json"] else options["max_errors"]])
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "batch": batch.pk,
                        "dataset": dataset.code,
                        "status": batch.status,
                        "already_loaded": not created,
                        "rows": batch.rows_total,
                        "imported": batch.imported,
                        "updated": batch.updated,
                        "ignored": batch.ignored,
                        "rejected": batch.rejected,
                        "error_count": batch.error_count,
                        "message": batch.message,
                        "errors": [
                            {"row": e.row, "field": e.field, "code": e.code, "message": e.message}
                            for e in errors
                        ],
                    },
                    ensure_ascii=False,
                )
            )
        else:
            if not created:
                self.stdout.write(f"该文件已于批次 #{batch.pk} 导入，未重复导入")
            self.stdout.write(f"批次 #{batch.pk}：{batch.get_status_display()} — {batch.message}")
            self.stdout.write(
                f"总行数 {batch.rows_total}，新增 {batch.imported}，更新 {batch.updated}，"
                f"未变化 {batch.ignored}，拒收 {batch.rejected}，错误 {batch.error_count}"
            )
            for e in errors:
                self.stdout.write(f"  第 {e.row} 行 [{e.field}] {e.code}：{e.message}")
        if batch.status == LoadStatus.REJECTED:
            raise CommandError("导入未通过校验，分析库未作任何改动")
