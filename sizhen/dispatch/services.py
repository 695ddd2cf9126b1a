"""The dispatch suggester (智能派单) and the writes of the dispatch catalogue (派单目录).

The requests app calls ``suggest(text)`` when a request arrives and ``record_choice(...)`` when
staff confirm or change the dispatch, so the model learns. Labels: a platform department is
known by its code inside the model; ``DeptGuess.label`` is its display name.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import joblib
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import record_event, snapshot
from sizhen.dispatch import catalogue, engine
from sizhen.dispatch.models import (
    DispatchCatalogueEntry,
    DispatchExample,
    DispatchModel,
    ExampleSource,
)
from sizhen.organisations.models import Department


@dataclass(frozen=True)
class DeptGuess:
    department: Department | None
    label: str
    confidence: float


@dataclass(frozen=True)
class CategoryGuess:
    label: str  # category code
    confidence: float


@dataclass(frozen=True)
class Suggestion:
    departments: list[DeptGuess]
    categories: list[CategoryGuess]
    model_version: str


#: Version string of the suggester built from the catalogue alone (no trained model active).
CATALOGUE_VERSION = "catalogue"

#: How long a process trusts its loaded model before checking for a newer one (seconds).
RELOAD_CHECK_SECONDS = 10.0


@dataclass
class _Loaded:
    key: tuple[Any, ...]
    suggester: engine.Suggester
    version: str
    checked_at: float


_loaded: _Loaded | None = None
_lock = threading.Lock()


def _state_key() -> tuple[Any, ...]:
    active = DispatchModel.objects.filter(is_active=True).values_list("pk", flat=True).first()
    if active is not None:
        return ("model", active)
    stamp = DispatchCatalogueEntry.objects.aggregate(latest=Max("updated_at"))["latest"]
    return ("catalogue", stamp, DispatchCatalogueEntry.objects.count())


def _load(key: tuple[Any, ...]) -> _Loaded:
    engine.configure_jieba_cache(settings.DATA_DIR / "jieba")
    if key[0] == "model":
        row = DispatchModel.objects.get(pk=key[1])
        suggester = joblib.load(io.BytesIO(bytes(row.blob)))
        return _Loaded(key, suggester, row.version, time.monotonic())
    suggester = engine.Suggester.fit(
        [],
        [],
        [],
        department_docs=catalogue.department_docs(),
        category_docs=catalogue.category_docs(),
        tune=False,
    )
    return _Loaded(key, suggester, CATALOGUE_VERSION, time.monotonic())


def current_suggester() -> tuple[engine.Suggester, str]:
    """The active model (or the catalogue-only one), loaded once per process and reloaded when
    another process activates a newer model or the catalogue changes."""
    global _loaded
    loaded = _loaded
    now = time.monotonic()
    if loaded is not None and now - loaded.checked_at < RELOAD_CHECK_SECONDS:
        return loaded.suggester, loaded.version
    with _lock:
        key = _state_key()
        if _loaded is None or _loaded.key != key:
            _loaded = _load(key)
        else:
            _loaded.checked_at = now
        return _loaded.suggester, _loaded.version


def reset_cache() -> None:
    global _loaded
    _loaded = None


def suggest(text: str, *, top: int = 3) -> Suggestion:
    """Top departments and categories for a request's text, with confidences in [0, 1]."""
    suggester, version = current_suggester()
    departments, categories = suggester.predict(text or "", top=top)
    by_code = catalogue.departments_by_code([r.label for r in departments])
    dept_guesses = []
    for ranked in departments:
        department = by_code.get(ranked.label)
        label = department.name if department is not None else ranked.label
        dept_guesses.append(DeptGuess(department, label, round(ranked.confidence, 4)))
    return Suggestion(
        departments=dept_guesses,
        categories=[CategoryGuess(r.label, round(r.confidence, 4)) for r in categories],
        model_version=version,
    )


def record_choice(
    *,
    text: str,
    department: Department | None,
    category_code: str,
    suggestion: Suggestion | None,
    actor: Actor,
    dept_label: str = "",
) -> None:
    """Record the dispatch staff chose (主办 lead unit) so the next training learns from it."""
    if not (text or "").strip() or (department is None and not dept_label.strip()):
        return
    suggested = ""
    if suggestion is not None and suggestion.departments:
        first = suggestion.departments[0]
        suggested = first.department.code if first.department is not None else first.label
    chosen = department.code if department is not None else dept_label.strip()
    source = ExampleSource.CONFIRMED if suggested and suggested == chosen else ExampleSource.CHANGED
    user = acting_user(actor)
    with transaction.atomic():
        example = DispatchExample.objects.create(
            text=text.strip(),
            department=department,
            dept_label=(department.name if department is not None else dept_label.strip())[:100],
            category_code=(category_code or "")[:40],
            source=source,
            suggested_label=suggested[:100],
            actor=user,
        )
        record_event(
            "dispatch.choice_recorded",
            actor=actor,
            obj=example,
            after={"department": chosen, "category": category_code, "suggested": suggested},
        )


