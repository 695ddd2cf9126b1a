"""python manage.py load_catalogue [--cycle 2024-2026] [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sizhen.indicators.catalogue.defaults import CatalogueError
from sizhen.indicators.catalogue.imports import load_default_catalogue


class Command(BaseCommand):
    help = (
        "加载默认指标目录（18 个一级指标及其二级指标）和指定评价周期的目标值；"
        "可重复运行，已有指标和目标值不会被覆盖"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--cycle",
            default=None,
            help="评价周期编码 YYYY 或 YYYY-YYYY；默认为当前周期，没有时为含今年在内的三年",
        )
        parser.add_argument("--json", action="store_true", help="只输出 JSON 结果")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load_default_catalogue(options["cycle"], actor=None)
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        self.stdout.write(
            f"评价周期 {report.cycle}{'（新建）' if report.cycle_created else ''}："
            f"新增 {len(report.created)} 个指标，保留已有 {report.kept} 个，"
            f"新增 {report.goalposts_created} 组目标值，补充部门 {len(report.filled)} 个指标"
        )
        if report.missing_departments:
            self.stderr.write(
                self.style.WARNING(
                    f"本市没有以下 {len(report.missing_departments)} 个部门，"
                    "相关指标的牵头/责任部门暂为空（建好部门后重新运行本命令即可补上）："
                )
            )
            for name, codes in sorted(report.missing_departments.items()):
                self.stderr.write(f"  {name}：{'、'.join(codes)}")
