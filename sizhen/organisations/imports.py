"""Bulk XLSX imports (批量导入) of regions, departments and enterprises.

Each import validates every row first and writes nothing unless the whole file is clean
(``sizhen.core.imports.run_import``: one transaction, one audit event). Rows are keyed by their
natural code (区划代码, 部门编码, 统一社会信用代码): a known key updates, a new key creates.
A column missing from the file leaves that field unchanged on updates; an empty cell in a column
that is present clears the field (or sets its default), because the row is taken as the record.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.utils import timezone
from openpyxl import load_workbook

from sizhen.core.access import CHANGE, Actor, region_scope_q
from sizhen.core.imports import run_import
from sizhen.core.xlsx import (
    Column,
    ImportFileError,
    ImportReport,
    ImportSpec,
    read_xlsx_rows,
    template_workbook,
)
from sizhen.organisations.choices import DepartmentType, EnterpriseSize, RegionLevel
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.selectors import can_change_any, list_assignable_regions
from sizhen.organisations.validators import (
    build_uscc,
    department_code_error,
    region_code_error,
    uscc_error,
    validate_industry_code,
    validate_phone,
)

#: Loads of existing rows are chunked to stay under every database's bound-parameter limit.
_CHUNK = 500
_BATCH = 500

EXAMPLE_USCC = build_uscc("000000", "EXAMPLE00")
EXAMPLE_DEPARTMENT_CODE = "EXAMPLE-01"
EXAMPLE_REGION_CODE = "PEXAMPLE"
_EXAMPLE_ROW = "这是模板中的示例行，请删除后再导入"

_SIZES = "、".join(EnterpriseSize.labels)
_TRUE = {"是", "1", "true", "yes", "y", "启用", "存续", "√"}
_FALSE = {"否", "0", "false", "no", "n", "停用", "注销", "×"}

ENTERPRISE_COLUMNS: tuple[Column, ...] = (
    Column(
        "uscc",
        "统一社会信用代码",
        required=True,
        help="18 位，数字和大写字母（不使用 I、O、Z、S、V）；已登记的企业按此代码更新",
        aliases=("信用代码", "社会信用代码", "uscc"),
        width=24,
    ),
    Column("name", "企业名称", required=True, help="营业执照上的全称，最多 200 字", width=32),
    Column(
        "region_code",
        "所属区划代码",
        required=True,
        help="见“区划代码”工作表；须在您的管辖范围内",
        aliases=("区划代码", "所属区划"),
    ),
    Column("industry_code", "行业代码", help="国民经济行业分类（GB/T 4754），如 C、C39、C3971"),
    Column("size", "规模", help="大型、中型、小型、微型 之一，可不填"),
    Column("address", "地址", help="最多 200 字", width=32),
    Column("contact_name", "联系人", help="最多 40 字"),
    Column("contact_phone", "联系电话", help="手机 11 位，或 区号-号码（如 0755-12345678）"),
    Column("established_on", "成立日期", help="年-月-日，如 2020-01-31"),
    Column("is_active", "存续", help="是 / 否；不填为 是"),
)

DEPARTMENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "code",
        "部门编码",
        required=True,
        help="1–32 位字母、数字、“-”“_”“.”；已有的部门按此编码更新",
    ),
    Column("name", "名称", required=True, help="同一区划内不能重名，最多 100 字", width=28),
    Column("short_name", "简称", help="最多 40 字"),
    Column("type", "类型", required=True, help="、".join(DepartmentType.labels) + " 之一"),
    Column(
        "region_code",
        "所属区划代码",
        required=True,
        help="见“区划代码”工作表",
        aliases=("区划代码", "所属区划"),
    ),
    Column("responsibilities", "主要职责", width=40),
    Column("sort_order", "排序", help="非负整数，不填为 0"),
    Column("is_active", "启用", help="是 / 否；不填为 是"),
)

REGION_COLUMNS: tuple[Column, ...] = (
    Column(
        "code",
        "区划代码",
        required=True,
        help="6 位或 12 位数字；园区可用以大写字母开头的 3–16 位编码（如 P441001）",
    ),
    Column("name", "名称", required=True, help="最多 60 字"),
    Column("level", "层级", required=True, help="、".join(RegionLevel.labels) + " 之一"),
    Column(
        "parent_code",
        "上级区划代码",
        help="本市（顶级区划）不填；上级可以是已有区划，或本文件中靠前的行。"
        "导入不调整已有区划的上级，迁移请在编辑页面操作",
        aliases=("上级区划",),
    ),
    Column("sort_order", "排序", help="非负整数，不填为 0"),
    Column("is_active", "启用", help="是 / 否；不填为 是"),
)

_NOTES = (
    "第一行为列名，请勿修改；第二行为示例，导入前请删除。标红的列为必填。"
    "更新已有记录时，文件中的每一列都会覆盖原值（空单元格即清空）；文件中没有的列保持不变。"
    "任何一行有错误时整个文件都不会导入，请按错误报告修改后重新上传。"
)


# --- cell parsing -------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: numbers typed into Excel (codes, phone numbers) come back as numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_bool(value: Any, *, default: bool = True) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text)


def parse_date(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_choice(value: Any, choices: type[models.TextChoices]) -> str:
    """A choice given either as its label (大型) or its stored value (large)."""
    text = cell_text(value)
    for choice in choices:
        if text in (choice.label, choice.value):
            return choice.value
    raise ValueError(text)


def parse_sort_order(value: Any) -> int:
    text = cell_text(value)
    if not text:
        return 0
    number = int(text)
    if number < 0 or number > 2_147_483_647:
        raise ValueError(text)
    return number


# --- shared row machinery -----------------------------------------------------------------


@dataclass
class PlannedRow:
    """One validated row: the instance to create, or the existing one with changed fields."""

    key: str
    obj: Any
    is_new: bool
    fields: list[str] = field(default_factory=list)


class _Row:
    """Collects one row's errors under the column labels the user sees."""

    def __init__(
        self, number: int, record: dict[str, Any], report: ImportReport, columns: Sequence[Column]
    ):
        self.number = number
        self.record = record
        self.report = report
        self.labels = {c.key: c.label for c in columns}
        self.failed = False

    def present(self, key: str) -> bool:
        return key in self.record

    def text(self, key: str) -> str:
        return cell_text(self.record.get(key))

    def error(self, key: str, code: str, message: str) -> None:
        self.failed = True
        self.report.add(self.number, self.labels.get(key, key), code, message)

    def required_text(self, key: str, max_length: int) -> str:
        value = self.text(key)
        if not value:
            self.error(key, "required", f"请填写{self.labels[key]}")
        elif len(value) > max_length:
            self.error(
                key, "too_long", f"{self.labels[key]}最多 {max_length} 字，当前 {len(value)} 字"
            )
        return value

    def optional_text(self, key: str, max_length: int, values: dict[str, Any]) -> None:
        if not self.present(key):
            return
        value = self.text(key)
        if len(value) > max_length:
            self.error(
                key, "too_long", f"{self.labels[key]}最多 {max_length} 字，当前 {len(value)} 字"
            )
        values[key] = value

    def validated(
        self, key: str, validator: Callable[[str], None], code: str, values: dict[str, Any]
    ) -> None:
        if not self.present(key):
            return
        value = self.text(key)
        try:
            validator(value)
        except ValidationError as exc:
            self.error(key, code, "；".join(exc.messages) + f"（当前值：{value}）")
        values[key] = value

    def boolean(self, key: str, values: dict[str, Any]) -> None:
        if not self.present(key):
            return
        try:
            values[key] = parse_bool(self.record.get(key))
        except ValueError:
            self.error(
                key,
                "invalid_boolean",
                f"{self.labels[key]}应填 是 或 否（当前值：{self.text(key)}）",
            )

    def sort_order(self, values: dict[str, Any]) -> None:
        if not self.present("sort_order"):
            return
        try:
            values["sort_order"] = parse_sort_order(self.record.get("sort_order"))
        except ValueError:
            self.error(
                "sort_order",
                "invalid_number",
                f"排序应为非负整数（当前值：{self.text('sort_order')}）",
            )

    def region(
        self, key: str, ctx: dict[str, Any], *, current_id: int | None = None
    ) -> Region | None:
        code = self.text(key)
        if not code:
            self.error(key, "required", f"请填写{self.labels[key]}")
            return None
        region = ctx["regions"].get(code)
        if region is None:
            self.error(key, "unknown_region", f"区划代码 {code} 不存在")
            return None
        if region.pk not in ctx["allowed_region_ids"]:
            self.error(key, "region_out_of_scope", f"区划 {code} 不在您的管辖范围内")
            return None
        if not region.is_active and current_id != region.pk:
            self.error(key, "region_inactive", f"区划 {code}（{region.name}）已停用")
            return None
        return region


