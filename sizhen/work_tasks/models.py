"""工作任务: models."""

from __future__ import annotations
