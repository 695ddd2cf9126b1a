"""The dispatch suggester's model, free of Django so that the bench and the evaluation command
train and score it the same way the platform does.

Each target (department, category) has one *head*: jieba words (unigrams and bigrams) plus
character 1–3-grams, TF-IDF weighted, into a one-vs-rest linear SVM (``LinearSVC``) trained on
past requests *and* on the dispatch catalogue (派单目录) used as pseudo-examples; its scaled
margins are added to a keyword-match score from the catalogue, and a softmax with a temperature
turns the sum into probabilities, the weight and the temperature tuned by cross-validation on the
training set. See docs/dispatch.md for why.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import tempfile
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

_tokenizer: Any = None
_tokenizer_lock = threading.Lock()


def configure_jieba_cache(directory: str | os.PathLike[str] | None) -> None:
    """Where jieba keeps its prefix-dictionary cache (built from the bundled dictionary at first
    use, about a second; nothing is downloaded)."""
    global _cache_dir
    _cache_dir = str(directory) if directory else None


_cache_dir: str | None = None


def tokenizer() -> Any:
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                instance = jieba.Tokenizer()
                directory = _cache_dir or tempfile.gettempdir()
                try:
                    os.makedirs(directory, exist_ok=True)
                    instance.tmp_dir = directory
                except OSError:
                    instance.tmp_dir = tempfile.gettempdir()
                instance.initialize()
                _tokenizer = instance
    return _tokenizer


_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_PUNCT = set("，。！？；：、,.!?;:\"'“”‘’（）()【】[]《》<>…—-~·/\\|")


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, digits folded (amounts and dates carry no topic)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


#: Discourse cues of a clause about something else (a matter already settled, mentioned in
#: passing): "之前…办好了", "除了…", "虽然…", "上次…", "…已经解决". Requests to 12345 often open
#: with such history; the matter to dispatch is in the other clauses.
ASIDE_MARKERS = (
    "已经解决",
    "已解决",
    "办好了",
    "已办结",
    "挺顺利",
    "很顺利",
    "除了",
    "之前",
    "以前",
    "上次",
    "虽然",
    "也有点问题",
)
_CLAUSE = re.compile(r"[，,。！!？?；;：:]")
USE_FOCUS = True


def focus(text: str) -> str:
    """The text without its aside clauses, unless that would leave nothing."""
    if not USE_FOCUS:
        return text
    clauses = [c for c in _CLAUSE.split(text) if c.strip()]
    kept = [c for c in clauses if not any(marker in c for marker in ASIDE_MARKERS)]
    if not kept or len(kept) == len(clauses):
        return text
    return "，".join(kept)


def word_tokens(text: str) -> list[str]:
    """jieba words (punctuation and single spaces dropped) with their bigrams."""
    words = [w for w in tokenizer().lcut(text, HMM=False) if w.strip() and w not in _PUNCT]
    return words + [a + "_" + b for a, b in itertools.pairwise(words)]


def char_analyzer(text: str) -> list[str]:
    chars = [c for c in text if not c.isspace() and c not in _PUNCT]
    grams = list(chars)
    grams += ["".join(chars[i : i + 2]) for i in range(len(chars) - 1)]
    grams += ["".join(chars[i : i + 3]) for i in range(len(chars) - 2)]
    return grams


@dataclass
class CatalogueDoc:
    """What the dispatch catalogue knows about one label (a department or a category)."""

    label: str
    name: str = ""
    short_name: str = ""
    responsibilities: str = ""
    matters: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    def pseudo_examples(self) -> list[str]:
        """Sentences that stand in for past requests until there are enough real ones."""
        docs = [m for m in self.matters if m.strip()]
        if self.responsibilities.strip():
            docs += [s for s in re.split(r"[。；;]", self.responsibilities) if len(s.strip()) > 3]
        if self.keywords:
            # Keywords in small groups, so each group reads like a short request.
            words = [k for k in self.keywords if k.strip()]
            docs += [" ".join(words[i : i + 3]) for i in range(0, len(words), 3)]
        return [normalise(d) for d in docs]

    def match_terms(self) -> list[str]:
        terms = [k for k in self.keywords if len(k.strip()) >= 2]
        for name in (self.name, self.short_name):
            if len(name) >= 2:
                terms.append(name)
        # Digits are folded to "0" in texts and terms alike: a number alone ("12345", "110")
        # would match every text that mentions any amount or date.
        return sorted(
            {t for t in (normalise(t) for t in terms) if len(t.replace("0", "").strip()) >= 2}
        )


class KeywordScorer:
    """Sum of idf-weighted catalogue keywords found in the text, per label.

    A keyword listed by several labels counts less for each (``log(1 + n/df)``); a keyword inside
    a longer matched keyword is not counted twice."""

    def __init__(self, docs: Sequence[CatalogueDoc], labels: Sequence[str]):
        index = {label: i for i, label in enumerate(labels)}
        owners: dict[str, set[int]] = defaultdict(set)
        for doc in docs:
            if doc.label not in index:
                continue
            for term in doc.match_terms():
                owners[term].add(index[doc.label])
        n = max(1, len(labels))
        self.terms: list[tuple[str, np.ndarray, float]] = []
        for term, label_ids in sorted(owners.items(), key=lambda item: -len(item[0])):
            weight = math.log(1.0 + n / len(label_ids)) * min(1.0, 0.5 + len(term) / 6)
            self.terms.append((term, np.array(sorted(label_ids)), weight))
        self.n_labels = len(labels)

    def _prefixes(self) -> dict[str, list[int]]:
        """Positions in ``terms`` by each term's first two characters (built on first use, also
        for models stored before it existed)."""
        index: dict[str, list[int]] | None = getattr(self, "_by_prefix", None)
        if index is None:
            index = defaultdict(list)
            for position, (term, _ids, _weight) in enumerate(self.terms):
                index[term[:2]].append(position)
            self._by_prefix = index = dict(index)
        return index

    def scores(self, text: str) -> np.ndarray:
        result = np.zeros(self.n_labels)
        matched: list[str] = []
        # Only terms whose first two characters occur in the text can match; checking those
        # alone, in the terms' order (longest first), gives the same result as checking all.
        index = self._prefixes()
        # Terms of one character (none since digits alone are dropped, but stored models may
        # have them) are found by the text's single characters.
        keys = {text[i : i + 2] for i in range(len(text) - 1)} | set(text)
        candidates = sorted({p for key in keys for p in index.get(key, ())})
        for position in candidates:
            term, label_ids, weight = self.terms[position]
            if term in text and not any(term in longer for longer in matched):
                result[label_ids] += weight
                matched.append(term)
        return result

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.n_labels))
        return np.vstack([self.scores(t) for t in texts])


class Features:
    """jieba word + character n-gram TF-IDF, fitted once and shared by both heads."""

    def __init__(self) -> None:
        self.words = TfidfVectorizer(
            analyzer=word_tokens, sublinear_tf=True, min_df=1, dtype=np.float32
        )
        self.chars = TfidfVectorizer(
            analyzer=char_analyzer, sublinear_tf=True, min_df=1, dtype=np.float32
        )

    def fit(self, texts: Sequence[str]) -> Features:
        self.words.fit(texts)
        self.chars.fit(texts)
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        return sparse.hstack(
            [self.words.transform(texts), self.chars.transform(texts)], format="csr"
        )

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's non-zero features (column indices, values), exactly as ``transform`` but
        without scikit-learn's per-call validation and sparse-matrix building, which dominate
        the time of a single short request."""
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        offset = 0
        for vectorizer in (self.words, self.chars):
            vocabulary = vectorizer.vocabulary_
            counts = Counter(t for t in vectorizer.analyzer(text) if t in vocabulary)
            if counts:
                columns = np.fromiter((vocabulary[t] for t in counts), dtype=np.int64)
                tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))
                weights = tf * vectorizer.idf_[columns]
                norm = float(np.sqrt((weights * weights).sum()))
                if norm > 0:
                    weights = weights / norm
                indices.append(columns + offset)
                values.append(weights)
            offset += len(vocabulary)
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(indices), np.concatenate(values)


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


