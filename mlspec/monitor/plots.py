"""Reference-against-current plots of drifted features, as PNG bytes for the HTML report.

A numeric reference is drawn from its quantile sketch (each point stands for the same share of rows), so no
training data is needed; a categorical one from its counts. Figures are plain matplotlib ``Figure`` objects on
the Agg canvas (see :mod:`mlspec.runtime.plots`), saved without a timestamp, so the same data gives the same
bytes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from mlspec.monitor import profile as prof

if TYPE_CHECKING:
    import pandas as pd

BINS = 30
TOP_CATEGORIES = 15
PLOTTED_ROWS = 100_000


def drift_plot(name: str, reference: dict[str, Any], current: pd.Series) -> bytes | None:
    """The plot of one feature, or None when one side has nothing to draw."""
    if reference["kind"] == "numeric":
        return _numeric(name, reference, current)
    return _categorical(name, reference, current)


def _numeric(name: str, reference: dict[str, Any], current: pd.Series) -> bytes | None:
    import numpy as np

    values, _ = prof.numeric_values(current)
    values = values[~np.isnan(values)]
    sketch = np.asarray(reference["sketch"], dtype=float)
    if len(values) == 0 or len(sketch) == 0:
        return None
    if len(values) > PLOTTED_ROWS:
        values = np.random.default_rng(0).choice(values, PLOTTED_ROWS, replace=False)
    low, high = min(sketch.min(), values.min()), max(sketch.max(), values.max())
    edges = np.linspace(low, high if high > low else low + 1.0, BINS + 1)
    fig, ax = _figure()
    ax.hist(sketch, bins=edges, density=True, histtype="stepfilled", alpha=0.45, label="reference")
    ax.hist(values, bins=edges, density=True, histtype="step", linewidth=1.6, label="current")
    ax.set_xlabel(name)
    ax.set_ylabel("density")
    return _finish(fig, ax, name)


def _categorical(name: str, reference: dict[str, Any], current: pd.Series) -> bytes | None:
    import numpy as np

    counts, _ = prof.category_counts(current)
    ref_counts: dict[str, int] = reference["counts"]
    ref_total, cur_total = sum(ref_counts.values()), sum(counts.values())
    if not ref_total or not cur_total:
        return None
    share = {k: ref_counts.get(k, 0) / ref_total + counts.get(k, 0) / cur_total for k in {*ref_counts, *counts}}
    shown = sorted(share, key=lambda k: (-share[k], k))[:TOP_CATEGORIES]
    x = np.arange(len(shown))
    fig, ax = _figure()
    ax.bar(x - 0.2, [ref_counts.get(k, 0) / ref_total for k in shown], width=0.4, label="reference")
    ax.bar(x + 0.2, [counts.get(k, 0) / cur_total for k in shown], width=0.4, label="current")
    ax.set_xticks(x, [k if len(k) <= 12 else k[:11] + "…" for k in shown], rotation=45, ha="right")
    ax.set_ylabel("share of rows")
    return _finish(fig, ax, name)


def _figure() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 3.0), dpi=90, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _finish(fig: Any, ax: Any, name: str) -> bytes:
    ax.set_title(name)
    ax.legend()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
