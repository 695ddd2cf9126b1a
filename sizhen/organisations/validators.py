"""Validators for Chinese organisation codes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# GB 32100-2015 统一社会信用代码: 18 characters from this 31-character alphabet
# (digits and capital letters without I, O, Z, S, V).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_error(value: str) -> str | None:
    """None when valid, else a Chinese explanation of what is wrong."""
    if not value:
        return "统一社会信用代码不能为空"
    if len(value) != 18:
        return f"统一社会信用代码应为 18 位，当前为 {len(value)} 位"
    if value != value.upper():
        return "统一社会信用代码应使用大写字母"
    bad = sorted({ch for ch in value if ch not in USCC_ALPHABET})
    if bad:
        return f"统一社会信用代码含有不允许的字符：{''.join(bad)}（不使用 I、O、Z、S、V）"
    if not _USCC_SHAPE.match(value):
        return "统一社会信用代码第 3–8 位应为数字（登记管理机关行政区划码）"
    expected = uscc_check_character(value[:17])
    if value[17] != expected:
        return f"统一社会信用代码校验位错误：第 18 位应为 {expected}，实为 {value[17]}"
    return None


def validate_uscc(value: str) -> None:
    error = uscc_error(value)
    if error:
        raise ValidationError(error, code="invalid_uscc")


_STATUTORY_CODE = re.compile(r"^(\d{6}|\d{12})$")
_PROJECT_CODE = re.compile(r"^[A-Z][A-Z0-9]{2,15}$")


def region_code_error(code: str, *, statutory: bool) -> str | None:
    if statutory:
        if not _STATUTORY_CODE.match(code):
            return "行政区划代码应为 6 位或 12 位数字"
        return None
    if not (_STATUTORY_CODE.match(code) or _PROJECT_CODE.match(code)):
        return "园区编码应为 6/12 位数字，或以大写字母开头的 3–16 位字母数字（如 P441001）"
    return None


# GB/T 4754-2017 国民经济行业分类: section letter A–T, optionally followed by a 2-, 3- or 4-digit
# division/group/class code (e.g. C, C39, C397, C3971).
_INDUSTRY = re.compile(r"^[A-T](\d{2}|\d{3}|\d{4})?$")


def validate_industry_code(value: str) -> None:
    if value and not _INDUSTRY.match(value):
        raise ValidationError(
            "行业代码应为门类字母（A–T）加 2–4 位数字，如 C3971", code="invalid_industry"
        )


_MOBILE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def validate_phone(value: str) -> None:
    if value and not _MOBILE.match(value):
        raise ValidationError("电话号码格式不正确（手机 11 位，或区号-号码）", code="invalid_phone")


def mask_phone(value: str | None) -> str:
    """138****5678 in lists and exports (个人信息去标识化)."""
    if not value:
        return ""
    digits = value.replace("-", "")
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "****"


def build_uscc(
    region_code: str, organisation_code: str, *, authority: str = "9", kind: str = "1"
) -> str:
    """Compose a valid USCC: registration authority (9 = 市场监管), type (1 = 企业), the 6-digit
    region code, a 9-character organisation code, and the computed check character."""
    first17 = f"{authority}{kind}{region_code[:6]}{organisation_code}"
    if len(first17) != 17:
        raise ValueError("organisation code must be 9 characters")
    return first17 + uscc_check_character(first17)


# Department codes appear in page addresses and API paths (/departments/{code}), so they are
# limited to characters that need no escaping there.
_DEPARTMENT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
# Path segments of the department pages (/org/departments/new/, /org/departments/import/).
_RESERVED_DEPARTMENT_CODES = frozenset({"new", "import"})


def department_code_error(code: str) -> str | None:
    if not code:
        return "部门编码不能为空"
    if not _DEPARTMENT_CODE.match(code):
        return "部门编码应为 1–32 位字母、数字、“-”“_”“.”，且以字母或数字开头（如 SZ-SCJG）"
    if code in _RESERVED_DEPARTMENT_CODES:
        return f"“{code}”是系统保留字，不能用作部门编码"
    return None


def validate_department_code(value: str) -> None:
    error = department_code_error(value)
    if error:
        raise ValidationError(error, code="invalid_department_code")
