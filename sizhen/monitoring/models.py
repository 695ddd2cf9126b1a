"""Alert models (预警)."""
