"""Publish one month's 三率 (and any other mapped measure) to the indicator engine now, as the
daily job ``enterprise_requests.publish_rates`` does for the previous month."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sizhen.core.periods import Period
from sizhen.enterprise_requests import report
from sizhen.indicators.filling.services import FillingError


class Command(BaseCommand):
    help = "发布企业诉求“三率”到指标体系（默认上个月；城市与各县市区）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", default="", help="YYYY-MM，默认上个月")
        parser.add_argument(
            "--as", dest="username", default="", help="以该账号导入（默认 publish_as 或系统）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["month"]:
                try:
                    month = Period.parse(options["month"], "month").start
                except ValueError:
                    raise CommandError(report.MONTH_FORMAT) from None
            else:
                month = Period.containing(timezone.localdate()).shift(-1).start
            actor = None
            if options["username"]:
                from django.contrib.auth import get_user_model

                actor = (
                    get_user_model()
                    .objects.filter(username=options["username"], is_active=True)
                    .first()
                )
                if actor is None:
                    raise CommandError(f"账号 {options['username']} 不存在或已停用")
            else:
                actor = report.publishing_actor()
            result = report.publish_rates(actor=actor, month=month)
        except (report.ReportError, FillingError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
