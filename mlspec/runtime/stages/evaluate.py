"""The ``evaluate`` stage: score every trained model on the evaluation source and pick the champion.

Metric names come from the catalogue in :mod:`mlspec.metrics`; each is its scikit-learn function applied to
the labels, or to the scores where the metric ``needs`` them (binary: the positive class's probability, the
class ``data.positive_class`` names, or 1 of 0/1 and true of false/true; multiclass: the full probability
matrix with the model's classes). Labels are the models' own, or by the decision threshold a model was trained
with (:func:`mlspec.runtime.scoring.predict_labels`). Outputs: ``metrics.json`` (what the gate stage reads,
with ``positive_class`` and each model's ``decisions`` for a binary task and ``per_class`` precision, recall,
F1 and support for classification), ``predictions.parquet`` (per-row truth, predictions and scores,
for bootstrapped confidence intervals) and PNG plots.

Everything else reads ``metrics.json`` back through :func:`read_metrics` (or :func:`find_metrics` where an
evaluation may legitimately be absent), as an :class:`Evaluation`. One error policy: a file that is there
but is not an evaluation (not JSON, a field missing or of the wrong type) is a :class:`StageError` naming the
file and the field, and saying to run the evaluate stage again; a missing file is that error from
:func:`read_metrics`, and None from :func:`find_metrics` for the caller to explain in its own terms.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec.graph import Stage, stage_id, unique
from mlspec.metrics import METRICS
from mlspec.numbers import fmt
from mlspec.runtime.stages.kind import Ci, Kind, Read, checked_data, estimator_versions, source_read
from mlspec.runtime.stages.train import LEARNING_READS
from mlspec.spec import Spec

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.runtime.context import StageContext, StageError, StageResult
    from mlspec.runtime.scoring import Scored

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.parquet"
RERUN = "run `mlspec run evaluate --force`"


def _stages(spec: Spec) -> list[Stage]:
    needs = (*checked_data(spec, spec.evaluation.data), *(stage_id("train", m) for m in spec.training.models))
    return [Stage("evaluate", "evaluate", None, unique(needs))]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    return [
        *LEARNING_READS,
        # The gates and their baseline are the gate stage's business: editing them must not rescore every model.
        Read("evaluation", exclude=frozenset({"gates", "baseline"})),
        # The model names in declared order: a tie for champion goes to the model declared first.
        Read("training.models", keys=True),
        source_read(spec.evaluation.data),
        Read("training.trust", fingerprinted=False),  # which model files it may load, not what it makes
    ]


KIND = Kind(
    "evaluate", _stages, _reads,
    files=lambda spec, stage: [],  # the snapshot of data:<evaluation.data>, an upstream output
    libraries=("matplotlib", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "skops"),
    more_versions=lambda spec, stage: estimator_versions(spec, list(spec.training.models)),
    spec_key=lambda stage: ("evaluation",),
    ci=Ci("mlspec run {spec} evaluate", stage_cache=True, uploads_lock=True),
)


def run(ctx: StageContext) -> StageResult:
    from mlspec.runtime import bundle, plots, scoring, snapshot
    from mlspec.runtime.context import StageResult
    from mlspec.runtime.features import require_label

    spec: Spec = ctx.spec
    source = spec.evaluation.data
    frame = snapshot.read(ctx, source)
    require_label(spec.data.target, [str(c) for c in frame.columns], source)
    y_true = frame[spec.data.target].to_numpy()
    ctx.log(f"scoring {len(spec.training.models)} models on {len(frame)} rows of {source!r}")
    outputs = [_score(ctx, name, frame, source, y_true) for name in spec.training.models]
    scored = [s for s, _ in outputs]
    table = {s.name: scoring.compute_metrics(spec, s, y_true) for s in scored}
    champion = choose_champion(spec, table)
    profile = bundle.read_profile(ctx.upstream(f"data:{source}"))
    report: dict[str, Any] = {
        "task": spec.task,
        "metrics": list(spec.evaluation.metrics),
        "directions": {m: "higher" if METRICS[m].greater_is_better else "lower" for m in spec.evaluation.metrics},
        "models": table,
        "champion": champion,
        "champion_rule": champion_rule(spec),
        "champion_metrics": table[champion],
        "scores": {s.name: scoring.score_kind(s) for s in scored},
        "data": {"source": source, "digest": profile.get("digest"), "rows": len(frame)},
    }
    if spec.task == "binary":
        # Which class every binary metric is about, and the cut-off that turned probabilities into labels.
        report["positive_class"] = next(s.positive_label for s in scored if s.name == champion)
        report["decisions"] = {s.name: decision for s, decision in outputs}
    if spec.task != "regression":
        # Beside the gate-able metrics, not among them: a class's numbers are for reading, not for gates.
        report["per_class"] = {s.name: per_class(s, y_true) for s in scored}
    (ctx.out_dir / METRICS_FILE).write_text(json.dumps(bundle.jsonable(report), indent=2) + "\n", "utf-8")
    scoring.predictions_frame(frame.index, y_true, scored).to_parquet(ctx.out_dir / PREDICTIONS_FILE, index=False)
    written = plots.write_all(ctx.out_dir / "plots", spec.task, y_true, scored, ctx.log)
    ctx.log(f"wrote {len(written)} plots")
    shown = ", ".join(f"{m}={fmt(v, missing='n/a')}" for m, v in table[champion].items())
    metrics = {"champion": champion, **{m: bundle.jsonable(v) for m, v in table[champion].items()},
               # Every model's too, so `mlspec diff` compares each model with itself across a champion switch.
               "models": {name: {m: bundle.jsonable(v) for m, v in row.items()} for name, row in table.items()}}
    return StageResult(metrics, f"champion {champion}: {shown}")


# --- predicting ---------------------------------------------------------------------------------------------


def _score(ctx: StageContext, name: str, frame: pd.DataFrame, source: str, y_true: Any
           ) -> tuple[Scored, dict[str, Any]]:
    """Model ``name``'s outputs on ``frame``, and (binary) its positive class and decision threshold."""
    from mlspec.runtime import bundle, scoring
    from mlspec.runtime.context import StageError

    try:
        loaded = bundle.load(ctx.upstream(f"train:{name}"), ctx.spec.training.trust, ctx.log)
    except bundle.BundleError as exc:
        raise StageError(f"model {name!r}: {exc}", ("training", "models", name)) from None
    scored = scoring.predict(ctx.spec.task, name, loaded, frame, source, ctx.spec.data.positive_class)
    unseen = scoring.unseen_message(y_true, scored, source, str(loaded.metadata.get("data", {}).get("source")))
    if unseen:
        raise StageError(unseen, ("evaluation", "data"))
    rule = scoring.decision_rule(loaded)
    decision = {"positive_class": scored.positive, "threshold": rule[1] if rule is not None else None}
    return scored, decision


