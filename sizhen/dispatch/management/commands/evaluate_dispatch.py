"""Train the dispatch suggester on one CSV and report its accuracy on another."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sizhen.dispatch.evaluation import CsvError, evaluate


class Command(BaseCommand):
    help = "评估智能派单：用一个 CSV（列 text, dept, category）训练，在另一个上报告准确率"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", required=True, help="训练集 CSV")
        parser.add_argument("--test", required=True, help="测试集 CSV")
        parser.add_argument("--json", action="store_true", help="输出 JSON")
        parser.add_argument(
            "--default-catalogue",
            action="store_true",
            help="使用随附的默认派单目录（按部门全称），不依赖本平台已建的部门和目录",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = evaluate(
                options["train"], options["test"], default_catalogue=options["default_catalogue"]
            )
        except CsvError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        self.stdout.write(render_text(report))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:5.1f}%"


def render_text(report: dict[str, Any]) -> str:
    lines = [
        f"训练集 {report['train']['rows']} 条，测试集 {report['test']['rows']} 条；"
        f"匹配到平台部门的标签 {report['labels_matched_to_departments']} 个"
        + ("；派单目录：随附默认目录" if report["catalogue"] == "default" else ""),
        "",
        f"{'':16}{'首选准确率':>10}{'前三准确率':>10}{'宏平均F1':>10}",
    ]
    rows = [
        ("部门（本模型）", report["department"]),
        ("部门（字符基线）", report["baseline"]["department"]),
        ("部门（仅派单目录）", report["catalogue_only"]["department"]),
        ("类别（本模型）", report["category"]),
        ("类别（字符基线）", report["baseline"]["category"]),
    ]
    for name, metrics in rows:
        if metrics is None:
            lines.append(f"{name:<14}{'—':>12}")
            continue
        lines.append(
            f"{name:<14}{_pct(metrics['top1']):>12}{_pct(metrics['top3']):>12}"
            f"{_pct(metrics['macro_f1']):>12}"
        )
    latency = report["latency_ms"]
    lines += [
        "",
        f"单条推理耗时：中位数 {latency['median']:.2f} ms，P95 {latency['p95']:.2f} ms，"
        f"P99 {latency['p99']:.2f} ms；"
        f"训练 {report['train_seconds']:.1f} 秒",
        "",
        f"{'部门':<20}{'条数':>6}{'首选':>9}{'前三':>9}{'精确率':>9}{'基线首选':>9}  目录",
    ]
    for row in report["per_department"]:
        lines.append(
            f"{row['name'][:18]:<20}{row['n']:>6}{_pct(row['top1']):>9}{_pct(row['top3']):>9}"
            f"{_pct(row['precision']):>9}{_pct(row['baseline']['top1']):>11}  "
            f"{'有' if row['catalogue'] else '无'}"
        )
    lines += ["", "误派去向（按真实部门；首选建议错派到的部门及条数，多者在前）"]
    for row in report["per_department"]:
        if not row["confused_with"] and not row["baseline"]["confused_with"]:
            continue
        lines.append(
            f"{row['name']}（{row['n']} 条）：本模型 {_went(row['confused_with'])}；"
            f"字符基线 {_went(row['baseline']['confused_with'])}"
        )
    return "\n".join(lines)


def _went(confused_with: list[dict[str, Any]]) -> str:
    if not confused_with:
        return "无"
    return "、".join(f"{item['name']} {item['n']}" for item in confused_with)
