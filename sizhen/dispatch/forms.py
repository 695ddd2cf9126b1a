"""Forms of the dispatch catalogue pages."""

from __future__ import annotations

from typing import Any

from django import forms

from sizhen.dispatch.models import DispatchCatalogueEntry
from sizhen.organisations.models import Department
from sizhen.organisations.pickers import department_picker


class CatalogueEntryForm(forms.Form):
    department = forms.ModelChoiceField(
        label="部门",
        queryset=Department.objects.none(),
        widget=department_picker(),
        error_messages={
            "required": "请选择部门",
            "invalid_choice": "所选部门不存在或已停用",
        },
    )
    responsibilities = forms.CharField(
        label="职责（来自三定规定）",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        required=False,
        error_messages={"max_length": "职责不能超过 4000 字"},
    )
    typical_matters = forms.CharField(
        label="典型事项（来自权责清单，每行一项）",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=8000,
        required=False,
        error_messages={"max_length": "典型事项不能超过 8000 字"},
    )
    keywords = forms.CharField(
        label="关键词（每行一个）",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=4000,
        required=False,
        error_messages={"max_length": "关键词不能超过 4000 字"},
    )
    is_active = forms.BooleanField(label="参与派单", required=False, initial=True)

    def __init__(self, *args: Any, entry: DispatchCatalogueEntry | None = None, **kwargs: Any):
        if entry is not None:
            # Also when bound: the disabled department field takes its value from here.
            kwargs["initial"] = {
                "department": entry.department_id,
                "responsibilities": entry.responsibilities,
                "typical_matters": entry.typical_matters,
                "keywords": entry.keywords,
                "is_active": entry.is_active,
            }
        super().__init__(*args, **kwargs)
        self.entry = entry
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        if entry is not None:
            field.queryset = Department.objects.filter(pk=entry.department_id)
            field.disabled = True
        else:
            field.queryset = Department.objects.filter(
                is_active=True, dispatch_entry__isnull=True
            ).select_related("region")

    def clean_keywords(self) -> str:
        value: str = self.cleaned_data["keywords"]
        too_long = [k for k in value.splitlines() if len(k.strip()) > 30]
        if too_long:
            raise forms.ValidationError(f"关键词过长（每个不超过 30 字）：{too_long[0][:30]}…")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("is_active")
            and not (cleaned.get("responsibilities") or "").strip()
            and not (cleaned.get("typical_matters") or "").strip()
            and not (cleaned.get("keywords") or "").strip()
        ):
            raise forms.ValidationError("参与派单的条目至少要填写职责、典型事项或关键词之一")
        return cleaned
