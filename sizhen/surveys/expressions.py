"""A safe evaluator for the subset of XLSForm expressions used by skip logic (``relevant``),
validation (``constraint``) and choice filters (``choice_filter``).

Expressions are parsed by a recursive-descent parser into tuples and walked; nothing is ever
``eval``ed. The subset (decision 0010): ``${name}`` references, ``.`` (the answer being
checked), numbers, string literals, ``= != < <= > >=``, ``and``, ``or``, ``not()``,
``selected(${q}, 'x')``, ``count-selected(${q})``, ``true()``, ``false()``, parentheses and
unary minus; in a choice filter a bare name is a column of the choices sheet. Anything else is
refused with ``ExpressionError`` (a Chinese message), at import.

Semantics follow XPath 1.0 as ODK applies it: answers are strings (a multiple choice is its
names joined by spaces, an unanswered question the empty string); ``=``/``!=`` compare numbers
when one side is a number, booleans when one side is a boolean, else strings; ``<`` and the
others compare numbers, an ISO date counting as its day number."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_LENGTH = 1000
_EPOCH = dt.date(1970, 1, 1)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ref>\$\{(?P<refname>[^}]*)\})
      | (?P<number>\d+(?:\.\d*)?|\.\d+)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<punct>[(),])
      | (?P<minus>-)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.\-]*(?::[A-Za-z_][A-Za-z0-9_.\-]*)?)
      | (?P<dot>\.)
      | (?P<other>\S)
    )""",
    re.VERBOSE,
)
_REF_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
FUNCTIONS = {"not": 1, "selected": 2, "count-selected": 1, "true": 0, "false": 0}


class ExpressionError(ValueError):
    """An expression outside the supported subset; ``message`` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        kind = match.lastgroup or "other"
        if kind == "ref":
            name = match.group("refname").strip()
            if not _REF_NAME.match(name):
                raise ExpressionError(f"引用 ${{{name}}} 的题目名称无效")
            tokens.append(Token("ref", name))
        elif kind == "other":
            symbol = match.group("other")
            if symbol in "+*|/[]@":
                raise ExpressionError(f"不支持运算符或路径“{symbol}”")
            raise ExpressionError(f"无法识别的字符“{symbol}”")
        elif kind == "string":
            tokens.append(Token("string", match.group("string")[1:-1]))
        else:
            tokens.append(Token(kind, match.group(kind)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], *, bare_names: bool) -> None:
        self.tokens = tokens
        self.position = 0
        self.bare_names = bare_names

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ExpressionError("表达式不完整")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text or token.kind not in ("punct",):
            raise ExpressionError(f"此处应为“{text}”，实为“{token.text}”")

    def parse(self) -> tuple[Any, ...]:
        if not self.tokens:
            raise ExpressionError("表达式为空")
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:
            raise ExpressionError(f"表达式在“{extra.text}”处有多余内容")
        return node

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "name" and token.text == word

    def or_expr(self) -> tuple[Any, ...]:
        node = self.and_expr()
        while self._keyword("or"):
            self.take()
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> tuple[Any, ...]:
        node = self.equality()
        while self._keyword("and"):
            self.take()
            node = ("and", node, self.equality())
        return node

    def equality(self) -> tuple[Any, ...]:
        node = self.relational()
        while (token := self.peek()) is not None and token.kind == "op" and token.text in "!=":
            self.take()
            node = ("cmp", token.text, node, self.relational())
        return node

    def relational(self) -> tuple[Any, ...]:
        node = self.unary()
        while (token := self.peek()) is not None and token.kind == "op" and token.text[0] in "<>":
            self.take()
            node = ("cmp", token.text, node, self.unary())
        return node

    def unary(self) -> tuple[Any, ...]:
        token = self.peek()
        if token is not None and token.kind == "minus":
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def primary(self) -> tuple[Any, ...]:
        token = self.take()
        if token.kind == "number":
            return ("num", float(token.text))
        if token.kind == "string":
            return ("str", token.text)
        if token.kind == "ref":
            return ("ref", token.text)
        if token.kind == "dot":
            return ("dot",)
        if token.kind == "punct" and token.text == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if token.kind == "name":
            following = self.peek()
            if following is not None and following.kind == "punct" and following.text == "(":
                return self.function(token.text)
            if token.text in ("and", "or", "div", "mod"):
                raise ExpressionError(f"“{token.text}”的位置不对")
            if self.bare_names:
                return ("col", token.text)
            raise ExpressionError(f"不支持“{token.text}”：引用题目请写成 ${{{token.text}}}")
        raise ExpressionError(f"此处不应出现“{token.text}”")

    def function(self, name: str) -> tuple[Any, ...]:
        if name not in FUNCTIONS:
            supported = "、".join(f"{f}()" for f in FUNCTIONS)
            raise ExpressionError(f"不支持函数 {name}()（支持：{supported}）")
        self.expect("(")
        arguments: list[tuple[Any, ...]] = []
        token = self.peek()
        if not (token is not None and token.kind == "punct" and token.text == ")"):
            arguments.append(self.or_expr())
            while (
                (token := self.peek()) is not None and token.text == "," and token.kind == "punct"
            ):
                self.take()
                arguments.append(self.or_expr())
        self.expect(")")
        if len(arguments) != FUNCTIONS[name]:
            raise ExpressionError(f"函数 {name}() 应有 {FUNCTIONS[name]} 个参数")
        if name in ("selected", "count-selected") and arguments[0][0] not in ("ref", "dot"):
            raise ExpressionError(f"函数 {name}() 的第一个参数应为题目引用，如 ${{q1}}")
        return ("call", name, *arguments)


@lru_cache(maxsize=4096)
def parse(text: str, *, bare_names: bool = False) -> tuple[Any, ...]:
    """The parsed expression (cached: published forms are read again and again)."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"表达式不能超过 {MAX_LENGTH} 个字符")
    return _Parser(_tokens(text), bare_names=bare_names).parse()


