"""python manage.py import_survey FILE.xlsx [--json] [--publish]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sizhen.surveys.services import SurveyError, import_xlsform
from sizhen.surveys.xlsform import XLSFormError


class Command(BaseCommand):
    help = "导入 XLSForm 问卷（survey / choices / settings 工作表）；有任何错误时不保存任何内容"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="XLSForm 工作簿（.xlsx 或 .xls）")
        parser.add_argument(
            "--json", action="store_true", help="以 JSON 输出问卷编码、名称和题目数"
        )
        parser.add_argument("--publish", action="store_true", help="导入后立即发布该版本")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            version = import_xlsform(
                path.read_bytes(), actor=None, file_name=path.name, publish=options["publish"]
            )
        except XLSFormError as refused:
            if options["json"]:
                self.stdout.write(json.dumps({"errors": refused.problems}, ensure_ascii=False))
            raise CommandError("\n".join(refused.problems)) from refused
        except SurveyError as refused:
            raise CommandError(refused.message) from refused
        questionnaire = version.questionnaire
        questions = version.questions.exclude(type="note").count()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "code": questionnaire.code,
                        "title": questionnaire.title,
                        "questions": questions,
                        "version": version.number,
                        "status": version.status,
                    },
                    ensure_ascii=False,
                )
            )
            return
        self.stdout.write(
            f"已导入问卷“{questionnaire.title}”（{questionnaire.code}）第 {version.number} 版："
            f"{questions} 道题，{version.get_status_display()}"
        )
