"""The version of the data-asset catalogue and lineage (数据资产目录版本), for their versioned
caches (``sizhen/core/versions.py``, decision 0013).

The cached entries are keyed on this version *and* the indicator figures' version
(``indicators.catalogue.changes``), which already moves with indicators, datasets, values and
filling tasks. This one adds what only the catalogue shows: asset profiles, finished loads
(freshness, quality), filling rounds and survey rounds. A load batch is saved several times
while it runs; only the save that finishes it counts."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from sizhen.core import versions
from sizhen.core.workflow import transitioned
from sizhen.indicators.catalogue.changes import values_version

ASSETS = "data_assets"


def assets_changed() -> None:
    """Record a change of the catalogue; call it inside the writer's transaction."""
    versions.changed(ASSETS)


def figures_version() -> int:
    """The part of a cache key the assets' own version does not cover."""
    return values_version()


def _changed(**kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    assets_changed()


def _batch_saved(instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw") or instance.finished_at is None:
        return
    assets_changed()


def connect() -> None:
    from sizhen.assets.models import AssetProfile
    from sizhen.indicators.filling.models import FillingRound
    from sizhen.indicators.ingestion.models import LoadBatch
    from sizhen.surveys.models import SurveyRound

    for model in (AssetProfile, FillingRound, SurveyRound):
        uid = f"data-assets:{model._meta.label}"
        post_save.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}:save")
        post_delete.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}:delete")
        transitioned.connect(_changed, sender=model, weak=False, dispatch_uid=f"{uid}:state")
    post_save.connect(
        _batch_saved, sender=LoadBatch, weak=False, dispatch_uid="data-assets:loadbatch:save"
    )
