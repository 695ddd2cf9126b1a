"""Loads the fictional demo city 示范市 and prints its demo logins (scripts/run.sh uses both)."""

from __future__ import annotations

import json
import time
import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sizhen.demo import builder
from sizhen.demo.indicators_step import load_records
from sizhen.indicators.ingestion.engine.schemas import BUILTIN_BY_CODE


def _width(text: str) -> int:
    # CJK characters take two terminal columns; pad by display width, not by len().
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_logins_table(logins: list[builder.DemoLogin]) -> str:
    header = ("用户名", "密码", "角色", "数据范围")
    rows = [(lo.username, lo.password, lo.role_label, lo.scope_label) for lo in logins]
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


#: Keys of the records step's summary that are not dataset loads.
NOT_DATASETS = ("values", "aggregates", "filled", "benchmarks", "alerts")


class Command(BaseCommand):
    help = "装入虚构的演示城市“示范市”（区划、部门、企业、各角色演示账号），或打印演示账号"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--if-empty", action="store_true", help="演示城市已存在时什么也不做")
        parser.add_argument("--reset", action="store_true", help="先清除已有演示数据再重新装入")
        parser.add_argument("--logins", action="store_true", help="打印演示账号表（中文）")
        parser.add_argument("--logins-json", action="store_true", help="只输出演示账号的 JSON 列表")
        parser.add_argument(
            "--seed", type=int, default=builder.DEFAULT_SEED, help="随机种子（默认 449900）"
        )
        parser.add_argument(
            "--records",
            type=int,
            default=None,
            help="装入的政务服务办件数（默认 300000，其他数据集按比例；0 表示不装入业务数据、汇总数据、填报和标杆值）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        print_only = (options["logins"] or options["logins_json"]) and not (
            options["reset"] or options["if_empty"]
        )
        if options["reset"] and options["if_empty"]:
            raise CommandError("--reset 与 --if-empty 不能同时使用")
        # JSON output must be the only thing on stdout so that scripts can parse it.
        quiet = options["logins_json"]
        try:
            if not print_only:
                self._load(options, quiet=quiet)
        except builder.DemoError as exc:
            raise CommandError(str(exc)) from exc
        if options["logins"] or options["logins_json"]:
            logins = builder.list_demo_logins()
            if not logins:
                raise CommandError("演示数据尚未装入，请先运行 python manage.py demo")
            if options["logins_json"]:
                self.stdout.write(
                    json.dumps([lo.as_json() for lo in logins], ensure_ascii=False, indent=2)
                )
            else:
                self.stdout.write(format_logins_table(logins))

    def _load(self, options: dict[str, Any], *, quiet: bool) -> None:
        say = (lambda _msg: None) if quiet else self.stdout.write
        if options["reset"]:
            if builder.wipe_demo_city():
                say("已清除原有演示数据")
        elif options["if_empty"] and builder.get_city() is not None:
            say("演示城市已存在，跳过装入")
            return
        result = builder.load_demo_city(seed=options["seed"])
        say(f"{result.summary()}（用时 {result.seconds:.1f} 秒）")
        records = options["records"]
        if records is None:
            records = settings.SIZHEN_DEMO_RECORDS
        if records > 0:
            started = time.monotonic()
            say(
                f"正在装入三年业务数据（{records} 条政务服务办件等）、汇总数据、填报和标杆值并计算指标……"
            )
            counts = load_records(records)
            datasets = "，".join(
                f"{BUILTIN_BY_CODE[code]['name']} {count} 条"
                for code, count in counts.items()
                if code not in NOT_DATASETS
            )
            say(
                f"已装入业务数据：{datasets}；计算指标值 {counts.get('values', 0)} 个，"
                f"导入汇总数据 {counts.get('aggregates', 0)} 个，"
                f"填报并审核通过 {counts.get('filled', 0)} 项，"
                f"导入标杆值 {counts.get('benchmarks', 0)} 个，"
                f"生成预警 {counts.get('alerts', {}).get('created', 0)} 条"
                f"（用时 {time.monotonic() - started:.1f} 秒）"
            )
