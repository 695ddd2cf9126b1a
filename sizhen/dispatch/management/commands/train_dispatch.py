"""Retrain the dispatch suggester now (the daily job does the same)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sizhen.dispatch.services import train_model


class Command(BaseCommand):
    help = "重新训练智能派单模型（交叉验证不低于现有模型才启用）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="无论准确率如何都启用")

    def handle(self, *args: Any, **options: Any) -> None:
        result = train_model(actor=None, force=options["force"])
        self.stdout.write(f"模型 {result.model.version}：{result.reason}")
