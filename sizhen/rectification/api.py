"""整改清单 over the API (/api/v1)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["整改清单"])
