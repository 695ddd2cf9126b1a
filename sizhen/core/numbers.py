"""Numbers as the pages show them: one rounding rule for the templates' ``floatformat``, the
tables built in Python and the XLSX exports, so that an exported figure equals the figure on
the page (a leader compares them).

Django's ``floatformat`` rounds the number's decimal text half away from zero (四舍五入):
2.675 → "2.68", where ``f"{2.675:.2f}"`` gives "2.67" (the float is 2.67499…).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


def _quantized(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rounded(value: float | None, places: int) -> float | None:
    """``value`` to ``places`` decimals as ``floatformat`` shows it, as a number (for
    exports); None, infinities and NaN as they are."""
    if value is None or not math.isfinite(value):
        return value
    # + 0.0 turns -0.0 into 0.0: a value that rounds to zero is shown without a sign.
    return float(_quantized(value, places)) + 0.0


def fixed(value: float | None, places: int) -> str:
    """``value`` as text with exactly ``places`` decimals, as ``floatformat:places`` shows it;
    "" for None."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return str(value)
    text = f"{_quantized(value, places):f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text
