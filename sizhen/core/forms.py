from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from sizhen.core.models import CalendarDayKind


class WorkdayQueryForm(forms.Form):
    start = forms.DateField(label="起始日期", widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(label="工作日数", min_value=0, max_value=2000, required=False)
    end = forms.DateField(
        label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("days") is None and data.get("end") is None:
            raise forms.ValidationError("请填写工作日数或截止日期")
        return data


class CalendarDayForm(forms.Form):
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label="类型", choices=CalendarDayKind.choices)
    name = forms.CharField(label="名称", max_length=60, required=False)
    note = forms.CharField(label="依据", max_length=200, required=False)

    def clean_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["date"]
        if not 2000 <= value.year <= 2100:
            raise forms.ValidationError("日期超出范围（2000–2100 年）")
        return value


class CalendarYearForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100)
    source = forms.CharField(label="依据（通知文号）", max_length=200)


#: The largest XLSX file an import page takes.
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class XlsxImportForm(forms.Form):
    """The file of an all-or-nothing XLSX import (core/imports.py)."""

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
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise ValidationError("只支持 .xlsx 格式的 Excel 文件，请使用下载的模板")
        if upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(f"文件不能超过 {MAX_IMPORT_BYTES // 1024 // 1024} MB")
        return upload


#: The name the training app's import pages use for the same form.
ImportUploadForm = XlsxImportForm
