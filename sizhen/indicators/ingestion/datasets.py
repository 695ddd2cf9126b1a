"""Dataset schemas in the database: the built-in ones and admin-defined ones, as engine specs."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.indicators.ingestion.engine.ingest import Spec
from sizhen.indicators.ingestion.engine.schemas import BUILTIN_BY_CODE, BUILTIN_DATASETS, TYPES
from sizhen.indicators.ingestion.models import Dataset, DatasetVersion


@transaction.atomic
def ensure_builtin_datasets(*, actor: Actor | None = None) -> list[Dataset]:
    """Create the built-in datasets (idempotent); never rewrites an existing version."""
    out = []
    for spec in BUILTIN_DATASETS:
        dataset, created = Dataset.objects.get_or_create(
            code=spec["code"],
            defaults={"name": spec["name"], "description": spec["description"], "builtin": True},
        )
        if not dataset.versions.exists():
            DatasetVersion.objects.create(
                dataset=dataset,
                version=1,
                key=spec["key"],
                region_field=spec["region_field"],
                department_field=spec["department_field"],
                fields=spec["fields"],
            )
        if created:
            record_event("dataset.create", actor=actor, obj=dataset, after={"code": dataset.code})
        out.append(dataset)
    return out


def validate_fields(fields: Any) -> list[str]:
    """Problems with an admin-defined field list (empty when it is valid)."""
    problems: list[str] = []
    if not isinstance(fields, list) or not fields:
        return ["字段列表不能为空"]
    seen: set[str] = set()
    for index, f in enumerate(fields, start=1):
        if not isinstance(f, dict):
            problems.append(f"第 {index} 个字段格式不正确")
            continue
        name = str(f.get("name", ""))
        if not name.isidentifier() or not name.islower() or len(name) > 40:
            problems.append(f"第 {index} 个字段名“{name}”应为小写英文字母、数字和下划线")
        if name in seen:
            problems.append(f"字段名“{name}”重复")
        seen.add(name)
        if f.get("type") not in TYPES:
            problems.append(f"字段“{name}”的类型应为 {'/'.join(TYPES)}")
        if not f.get("label"):
            problems.append(f"字段“{name}”缺少中文名称")
    return problems


@transaction.atomic
def create_dataset_version(
    dataset: Dataset,
    *,
    actor: Actor,
    fields: list[dict[str, Any]],
    key: str,
    region_field: str = "region_code",
    department_field: str = "",
) -> DatasetVersion:
    """A new schema version; earlier versions stay as they were (loads reference theirs)."""
    from django.core.exceptions import ValidationError

    problems = validate_fields(fields)
    names = {f.get("name") for f in fields if isinstance(f, dict)}
    if key not in names:
        problems.append(f"主键字段“{key}”不在字段列表中")
    if region_field and region_field not in names:
        problems.append(f"区划字段“{region_field}”不在字段列表中")
    if department_field and department_field not in names:
        problems.append(f"部门字段“{department_field}”不在字段列表中")
    if problems:
        raise ValidationError(problems)
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    latest = locked.versions.order_by("-version").first()
    number = (latest.version + 1) if latest else 1
    version = DatasetVersion.objects.create(
        dataset=locked,
        version=number,
        key=key,
        region_field=region_field,
        department_field=department_field,
        fields=fields,
        created_by=acting_user(actor),
    )
    locked.current_version = number
    locked.save(update_fields=["current_version"])
    record_event(
        "dataset.new_version", actor=actor, obj=locked, after={"version": number, "fields": fields}
    )
    return version


def spec_for(dataset: Dataset, version: int | None = None) -> Spec:
    schema = dataset.schema(version)
    builtin = BUILTIN_BY_CODE.get(dataset.code, {})
    period_fields = builtin.get("period_fields") or [
        f["name"] for f in schema.fields if f["type"] in ("datetime", "date")
    ]
    return Spec(
        code=dataset.code,
        key=schema.key,
        fields=list(schema.fields),
        region_field=schema.region_field,
        department_field=schema.department_field,
        period_fields=list(period_fields),
    )
