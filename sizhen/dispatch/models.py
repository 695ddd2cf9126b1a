"""派单目录与智能派单: models."""

from __future__ import annotations
