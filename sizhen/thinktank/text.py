"""Chinese word segmentation of the policy search (政策检索), with a domain dictionary of 营商
terms (``data/dictionary.txt``) and synonyms expanded at query time (``data/synonyms.txt``).

The index holds every dictionary word the text contains (jieba's full mode) and the pieces of
its precise cut, without the HMM's guessed words, so that a query word found by the precise cut
of the query is in the index of every text containing it: 留抵退税 is found in
增值税期末留抵退税 whatever the words around it. Decision 0015 explains why."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

DATA = Path(__file__).resolve().parent / "data"
#: A token worth indexing: letters or digits (Chinese characters are letters).
_WORD = re.compile(r"^\w+$")
#: Function words that would only narrow a query ("关于…的通知" says nothing about the topic).
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "等",
        "对",
        "在",
        "是",
        "为",
        "关于",
        "有关",
        "进一步",
        "若干",
        "通知",
        "意见",
    ]
)
#: Terms longer than this are cut from the index (FTS tokens and tsvector lexemes stay small).
MAX_TOKEN = 40

_lock = threading.Lock()
_tokenizer: Any = None


def tokenizer() -> Any:
    """The policy search's own jieba tokenizer: the domain words are added to it only, so the
    dispatch suggester's and the request analysis's segmentation stay as they were trained."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                instance = jieba.Tokenizer()
                directory = Path(settings.DATA_DIR) / "jieba"
                try:
                    directory.mkdir(parents=True, exist_ok=True)
                    instance.tmp_dir = str(directory)
                except OSError:
                    pass
                instance.initialize()
                for word, frequency in domain_words():
                    instance.add_word(word, freq=frequency)
                _tokenizer = instance
    return _tokenizer


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@cache
def domain_words() -> tuple[tuple[str, int | None], ...]:
    words = []
    for line in _lines("dictionary.txt"):
        parts = line.split()
        words.append((parts[0], int(parts[1]) if len(parts) > 1 else None))
    return tuple(words)


@cache
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(line.split()) for line in _lines("synonyms.txt"))


@cache
def _synonyms() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for group in synonym_groups():
        for word in group:
            table.setdefault(word, []).extend(w for w in group if w != word)
    return {word: tuple(dict.fromkeys(others)) for word, others in table.items()}


def normalise(text: str) -> str:
    """Full-width to half-width and lower case, as both the index and queries see text."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _keep(token: str) -> bool:
    return bool(token) and len(token) <= MAX_TOKEN and _WORD.match(token) is not None


#: What jieba segments as one block (its ``re_han_default``); the rest is spacing and punctuation.
_BLOCK = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%-]+")
_ASCII = re.compile(r"[a-zA-Z0-9]")


def _segment(text: str, *, every_word: bool) -> list[str]:
    """jieba's precise cut without the HMM (``cut(text, HMM=False)``), and with ``every_word``
    also every longer dictionary word the text holds (what full mode adds), from one word graph
    per block instead of two cuts."""
    cut = tokenizer()
    tokens: list[str] = []
    for found in _BLOCK.finditer(text):
        block = found.group()
        dag = cut.get_DAG(block)
        route: dict[int, tuple[float, int]] = {}
        cut.calc(block, dag, route)
        x, run = 0, ""
        spans = set()
        while x < len(block):
            y = route[x][1] + 1
            word = block[x:y]
            spans.add((x, y - 1))
            if y - x == 1 and _ASCII.match(word):
                run += word  # letters and digits run together as one token, as jieba does
            else:
                if run:
                    tokens.append(run)
                    run = ""
                tokens.append(word)
            x = y
        if run:
            tokens.append(run)
        if every_word:
            tokens.extend(
                block[k : j + 1]
                for k, ends in dag.items()
                for j in ends
                if j > k and (k, j) not in spans
            )
    return tokens


def index_tokens(text: str) -> list[str]:
    """The tokens a text is indexed under, each occurrence (term frequency counts in ranking):
    its precise cut and every longer dictionary word inside it (jieba's full mode), so
    增值税期末留抵退税 is found by 留抵退税 whatever the precise cut made of it."""
    return [t for t in _segment(normalise(text), every_word=True) if _keep(t)]


def _precise(text: str) -> list[str]:
    return [t for t in _segment(normalise(text), every_word=False) if _keep(t)]


def query_words(text: str) -> list[str]:
    """The words of a query (precise cut, no guessed words), function words dropped unless the
    query is nothing else."""
    words = _precise(text[:200])
    meaningful = [w for w in words if w not in STOPWORDS]
    return list(dict.fromkeys(meaningful or words))


@dataclass(frozen=True)
class QueryTerm:
    """One word of the query and its alternatives: each alternative is a list of index tokens
    that must all occur (小微 → [[小微], [小型, 微型]])."""

    word: str
    alternatives: tuple[tuple[str, ...], ...]

    def highlights(self) -> list[str]:
        """Strings to mark in the text shown: the word and its synonyms as written."""
        return [self.word, *("".join(a) for a in self.alternatives[1:])]


def _expansions(word: str) -> list[str]:
    table = _synonyms()
    found = list(table.get(word, ()))
    if not found:
        # 小微企业 holds 小微: offer 小型微型企业 too.
        for key, others in table.items():
            if len(key) > 1 and key in word and key != word:
                found.extend(word.replace(key, other) for other in others)
    return list(dict.fromkeys(found))


def parse_query(text: str) -> list[QueryTerm]:
    """The query's terms; every term must match (AND), any alternative of a term will do (OR)."""
    terms = []
    for word in query_words(text):
        alternatives: list[tuple[str, ...]] = [(word,)]
        for synonym in _expansions(word):
            pieces = tuple(_precise(synonym))
            if pieces and pieces not in alternatives:
                alternatives.append(pieces)
        terms.append(QueryTerm(word, tuple(alternatives)))
    return terms


def marks(terms: Iterable[QueryTerm]) -> list[str]:
    """What to highlight, longest first (so 留抵退税 is marked whole, not as 留抵 + 退税)."""
    found = {h for term in terms for h in term.highlights() if h}
    return sorted(found, key=lambda s: (-len(s), s))
