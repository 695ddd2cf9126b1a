"""Forms for regions, departments, enterprises and XLSX uploads. They only parse and validate;
the views pass ``cleaned_data`` to the services, which validate again and audit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from sizhen.core.access import Actor
from sizhen.organisations.choices import DepartmentType, EnterpriseSize, RegionLevel
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.pickers import region_picker
from sizhen.organisations.selectors import list_assignable_regions, region_label
from sizhen.organisations.validators import (
    department_code_error,
    region_code_error,
    uscc_error,
    validate_industry_code,
    validate_phone,
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# The form grid stretches inputs to the column width; a checkbox keeps its natural size.
CHECKBOX = forms.CheckboxInput(attrs={"style": "width:auto"})
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _required(label: str) -> dict[str, str]:
    return {"required": f"请填写{label}"}


def _choice(label: str) -> dict[str, str]:
    return {"required": f"请选择{label}", "invalid_choice": f"请从列表中选择{label}"}


class RegionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return region_label(obj)


def _region_field(label: str, queryset: Any, *, required: bool = True) -> RegionField:
    return RegionField(
        label=label,
        queryset=queryset,
        required=required,
        widget=region_picker(),
        empty_label="请选择" if required else "（无，顶级区划）",
        error_messages={
            "required": f"请选择{label}",
            "invalid_choice": "请选择您管辖范围内的区划",
        },
    )


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service ValidationError on the form: field errors on fields, the rest on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class RegionForm(forms.Form):
    code = forms.CharField(label="区划代码", max_length=16, error_messages=_required("区划代码"))
    name = forms.CharField(label="名称", max_length=60, error_messages=_required("名称"))
    level = forms.ChoiceField(
        label="层级", choices=RegionLevel.choices, error_messages=_choice("层级")
    )
    parent = forms.ModelChoiceField(queryset=Region.objects.none())
    sort_order = forms.IntegerField(
        label="排序",
        min_value=0,
        initial=0,
        error_messages={"invalid": "排序应为非负整数", "min_value": "排序应为非负整数"},
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True, widget=CHECKBOX)

    def __init__(self, *args: Any, actor: Actor, instance: Region | None = None, **kwargs: Any):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": instance.code,
                "name": instance.name,
                "level": instance.level,
                "parent": instance.parent_id,
                "sort_order": instance.sort_order,
                "is_active": instance.is_active,
            }
        super().__init__(*args, **kwargs)
        parents = list_assignable_regions(actor, Region, keep=instance.parent if instance else None)
        if instance is not None:
            # A region cannot move under itself or its own descendants.
            parents = parents.exclude(path__startswith=instance.path)
        self.fields["parent"] = _region_field("上级区划", parents, required=False)
        self.fields["parent"].error_messages["invalid_choice"] = (
            "请选择有效的上级区划（不能是自身或其下级）"
        )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        code, level = data.get("code"), data.get("level")
        if code and level:
            error = region_code_error(code, statutory=level != RegionLevel.PARK)
            if error:
                self.add_error("code", error)
            else:
                clash = Region.objects.filter(code=code)
                if self.instance is not None:
                    clash = clash.exclude(pk=self.instance.pk)
                if clash.exists():
                    self.add_error("code", f"区划代码 {code} 已被使用")
        return data


class DepartmentForm(forms.Form):
    code = forms.CharField(label="部门编码", max_length=32, error_messages=_required("部门编码"))
    name = forms.CharField(label="名称", max_length=100, error_messages=_required("名称"))
    short_name = forms.CharField(label="简称", max_length=40, required=False)
    type = forms.ChoiceField(
        label="类型", choices=DepartmentType.choices, error_messages=_choice("类型")
    )
    region = forms.ModelChoiceField(queryset=Region.objects.none())
    responsibilities = forms.CharField(
        label="主要职责", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    superior = forms.ModelChoiceField(
        label="上级业务主管部门",
        queryset=Department.objects.none(),
        required=False,
        help_text="区县部门所属条线的市级部门；市级部门的指标数据涵盖其全市条线",
        error_messages={"invalid_choice": "请选择列表中的市级部门"},
    )
    sort_order = forms.IntegerField(
        label="排序",
        min_value=0,
        initial=0,
        error_messages={"invalid": "排序应为非负整数", "min_value": "排序应为非负整数"},
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True, widget=CHECKBOX)

    def __init__(self, *args: Any, actor: Actor, instance: Department | None = None, **kwargs: Any):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": instance.code,
                "name": instance.name,
                "short_name": instance.short_name,
                "type": instance.type,
                "region": instance.region_id,
                "responsibilities": instance.responsibilities,
                "superior": instance.superior_id,
                "sort_order": instance.sort_order,
                "is_active": instance.is_active,
            }
        super().__init__(*args, **kwargs)
        regions = list_assignable_regions(
            actor, Department, keep=instance.region if instance else None
        )
        self.fields["region"] = _region_field("所属区划", regions)
        superiors = Department.objects.filter(region__parent__isnull=True, is_active=True)
        if instance is not None:
            superiors = superiors.exclude(pk=instance.pk)
        self.fields["superior"].queryset = superiors.order_by("sort_order", "code")  # type: ignore[attr-defined]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        error = department_code_error(code)
        if error:
            raise ValidationError(error)
        clash = Department.objects.filter(code=code)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(f"部门编码 {code} 已被使用")
        return code

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        name, region = data.get("name"), data.get("region")
        if name and region:
            clash = Department.objects.filter(region=region, name=name)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("name", f"{region.name}已有名为“{name}”的部门")
        return data


class EnterpriseForm(forms.Form):
    uscc = forms.CharField(
        label="统一社会信用代码", max_length=18, error_messages=_required("统一社会信用代码")
    )
    name = forms.CharField(label="企业名称", max_length=200, error_messages=_required("企业名称"))
    industry_code = forms.CharField(
        label="行业代码",
        max_length=5,
        required=False,
        validators=[validate_industry_code],
        help_text="国民经济行业分类代码，如 C3971",
    )
    region = forms.ModelChoiceField(queryset=Region.objects.none())
    size = forms.ChoiceField(
        label="规模",
        choices=[("", "未填写"), *EnterpriseSize.choices],
        required=False,
        error_messages=_choice("规模"),
    )
    address = forms.CharField(label="地址", max_length=200, required=False)
    contact_name = forms.CharField(label="联系人", max_length=40, required=False)
    contact_phone = forms.CharField(
        label="联系电话", max_length=20, required=False, validators=[validate_phone]
    )
    established_on = forms.DateField(
        label="成立日期",
        required=False,
        widget=DATE_INPUT,
        error_messages={"invalid": "日期格式应为 年-月-日，如 2020-01-31"},
    )
    is_active = forms.BooleanField(label="存续", required=False, initial=True, widget=CHECKBOX)

    def __init__(self, *args: Any, actor: Actor, instance: Enterprise | None = None, **kwargs: Any):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "uscc": instance.uscc,
                "name": instance.name,
                "industry_code": instance.industry_code,
                "region": instance.region_id,
                "size": instance.size,
                "address": instance.address,
                "contact_name": instance.contact_name,
                "contact_phone": instance.contact_phone,
                "established_on": instance.established_on,
                "is_active": instance.is_active,
            }
        super().__init__(*args, **kwargs)
        regions = list_assignable_regions(
            actor, Enterprise, keep=instance.region if instance else None
        )
        self.fields["region"] = _region_field("所属区划", regions)

    def clean_uscc(self) -> str:
        value = self.cleaned_data["uscc"].strip()
        error = uscc_error(value)
        if error:
            raise ValidationError(error)
        clash = Enterprise.objects.filter(uscc=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("该统一社会信用代码已登记，请勿重复新增")
        return value

    def clean_industry_code(self) -> str:
        return self.cleaned_data["industry_code"].strip()

    def clean_contact_phone(self) -> str:
        return self.cleaned_data["contact_phone"].strip()


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）",
        error_messages={
            "required": "请选择要导入的 Excel 文件",
            "empty": "上传的文件是空的",
            "invalid": "未收到文件，请重新选择",
        },
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(".xlsx"):
            raise ValidationError(
                "只支持 .xlsx 格式的 Excel 文件；.xls、.csv 等请在 Excel 中另存为 .xlsx，"
                "或使用下载的模板"
            )
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"文件过大（{upload.size / 1024 / 1024:.1f} MB），不能超过 "
                f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB，请分批导入"
            )
        return upload
