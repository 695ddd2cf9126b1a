"""Forms of the data pages (数据接入): upload, dataset schema editor, quarantine correction,
the filters of the load list, and pull sources (数据对接)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

import django_filters
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.forms import formset_factory

from sizhen.core.access import Actor
from sizhen.indicators.ingestion import pulls
from sizhen.indicators.ingestion.choices import LoadChannel, LoadMode, LoadStatus, PullKind
from sizhen.indicators.ingestion.engine.schemas import TYPES
from sizhen.indicators.ingestion.models import Dataset, DatasetVersion, LoadBatch, PullSource
from sizhen.indicators.ingestion.services import schema_problems
from sizhen.organisations.models import Department
from sizhen.organisations.pickers import department_picker

TYPE_LABELS = {
    "string": "文本",
    "integer": "整数",
    "decimal": "数字",
    "datetime": "日期时间",
    "date": "日期",
}
CHECKBOX = forms.CheckboxInput(attrs={"style": "width:auto"})
DATE = forms.DateInput(attrs={"type": "date"})
_LIST_SPLIT = re.compile(r"[,，、;；/\n]+")


def max_upload_bytes() -> int:
    return int(getattr(settings, "SIZHEN_MAX_UPLOAD_BYTES", 100 * 1024 * 1024))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


class DatasetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.code}）"


class UploadForm(forms.Form):
    dataset = DatasetChoiceField(
        label="数据集",
        queryset=Dataset.objects.none(),
        to_field_name="code",
        error_messages={"required": "请选择数据集", "invalid_choice": "请从列表中选择数据集"},
    )
    file = forms.FileField(
        label="数据文件（CSV 或 XLSX）",
        error_messages={
            "required": "请选择要导入的文件",
            "empty": "上传的文件是空的",
            "invalid": "未收到文件，请重新选择",
        },
    )
    mode = forms.ChoiceField(
        label="校验模式",
        choices=LoadMode.choices,
        initial=LoadMode.STRICT,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择校验模式", "invalid_choice": "请选择校验模式"},
    )
    dry_run = forms.BooleanField(label="仅校验，不入库（试运行）", required=False, widget=CHECKBOX)

    def __init__(self, *args: Any, datasets: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = datasets  # type: ignore[attr-defined]

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise forms.ValidationError(
                "只支持 CSV（UTF-8 或 GBK 编码）和 XLSX（Excel）文件；.xls 请在 Excel 中另存为 .xlsx"
            )
        limit = max_upload_bytes()
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                f"文件过大（{_megabytes(upload.size)} MB），网页上传不能超过 "
                f"{_megabytes(limit)} MB。更大的文件请拆分后分批上传，或交给系统管理员在服务器上导入"
            )
        return upload


class FieldRowForm(forms.Form):
    """One row of the schema table."""

    name = forms.CharField(label="字段名", max_length=40, required=False)
    label = forms.CharField(label="中文名称", max_length=60, required=False)
    type = forms.ChoiceField(
        label="类型",
        choices=[(t, TYPE_LABELS[t]) for t in TYPES],
        initial="string",
        required=False,
    )
    required = forms.BooleanField(label="必填", required=False, widget=CHECKBOX)
    allowed = forms.CharField(
        label="允许取值",
        required=False,
        max_length=1000,
        help_text="多个取值用顿号或逗号分隔",
    )
    aliases = forms.CharField(label="其他列名", required=False, max_length=1000)
    minimum = forms.FloatField(
        label="最小值",
        required=False,
        error_messages={"invalid": "最小值应为数字"},
        widget=forms.NumberInput(attrs={"step": "any"}),
    )


FieldRowFormSet = formset_factory(FieldRowForm, extra=3, max_num=200, absolute_max=200)


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(text or "") if part.strip()]


def field_rows(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A schema's fields as initial rows of the table."""
    return [
        {
            "name": f["name"],
            "label": f.get("label", ""),
            "type": f.get("type", "string"),
            "required": bool(f.get("required")),
            "allowed": "、".join(f.get("allowed", [])),
            "aliases": "、".join(f.get("aliases", [])),
            "minimum": f.get("minimum"),
        }
        for f in fields
    ]


