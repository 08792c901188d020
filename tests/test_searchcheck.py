"""Mistakes in a model's `search`, with the exact message and place `mlspec validate` gives them."""

from __future__ import annotations

import pytest

from mlspec.errors import SpecError
from mlspec.load import load_text
from tests.test_load_errors import BASE


def searched(search: str, params: str = "") -> str:
    old = "      estimator: sklearn.ensemble.RandomForestClassifier\n      data: train\n"
    assert BASE.count(old) == 1
    return BASE.replace(old, old + params + "      search:\n" + "".join(f"        {line}\n" for line in
                                                                     search.splitlines()))


CASES: list[tuple[str, str, str]] = [
    ("a range in a grid", searched("space:\n  max_depth: {low: 2, high: 8}"),
     "mlspec.yaml:21:22: training.models.forest.search.space.max_depth: a grid search tries listed values, not a "
     "range {low, high}; list the values (e.g. [0.1, 1, 10]) or use method: random or optuna"),
    ("low above high", searched("method: random\nbudget: 4\nspace:\n  max_depth: {low: 8, high: 2}"),
     "mlspec.yaml:23:28: training.models.forest.search.space.max_depth.low: low (8) must be below high (2)"),
    ("log range from zero", searched("method: optuna\nbudget: 4\nspace:\n  ccp_alpha: {low: 0, high: 1, log: true}"),
     "mlspec.yaml:23:28: training.models.forest.search.space.ccp_alpha.low: a log range needs low > 0, not 0; log "
     "spaces values by their ratio"),
    ("a value that is not a scalar", searched("space:\n  max_depth: [2, {deep: 3}]"),
     "mlspec.yaml:21:26: training.models.forest.search.space.max_depth[1]: {'deep': 3} is not a plain value (a "
     "string, number, true/false or null); a search tries scalar values only"),
    ("random without budget", searched("method: random\nspace:\n  max_depth: [2, 4]"),
     "mlspec.yaml:20:17: training.models.forest.search.method: a random search needs a budget: how many trials to "
     "run (e.g. budget: 20)"),
    ("optuna in shards", searched("method: optuna\nbudget: 8\nshards: 2\nspace:\n  max_depth: [2, 4]"),
     "mlspec.yaml:22:17: training.models.forest.search.shards: an optuna search cannot be split into shards: each "
     "trial depends on the results before it; use shards: 1 (and parallel for trials at once), or method: random"),
    ("searched and fixed", searched("space:\n  max_depth: [2, 4]", "      params: {max_depth: 3}\n"),
     "mlspec.yaml:22:11: training.models.forest.search.space: 'max_depth' is searched and also fixed in "
     "params; remove it from one of them"),
    ("unknown metric", searched("metric: roc_acu\nspace:\n  max_depth: [2, 4]"),
     "mlspec.yaml:20:17: training.models.forest.search.metric: unknown metric 'roc_acu'; did you mean 'roc_auc'?"),
    ("metric of another task", searched("metric: r2\nspace:\n  max_depth: [2, 4]"),
     "mlspec.yaml:20:17: training.models.forest.search.metric: metric 'r2' does not apply to task 'binary'; use "
     "one of: accuracy, balanced_accuracy, f1, f1_micro, f1_macro, f1_weighted, precision, precision_micro, "
     "precision_macro, precision_weighted, recall, recall_micro, recall_macro, recall_weighted, jaccard, "
     "jaccard_micro, jaccard_macro, jaccard_weighted, matthews_corrcoef, roc_auc, roc_auc_ovr, roc_auc_ovo, "
     "roc_auc_ovr_weighted, average_precision, log_loss, brier_score"),
    ("more shards than grid points", searched("shards: 3\nspace:\n  max_depth: [2, 4]"),
     "mlspec.yaml:20:17: training.models.forest.search.shards: 3 shards for 2 trials would leave shards with "
     "nothing to run; use at most shards: 2"),
    ("more shards than budget", searched("method: random\nbudget: 2\nshards: 4\nspace:\n  max_depth: [2, 4]"),
     "mlspec.yaml:22:17: training.models.forest.search.shards: 4 shards for 2 trials would leave shards with "
     "nothing to run; use at most shards: 2"),
    ("an unknown method", searched("method: bayes\nspace:\n  max_depth: [2, 4]"),
     "mlspec.yaml:20:17: training.models.forest.search.method: the string 'bayes' is not allowed; expected one of: "
     "grid, optuna, random"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_search_message(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        load_text(text, "mlspec.yaml")
    assert str(info.value.problems[0]) == expected


def test_a_good_search_is_valid() -> None:
    text = searched("method: random\nbudget: 6\nshards: 3\nparallel: 2\nmetric: accuracy\nspace:\n"
                    "  max_depth: [2, 4, 8]\n  min_samples_leaf: {low: 1, high: 20}\n"
                    "  max_features: {low: 0.1, high: 1.0, log: true}")
    search = load_text(text, "mlspec.yaml").spec.training.models["forest"].search
    assert search is not None and search.budget == 6
    assert search.space["min_samples_leaf"].low == 1 and isinstance(search.space["min_samples_leaf"].low, int)


def test_checking_a_search_imports_no_heavy_library() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom tests.test_searchcheck import searched\nfrom mlspec.load import load_text\n"
            "load_text(searched('method: optuna\\nbudget: 4\\nspace:\\n  max_depth: {low: 2, high: 8}'), 'm.yaml')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'sklearn', 'optuna', 'distributed', "
            "'dask', 'numpy', 'joblib'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
