from typing import Any

from django.core.management.base import BaseCommand

from sizhen.enterprise_requests.models import RequestCategory
from sizhen.enterprise_requests.taxonomy import load_default_taxonomy


class Command(BaseCommand):
    help = "载入默认诉求分类（已有编码保持不变）"

    def handle(self, *args: Any, **options: Any) -> None:
        created = load_default_taxonomy(RequestCategory)
        self.stdout.write(f"新增诉求分类 {created} 个")
