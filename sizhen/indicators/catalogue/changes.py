"""Changes of indicator figures (指标数据变更): one version for everything an indicator page or
the cockpit derives from the catalogue and its values, for the versioned caches of those pages
(``sizhen/core/versions.py``).

What counts: values written (recompute, scoring, approved filling, aggregate imports, the demo),
the catalogue (indicators, goalposts, cycles, benchmarks), regions, filling tasks (a period is
complete once its tasks are approved) and datasets (their watermarks). Saves and deletes of
those models are caught by signals (``watch``, wired in ``IndicatorsConfig.ready``: saves,
deletes and workflow transitions, which write with ``update()``). Values are
written in bulk (``bulk_create``, queryset ``delete``/``update``), which sends no signal: those
writers call ``values_changed()`` themselves, in their transaction. Values' deletes are not
watched on purpose: a delete receiver would make Django fetch every row of a bulk delete to
send it.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import post_delete, post_save

from sizhen.core import versions
from sizhen.core.workflow import transitioned

VALUES = "indicator_values"


def values_changed() -> None:
    """Record a change of indicator figures; call it inside the writer's transaction."""
    versions.changed(VALUES)


def values_version() -> int:
    return versions.version(VALUES)


def _changed(**kwargs: Any) -> None:
    if kwargs.get("raw"):  # loaddata: fixtures, not a change made by a user
        return
    values_changed()


def watch(*watched: type[models.Model], deletes: bool = True) -> None:
    """Count saves, workflow transitions (and deletes) of these models as changes of indicator
    figures."""
    for model in watched:
        uid = f"indicator-values:{model._meta.label}"
        post_save.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}:save")
        transitioned.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}:state")
        if deletes:
            post_delete.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}:delete")
