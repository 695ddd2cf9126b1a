"""Jobs of the surveys app (filled below)."""
