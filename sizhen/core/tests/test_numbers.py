"""One rounding rule: ``rounded``/``fixed`` give what the templates' ``floatformat`` shows."""

from __future__ import annotations

import math

import pytest
from django.template.defaultfilters import floatformat

from sizhen.core.numbers import fixed, rounded

VALUES = [2.675, 1.005, 0.125, 99.995, 123456.785, -2.5, -0.05, -0.004, 1e-7, 12.0, 0.0, 68.75]


@pytest.mark.parametrize("places", [1, 2])
@pytest.mark.parametrize("value", VALUES)
def test_fixed_equals_floatformat(value: float, places: int) -> None:
    assert fixed(value, places) == floatformat(value, places)


@pytest.mark.parametrize("places", [1, 2])
@pytest.mark.parametrize("value", VALUES)
def test_rounded_is_the_number_the_page_shows(value: float, places: int) -> None:
    number = rounded(value, places)
    assert isinstance(number, float)
    assert f"{number:.{places}f}" == floatformat(value, places)


def test_half_away_from_zero_where_binary_rounding_differs() -> None:
    # The float 2.675 is 2.67499…: Python's round() and "%.2f" give 2.67, the page 2.68.
    assert (round(2.675, 2), f"{2.675:.2f}") == (2.67, "2.67")
    assert (rounded(2.675, 2), fixed(2.675, 2)) == (2.68, "2.68")
    assert (rounded(0.125, 2), rounded(-2.675, 2)) == (0.13, -2.68)


def test_no_negative_zero_and_missing_values() -> None:
    assert (fixed(-0.004, 2), math.copysign(1, rounded(-0.004, 2) or 1.0)) == ("0.00", 1.0)
    assert (rounded(None, 2), fixed(None, 2)) == (None, "")
    assert rounded(math.inf, 1) == math.inf
    assert fixed(-math.inf, 1) == "-inf"
