"""Judge the suggester before turning it on: train on one CSV, score on another, side by side
with the plain character n-gram model and with the catalogue alone."""

from __future__ import annotations

import csv
import io
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from sizhen.dispatch import catalogue, engine

REQUIRED_COLUMNS = ("text", "dept", "category")
ENCODINGS = ("utf-8-sig", "gb18030")


class CsvError(ValueError):
    """A CSV the evaluation cannot use; the message is for the administrator (Chinese)."""


@dataclass(frozen=True)
class Row:
    text: str
    dept: str
    category: str


def read_rows(path: str | Path) -> list[Row]:
    """Rows of a CSV with columns text, dept, category, in UTF-8 (with or without BOM) or GBK."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CsvError(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
    text = None
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise CsvError(f"{path.name}：无法识别文件编码（支持 UTF-8 和 GBK）")
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise CsvError(f"{path.name}：缺少列 {', '.join(missing)}（需要表头 text, dept, category）")
    rows: list[Row] = []
    for raw_row in reader:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw_row.items() if k}
        if not row.get("text") or not row.get("dept"):
            continue
        rows.append(Row(row["text"], row["dept"], row.get("category", "")))
    if not rows:
        raise CsvError(f"{path.name}：没有可用的数据行（text 和 dept 均不能为空）")
    return rows


class LabelMap:
    """CSV department labels to the suggester's labels: a platform department (matched by code,
    full or short name) is known by its code and brings its catalogue entry; others stay plain."""

    def __init__(self, *, plain: bool = False) -> None:
        self._cache: dict[str, tuple[str, str]] = {}
        self._plain = plain

    def __call__(self, label: str) -> str:
        return self.resolve(label)[0]

    def resolve(self, label: str) -> tuple[str, str]:
        if label not in self._cache:
            department = None if self._plain else catalogue.resolve_label(label)
            if department is None:
                self._cache[label] = (label, label)
            else:
                self._cache[label] = (department.code, department.name)
        return self._cache[label]

    def name(self, code: str) -> str:
        """The display name of a resolved label (the CSV's own label when it stayed plain)."""
        for label, (resolved, name) in self._cache.items():
            if resolved == code:
                return name if name != code else label
        return code

    @property
    def matched(self) -> int:
        return sum(1 for label, (code, _name) in self._cache.items() if code != label)


def default_department_docs() -> list[engine.CatalogueDoc]:
    """The shipped default catalogue, each row labelled with its department's official name."""
    return [
        engine.CatalogueDoc(
            label=row.name,
            name=row.name,
            short_name=row.short_name,
            responsibilities=row.responsibilities,
            matters=list(row.matters),
            keywords=list(row.keywords),
        )
        for row in catalogue.default_rows()
    ]


def confusion(
    truth: Sequence[str], predicted: Sequence[str], name: Callable[[str], str] = str
) -> list[dict[str, Any]]:
    """Per true department: how many, the share whose first suggestion was right (top-1 recall),
    and where the others went instead, most frequent first (ties by name)."""
    rows = []
    for label in sorted(set(truth), key=lambda label: (name(label), label)):
        went = Counter(p for t, p in zip(truth, predicted, strict=True) if t == label)
        n = sum(went.values())
        wrong = sorted(
            ((name(p) if p else "（无建议）", count) for p, count in went.items() if p != label),
            key=lambda item: (-item[1], item[0]),
        )
        rows.append(
            {
                "label": label,
                "name": name(label),
                "n": n,
                "correct": went[label],
                "recall": round(went[label] / n, 4),
                "confused_with": [{"name": other, "n": count} for other, count in wrong],
            }
        )
    return rows


def evaluate(
    train_path: str | Path, test_path: str | Path, *, default_catalogue: bool = False
) -> dict[str, Any]:
    """Train on one CSV, score on the other. With ``default_catalogue`` the shipped default
    catalogue stands in for the platform's (labels are then the departments' official names),
    so a test set can be judged on any installation."""
    engine.configure_jieba_cache(settings.DATA_DIR / "jieba")
    train = read_rows(train_path)
    test = read_rows(test_path)
    labels = LabelMap(plain=default_catalogue)
    train_dept = [labels(r.dept) for r in train]
    test_dept = [labels(r.dept) for r in test]
    if default_catalogue:
        department_docs = default_department_docs()
    else:
        department_docs = catalogue.department_docs()
    category_docs = catalogue.category_docs()

    started = time.monotonic()
    suggester = engine.Suggester.fit(
        [r.text for r in train],
        train_dept,
        [r.category for r in train],
        department_docs=department_docs,
        category_docs=category_docs,
    )
    train_seconds = time.monotonic() - started
    latencies: list[float] = []
    dept_ranked: list[list[engine.Ranked]] = []
    cat_ranked: list[list[engine.Ranked]] = []
    for row in test:
        tick = time.perf_counter()
        departments, categories = suggester.predict(row.text)
        latencies.append((time.perf_counter() - tick) * 1000)
        dept_ranked.append(departments)
        cat_ranked.append(categories)
    test_cat = [r.category for r in test]
    with_category = [i for i, c in enumerate(test_cat) if c]

    dept_baseline = engine.Baseline().fit([r.text for r in train], train_dept)
    cat_baseline = engine.Baseline().fit([r.text for r in train], [r.category for r in train])
    baseline_ranked = [dept_baseline.predict(r.text) for r in test]
    catalogue_only = engine.CatalogueOnly(department_docs) if department_docs else None

    def first(ranked: list[list[engine.Ranked]]) -> list[str]:
        return [r[0].label if r else "" for r in ranked]

    model_confusion = confusion(test_dept, first(dept_ranked), labels.name)
    baseline_confusion = confusion(test_dept, first(baseline_ranked), labels.name)
    per_department = []
    for entry, base in zip(model_confusion, baseline_confusion, strict=True):
        label = entry["label"]
        idx = [i for i, t in enumerate(test_dept) if t == label]
        predicted = sum(1 for r in dept_ranked if r and r[0].label == label)
        per_department.append(
            {
                "label": label,
                "name": entry["name"],
                "n": entry["n"],
                "top1": entry["recall"],
                "top3": round(
                    sum(1 for i in idx if label in {r.label for r in dept_ranked[i]}) / len(idx),
                    4,
                ),
                "precision": round(entry["correct"] / predicted, 4) if predicted else 0.0,
                "catalogue": label in {d.label for d in department_docs},
                "confused_with": entry["confused_with"],
                "baseline": {"top1": base["recall"], "confused_with": base["confused_with"]},
            }
        )
    ordered = sorted(latencies)
    return {
        "train": {"path": str(train_path), "rows": len(train)},
        "test": {"path": str(test_path), "rows": len(test)},
        "catalogue": "default" if default_catalogue else "platform",
        "labels_matched_to_departments": labels.matched,
        "department": _rounded(engine.score(test_dept, dept_ranked)),
        "category": _rounded(
            engine.score(
                [test_cat[i] for i in with_category], [cat_ranked[i] for i in with_category]
            )
        ),
        "baseline": {
            "department": _rounded(engine.score(test_dept, baseline_ranked)),
            "category": _rounded(
                engine.score(
                    [test_cat[i] for i in with_category],
                    [cat_baseline.predict(test[i].text) for i in with_category],
                )
            ),
        },
        "catalogue_only": {
            "department": _rounded(
                engine.score(test_dept, [catalogue_only.predict(r.text) for r in test])
            )
            if catalogue_only is not None
            else None
        },
        "cross_validation": suggester.metrics,
        "train_seconds": round(train_seconds, 2),
        "latency_ms": {
            "median": round(statistics.median(ordered), 3),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3),
            "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        },
        "per_department": per_department,
    }


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}