def normalise_field(raw: dict[str, Any]) -> dict[str, Any]:
    """The canonical shape the engine reads: every field has name, label, type and required."""
    field: dict[str, Any] = {
        "name": str(raw.get("name", "")).strip(),
        "label": str(raw.get("label", "")).strip(),
        "type": str(raw.get("type", "string")).strip() or "string",
        "required": bool(raw.get("required", False)),
    }
    for key in ("allowed", "aliases"):
        value = raw.get(key)
        if isinstance(value, str):
            value = _split(value)
        if value:
            field[key] = [str(v).strip() for v in value if str(v).strip()]
    minimum = raw.get("minimum")
    if minimum not in (None, ""):
        if isinstance(minimum, float) and minimum.is_integer():
            minimum = int(minimum)
        field["minimum"] = minimum
    return field


class SchemaForm(forms.Form):
    """Key, region and department fields, and the field list as JSON (optional: the table
    below is the other way to enter it)."""

    key = forms.CharField(
        label="主键字段",
        max_length=40,
        help_text="唯一标识一条记录的字段；重复推送同一主键的记录以新版本替换旧版本",
        error_messages={"required": "请填写主键字段"},
    )
    region_field = forms.CharField(
        label="区划字段",
        max_length=40,
        required=False,
        initial="region_code",
        help_text="填写区划代码的字段，未知区划代码的记录被拒收；可留空",
    )
    department_field = forms.CharField(
        label="部门字段",
        max_length=40,
        required=False,
        help_text="填写部门编码的字段，未知部门编码的记录被拒收；可留空",
    )
    fields_json = forms.CharField(
        label="字段定义（JSON，可选）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text='填写后以此为准，忽略上方表格。格式：[{"name": "case_id", "label": "办件编号", '
        '"type": "string", "required": true, "allowed": [], "aliases": []}]',
    )

    def __init__(self, *args: Any, previous: DatasetVersion | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.previous = previous

    def schema(self, rows: FieldRowFormSet) -> dict[str, Any] | None:  # type: ignore[valid-type]
        """The validated schema, or None with the problems added to this form."""
        if not self.is_valid() or not rows.is_valid():  # type: ignore[attr-defined]
            return None
        text = self.cleaned_data["fields_json"].strip()
        if text:
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                self.add_error("fields_json", f"JSON 格式错误（第 {exc.lineno} 行）：{exc.msg}")
                return None
            if not isinstance(raw, list) or not all(isinstance(f, dict) for f in raw):
                self.add_error("fields_json", "字段定义应为对象数组，每个字段一个对象")
                return None
            if any(
                not isinstance(f.get(k, []), list | str)
                for f in raw
                for k in ("allowed", "aliases")
            ):
                self.add_error("fields_json", "allowed 和 aliases 应为文本数组")
                return None
            fields = [normalise_field(f) for f in raw]
        else:
            fields = [
                normalise_field(row)
                for row in rows.cleaned_data  # type: ignore[attr-defined]
                if row and (row.get("name") or "").strip()
            ]
        schema = {
            "fields": fields,
            "key": self.cleaned_data["key"].strip(),
            "region_field": self.cleaned_data["region_field"].strip(),
            "department_field": self.cleaned_data["department_field"].strip(),
        }
        problems = schema_problems(
            fields,
            key=schema["key"],
            region_field=schema["region_field"],
            department_field=schema["department_field"],
            previous=self.previous,
        )
        for problem in problems:
            self.add_error(None, problem)
        return None if problems else schema


class DatasetForm(SchemaForm):
    code = forms.CharField(
        label="数据集编码",
        max_length=40,
        help_text="小写英文字母开头，只含小写字母、数字和下划线，如 tax_refunds；创建后不能修改",
        error_messages={"required": "请填写数据集编码"},
    )
    name = forms.CharField(
        label="数据集名称", max_length=60, error_messages={"required": "请填写数据集名称"}
    )
    description = forms.CharField(
        label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    stale_after_days = forms.IntegerField(
        label="超过多少天未更新视为陈旧",
        min_value=1,
        max_value=366,
        initial=3,
        error_messages={
            "required": "请填写陈旧天数",
            "invalid": "陈旧天数应为整数",
            "min_value": "陈旧天数至少为 1 天",
            "max_value": "陈旧天数不能超过 366 天",
        },
    )

    field_order = ("code", "name", "description", "stale_after_days")


class QuarantineRowForm(forms.Form):
    """The raw values of one quarantined row, one text input per schema field."""

    def __init__(self, *args: Any, spec_fields: list[dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        for f in spec_fields:
            hint = TYPE_LABELS.get(f["type"], f["type"])
            if f.get("allowed"):
                hint += "，取值：" + "/".join(f["allowed"])
            self.fields[f["name"]] = forms.CharField(
                label=f["label"],
                required=False,
                max_length=2000,
                help_text=f"{f['name']}（{hint}{'，必填' if f.get('required') else ''}）",
            )

    def corrections(self, original: dict[str, Any]) -> dict[str, Any]:
        """Only the values the user changed (blank means empty)."""
        changed = {}
        for name in self.fields:
            value = self.cleaned_data.get(name, "")
            before = original.get(name)
            if (before or "") != value:
                changed[name] = value if value != "" else None
        return changed


class LoadBatchFilter(django_filters.FilterSet):
    dataset = django_filters.ModelChoiceFilter(
        label="数据集", queryset=Dataset.objects.all(), to_field_name="code"
    )
    status = django_filters.ChoiceFilter(label="状态", choices=LoadStatus.choices)
    channel = django_filters.ChoiceFilter(label="渠道", choices=LoadChannel.choices)
    mode = django_filters.ChoiceFilter(label="模式", choices=LoadMode.choices)
    since = django_filters.DateFilter(
        label="起始日期", field_name="created_at", lookup_expr="date__gte", widget=DATE
    )
    until = django_filters.DateFilter(
        label="截止日期", field_name="created_at", lookup_expr="date__lte", widget=DATE
    )

    class Meta:
        model = LoadBatch
        fields: ClassVar[list[str]] = []


def _required(label: str) -> dict[str, str]:
    return {"required": f"请填写{label}"}


class PullSourceForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100, error_messages=_required("名称"))
    dataset = forms.ModelChoiceField(
        label="数据集",
        queryset=Dataset.objects.none(),
        error_messages={"required": "请选择数据集", "invalid_choice": "请选择有效的数据集"},
    )
    department = forms.ModelChoiceField(
        label="数据提供部门",
        queryset=Department.objects.none(),
        widget=department_picker(),
        error_messages={"required": "请选择数据提供部门", "invalid_choice": "请选择有效的部门"},
    )
    kind = forms.ChoiceField(
        label="类型",
        choices=PullKind.choices,
        error_messages={"required": "请选择对接类型", "invalid_choice": "请选择对接类型"},
    )
    url = forms.CharField(
        label="地址或数据库连接串",
        max_length=500,
        error_messages=_required("地址或数据库连接串"),
        help_text="HTTP 接口如 http://10.0.0.8/api/cases（拉取时附加 ?since=当前水位）；"
        "数据库如 sqlite:////data/src.db 或 postgresql://用户:密码@主机/库名（密码显示为 ***，不修改则保留）",
    )
    query = forms.CharField(
        label="SQL 查询",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="仅数据库类型需要，须含 :watermark 参数，如 SELECT * FROM cases WHERE updated_at > :watermark ORDER BY updated_at",
    )
    records_path = forms.CharField(
        label="JSON 记录路径",
        required=False,
        max_length=100,
        initial="records",
        help_text="接口返回对象时记录列表所在的键，多级用点分隔，如 data.items；返回数组时可不填",
    )
    watermark_field = forms.CharField(
        label="水位字段", max_length=40, error_messages=_required("水位字段")
    )
    watermark_value = forms.CharField(
        label="当前水位", required=False, max_length=60, help_text="清空则下次从头拉取"
    )
    interval_minutes = forms.IntegerField(
        label="间隔（分钟）",
        initial=60,
        error_messages={"required": "请填写间隔", "invalid": "间隔应为整数"},
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args: Any, actor: Actor, instance: PullSource | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{k: getattr(instance, k) for k in pulls.EDITABLE_FIELDS},
                "dataset": instance.dataset_id,
                "department": instance.department_id,
                "url": pulls.mask_url(instance.url),
            }
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = Dataset.objects.visible_to(actor)  # type: ignore[attr-defined]
        self.fields["department"].queryset = Department.objects.visible_to(actor).filter(  # type: ignore[attr-defined]
            is_active=True
        )