def example_label(example: DispatchExample) -> str:
    if example.department is not None:
        return example.department.code
    return example.dept_label


# --- the catalogue ------------------------------------------------------------------------------

CATALOGUE_FIELDS = ["responsibilities", "typical_matters", "keywords", "is_active", "version"]


def _apply_entry(
    entry: DispatchCatalogueEntry,
    *,
    responsibilities: str,
    typical_matters: str,
    keywords: str,
    is_active: bool,
    actor: Actor | None,
) -> None:
    entry.responsibilities = responsibilities.strip()
    entry.typical_matters = _clean_lines(typical_matters)
    entry.keywords = _clean_lines(keywords)
    entry.is_active = is_active
    entry.version += 1
    entry.updated_by = acting_user(actor)
    entry.save()


def save_catalogue_entry(
    *,
    department: Department,
    responsibilities: str,
    typical_matters: str,
    keywords: str,
    is_active: bool,
    actor: Actor,
) -> DispatchCatalogueEntry:
    """Create or update one department's catalogue entry (versioned, audited before/after)."""
    with transaction.atomic():
        entry = (
            DispatchCatalogueEntry.objects.select_for_update().filter(department=department).first()
        )
        before = snapshot(entry, CATALOGUE_FIELDS) if entry is not None else None
        if entry is None:
            entry = DispatchCatalogueEntry(department=department, version=0)
        _apply_entry(
            entry,
            responsibilities=responsibilities,
            typical_matters=typical_matters,
            keywords=keywords,
            is_active=is_active,
            actor=actor,
        )
        record_event(
            "dispatch.catalogue_saved",
            actor=actor,
            obj=entry,
            before=before,
            after=snapshot(entry, CATALOGUE_FIELDS),
        )
    return entry


def _clean_lines(text: str) -> str:
    seen: list[str] = []
    for line in (text or "").replace("；", "\n").replace("|", "\n").splitlines():
        line = line.strip()
        if line and line not in seen:
            seen.append(line)
    return "\n".join(seen)


@dataclass
class CatalogueLoad:
    created: int
    updated: int
    unchanged: int
    unmatched: list[str]


def load_default_catalogue(*, actor: Actor | None, overwrite: bool = False) -> CatalogueLoad:
    """Load the shipped default catalogue for the usual city departments, matched to the
    platform's city-level departments by full or short name. Existing entries are kept unless
    ``overwrite``; departments the platform lacks are reported, not created."""
    rows = catalogue.default_rows()
    result = CatalogueLoad(0, 0, 0, [])
    touched: list[str] = []
    with transaction.atomic():
        for row in rows:
            department = catalogue.match_department(row.name, row.short_name)
            if department is None:
                result.unmatched.append(row.name)
                continue
            entry = (
                DispatchCatalogueEntry.objects.select_for_update()
                .filter(department=department)
                .first()
            )
            if entry is not None and not overwrite:
                result.unchanged += 1
                continue
            if entry is None:
                entry = DispatchCatalogueEntry(department=department, version=0)
                result.created += 1
            else:
                result.updated += 1
            _apply_entry(
                entry,
                responsibilities=row.responsibilities,
                typical_matters="\n".join(row.matters),
                keywords="\n".join(row.keywords),
                is_active=True,
                actor=actor,
            )
            touched.append(department.code)
        record_event(
            "dispatch.catalogue_loaded",
            actor=actor,
            object_type="dispatch.dispatchcatalogueentry",
            after={
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "departments": touched,
                "unmatched": result.unmatched,
            },
            message="载入默认派单目录",
        )
    return result


def request_training(*, actor: Actor) -> Any:
    """Queue a retraining now (the page's button); one at a time."""
    from sizhen.core.jobs import enqueue

    with transaction.atomic():
        queued = enqueue("dispatch.train", key="dispatch.train", created_by=actor)
        record_event(
            "dispatch.training_requested",
            actor=actor,
            object_type="core.job",
            object_id=str(queued.pk),
            message="手动触发智能派单模型训练",
        )
    return queued


# --- training -----------------------------------------------------------------------------------

#: A new model is activated only if its cross-validated top-1 accuracy is at least the active
#: model's measure minus this tolerance (folds of a few hundred examples vary by about a point).
ACTIVATION_TOLERANCE = 0.01
#: Fewer real examples than this: the catalogue-only suggester is as good, train anyway but the
#: metrics are flagged.
MIN_EXAMPLES = 20


