"""Shared data of the training tests: a small bank of the four kinds of question."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.training import services
from sizhen.training.choices import QuestionKind


@pytest.fixture
def bank(personas: dict[str, Any]) -> list[Any]:
    coordinator = personas["coordinator"]
    specs = [
        dict(kind=QuestionKind.SINGLE, stem="单选一", options=["甲", "乙", "丙"], answer="B"),
        dict(
            kind=QuestionKind.MULTIPLE,
            stem="多选一",
            options=["甲", "乙", "丙", "丁"],
            answer="A、C",
        ),
        dict(kind=QuestionKind.TRUE_FALSE, stem="判断一", options=[], answer="错误"),
        dict(kind=QuestionKind.FILL, stem="填空一", options=[], answer="一网通办|一网通办理"),
    ]
    return [
        services.create_question(
            actor=coordinator, explanation=f"解析：{s['stem']}", tags="基础", **s
        )
        for s in specs
    ]


@pytest.fixture
def exam(personas: dict[str, Any], bank: list[Any]) -> Any:
    """Published: the four questions, 1, 2, 3 and 4 points in the bank's order (one rule per
    kind), 10 minutes, two attempts, pass mark 60."""
    coordinator = personas["coordinator"]
    rules = [
        {"kind": "single", "count": 1, "points": 1},
        {"kind": "multiple", "count": 1, "points": 2},
        {"kind": "true_false", "count": 1, "points": 3},
        {"kind": "fill", "count": 1, "points": 4},
    ]
    created = services.create_exam(
        actor=coordinator, title="营商环境基础知识测试", rules=rules, duration_minutes=10,
        max_attempts=2, pass_mark=60,
    )  # fmt: skip
    return services.transition_exam(created, "publish", actor=coordinator)
