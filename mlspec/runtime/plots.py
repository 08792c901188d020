"""PNG plots of the evaluation: confusion matrices, ROC curves, regression residuals.

Figures are plain ``matplotlib.figure.Figure`` objects drawn on the Agg canvas, never pyplot figures: no
window opens, the process-wide backend is left alone and nothing accumulates in pyplot's figure registry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from mlspec.runtime.scoring import Scored


def write_all(directory: Path, task: str, y_true: np.ndarray, scored: list[Scored],
              log: Callable[[str], None] = lambda _: None) -> list[Path]:
    """The plots that suit ``task``, as PNG files in ``directory``; returns their paths. A plot that cannot be
    drawn (a model's classes miss a label of the evaluation data) is skipped with a notice through ``log``."""
    from mlspec.runtime.scoring import unseen_labels

    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if task == "regression":
        for s in scored:
            written.append(_save(regression(y_true, s), directory / f"regression-{s.name}.png"))
        return written
    plotted: list[Scored] = []
    for s in scored:
        unseen = unseen_labels(y_true, s)
        if unseen:
            log(f"skipped the confusion matrix and ROC curve of model {s.name!r}: the evaluation data has "
                f"label(s) {', '.join(map(repr, unseen[:5]))} that the model never saw in training")
            continue
        plotted.append(s)
        written.append(_save(confusion(y_true, s), directory / f"confusion_matrix-{s.name}.png"))
    if task == "binary":
        curve = roc(y_true, plotted)
        if curve is not None:
            written.append(_save(curve, directory / "roc.png"))
    return written


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path) -> Path:
    # No timestamp in the PNG metadata, so the same evaluation gives the same bytes.
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def confusion(y_true: np.ndarray, s: Scored) -> Any:
    from sklearn.metrics import ConfusionMatrixDisplay

    fig = _figure(5.5, 4.5)
    ax = fig.subplots()
    ConfusionMatrixDisplay.from_predictions(y_true, s.predictions, labels=s.classes, ax=ax, colorbar=True)
    ax.set_title(f"{s.name}: confusion matrix")
    return fig


def roc(y_true: np.ndarray, scored: list[Scored]) -> Any | None:
    """One ROC curve per model that gives scores; None when no model does."""
    from sklearn.metrics import RocCurveDisplay

    fig = _figure(5.5, 5.0)
    ax = fig.subplots()
    drawn = 0
    for s in scored:
        if s.classes is None:
            continue
        score = s.positive_score()
        if score is None:
            continue
        RocCurveDisplay.from_predictions(
            y_true, score, pos_label=s.positive_label, name=s.name, ax=ax, plot_chance_level=drawn == 0
        )
        drawn += 1
    if not drawn:
        return None
    ax.set_title("ROC curve")
    return fig


def regression(y_true: np.ndarray, s: Scored) -> Any:
    from sklearn.metrics import PredictionErrorDisplay

    fig = _figure(10.0, 4.5)
    left, right = fig.subplots(1, 2)
    # A fixed random_state: the display subsamples large sets, and reruns should draw the same points.
    for ax, kind in ((left, "actual_vs_predicted"), (right, "residual_vs_predicted")):
        PredictionErrorDisplay.from_predictions(y_true, s.predictions, kind=kind, ax=ax, random_state=0)
    left.set_title(f"{s.name}: actual vs predicted")
    right.set_title(f"{s.name}: residuals")
    return fig
