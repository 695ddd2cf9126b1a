from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone

from sizhen.accounts.models import ApiTokenScope, User
from sizhen.core.access import Actor
from sizhen.core.roles import DEPARTMENT_STAFF_ROLES, USER_ROLES, Role
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.pickers import department_picker, region_picker
from sizhen.organisations.validators import validate_phone

DATE = forms.DateInput(attrs={"type": "date"})


class LoginForm(forms.Form):
    username = forms.CharField(
        label="用户名", max_length=150, error_messages={"required": "请输入用户名"}
    )
    password = forms.CharField(
        label="密码",
        strip=False,
        widget=forms.PasswordInput,
        error_messages={"required": "请输入密码"},
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="原密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "请输入原密码"},
    )
    new_password = forms.CharField(
        label="新密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "请输入新密码"},
    )
    new_password_again = forms.CharField(
        label="确认新密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "请再次输入新密码"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error(
                "new_password_again",
                forms.ValidationError("两次输入的新密码不一致", code="password_mismatch"),
            )
        return data


username_validator = RegexValidator(
    r"^[\w.@+-]+\Z", "用户名只能包含字母、数字和 @ . + - _ 字符", code="invalid_username"
)


class UserForm(forms.Form):
    """Create or edit a user (with ``instance``). The bindings a role does not use are cleared,
    so switching a user's role needs no manual blanking; the service checks the rest."""

    username = forms.CharField(
        label="用户名",
        max_length=150,
        validators=[username_validator],
        error_messages={"required": "请填写用户名"},
    )
    full_name = forms.CharField(
        label="姓名", max_length=40, error_messages={"required": "请填写姓名"}
    )
    role = forms.ChoiceField(
        label="角色",
        choices=[("", "请选择"), *((r.value, r.label) for r in USER_ROLES)],
        error_messages={"required": "请选择角色", "invalid_choice": "角色无效"},
    )
    department = forms.ModelChoiceField(
        label="所属部门",
        queryset=Department.objects.none(),
        required=False,
        empty_label="（无）",
        widget=department_picker(),
        help_text="指标牵头部门、责任部门用户必填；市领导、营商办、系统管理员可选",
        error_messages={"invalid_choice": "所选部门不存在或已停用"},
    )
    region = forms.ModelChoiceField(
        label="管辖区划",
        queryset=Region.objects.none(),
        required=False,
        empty_label="（无）",
        widget=region_picker(),
        help_text="县市区/园区用户必填",
        error_messages={"invalid_choice": "所选区划不存在或已停用"},
    )
    enterprise_uscc = forms.CharField(
        label="所属企业（统一社会信用代码）",
        max_length=18,
        required=False,
        help_text="企业用户必填",
    )
    phone = forms.CharField(
        label="手机号", max_length=20, required=False, validators=[validate_phone]
    )
    email = forms.EmailField(
        label="电子邮箱", required=False, error_messages={"invalid": "电子邮箱格式不正确"}
    )
    unit_leader = forms.BooleanField(
        label="单位负责人",
        required=False,
        help_text="仅部门用户：本单位诉求超时无进展时首先提级给单位负责人",
        widget=forms.CheckboxInput(attrs={"style": "width:auto"}),
    )

    def __init__(self, *args: Any, actor: Actor, instance: User | None = None, **kwargs: Any):
        self.actor = actor
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "full_name": instance.full_name,
                    "role": instance.role,
                    "department": instance.department_id,
                    "region": instance.region_id,
                    "enterprise_uscc": instance.enterprise.uscc if instance.enterprise_id else "",  # type: ignore[union-attr]
                    "phone": instance.phone,
                    "email": instance.email,
                    "unit_leader": instance.unit_leader,
                },
            )
        super().__init__(*args, **kwargs)
        if instance is not None:
            # The username is the login and the audit trail's key: it never changes.
            del self.fields["username"]
        current_department = instance.department_id if instance else None
        current_region = instance.region_id if instance else None
        self.fields["department"].queryset = (  # type: ignore[attr-defined]
            Department.objects.visible_to(actor)
            .filter(Q(is_active=True) | Q(pk=current_department))
            .select_related("region")
        )
        self.fields["region"].queryset = Region.objects.visible_to(actor).filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk=current_region)
        )

    def clean_enterprise_uscc(self) -> Enterprise | None:
        value = (self.cleaned_data.get("enterprise_uscc") or "").strip().upper()
        if not value:
            return None
        enterprise = Enterprise.objects.visible_to(self.actor).filter(uscc=value).first()
        if enterprise is None:
            raise forms.ValidationError("未找到该统一社会信用代码对应的企业", code="unknown")
        return enterprise

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if role == Role.ENTERPRISE:
            data["department"] = None
        elif "enterprise_uscc" in data:
            data["enterprise_uscc"] = None
        if role != Role.DISTRICT_OFFICER and "region" in data:
            data["region"] = None
        if role not in DEPARTMENT_STAFF_ROLES:
            data["unit_leader"] = False
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            "full_name": data["full_name"].strip(),
            "role": data["role"],
            "department": data.get("department"),
            "region": data.get("region"),
            "enterprise": data.get("enterprise_uscc"),
            "phone": data.get("phone", ""),
            "email": data.get("email", ""),
            "unit_leader": bool(data.get("unit_leader")),
        }
        if "username" in self.fields:
            fields["username"] = data["username"]
        return fields

    #: service error keys that name a differently named form field
    FIELD_FOR_ERROR: ClassVar[dict[str, str]] = {"enterprise": "enterprise_uscc"}


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="名称",
        max_length=100,
        help_text="如“政务服务网办件推送”",
        error_messages={"required": "请填写令牌名称"},
    )
    department = forms.ModelChoiceField(
        label="所属部门",
        queryset=Department.objects.none(),
        empty_label="请选择",
        widget=department_picker(),
        help_text="令牌以该部门的身份和数据范围调用接口",
        error_messages={"required": "请选择所属部门", "invalid_choice": "所选部门不存在或已停用"},
    )
    scopes = forms.MultipleChoiceField(
        label="权限范围",
        choices=ApiTokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "至少选择一项权限范围", "invalid_choice": "权限范围无效"},
    )
    expires_on = forms.DateField(
        label="有效期至（含当日）",
        required=False,
        widget=DATE,
        help_text="留空表示长期有效；建议设置有效期并定期更换",
        error_messages={"invalid": "日期格式不正确"},
    )

    FIELD_FOR_ERROR: ClassVar[dict[str, str]] = {"expires_at": "expires_on"}

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = (  # type: ignore[attr-defined]
            Department.objects.visible_to(actor).filter(is_active=True).select_related("region")
        )

    def clean_expires_on(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("expires_on")
        if value is not None and value < timezone.localdate():
            raise forms.ValidationError("有效期不能早于今天", code="past")
        return value

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day in local time: the token works through that whole day."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
