from __future__ import annotations

import math
from typing import Any

import pytest

from mlspec.numbers import fmt


@pytest.mark.parametrize(("value", "kwargs", "shown"), [
    # Four significant digits by default: a metric next to its bound (gates, reports, cards).
    (0.951234, {}, "0.9512"),
    (12345.678, {}, "1.235e+04"),
    (1.0, {}, "1"),
    (-0.0, {}, "-0"),
    (math.nan, {}, "nan"),
    (math.inf, {}, "inf"),
    # Six where a value is looked up (status, registry versions).
    (0.951234567, {"digits": 6}, "0.951235"),
    # A change against a baseline carries its sign.
    (0.0123, {"signed": True}, "+0.0123"),
    (-0.0123, {"signed": True}, "-0.0123"),
    (0.0, {"signed": True}, "+0"),
    # Missing values, as each table shows them.
    (None, {}, "-"),
    (None, {"missing": "n/a"}, "n/a"),
    (None, {"missing": ""}, ""),
    # Only floats are rounded: counts and strings are shown whole.
    (1234567, {}, "1234567"),
    (True, {}, "True"),
    ("nan", {}, "nan"),
    # The drift report: three digits, tiny values in exponent notation with two digits, zero as zero.
    (0.0001234, {"digits": 3, "tiny": 1e-3}, "1.2e-04"),
    (-0.0001234, {"digits": 3, "tiny": 1e-3}, "-1.2e-04"),
    (0.001, {"digits": 3, "tiny": 1e-3}, "0.001"),
    (0.0, {"digits": 3, "tiny": 1e-3}, "0"),
    (0.0001234, {"digits": 3}, "0.000123"),
])
def test_fmt(value: Any, kwargs: dict[str, Any], shown: str) -> None:
    assert fmt(value, **kwargs) == shown
