"""What mlspec knows of each gradient boosting library: early stopping, native categoricals, labels, defaults.

One :class:`Library` per library (XGBoost, LightGBM, CatBoost, and scikit-learn's HistGradientBoosting*),
because each spells the same ideas differently: an eval set is a fit argument of all three libraries, but
early stopping is a constructor parameter of XGBoost, a callback of LightGBM and a fit argument of CatBoost;
categorical columns are ``feature_types`` to XGBoost, ``categorical_feature`` to LightGBM and ``cat_features``
to CatBoost. The train stage builds the Pipeline as for any estimator and hands the fitting to :func:`fit`.

Native categoricals reach every library as integer codes (an ``OrdinalEncoder`` in the Pipeline, so serving
still takes the raw columns); a category never seen in training is coded -1, which LightGBM, XGBoost and
HistGradientBoosting treat as missing and CatBoost as one more unseen category, so it never crashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlspec.runtime.context import StageError
from mlspec.suggest import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.spec import TrainedModel

Where = tuple[str | int, ...]
Kwargs = dict[str, Any]
UNSEEN = -1
"""The code of a category not seen in training (and of a missing one when it is not imputed)."""


@dataclass(frozen=True)
class Library:
    distribution: str
    """Its distribution name, as in pip and ``training.packages`` checks."""
    early_stopping: Callable[[Any, int, Any, Any], Kwargs] | None
    """Sets up early stopping of ``rounds`` on the eval set ``(x, y)``; returns the fit kwargs it needs."""
    native: Callable[[Any, list[bool]], Kwargs] | None
    """Marks the categorical columns (a mask over the preprocessed columns); returns the fit kwargs it needs."""
    best_iteration: Callable[[Any], Any]
    """The number of boosting rounds the fitted estimator predicts with, after early stopping."""
    defaults: Callable[[dict[str, Any]], Kwargs] = field(default=lambda params: {})
    """Constructor params mlspec sets unless the spec does (e.g. no files written into the project)."""
    wrap_labels: bool = False
    """Its classifiers are wrapped to learn label codes (mlspec.runtime.labelencoded): XGBoost's accept only
    labels 0..n-1, LightGBM's refuse string labels in an eval set, and CatBoost's multiclass predict answers a
    column rather than a vector of labels."""
    frame_input: bool = False
    """Native categoricals must arrive as integer columns of a DataFrame, not as a float array."""
    internal_validation: bool = False
    """Early stopping splits the validation rows off itself (HistGradientBoosting's validation_fraction)."""
    settle: Callable[[Any], None] = field(default=lambda fitted: None)
    """Makes the fitted estimator a function of its data and params only: identical training, identical file."""


def _xgb_early(est: Any, rounds: int, x: Any, y: Any) -> Kwargs:
    est.set_params(early_stopping_rounds=rounds)
    return {"eval_set": [(x, y)], "verbose": False}


def _xgb_native(est: Any, mask: list[bool]) -> Kwargs:
    est.set_params(enable_categorical=True, feature_types=["c" if m else "q" for m in mask])
    return {}


def _lgb_early(est: Any, rounds: int, x: Any, y: Any) -> Kwargs:
    import lightgbm

    stop = {"callbacks": [lightgbm.early_stopping(rounds, verbose=False)]}
    # LightGBM 4.7 deprecates eval_set for eval_X/eval_y; older ones know only eval_set.
    if "eval_X" in fit_params(type(est))[0]:
        return stop | {"eval_X": x, "eval_y": y}
    return stop | {"eval_set": [(x, y)]}


def _lgb_defaults(params: dict[str, Any]) -> Kwargs:
    # Without it every fit prints LightGBM's warnings ("No further splits with positive gain") into CI logs.
    return {} if {"verbose", "verbosity"} & set(params) else {"verbose": -1}


def _cb_early(est: Any, rounds: int, x: Any, y: Any) -> Kwargs:
    return {"eval_set": [(x, y)], "early_stopping_rounds": rounds, "use_best_model": True}


def _cb_defaults(params: dict[str, Any]) -> Kwargs:
    # CatBoost writes a catboost_info/ directory into the working directory (the user's project) by default
    # and prints every iteration; mlspec writes only what it declares.
    out: Kwargs = {} if "allow_writing_files" in params else {"allow_writing_files": False}
    if not {"verbose", "verbose_eval", "silent", "logging_level"} & set(params):
        out["verbose"] = False
    return out


def _cb_settle(fitted: Any) -> None:
    # CatBoost stamps each model with the time training finished and a random id: two identical trainings
    # would be two different files, and content-addressed outputs (the lock, CI artifacts) would differ.
    metadata = fitted.get_metadata()
    for key in ("train_finish_time", "model_guid"):
        if key in metadata:
            del metadata[key]


def _hgb_early(est: Any, rounds: int, x: Any, y: Any) -> Kwargs:
    est.set_params(early_stopping=True, n_iter_no_change=rounds)
    return {}


def _hgb_native(est: Any, mask: list[bool]) -> Kwargs:
    import numpy as np

    est.set_params(categorical_features=np.array(mask, dtype=bool))
    return {}


LIBRARIES: dict[str, Library] = {
    "xgboost": Library("xgboost", _xgb_early, _xgb_native, lambda e: e.best_iteration + 1, wrap_labels=True),
    "lightgbm": Library("lightgbm", _lgb_early, lambda e, m: {"categorical_feature": _indices(m)},
                        lambda e: e.best_iteration_, defaults=_lgb_defaults, wrap_labels=True),
    "catboost": Library("catboost", _cb_early, lambda e, m: {"cat_features": _indices(m)},
                        lambda e: e.get_best_iteration() + 1, defaults=_cb_defaults, frame_input=True,
                        wrap_labels=True, settle=_cb_settle),
    "sklearn.ensemble.HistGradientBoosting": Library(
        "scikit-learn", _hgb_early, _hgb_native, lambda e: e.n_iter_, internal_validation=True),
}


def _indices(mask: list[bool]) -> list[int]:
    return [i for i, m in enumerate(mask) if m]


def library(estimator_path: str) -> Library | None:
    """The library of the estimator at import path ``estimator_path`` (``xgboost.XGBClassifier``), if mlspec
    has an adapter for it."""
    for prefix, lib in LIBRARIES.items():
        if estimator_path == prefix or estimator_path.startswith(prefix if "." in prefix else prefix + "."):
            return lib
    return None


# --- before fitting -------------------------------------------------------------------------------------------


def defaults(estimator_path: str, params: dict[str, Any]) -> Kwargs:
    lib = library(estimator_path)
    return lib.defaults(params) if lib else {}


def check(model: TrainedModel, cls: type, where: Where) -> None:
    """Raise a located :class:`StageError` for fit arguments ``cls.fit`` does not take, and for early stopping
    or native categoricals on an estimator without them."""
    lib = library(model.estimator)
    name = model.estimator.rsplit(".", 1)[-1]
    if model.early_stopping is not None and (lib is None or lib.early_stopping is None):
        raise StageError(f"{name} has no early stopping that mlspec can drive; remove early_stopping, or use "
                         "XGBoost, LightGBM, CatBoost or scikit-learn's HistGradientBoosting*",
                         (*where, "early_stopping"))
    if model.preprocessing.categorical.encode == "native" and (lib is None or lib.native is None):
        raise StageError(f"{name} has no native categorical handling; use encode: onehot or ordinal, or "
                         "XGBoost, LightGBM, CatBoost or scikit-learn's HistGradientBoosting*",
                         (*where, "preprocessing", "categorical", "encode"))
    names, open_ended = fit_params(cls)
    owned = _owned(model, lib)
    for key in model.fit:
        if key in owned:
            raise StageError(f"fit argument {key!r} is set by mlspec for {owned[key]}; remove it here",
                             (*where, "fit", key))
        if not open_ended and key not in names:
            raise StageError(f"{name}.fit takes no argument {key!r}" + did_you_mean(key, names),
                             (*where, "fit", key))


def _owned(model: TrainedModel, lib: Library | None) -> dict[str, str]:
    owned = dict.fromkeys(("X", "x", "y"), "the training rows")
    if model.early_stopping is not None and lib is not None:
        owned |= dict.fromkeys(("eval_set", "callbacks", "early_stopping_rounds", "use_best_model"),
                               "early_stopping")
    if model.preprocessing.categorical.encode == "native":
        owned |= dict.fromkeys(("categorical_feature", "cat_features"), "native categoricals")
    return owned


def fit_params(cls: type) -> tuple[list[str], bool]:
    """The keyword arguments ``cls.fit`` takes, and whether it takes any other (``**kwargs``)."""
    import inspect

    try:
        sig = inspect.signature(cls.fit)  # type: ignore[attr-defined]
    except (TypeError, ValueError, AttributeError):
        return [], True
    params = list(sig.parameters.values())[1:]  # not self
    named = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return [n for n in named if n not in ("X", "x", "y")], any(p.kind is p.VAR_KEYWORD for p in params)


def wrap(estimator: Any, estimator_path: str, task: str) -> Any:
    """``estimator``, wrapped so that it is fitted on label codes when its library needs them."""
    lib = library(estimator_path)
    if task == "regression" or lib is None or not lib.wrap_labels:
        return estimator
    from mlspec.runtime.labelencoded import LabelEncodedClassifier

    return LabelEncodedClassifier(estimator)


def native_encoder() -> Any:
    """The encoder of categorical columns for ``encode: native``: integer codes, -1 for unseen or missing."""
    import numpy as np
    from sklearn.preprocessing import OrdinalEncoder

    return OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=UNSEEN, encoded_missing_value=UNSEEN,
                          dtype=np.int64)


