"""Runs background jobs and periodic schedules (started by scripts/run.sh beside the server)."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from sizhen.core import jobs


class Command(BaseCommand):
    help = "运行后台任务工作进程（含定时任务调度）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="运行所有到期任务后退出")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            jobs.run_startup_hooks()
            jobs.enqueue_due_schedules()
            ran = jobs.run_pending()
            self.stdout.write(f"已运行 {ran} 个任务")
            return
        stopping = {"flag": False}

        def stop(*_: Any) -> None:
            stopping["flag"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        jobs.work_forever(
            poll_seconds=settings.SIZHEN_JOB_POLL_SECONDS, stop=lambda: stopping["flag"]
        )
