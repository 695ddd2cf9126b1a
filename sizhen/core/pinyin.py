"""Pinyin initials (拼音首字母) of Chinese names, so that a picker finds 市场监督管理局 when the
user types "scjd" (docs/decisions/0012-pickers.md)."""

from __future__ import annotations

from functools import lru_cache

#: Readings kept per name: the usual one first, then ones that read a single polyphonic
#: character (多音字) differently. Swapping one character at a time keeps the list short where
#: every combination would multiply.
MAX_READINGS = 6


@lru_cache(maxsize=8192)
def initials(text: str) -> tuple[str, ...]:
    """The initials of ``text``'s Chinese characters, lower case, in the usual reading (phrases
    such as 重庆 or 银行 read as words) followed by readings where one polyphonic character
    takes another of its sounds (单县: dx, then sx). Other characters are left out."""
    # Imported here: the dictionaries take a third of a second to load, which only the
    # processes that render a picker should pay.
    from pypinyin import Style, lazy_pinyin, pinyin

    usual = [
        letter.lower()
        for letter in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")
        if letter
    ]
    if not usual:
        return ()
    readings = ["".join(usual)]
    sounds = pinyin(text, style=Style.FIRST_LETTER, heteronym=True, errors="ignore")
    if len(sounds) != len(usual):
        return tuple(readings)
    for position, letters in enumerate(sounds):
        for letter in letters:
            letter = letter.lower()
            if not letter or letter == usual[position]:
                continue
            reading = "".join([*usual[:position], letter, *usual[position + 1 :]])
            if reading not in readings:
                readings.append(reading)
            if len(readings) >= MAX_READINGS:
                return tuple(readings)
    return tuple(readings)


def search_initials(*texts: str) -> str:
    """Every reading of every text, space-separated, for a picker option's data attribute."""
    seen: list[str] = []
    for text in texts:
        for reading in initials(text) if text else ():
            if reading not in seen:
                seen.append(reading)
    return " ".join(seen)
