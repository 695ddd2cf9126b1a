"""整改清单: models."""

from __future__ import annotations
