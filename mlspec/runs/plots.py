"""The comparison page's plots as inline SVG: each metric per run in time order, and a metric against a param.

Drawn on matplotlib's SVG canvas (a plain ``Figure``, never pyplot: no global state, no display). The bytes
are deterministic: ``svg.hashsalt`` fixes the ids matplotlib would otherwise draw at random, the metadata
carries no date, and text stays text (``svg.fonttype: none``), so the run ids and the values written beside
each point are in the page as ``<text>`` that a reader can search. Math text is off: a ``$`` in a param value
or a run id is a dollar sign. Every string goes through matplotlib's XML escaping.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

_STYLE: dict[Any, Any] = {"svg.hashsalt": "mlspec-runs", "svg.fonttype": "none", "text.parse_math": False,
                          "font.size": 8.0}


def _figure(width: float = 6.0, height: float = 2.6) -> Any:
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasSVG(fig)
    return fig


def _svg(fig: Any) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": "mlspec"})
    text = out.getvalue()
    return text[text.index("<svg"):]  # inline in HTML: no XML declaration or doctype


def per_run(title: str, labels: Sequence[str], values: Sequence[float | None]) -> str:
    """One metric across runs (x: the runs in time order)."""
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        fig = _figure()
        ax = fig.add_subplot()
        xs = [i for i, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        ax.plot(xs, ys, marker="o", color="#1f6feb")
        for x, y in zip(xs, ys, strict=True):
            ax.annotate(f"{y:.4g}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center")
        ax.set_xticks(range(len(labels)), list(labels), rotation=20, ha="right")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        return _svg(fig)


def scatter(metric: str, param: str, points: Sequence[tuple[Any, float, str]]) -> str:
    """``metric`` against ``param``: one point per run (param value, metric value, run label). Numeric params
    on a numeric axis; others as categories, in order of first appearance."""
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        fig = _figure()
        ax = fig.add_subplot()
        numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x, _, _ in points)
        if numeric:
            xs = [float(x) for x, _, _ in points]
        else:
            categories = list(dict.fromkeys(str(x) for x, _, _ in points))
            xs = [float(categories.index(str(x))) for x, _, _ in points]
            ax.set_xticks(range(len(categories)), categories)
        ys = [y for _, y, _ in points]
        ax.scatter(xs, ys, color="#d1242f")
        right = max(xs)
        for x, y, label in zip(xs, ys, (p[2] for p in points), strict=True):
            # Labels of the rightmost points go to their left, so none runs off the plot.
            last = x == right and len(set(xs)) > 1
            ax.annotate(f"{y:.4g} ({label})", (x, y), textcoords="offset points", xytext=(-4 if last else 4, 4),
                        ha="right" if last else "left")
        ax.margins(x=0.15, y=0.15)
        ax.set_xlabel(param)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        return _svg(fig)
