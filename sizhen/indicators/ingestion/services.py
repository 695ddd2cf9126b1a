"""Writes for data loads that ``loads.py`` does not cover: admin-defined datasets (自定义数据集)
and discarding quarantined rows. Submitting and re-submitting records stay in ``loads``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.jobs import enqueue
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.choices import QuarantineStatus
from sizhen.indicators.ingestion.datasets import validate_fields
from sizhen.indicators.ingestion.models import (
    PENDING,
    Dataset,
    DatasetVersion,
    QuarantineRow,
    RecordExtract,
)
from sizhen.indicators.ingestion.selectors import drill_source, get_latest_extract
from sizhen.organisations.models import Region

#: Dataset codes become table names (records_<code>) in the analytical store.
DATASET_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
#: Field names become column names; ``r_`` is the engine's prefix for a column's raw text.
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED_PREFIXES = ("r_",)
NUMERIC_TYPES = ("integer", "decimal")


def schema_problems(
    fields: Any,
    *,
    key: str,
    region_field: str,
    department_field: str,
    previous: DatasetVersion | None = None,
) -> list[str]:
    """Everything wrong with a schema, in Chinese; empty when the engine can load it.

    Stricter than ``datasets.validate_fields``: the engine quotes names as SQL identifiers,
    compares allowed values as text and joins region/department codes as text."""
    problems = validate_fields(fields)
    if problems and (not isinstance(fields, list) or not fields):
        return problems
    by_name = {f.get("name"): f for f in fields if isinstance(f, dict)}
    for f in fields:
        if not isinstance(f, dict):
            continue
        name = str(f.get("name", ""))
        already_flagged = not (name.isidentifier() and name.islower() and len(name) <= 40)
        if not already_flagged and (
            not FIELD_NAME.match(name) or name.startswith(RESERVED_PREFIXES)
        ):
            problems.append(f"字段名“{name}”应以小写字母开头，且不以 r_ 开头")
        if f.get("allowed") and f.get("type") != "string":
            problems.append(f"字段“{name}”：只有文本类型的字段可以限定取值")
        if "minimum" in f:
            if f.get("type") not in NUMERIC_TYPES:
                problems.append(f"字段“{name}”：只有整数或数字类型的字段可以设置最小值")
            elif not isinstance(f["minimum"], int | float) or isinstance(f["minimum"], bool):
                problems.append(f"字段“{name}”：最小值应为数字")
    if key not in by_name:
        problems.append(f"主键字段“{key}”不在字段列表中")
    elif not by_name[key].get("required"):
        problems.append(f"主键字段“{key}”必须设为必填")
    for label, code_field in (("区划字段", region_field), ("部门字段", department_field)):
        if not code_field:
            continue
        if code_field not in by_name:
            problems.append(f"{label}“{code_field}”不在字段列表中")
        elif by_name[code_field].get("type") != "string":
            problems.append(f"{label}“{code_field}”应为文本类型")
    if previous is not None:
        # The store keeps one column per field name; its type cannot change under old rows.
        old_types = {f["name"]: f["type"] for f in previous.fields}
        for field_name, f in by_name.items():
            if field_name in old_types and f.get("type") != old_types[field_name]:
                problems.append(
                    f"字段“{field_name}”的类型不能由 {old_types[field_name]} 改为 {f.get('type')}；"
                    "如需改变类型，请新增一个字段"
                )
    return problems


@transaction.atomic
def create_dataset(
    *,
    actor: Actor,
    code: str,
    name: str,
    description: str = "",
    stale_after_days: int = 3,
    fields: list[dict[str, Any]],
    key: str,
    region_field: str = "region_code",
    department_field: str = "",
) -> Dataset:
    """An admin-defined dataset with its first schema version."""
    errors: dict[str, list[str]] = {}
    code = (code or "").strip()
    name = (name or "").strip()
    if not DATASET_CODE.match(code):
        errors["code"] = ["数据集编码应以小写字母开头，只含小写字母、数字和下划线，2～40 个字符"]
    elif Dataset.objects.filter(code=code).exists():
        errors["code"] = [f"数据集编码“{code}”已存在"]
    if not name:
        errors["name"] = ["请填写数据集名称"]
    if stale_after_days < 1:
        errors["stale_after_days"] = ["陈旧天数至少为 1 天"]
    problems = schema_problems(
        fields, key=key, region_field=region_field, department_field=department_field
    )
    if problems:
        errors["fields"] = problems
    if errors:
        raise ValidationError(errors)
    dataset = Dataset.objects.create(
        code=code,
        name=name,
        description=description,
        builtin=False,
        current_version=1,
        stale_after_days=stale_after_days,
    )
    DatasetVersion.objects.create(
        dataset=dataset,
        version=1,
        key=key,
        region_field=region_field,
        department_field=department_field,
        fields=fields,
        created_by=acting_user(actor),
    )
    record_event(
        "dataset.create",
        actor=actor,
        obj=dataset,
        after={
            "code": code,
            "name": name,
            "stale_after_days": stale_after_days,
            "key": key,
            "region_field": region_field,
            "department_field": department_field,
            "fields": fields,
        },
    )
    return dataset


@transaction.atomic
def discard_quarantine_rows(*, actor: Actor, rows: list[QuarantineRow], reason: str = "") -> int:
    """Give up on quarantined rows (作废): they stay for the record but leave the open list.
    Only rows still open are changed, so a row re-submitted meanwhile is not discarded."""
    ids = [row.pk for row in rows]
    discarded = list(
        QuarantineRow.objects.select_for_update()
        .filter(pk__in=ids, status=QuarantineStatus.OPEN)
        .values_list("pk", flat=True)
    )
    if not discarded:
        raise ValidationError("所选记录已不在待处理状态")
    QuarantineRow.objects.filter(pk__in=discarded).update(status=QuarantineStatus.DISCARDED)
    record_event(
        "records.quarantine_discard",
        actor=actor,
        object_type="indicators.quarantinerow",
        object_id=",".join(str(pk) for pk in discarded)[:64],
        message=(reason or "")[:200],
        after={"rows": discarded, "status": QuarantineStatus.DISCARDED},
    )
    return len(discarded)


RECORD_EXTRACT_JOB = "indicators.record_extract"


def request_record_extract(
    indicator: Indicator, region: Region, period: dt.date, *, actor: Actor
) -> RecordExtract:
    """Ask the worker for the records behind one value. While an extract of the same value is
    still pending, that one is returned and nothing is written."""
    source = drill_source(indicator)
    if source is None:
        raise ValueError(f"{indicator.code} 不是由业务记录计算的指标")
    with transaction.atomic():
        pending = get_latest_extract(indicator, region, period, actor=actor)
        if pending is not None and pending.state == PENDING:
            return pending
        extract = RecordExtract.objects.create(
            indicator=indicator,
            region=region,
            period=period,
            dataset_code=source.dataset,
            requested_by=acting_user(actor),
        )
        extract.job = enqueue(
            RECORD_EXTRACT_JOB,
            key=f"{RECORD_EXTRACT_JOB}:{extract.pk}",
            label=f"明细记录：{indicator.code} {region.name} {period:%Y-%m}",
            created_by=actor,
            extract_id=extract.pk,
        )
        extract.save(update_fields=["job"])
        record_event(
            "indicators.record_extract.request",
            actor=actor,
            obj=extract,
            message=f"申请{indicator.code} {indicator.name}（{region.name}，{period:%Y-%m}）明细记录",
            after={"indicator": indicator.code, "region": region.code, "period": str(period)},
        )
    return extract
