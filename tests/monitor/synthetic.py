"""Synthetic reference and current tables with shifts of known size, and the verdicts mlspec gives them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from mlspec.monitor import drift
from mlspec.monitor import profile as prof
from mlspec.spec import Drift

# Distributions of different shapes: symmetric, skewed, integer-valued (many ties), bounded.
NUMERIC: dict[str, Callable[[np.random.Generator, int, float], np.ndarray]] = {
    "normal": lambda rng, n, shift: rng.normal(shift, 1.0, n),
    "lognormal": lambda rng, n, shift: rng.lognormal(shift, 0.6, n),
    "counts": lambda rng, n, shift: rng.poisson(4.0 + 4.0 * shift, n).astype(float),
    "uniform": lambda rng, n, shift: rng.uniform(shift, 1.0 + shift, n),
}
CATEGORIES = {"colour": ["red", "green", "blue"], "city": [f"c{i}" for i in range(8)]}
SHARES = {"colour": [0.5, 0.3, 0.2], "city": [0.3, 0.2, 0.15, 0.1, 0.1, 0.06, 0.05, 0.04]}
KINDS = [(n, "numeric") for n in NUMERIC] + [(c, "categorical") for c in CATEGORIES]


def table(rng: np.random.Generator, rows: int, shift: float = 0.0,
          shares: dict[str, list[float]] | None = None) -> pd.DataFrame:
    data: dict[str, object] = {name: draw(rng, rows, shift) for name, draw in NUMERIC.items()}
    for name, values in CATEGORIES.items():
        data[name] = rng.choice(values, rows, p=(shares or SHARES)[name])
    return pd.DataFrame(data)


def verdicts(reference: pd.DataFrame, current: pd.DataFrame, settings: Drift | None = None,
             kinds: list[tuple[str, str]] | None = None) -> dict[str, drift.FeatureDrift]:
    """The verdict of every feature, as the monitor stage reaches it (profile, then comparison)."""
    settings = settings or Drift(p_value=0.05)
    kinds = kinds or KINDS
    profile = prof.build(reference, kinds, None, "binary", "reference")
    out = {}
    for name, kind in kinds:
        method, threshold, _, _ = drift.settings(settings, name, kind)
        out[name] = drift.compare(name, profile["features"][name], current[name], method, threshold)
    return out
