"""Each boosting library end to end through the real command line: `mlspec run` trains and evaluates,
`mlspec deploy` registers, `mlspec serve` answers (raw columns, an unseen category included) and
`mlspec run monitor` loads the deployed model, on scikit-learn's bundled datasets."""

from __future__ import annotations

import http.client
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlspec.runtime import bundle
from tests.runtime.boostproject import UNSEEN, write_project
from tests.servers import free_port, serve
from tests.support import run_mlspec

NATIVE = "      preprocessing: {categorical: {encode: native}}\n"
EARLY = "      early_stopping: {rounds: 5, validation_fraction: 0.2}\n"

SLOW = pytest.mark.slow  # about 30 s each: one classifier per library runs in the quick suite, the rest here
CASES = [
    # (dataset, estimator, params, model block): classifiers with string labels (wine) and 0/1 (breast_cancer).
    ("wine", "xgboost.XGBClassifier", "{n_estimators: 40}", NATIVE + EARLY),
    pytest.param("diabetes", "xgboost.XGBRegressor", "{n_estimators: 40, max_depth: 3}", EARLY, marks=SLOW),
    ("breast_cancer", "lightgbm.LGBMClassifier", "{n_estimators: 40}", NATIVE + EARLY),
    pytest.param("wine", "lightgbm.LGBMClassifier", "{n_estimators: 40, min_child_samples: 5}", "", marks=SLOW),
    pytest.param("diabetes", "lightgbm.LGBMRegressor", "{n_estimators: 40}", NATIVE, marks=SLOW),
    ("wine", "catboost.CatBoostClassifier", "{iterations: 40}", NATIVE + EARLY),
    pytest.param("diabetes", "catboost.CatBoostRegressor", "{iterations: 40}", "", marks=SLOW),
]


def _post(port: int, rows: list[dict[str, object]]) -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/predict", json.dumps({"rows": rows}), {"Content-Type": "application/json"})
    answer = conn.getresponse()
    body = json.loads(answer.read())
    conn.close()
    assert answer.status == 200, body
    result: dict[str, object] = body
    return result


def _id(case: Any) -> str:
    dataset, estimator, _, extra = case.values if hasattr(case, "values") else case
    return f"{estimator.rsplit('.', 1)[1]}-{dataset}" + ("-native" if NATIVE in extra else "")


@pytest.mark.parametrize(("dataset", "estimator", "params", "extra"), CASES, ids=[_id(c) for c in CASES])
def test_trains_evaluates_deploys_serves_and_monitors(tmp_path: Path, dataset: str, estimator: str, params: str,
                                                      extra: str) -> None:
    write_project(tmp_path, dataset, estimator, params, extra)
    done = run_mlspec("run", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok gate" in done.stdout
    trained = bundle.load(tmp_path / ".mlspec" / "stages" / "train" / "m")
    library = estimator.split(".")[0]
    # The library's version and the types it needed are on record, by library.
    assert trained.metadata["versions"][library]
    assert any(t.startswith(f"{library}.") for t in trained.metadata["trusted_types"][library])
    assert set(trained.metadata["trusted_types"]) <= {library, "mlspec", "scikit-learn"}
    if EARLY in extra:
        best = json.loads((tmp_path / "mlspec.lock").read_text())
        assert '"best_iteration"' in json.dumps(best), "the lock's train entry records the best iteration"
        assert "best iteration" in done.stdout

    deployed = run_mlspec("deploy", "production", cwd=tmp_path)
    assert deployed.returncode == 0, deployed.stderr

    current = pd.read_csv(tmp_path / "data" / "current.csv")
    rows = json.loads(current.head(5).to_json(orient="records"))
    assert rows[0]["cellar"] == UNSEEN
    port = free_port()
    with serve([sys.executable, "-m", "mlspec", "serve", "--port", str(port)], port, tmp_path):
        answer = _post(port, rows)
    expected = trained.model.predict(current.head(5)[trained.features])
    assert answer["predictions"] == bundle.jsonable(expected)

    monitored = run_mlspec("run", "monitor", cwd=tmp_path)
    # The unseen category is drift to report, not a crash: the deployed model loaded and scored the rows.
    assert "monitor" in monitored.stdout, monitored.stderr
    assert "Traceback" not in monitored.stderr
    assert f"'{UNSEEN}'" in monitored.stdout + monitored.stderr
