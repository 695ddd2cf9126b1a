"""All-or-nothing XLSX imports: validate every row first, write only a clean file, in one
transaction, with one audit event. A file with any error writes nothing and returns the report."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.xlsx import ImportFileError, ImportReport, ImportSpec, read_xlsx_rows


def run_import(
    spec: ImportSpec,
    data: bytes,
    *,
    actor: Actor | None,
    action: str,
    dry_run: bool = False,
    context: dict[str, Any] | None = None,
) -> ImportReport:
    report = ImportReport()
    ctx = dict(context or {})
    ctx.setdefault("actor", actor)
    cleaned: list[Any] = []
    seen: dict[Any, int] = {}
    try:
        for number, record in read_xlsx_rows(data, spec.columns):
            report.total += 1
            item = spec.validate(number, record, report, ctx)
            if item is None:
                continue
            if spec.unique_key is not None:
                key = spec.unique_key(item)
                if key in seen:
                    report.add(
                        number,
                        spec.unique_label,
                        "duplicate",
                        f"与第 {seen[key]} 行重复（{spec.unique_label}：{key}）",
                    )
                    continue
                seen[key] = number
            cleaned.append(item)
    except ImportFileError as exc:
        report.fatal = str(exc)
        return report
    if report.total == 0:
        report.fatal = "文件中没有数据行"
        return report
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        spec.save(cleaned, report, actor)
        record_event(
            action,
            actor=actor,
            after={"total": report.total, "created": report.created, "updated": report.updated},
            message=f"导入 {report.total} 行：新增 {report.created}，更新 {report.updated}",
        )
    return report