def references(node: tuple[Any, ...]) -> set[str]:
    """The question names an expression refers to."""
    if node[0] == "ref":
        return {node[1]}
    found: set[str] = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            found |= references(part)
    return found


def uses_dot(node: tuple[Any, ...]) -> bool:
    if node[0] == "dot":
        return True
    return any(isinstance(part, tuple) and uses_dot(part) for part in node[1:])


def check(
    text: str,
    *,
    names: Iterable[str],
    allow_dot: bool = False,
    bare_names: bool = False,
    refused: Mapping[str, str] | None = None,
) -> None:
    """Refuse (ExpressionError) an expression that is outside the subset or that refers to a
    question the form does not have; ``refused`` maps names that may not be referred to
    (matrix rows, notes) to the reason."""
    node = parse(text, bare_names=bare_names)
    known = set(names)
    for name in sorted(references(node)):
        if refused and name in refused:
            raise ExpressionError(refused[name])
        if name not in known:
            raise ExpressionError(f"引用了不存在的题目 ${{{name}}}")
    if not allow_dot and uses_dot(node):
        raise ExpressionError("“.”（本题答案）只能用于校验条件")


# --- evaluation --------------------------------------------------------------------------------


class _Node(str):
    """A question's value as XPath sees it: a string that came from the form."""


def as_text(value: Any) -> str:
    """An answer as its XForm string value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(as_text(v) for v in value)
    if isinstance(value, dict):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    text = str(value).strip()
    if _DATE.match(text):
        try:
            return float((dt.date.fromisoformat(text) - _EPOCH).days)
        except ValueError:
            return math.nan
    try:
        number = float(text)
    except ValueError:
        return math.nan
    return number if math.isfinite(number) else math.nan


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not math.isnan(value) and value != 0
    return value != ""


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            equal = _boolean(left) == _boolean(right)
        elif isinstance(left, float) or isinstance(right, float):
            equal = _number(left) == _number(right)
        else:
            equal = str(left) == str(right)
        return equal if op == "=" else not equal
    a, b = _number(left), _number(right)
    if math.isnan(a) or math.isnan(b):
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _items(value: Any) -> list[str]:
    return [item for item in str(value).split(" ") if item]


def _evaluate(node: tuple[Any, ...], env: _Env) -> Any:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "str":
        return node[1]
    if kind == "ref":
        return _Node(as_text(env.values.get(node[1])))
    if kind == "dot":
        return _Node(as_text(env.current))
    if kind == "col":
        return _Node(as_text((env.columns or {}).get(node[1])))
    if kind == "neg":
        return -_number(_evaluate(node[1], env))
    if kind == "and":
        return _boolean(_evaluate(node[1], env)) and _boolean(_evaluate(node[2], env))
    if kind == "or":
        return _boolean(_evaluate(node[1], env)) or _boolean(_evaluate(node[2], env))
    if kind == "cmp":
        return _compare(node[1], _evaluate(node[2], env), _evaluate(node[3], env))
    if kind == "call":
        name = node[1]
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "not":
            return not _boolean(_evaluate(node[2], env))
        if name == "selected":
            wanted = as_text(_evaluate(node[3], env)).strip()
            return wanted in _items(_evaluate(node[2], env))
        if name == "count-selected":
            return float(len(_items(_evaluate(node[2], env))))
    raise ExpressionError(f"无法计算表达式节点 {kind}")  # pragma: no cover - parse refuses


@dataclass(frozen=True)
class _Env:
    values: Mapping[str, Any]
    current: Any = None
    columns: Mapping[str, Any] | None = None


def evaluate(
    text: str,
    values: Mapping[str, Any],
    *,
    current: Any = None,
    columns: Mapping[str, Any] | None = None,
) -> bool:
    """Whether the expression holds for these answers (``current`` is ``.``; ``columns`` the
    choice row a choice filter is checked on). An empty expression holds."""
    if not text.strip():
        return True
    node = parse(text, bare_names=columns is not None)
    return _boolean(_evaluate(node, _Env(values, current, columns)))