def _plan(
    key: str, existing: Any, model: type[models.Model], values: dict[str, Any], ctx: dict[str, Any]
) -> PlannedRow:
    plan = ctx["plan"]
    if existing is None:
        plan["created"] += 1
        return PlannedRow(key, model(**values), True)
    fields = []
    for name, value in values.items():
        # Foreign keys compare by id so that no related row is fetched per imported row.
        current = (
            getattr(existing, f"{name}_id")
            if isinstance(value, models.Model)
            else getattr(existing, name)
        )
        if current != (value.pk if isinstance(value, models.Model) else value):
            setattr(existing, name, value)
            fields.append(name)
    plan["updated" if fields else "unchanged"] += 1
    return PlannedRow(key, existing, False, fields)


def _check_model_fields(
    row: _Row, obj: models.Model, exclude: Iterable[str], columns: dict[str, str]
) -> None:
    """A last net under the explicit checks: the model's own field validation, without queries."""
    try:
        obj.clean_fields(exclude=list(exclude))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            row.error(columns.get(name, name), "invalid", "；".join(messages))


def _bulk_save(
    model: type[models.Model],
    items: list[PlannedRow],
    report: ImportReport,
    extra: Sequence[str] = (),
) -> None:
    new = [i.obj for i in items if i.is_new]
    changed = [i for i in items if not i.is_new and i.fields]
    model._default_manager.bulk_create(new, batch_size=_BATCH)
    if changed:
        names = sorted({name for i in changed for name in i.fields} | set(extra))
        model._default_manager.bulk_update([i.obj for i in changed], names, batch_size=_BATCH)
    report.created = len(new)
    report.updated = len(changed)
    report.unchanged = len(items) - len(new) - len(changed)