def per_class(s: Scored, y_true: Any) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 and support of each of the model's classes (by label, as text), in its order."""
    import warnings

    from sklearn.metrics import precision_recall_fscore_support

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class never predicted has precision 0 by scikit-learn's rule
        precision, recall, f1, support = precision_recall_fscore_support(
            y_true, s.predictions, labels=s.classes, zero_division=0)
    return {str(label): {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                         "support": int(support[i])} for i, label in enumerate(s.classes or [])}


# --- metrics ------------------------------------------------------------------------------------------------


# --- champion -----------------------------------------------------------------------------------------------


def champion_rule(spec: Spec) -> dict[str, str]:
    rule = spec.evaluation.champion
    if rule is not None and rule.model is not None:
        return {"model": rule.model}
    metric = rule.metric if rule is not None and rule.metric is not None else spec.evaluation.metrics[0]
    return {"metric": metric, "direction": "higher" if METRICS[metric].greater_is_better else "lower"}


def choose_champion(spec: Spec, table: dict[str, dict[str, float | None]]) -> str:
    """The fixed model, or the best by the champion metric; ties go to the model declared first."""
    rule = champion_rule(spec)
    if "model" in rule:
        return rule["model"]
    metric, higher = rule["metric"], rule["direction"] == "higher"

    def key(item: tuple[int, str]) -> tuple[bool, float, int]:
        order, name = item
        value = table[name][metric]
        if value is None:  # an undefined value never wins
            return (True, 0.0, order)
        return (False, -value if higher else value, order)

    return min(enumerate(table), key=key)[1]


