"""Load the shipped default dispatch catalogue (派单目录) for the usual city departments."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sizhen.dispatch.services import load_default_catalogue


class Command(BaseCommand):
    help = "载入默认派单目录（按部门全称或简称匹配本平台的市级部门）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--overwrite", action="store_true", help="覆盖已有条目")

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_default_catalogue(actor=None, overwrite=options["overwrite"])
        self.stdout.write(
            f"新建 {result.created} 条，更新 {result.updated} 条，保留 {result.unchanged} 条"
        )
        if result.unmatched:
            self.stdout.write("本平台没有以下部门，未载入：" + "、".join(result.unmatched))
