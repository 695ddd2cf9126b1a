"""Duplicate detection (重复诉求识别) by character bigrams: Chinese text has no spaces, and two
descriptions of one matter share most of their two-character pieces."""

from __future__ import annotations

import re

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def bigrams(text: str) -> frozenset[str]:
    clean = _NOISE.sub("", text.lower())
    if len(clean) < 2:
        return frozenset({clean}) if clean else frozenset()
    return frozenset(clean[i : i + 2] for i in range(len(clean) - 1))


def similarity(a: str | frozenset[str], b: str | frozenset[str]) -> float:
    """Dice coefficient of the bigram sets, 0..1."""
    sa = bigrams(a) if isinstance(a, str) else a
    sb = bigrams(b) if isinstance(b, str) else b
    if not sa or not sb:
        return 0.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))