# --- reading the outputs back -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """``metrics.json`` as the evaluate stage wrote it (see :func:`read_metrics`)."""

    path: Path
    """The file it was read from."""
    champion: str
    champion_metrics: Mapping[str, float | None]
    """The champion's value of every metric; None where it is undefined."""
    models: Mapping[str, Mapping[str, float | None]]
    """Every model's metrics, in declared order; empty in a file that does not list them."""
    metrics: tuple[str, ...]
    """The metric names in the spec's order."""
    directions: Mapping[str, str]
    """Metric → ``higher`` or ``lower`` (which is better)."""
    document: Mapping[str, Any]
    """The whole document, for records that keep it as it is (a registered version's provenance)."""


def read_metrics(stage_dir: Path) -> Evaluation:
    """The evaluation in the evaluate outputs ``stage_dir``; :class:`StageError` if it is missing or is not one."""
    from mlspec.runtime.context import StageError
    from mlspec.runtime.workspace import display_path

    found = find_metrics(stage_dir)
    if found is None:
        raise StageError(f"{display_path(stage_dir / METRICS_FILE)}: missing; {RERUN}", ("evaluation",))
    return found


def find_metrics(stage_dir: Path) -> Evaluation | None:
    """The evaluation in ``stage_dir``; None if there is no ``metrics.json``, :class:`StageError` if it is not
    an evaluation (which mlspec, writing outputs atomically, never leaves: the file was edited or damaged)."""
    from mlspec import jsonio
    from mlspec.runtime.context import StageError
    from mlspec.runtime.workspace import display_path

    path = stage_dir / METRICS_FILE
    try:
        data = jsonio.read_object(path, what=display_path(path))
    except FileNotFoundError:
        return None
    except jsonio.JsonError as exc:
        raise StageError(f"{exc}; {RERUN}", ("evaluation",)) from None
    return parse_metrics(data, path)


def parse_metrics(data: Mapping[str, Any], path: Path) -> Evaluation:
    """``data``, the parsed ``metrics.json`` at ``path``, as an :class:`Evaluation`; :class:`StageError` naming
    the first field that is missing or has the wrong type."""
    from mlspec.runtime.context import StageError
    from mlspec.runtime.workspace import display_path

    def wrong(field: str, problem: str) -> StageError:
        return StageError(f"{display_path(path)}: {field}: {problem}; {RERUN}", ("evaluation",))

    champion = data.get("champion")
    if not isinstance(champion, str):
        raise wrong("champion", "missing or not a string")
    if "champion_metrics" not in data:
        raise wrong("champion_metrics", "missing")
    champion_metrics = _metric_values(data["champion_metrics"], "champion_metrics", wrong)
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise wrong("models", "not an object")
    table = {str(name): _metric_values(values, f"models.{name}", wrong) for name, values in models.items()}
    names = data.get("metrics", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise wrong("metrics", "not a list of metric names")
    directions = data.get("directions", {})
    if not isinstance(directions, dict) or not all(d in ("higher", "lower") for d in directions.values()):
        raise wrong("directions", "not an object of \"higher\" or \"lower\"")
    return Evaluation(path, champion, champion_metrics, table, tuple(names), dict(directions), data)


def _metric_values(value: Any, field: str, wrong: Callable[[str, str], StageError]) -> dict[str, float | None]:
    if not isinstance(value, dict):
        raise wrong(field, "not an object of metric values")
    for metric, number in value.items():
        if number is not None and (isinstance(number, bool) or not isinstance(number, int | float)):
            raise wrong(f"{field}.{metric}", f"{number!r} is not a number or null")
    return dict(value)
