"""Demo step: the default dispatch catalogue (派单目录) for the demo city's departments, so the
dispatch suggester is useful from the first request."""

from __future__ import annotations

from typing import Any

from sizhen.dispatch.models import DispatchCatalogueEntry
from sizhen.dispatch.services import load_default_catalogue


def build_dispatch_catalogue(ctx: Any) -> int:
    result = load_default_catalogue(actor=ctx.actor)
    return result.created + result.updated


def wipe_dispatch_catalogue(city_path: str) -> None:
    DispatchCatalogueEntry.objects.filter(department__region__path__startswith=city_path).delete()
