"""Monitoring (望, part 2): explainable alerts on indicator values.

For now only ``detection``, a pure library (no models, not yet an installed app).
"""
