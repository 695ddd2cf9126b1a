from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sizhen.organisations.validators import (
    build_uscc,
    department_code_error,
    mask_phone,
    region_code_error,
    uscc_check_character,
    uscc_error,
    validate_department_code,
    validate_industry_code,
    validate_phone,
    validate_uscc,
)

VALID = build_uscc("449901", "MA0000011")


@pytest.mark.parametrize(
    ("region", "organisation"),
    [
        ("449901", "MA0000011"),
        ("110105", "MA01ABCDE"),
        ("000000", "000000000"),
        ("449902", "Y9X8W7U6T"),
    ],
)
def test_built_usccs_are_valid(region, organisation):
    uscc = build_uscc(region, organisation)
    assert len(uscc) == 18
    assert uscc[2:8] == region
    assert uscc_error(uscc) is None
    validate_uscc(uscc)


def test_published_example_of_gb_32100_is_valid():
    # The example code printed in GB 32100-2015 checks the weights and alphabet independently
    # of build_uscc.
    assert uscc_check_character("91350100M000100Y4") == "3"
    assert uscc_error("91350100M000100Y43") is None


def test_check_character_of_fixture_enterprise():
    assert VALID == "91449901MA0000011J"


@pytest.mark.parametrize(("value", "length"), [(VALID[:17], 17), (VALID + "1", 19), ("9144", 4)])
def test_wrong_length(value, length):
    assert uscc_error(value) == f"统一社会信用代码应为 18 位，当前为 {length} 位"


def test_empty():
    assert uscc_error("") == "统一社会信用代码不能为空"


def test_lowercase():
    assert uscc_error(VALID.lower()) == "统一社会信用代码应使用大写字母"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet(letter):
    value = VALID[:10] + letter + VALID[11:]
    assert len(value) == 18
    assert (
        uscc_error(value) == f"统一社会信用代码含有不允许的字符：{letter}（不使用 I、O、Z、S、V）"
    )


def test_region_part_must_be_digits():
    value = "91A49901MA0000011J"
    assert uscc_error(value) == "统一社会信用代码第 3–8 位应为数字（登记管理机关行政区划码）"


@pytest.mark.parametrize("wrong", ["0", "A", "Y"])
def test_wrong_check_character_names_the_expected_one(wrong):
    assert VALID[17] == "J"
    value = VALID[:17] + wrong
    assert uscc_error(value) == f"统一社会信用代码校验位错误：第 18 位应为 J，实为 {wrong}"
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(value)
    assert excinfo.value.code == "invalid_uscc"
    assert excinfo.value.messages == [f"统一社会信用代码校验位错误：第 18 位应为 J，实为 {wrong}"]


@pytest.mark.parametrize("code", ["449900", "449901001001"])
def test_statutory_region_codes(code):
    assert region_code_error(code, statutory=True) is None


@pytest.mark.parametrize("code", ["4499", "4499011", "44990A", "P449951", ""])
def test_bad_statutory_region_codes(code):
    assert region_code_error(code, statutory=True) == "行政区划代码应为 6 位或 12 位数字"


@pytest.mark.parametrize("code", ["P449951", "GX001", "449951", "449951001001"])
def test_park_codes(code):
    assert region_code_error(code, statutory=False) is None


@pytest.mark.parametrize("code", ["p449951", "P1", "1P4499", "P-4499", "P" + "1" * 16])
def test_bad_park_codes(code):
    assert region_code_error(code, statutory=False) == (
        "园区编码应为 6/12 位数字，或以大写字母开头的 3–16 位字母数字（如 P441001）"
    )


@pytest.mark.parametrize("code", ["SZ-SCJG", "dh_01", "A", "9.1"])
def test_department_codes(code):
    assert department_code_error(code) is None


@pytest.mark.parametrize("code", ["-SZ", "SZ/SCJG", "市场局", "A" * 33, "SZ SCJG"])
def test_bad_department_codes(code):
    assert department_code_error(code) == (
        "部门编码应为 1–32 位字母、数字、“-”“_”“.”，且以字母或数字开头（如 SZ-SCJG）"
    )


@pytest.mark.parametrize("code", ["new", "import"])
def test_reserved_department_codes(code):
    assert department_code_error(code) == f"“{code}”是系统保留字，不能用作部门编码"
    with pytest.raises(ValidationError) as excinfo:
        validate_department_code(code)
    assert excinfo.value.code == "invalid_department_code"


@pytest.mark.parametrize("value", ["C", "C39", "C397", "C3971", ""])
def test_industry_codes(value):
    validate_industry_code(value)


@pytest.mark.parametrize("value", ["c3971", "U01", "C3", "C39711", "3971"])
def test_bad_industry_codes(value):
    with pytest.raises(ValidationError) as excinfo:
        validate_industry_code(value)
    assert excinfo.value.messages == ["行业代码应为门类字母（A–T）加 2–4 位数字，如 C3971"]


@pytest.mark.parametrize("value", ["13800001111", "0755-12345678", "07551234567", ""])
def test_phones(value):
    validate_phone(value)


@pytest.mark.parametrize("value", ["12800001111", "1380000111", "138-0000-1111", "abc"])
def test_bad_phones(value):
    with pytest.raises(ValidationError) as excinfo:
        validate_phone(value)
    assert excinfo.value.messages == ["电话号码格式不正确（手机 11 位，或区号-号码）"]


@pytest.mark.parametrize(
    ("value", "masked"),
    [("13800001111", "138****1111"), ("0755-12345678", "075****5678"), ("12345", "****"), ("", "")],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked
