"""企业诉求 over the API (/api/v1)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["企业诉求"])
