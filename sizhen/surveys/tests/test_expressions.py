"""The skip-logic evaluator: the supported subset evaluated as ODK does, everything else
refused with a Chinese message, nothing ever eval()ed."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.surveys.expressions import ExpressionError, check, evaluate, parse, references

VALUES: dict[str, Any] = {
    "satisfied": "no",
    "problems": ["slow", "other"],
    "employees": 25,
    "revenue": 1200.5,
    "score": 4,
    "founded": "2018-05-18",
    "empty": None,
    "name": "东湖科技",
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${satisfied} = 'no'", True),
        ("${satisfied} != 'no'", False),
        ('${satisfied} = "no"', True),
        ("${employees} > 10", True),
        ("${employees} >= 25 and ${employees} <= 25", True),
        ("${employees} < 25", False),
        ("${employees} = 25", True),
        ("${employees} = '25'", True),
        ("${employees} = 25.0", True),
        ("${revenue} > 1200", True),
        ("${revenue} <= 1200.4", False),
        ("${score} >= 4 or ${score} < 0", True),
        ("not(${satisfied} = 'yes')", True),
        ("not(${empty})", True),
        ("not(${name})", False),
        ("${empty} = ''", True),
        ("${empty} > 0", False),
        ("${empty} < 0", False),
        ("selected(${problems}, 'slow')", True),
        ("selected(${problems}, 'fees')", False),
        ("selected(${empty}, 'slow')", False),
        ("count-selected(${problems}) = 2", True),
        ("count-selected(${problems}) > 2", False),
        ("count-selected(${empty}) = 0", True),
        ("${founded} < '2020-01-01'", True),
        ("${founded} > '2020-01-01'", False),
        ("${name} > 3", False),
        ("(${satisfied} = 'no' or ${score} = 5) and not(${employees} > 100)", True),
        ("${employees} > -1", True),
        ("true()", True),
        ("false() or true() and false()", False),
        ("", True),
        ("   ", True),
    ],
)
def test_evaluates_the_subset(expression: str, expected: bool) -> None:
    assert evaluate(expression, VALUES) is expected


def test_dot_is_the_answer_being_checked() -> None:
    assert evaluate(". >= 0 and . <= 100000", {}, current=25) is True
    assert evaluate(". >= 0 and . <= 100000", {}, current=100001) is False
    assert evaluate(". <= '2026-12-31'", {}, current="2027-01-01") is False
    assert evaluate("count-selected(.) <= 2", {}, current=["a", "b", "c"]) is False


def test_choice_filters_read_the_choice_columns() -> None:
    columns = {"name": "x", "city": "a"}
    assert evaluate("city = ${city}", {"city": "a"}, columns=columns) is True
    assert evaluate("city = ${city}", {"city": "b"}, columns=columns) is False
    assert evaluate("name != 'x'", {}, columns=columns) is False


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("${a} + 1 > 2", "不支持运算符或路径“+”"),
        ("${a} * 2", "不支持运算符或路径“*”"),
        ("/data/a = 1", "不支持运算符或路径“/”"),
        ("string-length(${a}) > 2", "不支持函数 string-length()"),
        ("if(${a} = 1, 2, 3)", "不支持函数 if()"),
        ("today() > ${a}", "不支持函数 today()"),
        ("a = 1", "不支持“a”：引用题目请写成 ${a}"),
        ("${a} div 2", "表达式在“div”处有多余内容"),
        ("${a} =", "表达式不完整"),
        ("(${a} = 1", "表达式不完整"),
        ("${a} = 1)", "表达式在“)”处有多余内容"),
        ("selected('x', 'y')", "函数 selected() 的第一个参数应为题目引用"),
        ("not(${a}, ${b})", "函数 not() 应有 1 个参数"),
        ("${a b} = 1", "引用 ${a b} 的题目名称无效"),
        ("__import__('os')", "不支持函数 __import__()"),
        ("${a} = 1 ; ${b}", "无法识别的字符“;”"),
    ],
)
def test_refuses_everything_else_in_chinese(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as refused:
        parse(expression)
    assert message in refused.value.message


def test_check_names_the_unknown_reference_and_the_misplaced_dot() -> None:
    assert references(parse("${a} = 1 and selected(${b}, 'x')")) == {"a", "b"}
    check("${a} = 1", names={"a"})
    with pytest.raises(ExpressionError, match=r"引用了不存在的题目 \$\{zz\}"):
        check("${zz} = 1", names={"a"})
    with pytest.raises(ExpressionError, match="只能用于校验条件"):
        check(". > 1", names={"a"})
    check(". > 1", names={"a"}, allow_dot=True)
    with pytest.raises(ExpressionError, match="不能引用矩阵题"):
        check("${m} = 1", names={"m"}, refused={"m": "不能引用矩阵题 ${m}"})
