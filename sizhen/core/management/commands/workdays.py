"""Working-day arithmetic from the command line, on the same calendar the platform uses.

manage.py workdays add 2025-09-28 5            -> 2025-10-11（星期六，工作日，国庆节调休上班）
manage.py workdays add 2025-09-28 5 --clock same_day
manage.py workdays between 2025-09-28 2025-10-10
manage.py workdays add 2027-01-04 10 --json
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sizhen.core.workcalendar import WorkdayResult, get_calendar

#: Bad input exits with 2, like an argparse usage error.
USAGE_ERROR = 2
CLOCK_RULES = ("next_day", "same_day")


def _date(text: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"{label}“{text}”不是有效日期，请按 YYYY-MM-DD 填写（如 2025-09-28）",
            returncode=USAGE_ERROR,
        ) from None


def _days(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise CommandError(
            f"工作日数“{text}”不是整数，请填写 0 或正整数", returncode=USAGE_ERROR
        ) from None
    if value < 0:
        raise CommandError(f"工作日数不能为负数（收到 {value}）", returncode=USAGE_ERROR)
    return value


def _provisional_line(result: WorkdayResult) -> str:
    years = "、".join(str(y) for y in result.provisional_years)
    return (
        f"暂定（provisional）：计算经过的 {years} 年尚无官方放假安排，"
        "暂按周一至周五为工作日计算；录入该年安排并确认后结果才确定"
    )


class Command(BaseCommand):
    help = "工作日计算：add 求 n 个工作日后的日期，between 求两日期之间的工作日数"

    def add_arguments(self, parser: Any) -> None:
        commands = parser.add_subparsers(dest="operation", required=True, metavar="add|between")
        add = commands.add_parser("add", help="起始日期之后第 n 个工作日")
        add.add_argument("start", help="起始日期（受理日），YYYY-MM-DD")
        add.add_argument("days", help="工作日数（0 或正整数）")
        add.add_argument(
            "--clock",
            default=None,
            metavar="next_day|same_day",
            help="起算规则：next_day 次日起算（默认，见 SIZHEN_CLOCK_START），same_day 当日起算",
        )
        add.add_argument("--json", action="store_true", help="输出 JSON")
        between = commands.add_parser("between", help="(起始日期, 截止日期] 之间的工作日数")
        between.add_argument("start", help="起始日期（不计入），YYYY-MM-DD")
        between.add_argument("end", help="截止日期（计入），YYYY-MM-DD")
        between.add_argument("--json", action="store_true", help="输出 JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["operation"] == "add":
            self.add(options)
        else:
            self.between(options)

    def add(self, options: dict[str, Any]) -> None:
        start = _date(options["start"], "起始日期")
        days = _days(options["days"])
        if options["clock"] is not None and options["clock"] not in CLOCK_RULES:
            raise CommandError(
                f"起算规则“{options['clock']}”无效，应为 next_day（次日起算）或 same_day（当日起算）",
                returncode=USAGE_ERROR,
            )
        calendar = get_calendar()
        try:
            result = calendar.add_working_days(start, days, clock_start=options["clock"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=USAGE_ERROR) from exc
        info = calendar.info(result.date)
        if options["json"]:
            self.emit_json(
                {
                    "operation": "add",
                    "start": start.isoformat(),
                    "days": days,
                    "clock_start": options["clock"] or settings.SIZHEN_CLOCK_START,
                    "date": result.date.isoformat(),
                    "weekday": result.date.isoweekday(),
                    "is_workday": info.is_workday,
                    "name": info.name,
                    "description": info.describe(),
                    "provisional": result.provisional,
                    "provisional_years": list(result.provisional_years),
                }
            )
            return
        self.stdout.write(info.describe())
        if result.provisional:
            self.stdout.write(_provisional_line(result))

    def between(self, options: dict[str, Any]) -> None:
        start = _date(options["start"], "起始日期")
        end = _date(options["end"], "截止日期")
        try:
            result = get_calendar().working_days_between(start, end)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=USAGE_ERROR) from exc
        if options["json"]:
            self.emit_json(
                {
                    "operation": "between",
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "working_days": result.days,
                    "provisional": result.provisional,
                    "provisional_years": list(result.provisional_years),
                }
            )
            return
        self.stdout.write(
            f"{result.days} 个工作日（{start.isoformat()} 至 {end.isoformat()}，"
            "不含起始日，含截止日）"
        )
        if result.provisional:
            self.stdout.write(_provisional_line(result))

    def emit_json(self, payload: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False))
