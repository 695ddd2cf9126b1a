"""Automatic scoring (自动评分), pure functions over a question's kind, its answer and a response.

- single choice and true/false: the one chosen letter equals the answer;
- multiple choice: all or nothing, the chosen letters equal the answer's set exactly (a missing
  or an extra letter scores zero; no partial credit);
- fill-in: the response, normalised, equals one of the accepted answers, normalised: Unicode
  NFKC (full-width letters and digits become half-width), case folded, whitespace removed and
  trailing punctuation dropped ("一网通办。" = "一网通办", "ＡＢＣ" = "abc").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sizhen.training.choices import OPTION_LETTERS, QuestionKind

_SPACE = re.compile(r"\s+")
_TRAILING = re.compile(r"[。．.，,；;！!？?、]+$")


def normalise_text(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "").casefold()
    text = _SPACE.sub("", text)
    return _TRAILING.sub("", text)


def clean_response(kind: str, values: Iterable[Any], option_count: int) -> list[str]:
    """The response as stored: choice letters upper-cased, deduplicated, within the options
    and sorted; a fill-in text trimmed (at most 200 characters)."""
    items = [str(v) for v in values if v is not None and str(v).strip()]
    if kind == QuestionKind.FILL:
        return [items[0].strip()[:200]] if items else []
    allowed = OPTION_LETTERS[:option_count]
    letters = sorted({v.strip().upper() for v in items if v.strip().upper() in allowed})
    if kind != QuestionKind.MULTIPLE:
        return letters[:1]
    return letters


def is_correct(kind: str, answer: Sequence[str], response: Sequence[str]) -> bool:
    if not response:
        return False
    if kind == QuestionKind.FILL:
        accepted = {normalise_text(a) for a in answer}
        return normalise_text(response[0]) in accepted
    if kind == QuestionKind.MULTIPLE:
        return sorted(set(response)) == sorted(set(answer))
    return len(response) == 1 and [response[0]] == list(answer)[:1]


def percent_of(score: Decimal, maximum: Decimal) -> Decimal:
    """The score on a 100-point scale, one decimal, half away from zero."""
    if not maximum:
        return Decimal("0.0")
    return (score * 100 / maximum).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def answer_text(kind: str, answer: Sequence[str], options: Sequence[str]) -> str:
    """The right answer as people read it: "B：一网通办" or "A、C" or the accepted texts."""
    if kind == QuestionKind.FILL:
        return " / ".join(answer)
    if kind == QuestionKind.TRUE_FALSE:
        return "；".join(options[OPTION_LETTERS.index(a)] for a in answer if a in OPTION_LETTERS)
    return "、".join(answer)


__all__ = ["answer_text", "clean_response", "is_correct", "normalise_text", "percent_of"]