def _keys_in_file(data: bytes, columns: Sequence[Column], key: str) -> list[str]:
    """The key column of every row, read ahead so existing rows load in a few queries."""
    try:
        return sorted({cell_text(r.get(key)) for _, r in read_xlsx_rows(data, columns)} - {""})
    except ImportFileError:
        return []  # run_import reads the file again and reports why it cannot


def _load_by(model: type[models.Model], field_name: str, keys: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        for obj in model._default_manager.filter(**{f"{field_name}__in": chunk}):
            found[getattr(obj, field_name)] = obj
    return found


def _changeable_ids(model: type[models.Model], actor: Actor, objects: Iterable[Any]) -> set[int]:
    ids = [o.pk for o in objects]
    allowed: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        qs = model._default_manager.visible_to(actor, CHANGE)  # type: ignore[attr-defined]
        allowed.update(qs.filter(pk__in=ids[start : start + _CHUNK]).values_list("pk", flat=True))
    return allowed


def _context(actor: Actor, model: type[models.Model]) -> dict[str, Any]:
    return {
        "regions": {r.code: r for r in Region.objects.all()},
        "allowed_region_ids": set(
            Region.objects.filter(region_scope_q(actor, "path")).values_list("pk", flat=True)
        )
        if can_change_any(actor, model)
        else set(),
        "plan": {"created": 0, "updated": 0, "unchanged": 0},
    }


def _run(
    spec: ImportSpec,
    data: bytes,
    *,
    actor: Actor,
    action: str,
    model: type[models.Model],
    dry_run: bool,
    context: dict[str, Any],
) -> ImportReport:
    if not can_change_any(actor, model):
        report = ImportReport()
        report.fatal = "您无权导入此类数据"
        return report
    try:
        report = run_import(
            spec, data, actor=actor, action=action, dry_run=dry_run, context=context
        )
    except IntegrityError:
        # Another user changed the same records between validation and saving; the
        # transaction rolled back, so nothing of this file was written.
        report = ImportReport()
        report.fatal = "保存时与其他用户的修改冲突，未导入任何数据，请重新导入"
        return report
    if dry_run and report.ok:
        plan = context["plan"]
        report.created, report.updated, report.unchanged = (
            plan["created"],
            plan["updated"],
            plan["unchanged"],
        )
    return report


# --- enterprises --------------------------------------------------------------------------


def _validate_enterprise(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> PlannedRow | None:
    row = _Row(number, record, report, ENTERPRISE_COLUMNS)
    uscc = row.text("uscc")
    error = uscc_error(uscc)
    if error:
        row.error("uscc", "invalid_uscc", error)
    elif uscc == EXAMPLE_USCC:
        row.error("uscc", "example_row", _EXAMPLE_ROW)
    existing = ctx["existing"].get(uscc)
    if existing is not None and existing.pk not in ctx["changeable_ids"]:
        row.error("uscc", "enterprise_out_of_scope", "该企业已登记，但不在您的管辖范围内，不能更新")
        existing = None
    values: dict[str, Any] = {"uscc": uscc, "name": row.required_text("name", 200)}
    region = row.region("region_code", ctx, current_id=existing.region_id if existing else None)
    values["region"] = region
    row.validated("industry_code", validate_industry_code, "invalid_industry", values)
    if row.present("size"):
        if row.text("size"):
            try:
                values["size"] = parse_choice(record["size"], EnterpriseSize)
            except ValueError:
                row.error(
                    "size",
                    "unknown_size",
                    f"规模应为 {_SIZES} 之一（当前值：{row.text('size')}）",
                )
        else:
            values["size"] = ""
    row.optional_text("address", 200, values)
    row.optional_text("contact_name", 40, values)
    row.validated("contact_phone", validate_phone, "invalid_phone", values)
    if row.present("established_on"):
        try:
            values["established_on"] = parse_date(record["established_on"])
        except ValueError:
            row.error(
                "established_on",
                "invalid_date",
                f"成立日期格式应为 年-月-日，如 2020-01-31（当前值：{row.text('established_on')}）",
            )
    row.boolean("is_active", values)
    if row.failed:
        return None
    planned = _plan(uscc, existing, Enterprise, values, ctx)
    _check_model_fields(
        row,
        planned.obj,
        exclude=("region", "uscc", "created_at", "updated_at"),
        columns=_ENTERPRISE_FIELD_KEYS,
    )
    return None if row.failed else planned


_ENTERPRISE_FIELD_KEYS = {"region": "region_code"}


def _save_enterprises(items: list[PlannedRow], report: ImportReport, actor: Actor) -> None:
    now = timezone.now()
    for item in items:
        if not item.is_new and item.fields:
            # bulk_update bypasses auto_now, so the change time is set here.
            item.obj.updated_at = now
    _bulk_save(Enterprise, items, report, extra=("updated_at",))


ENTERPRISE_SPEC = ImportSpec(
    columns=ENTERPRISE_COLUMNS,
    validate=_validate_enterprise,
    save=_save_enterprises,
    unique_key=lambda item: item.key,
    unique_label="统一社会信用代码",
)


def import_enterprises(data: bytes, *, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Create or update enterprises (企业) from an XLSX file, keyed by USCC."""
    context = _context(actor, Enterprise)
    existing = _load_by(Enterprise, "uscc", _keys_in_file(data, ENTERPRISE_COLUMNS, "uscc"))
    context["existing"] = existing
    context["changeable_ids"] = _changeable_ids(Enterprise, actor, existing.values())
    return _run(
        ENTERPRISE_SPEC,
        data,
        actor=actor,
        action="enterprise.import",
        model=Enterprise,
        dry_run=dry_run,
        context=context,
    )


# --- departments --------------------------------------------------------------------------


def _validate_department(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> PlannedRow | None:
    row = _Row(number, record, report, DEPARTMENT_COLUMNS)
    code = row.text("code")
    error = department_code_error(code)
    if error:
        row.error("code", "invalid_code", error)
    elif code == EXAMPLE_DEPARTMENT_CODE:
        row.error("code", "example_row", _EXAMPLE_ROW)
    existing = ctx["existing"].get(code)
    if existing is not None and existing.pk not in ctx["changeable_ids"]:
        row.error("code", "department_out_of_scope", "该部门不在您的管辖范围内，不能更新")
        existing = None
    values: dict[str, Any] = {"code": code, "name": row.required_text("name", 100)}
    if row.text("type"):
        try:
            values["type"] = parse_choice(record.get("type"), DepartmentType)
        except ValueError:
            row.error(
                "type",
                "unknown_type",
                f"类型应为 {'、'.join(DepartmentType.labels)} 之一（当前值：{row.text('type')}）",
            )
    else:
        row.error("type", "required", "请填写类型")
    region = row.region("region_code", ctx, current_id=existing.region_id if existing else None)
    values["region"] = region
    row.optional_text("short_name", 40, values)
    row.optional_text("responsibilities", 5000, values)
    row.sort_order(values)
    row.boolean("is_active", values)
    if region is not None and values["name"]:
        # 同一区划内部门不重名: against the database and against earlier rows of this file.
        pair = (region.pk, values["name"])
        holder = ctx["names"].get(pair)
        if holder is not None and holder != code:
            row.error(
                "name",
                "duplicate_name",
                f"{region.name}已有名为“{values['name']}”的部门（{holder}）",
            )
        earlier = ctx["file_names"].get(pair)
        if earlier is not None and earlier[1] != code:
            row.error(
                "name",
                "duplicate_name",
                f"与第 {earlier[0]} 行重名（{region.name}：{values['name']}）",
            )
        ctx["file_names"].setdefault(pair, (number, code))
    if row.failed:
        return None
    planned = _plan(code, existing, Department, values, ctx)
    _check_model_fields(
        row, planned.obj, exclude=("region", "code"), columns={"region": "region_code"}
    )
    return None if row.failed else planned


def _save_departments(items: list[PlannedRow], report: ImportReport, actor: Actor) -> None:
    _bulk_save(Department, items, report)


DEPARTMENT_SPEC = ImportSpec(
    columns=DEPARTMENT_COLUMNS,
    validate=_validate_department,
    save=_save_departments,
    unique_key=lambda item: item.key,
    unique_label="部门编码",
)


def import_departments(data: bytes, *, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Create or update departments (部门) from an XLSX file, keyed by department code."""
    context = _context(actor, Department)
    existing = _load_by(Department, "code", _keys_in_file(data, DEPARTMENT_COLUMNS, "code"))
    context["existing"] = existing
    context["changeable_ids"] = _changeable_ids(Department, actor, existing.values())
    context["names"] = {
        (region_id, name): code
        for region_id, name, code in Department.objects.values_list("region_id", "name", "code")
    }
    context["file_names"] = {}
    return _run(
        DEPARTMENT_SPEC,
        data,
        actor=actor,
        action="department.import",
        model=Department,
        dry_run=dry_run,
        context=context,
    )


# --- regions ------------------------------------------------------------------------------


def _validate_region(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> PlannedRow | None:
    row = _Row(number, record, report, REGION_COLUMNS)
    code = row.text("code")
    if code in ctx["file_codes"]:
        # Let run_import report the duplicate; this row must not touch the registry of new rows.
        return PlannedRow(code, None, False)
    ctx["file_codes"].add(code)
    if code == EXAMPLE_REGION_CODE:
        row.error("code", "example_row", _EXAMPLE_ROW)
    values: dict[str, Any] = {"code": code, "name": row.required_text("name", 60)}
    level = ""
    if row.text("level"):
        try:
            level = parse_choice(record.get("level"), RegionLevel)
            values["level"] = level
        except ValueError:
            row.error(
                "level",
                "unknown_level",
                f"层级应为 {'、'.join(RegionLevel.labels)} 之一（当前值：{row.text('level')}）",
            )
    else:
        row.error("level", "required", "请填写层级")
    if not code:
        row.error("code", "required", "请填写区划代码")
    elif level:
        error = region_code_error(code, statutory=level != RegionLevel.PARK)
        if error:
            row.error("code", "invalid_code", error)
    row.sort_order(values)
    row.boolean("is_active", values)
    existing = ctx["existing"].get(code)
    parent_code = row.text("parent_code")
    parent: Region | None = None
    if parent_code:
        parent = ctx["regions"].get(parent_code)
        if parent is None:
            row.error(
                "parent_code",
                "unknown_region",
                f"上级区划代码 {parent_code} 不存在（新上级须写在本行之前）",
            )
        elif parent_code == code:
            row.error("parent_code", "invalid_parent", "上级区划不能是自身")
            parent = None
    if existing is not None:
        if not row.failed and existing.parent_id != (parent.pk if parent else None):
            row.error(
                "parent_code",
                "parent_change",
                "导入不调整已有区划的上级；如需迁移，请在该区划的编辑页面修改上级",
            )
    elif parent is None and not row.failed:
        if ctx["has_root"]:
            row.error("parent_code", "required", "请填写上级区划代码（只能有一个顶级区划，即本市）")
        else:
            ctx["has_root"] = True
    if row.failed:
        return None
    if existing is None:
        values["parent"] = parent
    planned = _plan(code, existing, Region, values, ctx)
    obj = planned.obj
    if planned.is_new:
        # compute_path() reads parent_id, which a parent created earlier in this file lacks.
        obj.path = f"{parent.path if parent else '/'}{code}/"
        obj.depth = obj.path.count("/") - 2
        # Later rows may name this new region as their parent.
        ctx["regions"][code] = obj
    _check_model_fields(row, obj, exclude=("parent", "path", "depth"), columns={})
    return None if row.failed else planned


def _save_regions(items: list[PlannedRow], report: ImportReport, actor: Actor) -> None:
    new = sorted((i for i in items if i.is_new), key=lambda i: i.obj.depth)
    # Parents first, one depth at a time, so children get their parent's primary key.
    for depth in sorted({i.obj.depth for i in new}):
        Region.objects.bulk_create([i.obj for i in new if i.obj.depth == depth], batch_size=_BATCH)
    changed = [i for i in items if not i.is_new and i.fields]
    if changed:
        names = sorted({name for i in changed for name in i.fields})
        Region.objects.bulk_update([i.obj for i in changed], names, batch_size=_BATCH)
    report.created = len(new)
    report.updated = len(changed)
    report.unchanged = len(items) - len(new) - len(changed)


REGION_SPEC = ImportSpec(
    columns=REGION_COLUMNS,
    validate=_validate_region,
    save=_save_regions,
    unique_key=lambda item: item.key,
    unique_label="区划代码",
)


def import_regions(data: bytes, *, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Create regions (行政区划) or update their names, levels, order and state from XLSX."""
    context = _context(actor, Region)
    context["existing"] = dict(context["regions"])
    context["has_root"] = Region.objects.filter(parent__isnull=True).exists()
    context["file_codes"] = set()
    return _run(
        REGION_SPEC,
        data,
        actor=actor,
        action="region.import",
        model=Region,
        dry_run=dry_run,
        context=context,
    )


# --- templates ----------------------------------------------------------------------------


def _with_region_sheet(content: bytes, regions: Iterable[Region]) -> bytes:
    import io

    wb = load_workbook(io.BytesIO(content))
    ws = wb.create_sheet("区划代码")
    ws.append(["区划代码", "名称", "层级", "上级区划代码"])
    for region in regions:
        ws.append(
            [
                region.code,
                region.name,
                region.get_level_display(),
                region.parent.code if region.parent else "",
            ]
        )
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 24
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def enterprise_template(actor: Actor) -> bytes:
    regions = list(list_assignable_regions(actor, Enterprise).select_related("parent"))
    example_region = regions[0].code if regions else ""
    example = [
        EXAMPLE_USCC,
        "示例：某某科技有限公司",
        example_region,
        "I6510",
        "小型",
        "某某路 1 号",
        "张三",
        "13800000000",
        "2020-01-31",
        "是",
    ]
    return _with_region_sheet(template_workbook(ENTERPRISE_COLUMNS, example, _NOTES), regions)


def department_template(actor: Actor) -> bytes:
    regions = list(list_assignable_regions(actor, Department).select_related("parent"))
    example = [
        EXAMPLE_DEPARTMENT_CODE,
        "示例：某某局",
        "某某局",
        DepartmentType.CITY_DEPARTMENT.label,
        regions[0].code if regions else "",
        "负责……",
        10,
        "是",
    ]
    return _with_region_sheet(template_workbook(DEPARTMENT_COLUMNS, example, _NOTES), regions)


def region_template(actor: Actor) -> bytes:
    regions = list(list_assignable_regions(actor, Region).select_related("parent"))
    example = [
        EXAMPLE_REGION_CODE,
        "示例：某某园区",
        RegionLevel.PARK.label,
        regions[0].code if regions else "",
        10,
        "是",
    ]
    return _with_region_sheet(template_workbook(REGION_COLUMNS, example, _NOTES), regions)


# --- the kinds of import, for the pages ---------------------------------------------------


@dataclass(frozen=True)
class ImportKind:
    slug: str
    title: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    run: Callable[..., ImportReport]
    template: Callable[[Any], bytes]


IMPORT_KINDS = {
    "regions": ImportKind(
        "regions", "行政区划", Region, REGION_COLUMNS, import_regions, region_template
    ),
    "departments": ImportKind(
        "departments",
        "部门",
        Department,
        DEPARTMENT_COLUMNS,
        import_departments,
        department_template,
    ),
    "enterprises": ImportKind(
        "enterprises",
        "企业",
        Enterprise,
        ENTERPRISE_COLUMNS,
        import_enterprises,
        enterprise_template,
    ),
}


# --- staged uploads -----------------------------------------------------------------------
# A file checked with “校验” is kept on disk under a random token so that “确认导入” imports
# exactly the file that was checked, without uploading it again.

STAGING_MAX_AGE_SECONDS = 24 * 60 * 60


def _staging_dir() -> Path:
    # Outside MEDIA_ROOT on purpose: staged files hold personal data and must never be served.
    default = Path(settings.DATA_DIR) / "import-staging"
    return Path(getattr(settings, "SIZHEN_IMPORT_STAGING_DIR", default))


def _staged_path(token: str, suffix: str = ".xlsx") -> Path | None:
    if len(token) != 32 or any(ch not in "0123456789abcdef" for ch in token):
        return None
    return _staging_dir() / f"{token}{suffix}"


def stage_upload(data: bytes, report: ImportReport) -> str:
    """Keep an uploaded file, and the error report it produced, under a new random token."""
    directory = _staging_dir()
    directory.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - STAGING_MAX_AGE_SECONDS
    for old in directory.glob("*.xlsx"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue
    token = secrets.token_hex(16)
    (directory / f"{token}.xlsx").write_bytes(data)
    if not report.ok:
        (directory / f"{token}{_REPORT_SUFFIX}").write_bytes(report.error_workbook())
    return token


_REPORT_SUFFIX = ".errors.xlsx"


def read_staged(token: str) -> bytes | None:
    path = _staged_path(token)
    if path is None or not path.is_file():
        return None
    return path.read_bytes()


def read_staged_report(token: str) -> bytes | None:
    path = _staged_path(token, _REPORT_SUFFIX)
    if path is None or not path.is_file():
        return None
    return path.read_bytes()


def discard_staged(token: str) -> None:
    for suffix in (".xlsx", _REPORT_SUFFIX):
        path = _staged_path(token, suffix)
        if path is not None:
            path.unlink(missing_ok=True)
