"""The reviewed allowlist of types a model file may contain: exact qualified names, per library.

Loading a skops file builds every object it names; a type is as dangerous as what its construction (or a
function it names) can do, so trust is given to exact types, never to whole packages, and never to a list
that comes with the artifact (a bundle's ``metadata.json`` names its estimator; that widens nothing).

What :func:`mlspec.runtime.bundle.load` accepts is the union of

* skops' own default trusted types: builtins, NumPy arrays and ufuncs, SciPy sparse matrices, and every
  scikit-learn estimator class (skops enumerates ``sklearn.utils.all_estimators()``), and
* :data:`REVIEWED` below: the types beyond those defaults that the pipelines mlspec trains produce, found by
  fitting every preprocessing option and each scikit-learn classifier and regressor (with its loss, kernel,
  metric and solver options) and reading ``skops.io.get_untrusted_types``. The test
  ``tests/runtime/test_bundle.py`` repeats that survey, so a scikit-learn upgrade that needs a new type fails
  there, not in production.

Each library has its own entry (by distribution name), reviewed when it was added together with a round-trip
test of every model mlspec trains with it (``tests/runtime/test_bundle.py`` surveys XGBoost, LightGBM and
CatBoost with and without early stopping and native categoricals). The types of anything else (skorch, torch,
a project's own transformer classes) are the user's opt-in through ``training.trust``.
"""

from __future__ import annotations

from collections.abc import Iterable

_DTYPE = ["numpy.dtype"]  # the dtype of every fitted array attribute (``dtype_``, feature dtypes)

# Internal objects of scikit-learn estimators, by what they do; all are plain data holders whose loading
# runs no code named by the file (a function they hold is a separate node that must itself be trusted).
_SKLEARN_TREES = [
    "sklearn.tree._tree.Tree",  # decision trees, forests, gradient boosting, AdaBoost, bagging
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # HistGradientBoosting*
]  # skops leaves these untrusted: their node indices are not bounds-checked; mlspec.runtime.structure does
_SKLEARN_NEIGHBORS = [
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    *(f"sklearn.metrics._dist_metrics.{name}Distance64" for name in (
        "BrayCurtis", "Canberra", "Chebyshev", "Dice", "Euclidean", "Hamming", "Haversine", "Jaccard",
        "Kulsinski", "Mahalanobis", "Manhattan", "Matching", "Minkowski", "RogersTanimoto", "RussellRao",
        "SEuclidean", "SokalMichener", "SokalSneath")),  # not PyFuncDistance64: it calls a Python function
]
_SKLEARN_KERNELS = [f"sklearn.gaussian_process.kernels.{name}" for name in (
    "CompoundKernel", "ConstantKernel", "DotProduct", "ExpSineSquared", "Exponentiation", "Matern",
    "PairwiseKernel", "Product", "RBF", "RationalQuadratic", "Sum", "WhiteKernel")]
_SKLEARN_OTHER = [
    "sklearn._loss.loss.HalfTweedieLoss",  # TweedieRegressor (the other losses are skops defaults)
    "sklearn._loss.loss.HalfTweedieLossIdentity",
    "sklearn.calibration._CalibratedClassifier",  # CalibratedClassifierCV
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",  # MLP*
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    # HistGradientBoosting* with categorical_features keeps partial(check_array, ...) as a preprocessor.
    "functools.partial",
    "sklearn.utils.validation.check_array",
]

# The boosting libraries' scikit-learn wrappers are plain data holders (BaseEstimator.__setstate__ fills
# __dict__). Their boosters rebuild themselves from the model bytes the file holds by handing them to the
# library's own C parser (XGBoosterUnserializeFromBuffer, LGBM_BoosterLoadModelFromString, CatBoost's
# _load_from_string): no Python object, function or module the file names is built or called.
_XGBOOST = [
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
]
_LIGHTGBM = [
    "collections.OrderedDict",  # LightGBM keeps its evals_result_ and best_score_ in them: a plain dict
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
]
_CATBOOST = [
    "catboost.core.CatBoostClassifier",
    "catboost.core.CatBoostRegressor",
]
_MLSPEC = [
    # Fits its estimator on label codes (XGBoost takes only 0..n-1) and maps predictions back; a data holder.
    "mlspec.runtime.labelencoded.LabelEncodedClassifier",
    # mlspec's own transformers (mlspec.transform): plain data attributes, reviewed with that package.
    "mlspec.transform.dates.DateParts",
    "mlspec.transform.derive.Derive",
]

REVIEWED: dict[str, frozenset[str]] = {
    "scikit-learn": frozenset(_DTYPE + _SKLEARN_TREES + _SKLEARN_NEIGHBORS + _SKLEARN_KERNELS + _SKLEARN_OTHER),
    "xgboost": frozenset(_XGBOOST),
    "lightgbm": frozenset(_LIGHTGBM),
    "catboost": frozenset(_CATBOOST),
    "mlspec": frozenset(_MLSPEC),
}
"""Library (its distribution name) -> the exact types of it (and of NumPy/SciPy it needs) that are trusted."""

ALLOWED: frozenset[str] = frozenset().union(*REVIEWED.values())
SPEC = "training.trust"
"""The group, in a bundle's record of its types, of those trusted by the spec rather than by mlspec's review."""
UNREVIEWED = "unreviewed"
"""The group of types neither reviewed nor in ``training.trust``: loaders refuse such a file."""


def refused(types: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Those of ``types`` (what ``skops.io.get_untrusted_types`` reports) that are neither on the allowlist nor
    in ``extra`` (the spec's ``training.trust``: never a list the model file itself carries)."""
    allowed = ALLOWED | frozenset(extra)
    return sorted(t for t in set(types) if t not in allowed)


def grouped(types: Iterable[str], extra: Iterable[str] = ()) -> dict[str, list[str]]:
    """``types`` (a model file's types beyond skops' defaults) by who vouches for them: the reviewed library
    that needs them (a type two libraries need is listed under each), :data:`SPEC`, or :data:`UNREVIEWED`."""
    spec = frozenset(extra)
    out: dict[str, list[str]] = {}
    for name in sorted(set(types)):
        owners = [lib for lib, reviewed in REVIEWED.items() if name in reviewed]
        if not owners:
            owners = [SPEC if name in spec else UNREVIEWED]
        for owner in owners:
            out.setdefault(owner, []).append(name)
    return dict(sorted(out.items()))


def from_spec(types: Iterable[str], extra: Iterable[str]) -> list[str]:
    """Those of ``types`` that only ``training.trust`` (``extra``) lets through."""
    return sorted(set(types) & (frozenset(extra) - ALLOWED))
