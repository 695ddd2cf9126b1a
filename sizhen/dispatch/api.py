"""派单目录与智能派单 over the API (/api/v1)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["派单"])
