"""manage.py restore ARCHIVE [--yes]: replaces the database, the analytical store and the
uploaded files with an archive written by manage.py backup, after checking its checksums; then
checks the row counts against its manifest. Stop the web and the workers first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sizhen.core.backup import BackupError, read_manifest, restore_backup


class Command(BaseCommand):
    help = "从 manage.py backup 的归档恢复数据库、分析库与上传文件（覆盖现有数据）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="manage.py backup 写出的 .tar.gz 文件")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接覆盖现有数据")

    def handle(self, *args: Any, **options: Any) -> None:
        archive = Path(options["archive"])
        if not archive.is_file():
            raise CommandError(f"找不到备份文件：{archive}")
        try:
            manifest = read_manifest(archive)
        except (BackupError, OSError, ValueError) as exc:
            raise CommandError(f"无法读取备份文件：{exc}") from exc
        if not options["yes"]:
            prompt = f"将用 {manifest['created_at']} 的备份覆盖当前全部数据，输入 yes 继续："
            try:
                answer = input(prompt)
            except EOFError:
                answer = ""
            if answer.strip() != "yes":
                raise CommandError("已取消（未输入 yes；无人值守时请加 --yes）")
        try:
            restore_backup(archive)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"已恢复 {manifest['created_at']} 的备份：{len(manifest['counts'])} 张表行数与清单一致"
        )
