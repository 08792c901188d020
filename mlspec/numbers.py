"""How a number is shown to people: one function for every table and message (gates, reports, status, cards).

The callers differ on purpose in three ways, each a parameter rather than another copy:

* ``digits``: four significant digits where a metric sits next to its bound or baseline (gates, reports, model
  cards), six where a value is looked up rather than compared (``mlspec status``, registry versions), three in
  the drift report, whose statistics are noisy beyond that;
* ``missing``: what an absent value (``None``) shows as: ``-`` in a table cell, ``n/a`` in evaluate's summary
  line, ``—`` in a model card, nothing in the drift report;
* ``tiny``: the drift report shows p-values far below its threshold as ``1.2e-04`` rather than ``0.000123``.

Only floats are rounded: an int (a row count, a number of gates) or any other value (a string a record holds) is
shown whole, as ``str`` would. Outputs are pinned by goldens and tests, so a change here is a visible change.
"""

from __future__ import annotations

from typing import Any


def fmt(value: Any, digits: int = 4, *, missing: str = "-", signed: bool = False, tiny: float = 0.0) -> str:
    """``value`` for a table or a message.

    A float gets ``digits`` significant digits (``g`` format, so ``0.9512``, ``1.235e+04``, ``nan``), with a
    leading ``+`` when ``signed`` (a change against a baseline). A nonzero float smaller in magnitude than
    ``tiny`` is shown in exponent notation with two significant digits instead. ``None`` shows as ``missing``;
    anything else as ``str(value)``.
    """
    if value is None:
        return missing
    if not isinstance(value, float):
        return str(value)
    if value != 0 and abs(value) < tiny:
        return f"{value:.1e}"
    return f"{value:+.{digits}g}" if signed else f"{value:.{digits}g}"
