"""python manage.py import_policies FILE.xlsx [--json] [--check] [--publish-as USERNAME]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sizhen.accounts.models import User
from sizhen.thinktank.imports import import_policies


class Command(BaseCommand):
    help = "从 Excel 导入政策（列名中英文均可）；任何一行有错误时不保存任何内容"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="政策表（.xlsx），列见导入模板")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出导入结果和行级错误")
        parser.add_argument("--check", action="store_true", help="只校验，不写入")
        parser.add_argument(
            "--publish-as",
            default="",
            help="以该营商办账号发布导入的政策（不填则导入为草稿，由营商办在页面上发布）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = None
        if options["publish_as"]:
            actor = User.objects.filter(username=options["publish_as"], is_active=True).first()
            if actor is None:
                raise CommandError(f"账号不存在或已停用：{options['publish_as']}")
        report = import_policies(path.read_bytes(), actor=actor, dry_run=options["check"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        elif report.ok:
            verb = "校验通过，可导入" if options["check"] else "已导入"
            state = "并发布" if actor is not None and not options["check"] else "（草稿）"
            self.stdout.write(
                f"{verb} {report.created} 项政策{state if not options['check'] else ''}"
            )
        else:
            lines = [report.fatal] if report.fatal else []
            lines += [f"第 {e.row} 行 {e.column}：{e.message}" for e in report.errors]
            self.stderr.write("\n".join(lines))
        if not report.ok:
            raise CommandError(f"导入失败：{len(report.errors) or 1} 处错误，未写入任何数据")
