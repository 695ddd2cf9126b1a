"""Alerts over the API (/api/v1/alerts)."""

from ninja import Router

router = Router(tags=["预警"])
