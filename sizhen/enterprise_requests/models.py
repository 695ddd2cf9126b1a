"""企业诉求: models."""

from __future__ import annotations
