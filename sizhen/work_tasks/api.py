"""工作任务 over the API (/api/v1)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["工作任务"])