#: Weights of the keyword score tried by cross-validation, and softmax temperatures.
KEYWORD_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
TEMPERATURES = (0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
#: Weight of one catalogue pseudo-example relative to one real request.
PSEUDO_WEIGHT = 3.0
REGULARISATION_C = 0.2
#: Additive smoothing of p(category | department) counts (a department's unseen categories
#: keep a small share).
CONDITIONAL_SMOOTHING = 0.1
#: Margins are multiplied by this before the softmax, so a margin of 1 is a clear decision.
MARGIN_SCALE = 5.0


class Head:
    """One target: a linear model over the shared features, plus the catalogue keyword score."""

    def __init__(self, labels: Sequence[str], docs: Sequence[CatalogueDoc]):
        self.labels = list(labels)
        self.docs = [d for d in docs if d.label in set(self.labels)]
        self.scorer = KeywordScorer(self.docs, self.labels)
        self.keyword_weight = 1.0
        self.temperature = 1.0
        self.model: LinearSVC | None = None

    def _training_set(
        self, texts: Sequence[str], labels: Sequence[str], weights: Sequence[float] | None = None
    ) -> tuple[list[str], list[int], list[float]]:
        index = {label: i for i, label in enumerate(self.labels)}
        x = list(texts)
        y = [index[label] for label in labels]
        w = list(weights) if weights is not None else [1.0] * len(x)
        for doc in self.docs:
            for pseudo in doc.pseudo_examples():
                x.append(pseudo)
                y.append(index[doc.label])
                w.append(PSEUDO_WEIGHT)
        return x, y, w

    def _fit_model(self, features: Features, x: list[str], y: list[int], w: list[float]) -> Any:
        if len(set(y)) < 2:
            return None
        model = LinearSVC(C=REGULARISATION_C)
        model.fit(features.transform(x), y, sample_weight=w)
        return model

    def _log_probabilities(self, model: Any, matrix: Any, n_rows: int) -> np.ndarray:
        """Margins of the one-vs-rest SVM, scaled so that the keyword weight and the softmax
        temperature tuned below turn them into calibrated probabilities."""
        result = np.full((n_rows, len(self.labels)), -MARGIN_SCALE)
        if model is None:
            result[:] = 0.0
            return result
        margins = model.decision_function(matrix)
        if margins.ndim == 1:  # two classes: one signed margin
            margins = np.column_stack([-margins, margins])
        result[:, model.classes_] = MARGIN_SCALE * margins
        return result

    def fit(
        self,
        features: Features,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        tune: bool = True,
        weights: Sequence[float] | None = None,
    ) -> dict[str, float]:
        x, y, w = self._training_set(texts, labels, weights)
        self.model = self._fit_model(features, x, y, w)
        if tune:
            return self._tune(features, texts, labels, weights)
        return {}

    def _tune(
        self,
        features: Features,
        texts: Sequence[str],
        labels: Sequence[str],
        weights: Sequence[float] | None = None,
    ) -> dict[str, float]:
        """Pick the keyword weight and temperature by stratified k-fold on the real examples;
        the catalogue stays in every fold's training set, as it will in production."""
        counts = Counter(labels)
        if len(texts) < 20 or len(counts) < 2:
            return {}
        folds = min(5, max(2, sorted(counts.values())[len(counts) // 2]))
        # Labels with fewer examples than folds cannot be stratified: they join the most
        # common label's stratum (they still count in the accuracy).
        common = counts.most_common(1)[0][0]
        strata = [label if counts[label] >= folds else common for label in labels]
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=7)
        index = {label: i for i, label in enumerate(self.labels)}
        truth = np.array([index[label] for label in labels])
        log_p = np.zeros((len(texts), len(self.labels)))
        keyword = self.scorer.matrix(list(texts))
        for train_idx, test_idx in splitter.split(np.zeros(len(texts)), strata):
            x, y, w = self._training_set(
                [texts[i] for i in train_idx],
                [labels[i] for i in train_idx],
                [weights[i] for i in train_idx] if weights is not None else None,
            )
            model = self._fit_model(features, x, y, w)
            matrix = features.transform([texts[i] for i in test_idx])
            log_p[test_idx] = self._log_probabilities(model, matrix, len(test_idx))
        best = (-1.0, 0.0, 1.0)
        for weight in KEYWORD_WEIGHTS:
            combined = log_p + weight * keyword
            accuracy = float((combined.argmax(axis=1) == truth).mean())
            if accuracy > best[0] + 1e-9:
                best = (accuracy, weight, 1.0)
        self.keyword_weight = best[1]
        combined = log_p + self.keyword_weight * keyword
        best_nll = math.inf
        for temperature in TEMPERATURES:
            probabilities = _softmax(combined / temperature)
            nll = float(-np.log(probabilities[np.arange(len(truth)), truth] + 1e-12).mean())
            if nll < best_nll:
                best_nll, self.temperature = nll, temperature
        top3 = np.argsort(-combined, axis=1)[:, :3]
        return {
            "cv_top1": best[0],
            "cv_top3": float((top3 == truth[:, None]).any(axis=1).mean()),
            "cv_nll": best_nll,
            "keyword_weight": self.keyword_weight,
            "temperature": self.temperature,
            "folds": float(folds),
        }

    def __getstate__(self) -> dict[str, Any]:
        # The dense weight layout is rebuilt on first use; it would triple the stored model.
        state = dict(self.__dict__)
        for name in ("_weights", "_intercept", "_columns"):
            state.pop(name, None)
        return state

    def prepare_fast(self) -> None:
        """Weights laid out for ``fast_margins``: one dense row per feature."""
        model = self.model
        if model is None:
            self._weights: np.ndarray | None = None
            return
        weights = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if weights.shape[0] == 1:  # two classes: one signed margin
            weights = np.vstack([-weights, weights])
            intercept = np.concatenate([-intercept, intercept])
        self._weights = np.ascontiguousarray(weights.T)
        self._intercept = intercept
        self._columns = np.asarray(model.classes_)

    def fast_margins(self, row: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        result = np.full(len(self.labels), -MARGIN_SCALE)
        weights = getattr(self, "_weights", None)
        if weights is None:
            if self.model is None:
                result[:] = 0.0
                return result
            self.prepare_fast()
            weights = self._weights
            assert weights is not None
        indices, values = row
        margins = values @ weights[indices] + self._intercept
        result[self._columns] = MARGIN_SCALE * margins
        return result

    def probabilities(self, features_row: Any, text: str) -> np.ndarray:
        if isinstance(features_row, tuple):
            log_p = self.fast_margins(features_row)
        else:
            log_p = self._log_probabilities(self.model, features_row, 1)[0]
        combined = log_p + self.keyword_weight * self.scorer.scores(text)
        return _softmax(combined / self.temperature)


@dataclass(frozen=True)
class Ranked:
    label: str
    confidence: float


class Suggester:
    """Department and category heads over shared features."""

    def __init__(self) -> None:
        self.features = Features()
        self.department: Head | None = None
        self.category: Head | None = None
        self.metrics: dict[str, dict[str, float]] = {}
        self.n_examples = 0
        #: p(category | department) from the history, smoothed; None before any history.
        self.category_given_department: np.ndarray | None = None

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        departments: Sequence[str],
        categories: Sequence[str],
        *,
        department_docs: Sequence[CatalogueDoc] = (),
        category_docs: Sequence[CatalogueDoc] = (),
        tune: bool = True,
        weights: Sequence[float] | None = None,
    ) -> Suggester:
        """Train on past requests (``categories`` may hold "" where unknown) and the catalogue;
        ``weights`` (one per request, default 1) let staff corrections count more."""
        suggester = cls()
        normalised = [focus(normalise(t)) for t in texts]
        suggester.n_examples = len(normalised)
        corpus = list(normalised)
        for doc in [*department_docs, *category_docs]:
            corpus += doc.pseudo_examples()
        if not corpus:
            corpus = ["空"]
        suggester.features.fit(corpus)

        dept_labels = sorted({*departments, *(d.label for d in department_docs)} - {""})
        kept = [i for i, d in enumerate(departments) if d]
        suggester.department = Head(dept_labels, department_docs)
        suggester.metrics["department"] = suggester.department.fit(
            suggester.features,
            [normalised[i] for i in kept],
            [departments[i] for i in kept],
            tune=tune,
            weights=[weights[i] for i in kept] if weights is not None else None,
        )
        cat_labels = sorted({*categories, *(d.label for d in category_docs)} - {""})
        kept = [i for i, c in enumerate(categories) if c]
        suggester.category = Head(cat_labels, category_docs)
        suggester.metrics["category"] = suggester.category.fit(
            suggester.features,
            [normalised[i] for i in kept],
            [categories[i] for i in kept],
            tune=tune,
            weights=[weights[i] for i in kept] if weights is not None else None,
        )
        suggester.category_given_department = _conditional(
            suggester.department.labels, suggester.category.labels, departments, categories
        )
        suggester.department.prepare_fast()
        suggester.category.prepare_fast()
        return suggester

    def predict(self, text: str, *, top: int = 3) -> tuple[list[Ranked], list[Ranked]]:
        clean = focus(normalise(text))
        row = self.features.row(clean)
        departments = categories = None
        if self.department is not None and self.department.labels:
            departments = self.department.probabilities(row, clean)
        if self.category is not None and self.category.labels:
            categories = self.category.probabilities(row, clean)
            matrix = self.category_given_department
            if departments is not None and matrix is not None:
                # The department is predicted better than the category; a department's
                # history says which categories it handles: p(c) ∝ p(c | text) Σ_d p(d) p(c | d).
                categories = categories * (departments @ matrix)
                categories = categories / categories.sum()
        return (
            _rank(self.department, departments, top),
            _rank(self.category, categories, top),
        )


def _conditional(
    department_labels: list[str],
    category_labels: list[str],
    departments: Sequence[str],
    categories: Sequence[str],
) -> np.ndarray | None:
    d_index = {label: i for i, label in enumerate(department_labels)}
    c_index = {label: i for i, label in enumerate(category_labels)}
    counts = np.zeros((len(department_labels), len(category_labels)))
    for department, category in zip(departments, categories, strict=True):
        if department in d_index and category in c_index:
            counts[d_index[department], c_index[category]] += 1
    if not counts.any():
        return None
    counts += CONDITIONAL_SMOOTHING
    return counts / counts.sum(axis=1, keepdims=True)


def _rank(head: Head | None, probabilities: np.ndarray | None, top: int) -> list[Ranked]:
    if head is None or probabilities is None:
        return []
    order = np.argsort(-probabilities, kind="stable")[:top]
    return [Ranked(head.labels[i], float(probabilities[i])) for i in order]


class Baseline:
    """The plain alternative: character 1–3-gram TF-IDF into a linear SVM, history only."""

    def __init__(self) -> None:
        self.vectorizer = TfidfVectorizer(analyzer=char_analyzer, sublinear_tf=True)
        self.model: LinearSVC | None = None
        self.single: str | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Baseline:
        x = [normalise(t) for t, label in zip(texts, labels, strict=True) if label]
        y = [label for label in labels if label]
        if len(set(y)) < 2:
            self.single = y[0] if y else None
            return self
        self.model = LinearSVC(C=1.0)
        self.model.fit(self.vectorizer.fit_transform(x), y)
        return self

    def predict(self, text: str, *, top: int = 3) -> list[Ranked]:
        if self.model is None:
            return [Ranked(self.single, 1.0)] if self.single else []
        margins = self.model.decision_function(self.vectorizer.transform([normalise(text)]))
        margins = margins.reshape(1, -1) if margins.ndim == 1 else margins
        if margins.shape[1] == 1:  # two classes: one margin
            margins = np.hstack([-margins, margins])
        probabilities = _softmax(MARGIN_SCALE * margins[0])
        order = np.argsort(-probabilities, kind="stable")[:top]
        return [Ranked(str(self.model.classes_[i]), float(probabilities[i])) for i in order]


class CatalogueOnly:
    """The catalogue alone (no history): its pseudo-examples and keywords, untuned."""

    def __init__(self, department_docs: Sequence[CatalogueDoc]):
        self.suggester = Suggester.fit([], [], [], department_docs=department_docs, tune=False)

    def predict(self, text: str, *, top: int = 3) -> list[Ranked]:
        return self.suggester.predict(text, top=top)[0]


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-averaged F1 over the labels present in the truth."""
    labels = sorted(set(truth))
    if not labels:
        return 0.0
    total = 0.0
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        total += 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return total / len(labels)


def score(truth: Sequence[str], ranked: Sequence[Sequence[Ranked]]) -> dict[str, float]:
    """Top-1 and top-3 accuracy and macro-F1 of ranked predictions."""
    if not truth:
        return {"top1": 0.0, "top3": 0.0, "macro_f1": 0.0, "n": 0}
    first = [r[0].label if r else "" for r in ranked]
    top1 = sum(1 for t, p in zip(truth, first, strict=True) if t == p) / len(truth)
    top3 = sum(
        1 for t, r in zip(truth, ranked, strict=True) if t in {x.label for x in r[:3]}
    ) / len(truth)
    return {"top1": top1, "top3": top3, "macro_f1": macro_f1(truth, first), "n": len(truth)}
