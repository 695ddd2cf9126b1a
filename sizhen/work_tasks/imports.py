"""Annual task plan import (年度任务计划导入) from XLSX: every row is checked first and nothing
is written unless the whole file is clean (row-level error report)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sizhen.core.access import Actor
from sizhen.core.imports import run_import
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, template_workbook
from sizhen.organisations.models import Department, Region
from sizhen.work_tasks import services
from sizhen.work_tasks.choices import TaskSource
from sizhen.work_tasks.services import TaskError, Unit, _create_task, task_deadline

PLAN_COLUMNS: tuple[Column, ...] = (
    Column("title", "任务名称", required=True, help="最多 200 字", width=32),
    Column("content", "任务内容", required=True, help="任务要求", width=48),
    Column(
        "source",
        "任务来源",
        help="、".join(TaskSource.labels) + " 之一；不填为 年度工作计划",
    ),
    Column(
        "units",
        "承办单位",
        required=True,
        help="部门编码或区划代码，多个用“、”或“;”分隔，如 SZ-SCJG、449901",
        width=28,
    ),
    Column("deadline", "完成期限", help="年-月-日；与“工作日数”二选一"),
    Column("working_days", "工作日数", help="从下发日期起算的工作日数；与“完成期限”二选一"),
    Column("milestones", "阶段节点", help="名称:年-月-日，多个用“;”分隔", width=40),
)

_SPLIT = re.compile(r"[、;；,，\s]+")
_SOURCE_BY_LABEL = {label: value for value, label in TaskSource.choices}


@dataclass
class PlanRow:
    title: str
    content: str
    source: str
    units: list[Unit]
    deadline: dt.date | None
    working_days: int | None
    milestones: list[tuple[str, dt.date]]


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError as exc:
        raise TaskError(f"日期“{str(value)[:20]}”格式应为 年-月-日") from exc


def _validate(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> PlanRow | None:
    errors_before = len(report.errors)
    title = str(record.get("title") or "").strip()
    content = str(record.get("content") or "").strip()
    if not title:
        report.add(number, "任务名称", "required", "任务名称不能为空")
    elif len(title) > 200:
        report.add(number, "任务名称", "too_long", "任务名称最多 200 字")
    if not content:
        report.add(number, "任务内容", "required", "任务内容不能为空")
    source_label = str(record.get("source") or "").strip()
    source = _SOURCE_BY_LABEL.get(source_label, source_label) or TaskSource.ANNUAL_PLAN
    if source not in TaskSource.values:
        report.add(number, "任务来源", "invalid", f"任务来源“{source_label}”无效")
    units: list[Unit] = []
    codes = [c for c in _SPLIT.split(str(record.get("units") or "")) if c]
    if not codes:
        report.add(number, "承办单位", "required", "承办单位不能为空")
    for code in codes:
        unit: Unit | None = ctx["departments"].get(code) or ctx["regions"].get(code)
        if unit is None:
            report.add(number, "承办单位", "unknown", f"找不到部门编码或区划代码“{code[:32]}”")
        elif unit in units:
            report.add(number, "承办单位", "duplicate", f"承办单位“{code}”重复")
        else:
            units.append(unit)
    deadline = working_days = None
    try:
        deadline = _date(record.get("deadline"))
    except TaskError as exc:
        report.add(number, "完成期限", "invalid", str(exc))
    raw_days = record.get("working_days")
    if raw_days not in (None, ""):
        try:
            working_days = int(str(raw_days).strip().removesuffix(".0"))
        except ValueError:
            report.add(number, "工作日数", "invalid", "工作日数应为正整数")
    resolved = None
    if len(report.errors) == errors_before:
        try:
            resolved = task_deadline(ctx["issued_on"], deadline=deadline, working_days=working_days)
        except TaskError as exc:
            report.add(number, "完成期限", "invalid", str(exc))
    milestones: list[tuple[str, dt.date]] = []
    for part in re.split(r"[;；\n]+", str(record.get("milestones") or "")):
        if not part.strip():
            continue
        name, sep, when = part.replace("：", ":").rpartition(":")
        try:
            day = _date(when) if sep else None
        except TaskError:
            day = None
        if not name.strip() or day is None:
            report.add(number, "阶段节点", "invalid", f"阶段节点“{part[:40]}”应写成 名称:年-月-日")
        elif resolved is not None and not ctx["issued_on"] <= day <= resolved.date:
            report.add(
                number,
                "阶段节点",
                "invalid",
                f"阶段节点“{name[:40]}”的期限应在下发日期与完成期限之间",
            )
        else:
            milestones.append((name.strip(), day))
    if len(report.errors) != errors_before:
        return None
    return PlanRow(title, content, source, units, deadline, working_days, milestones)


def _save(rows: list[PlanRow], report: ImportReport, actor: Actor) -> None:
    issued_on = services.today()
    for row in rows:
        _create_task(
            actor=actor,
            title=row.title,
            content=row.content,
            source=row.source,
            units=row.units,
            deadline=row.deadline,
            deadline_working_days=row.working_days,
            milestones=row.milestones,
            indicators=(),
            files=(),
            issued_on=issued_on,
            alert_id=None,
            plan_year=issued_on.year,
        )
        report.created += 1


PLAN_SPEC = ImportSpec(
    columns=PLAN_COLUMNS,
    validate=_validate,
    save=_save,
    unique_key=lambda row: row.title,
    unique_label="任务名称",
)


def import_task_plan(data: bytes, *, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Import an annual task plan; each row becomes a task issued today to its units."""
    context = {
        "departments": {d.code: d for d in Department.objects.select_related("region")},
        "regions": {r.code: r for r in Region.objects.all()},
        "issued_on": services.today(),
    }
    return run_import(
        PLAN_SPEC,
        data,
        actor=actor,
        action="work_task.import_plan",
        dry_run=dry_run,
        context=context,
    )


def plan_template() -> bytes:
    return template_workbook(
        PLAN_COLUMNS,
        [
            "优化企业开办流程",
            "将企业开办时间压缩至 1 个工作日以内",
            "年度工作计划",
            "SZ-SCJG、449901",
            "",
            20,
            "制定方案:" + (services.today() + dt.timedelta(days=7)).isoformat(),
        ],
        notes="每行一项任务，导入后按承办单位各生成一份承办任务；有任何错误时整个文件不导入。",
    )