#: A staff correction (the office chose another department than the suggested one) counts this
#: many times in training: it marks exactly where the model was wrong (docs/dispatch.md).
CORRECTION_WEIGHT = 2.0


@dataclass
class TrainingSet:
    texts: list[str]
    departments: list[str]
    categories: list[str]
    weights: list[float]


def training_set() -> TrainingSet:
    """Every recorded dispatch decision as a training example, except those superseded: when the
    same text was decided again later with another department (re-dispatch, 改派, after the unit
    returned it), the earlier decision was wrong and is dropped. Corrections weigh
    ``CORRECTION_WEIGHT``."""
    rows: list[tuple[str, str, str, float]] = []
    latest: dict[str, str] = {}
    examples = DispatchExample.objects.select_related("department").order_by("id")
    for example in examples.iterator(chunk_size=2000):
        label = example_label(example)
        if not label:
            continue
        weight = CORRECTION_WEIGHT if example.source == ExampleSource.CHANGED else 1.0
        rows.append((example.text, label, example.category_code, weight))
        latest[engine.normalise(example.text)] = label
    kept = [row for row in rows if latest[engine.normalise(row[0])] == row[1]]
    return TrainingSet(
        texts=[row[0] for row in kept],
        departments=[row[1] for row in kept],
        categories=[row[2] for row in kept],
        weights=[row[3] for row in kept],
    )


def training_examples() -> tuple[list[str], list[str], list[str]]:
    examples = training_set()
    return examples.texts, examples.departments, examples.categories


def train_suggester(
    texts: Sequence[str],
    departments: Sequence[str],
    categories: Sequence[str],
    weights: Sequence[float] | None = None,
) -> engine.Suggester:
    engine.configure_jieba_cache(settings.DATA_DIR / "jieba")
    return engine.Suggester.fit(
        texts,
        departments,
        categories,
        department_docs=catalogue.department_docs(),
        category_docs=catalogue.category_docs(),
        weights=weights,
    )


@dataclass
class TrainResult:
    model: DispatchModel
    activated: bool
    reason: str


def train_model(*, actor: Actor | None, force: bool = False) -> TrainResult:
    """Train on every recorded example plus the catalogue; store the model and activate it only
    if its cross-validated top-1 is not worse than the active model's (see docs/dispatch.md)."""
    examples = training_set()
    texts, departments = examples.texts, examples.departments
    started = time.monotonic()
    suggester = train_suggester(texts, departments, examples.categories, examples.weights)
    buffer = io.BytesIO()
    joblib.dump(suggester, buffer, compress=3)
    dept_metrics = suggester.metrics.get("department", {})
    metrics = {
        "department": dept_metrics,
        "category": suggester.metrics.get("category", {}),
        "n_examples": len(texts),
        "n_corrections": sum(1 for weight in examples.weights if weight > 1.0),
        "n_departments": len(set(departments)),
        "train_seconds": round(time.monotonic() - started, 2),
    }
    with transaction.atomic():
        active = DispatchModel.objects.select_for_update().filter(is_active=True).first()
        activated, reason = _should_activate(active, dept_metrics, len(texts), force)
        version = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        row = DispatchModel.objects.create(
            version=version,
            n_examples=len(texts),
            metrics=metrics,
            blob=buffer.getvalue(),
            is_active=False,
            note=reason[:200],
        )
        if activated:
            DispatchModel.objects.filter(Q(is_active=True) & ~Q(pk=row.pk)).update(is_active=False)
            row.is_active = True
            row.save(update_fields=["is_active"])
        record_event(
            "dispatch.model_trained",
            actor=actor,
            obj=row,
            after={"version": version, "activated": activated, "metrics": metrics},
            message=reason,
        )
    reset_cache()
    return TrainResult(row, activated, reason)


def _should_activate(
    active: DispatchModel | None, metrics: dict[str, float], n_examples: int, force: bool
) -> tuple[bool, str]:
    if force:
        return True, "按要求直接启用"
    if active is None:
        return True, "首个模型，直接启用"
    new = metrics.get("cv_top1")
    old = (active.metrics.get("department") or {}).get("cv_top1")
    if new is None:
        if old is None:
            return True, "样本不足以交叉验证，沿用规则启用"
        return False, "样本不足以交叉验证，保留现有模型"
    if old is None or new >= old - ACTIVATION_TOLERANCE:
        return True, f"交叉验证首选准确率 {new:.1%}，不低于现有模型，已启用"
    return False, f"交叉验证首选准确率 {new:.1%} 低于现有模型 {old:.1%}，未启用"