# --- fitting --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fitted:
    best_iteration: int | None
    """The boosting rounds the model predicts with after early stopping (1-based, whatever the library's own
    count), or None without early stopping; for HistGradientBoosting*, the rounds it ran."""
    fit_rows: int
    """The rows the estimator was fitted on (the training rows minus the validation rows)."""


def fit(pipeline: Any, x: pd.DataFrame, y: pd.Series, model: TrainedModel, seed: int, task: str,
        where: Where) -> Fitted:
    """Fit ``pipeline`` (its last step ``estimator``, its preprocessing step ``preprocess``) as ``model`` says.

    With early stopping on a library's eval set, the validation rows are split off first and the preprocessing
    is fitted on the rest only, so the rows that decide when to stop leak nothing into the features."""
    lib = library(model.estimator)
    final = pipeline.steps[-1][1]
    inner = _inner(final)
    kwargs: Kwargs = dict(model.fit)
    stop = model.early_stopping
    native = model.preprocessing.categorical.encode == "native"
    if lib is None or not (stop or native):
        pipeline.fit(x, y, **{f"estimator__{k}": v for k, v in kwargs.items()})
        if lib is not None:
            lib.settle(getattr(final, "estimator_", final))
        return Fitted(None, len(x))
    if native and lib.frame_input:
        pipeline.named_steps["preprocess"].set_output(transform="pandas")
    x_fit, y_fit, x_val, y_val = x, y, None, None
    if stop is not None and lib.internal_validation:
        inner.set_params(validation_fraction=stop.validation_fraction)
    elif stop is not None:
        x_fit, y_fit, x_val, y_val = _split(x, y, stop.validation_fraction, seed, task, where)
    prep = pipeline[:-1]
    xt = prep.fit_transform(x_fit, y_fit)
    if native:
        assert lib.native is not None  # check() refused it otherwise
        kwargs |= lib.native(inner, _categorical_mask(pipeline.named_steps["preprocess"], xt.shape[1]))
    if stop is not None:
        assert lib.early_stopping is not None
        xv = prep.transform(x_val) if x_val is not None else None
        kwargs |= lib.early_stopping(inner, stop.rounds, xv, y_val)
    final.fit(xt, y_fit, **kwargs)
    fitted = getattr(final, "estimator_", final)
    lib.settle(fitted)
    best = lib.best_iteration(fitted) if stop is not None else None
    return Fitted(None if best is None else int(best), len(x_fit))


def _inner(final: Any) -> Any:
    from mlspec.runtime.labelencoded import LabelEncodedClassifier

    # The wrapper clones its estimator when fitted: params set on the one it holds reach the fitted one.
    return final.estimator if isinstance(final, LabelEncodedClassifier) else final


def _split(x: pd.DataFrame, y: pd.Series, fraction: float, seed: int, task: str,
           where: Where) -> tuple[Any, Any, Any, Any]:
    from sklearn.model_selection import train_test_split

    try:
        parts: list[Any] = train_test_split(x, y, test_size=fraction, random_state=seed,
                                            stratify=None if task == "regression" else y)
    except ValueError as exc:  # too few rows, or a class too rare to be in both parts
        raise StageError(f"cannot hold out {fraction} of {len(x)} rows for early stopping: {exc}",
                         (*where, "early_stopping", "validation_fraction")) from None
    return parts[0], parts[2], parts[1], parts[3]


def _categorical_mask(preprocess: Any, width: int) -> list[bool]:
    """Which of the ``width`` preprocessed columns are the categorical ones (by the ColumnTransformer's own
    record of where each transformer's output went)."""
    where = preprocess.output_indices_.get("categorical", slice(0, 0))
    return [where.start <= i < where.stop for i in range(width)]
