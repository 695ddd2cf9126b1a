"""manage.py backup [--output DIR]: one archive of the database, the analytical store and the
uploaded files, with a manifest of row counts and checksums (sizhen/core/backup.py). Safe while
the web and the workers run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sizhen.core.backup import BackupError, create_backup, read_manifest


class Command(BaseCommand):
    help = "备份数据库、分析库与上传文件到一个归档文件"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            default=str(Path(settings.DATA_DIR) / "backups"),
            help="归档文件写入的目录（默认 $SIZHEN_DATA_DIR/backups）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            archive = create_backup(Path(options["output"]))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = read_manifest(archive)
        rows = sum(manifest["counts"].values())
        self.stdout.write(
            f"{archive}\n数据库 {manifest['database']['vendor']}：{len(manifest['counts'])} 张表，"
            f"{rows} 行；文件 {len(manifest['files'])} 个"
        )
