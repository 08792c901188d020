"""The train stage with the column types real data has: dates, ids, derived features, a user transformer;
and the same rows through ``mlspec serve``'s HTTP interface give the predictions training's model gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from mlspec.runtime import bundle
from mlspec.runtime.context import StageError
from mlspec.serve import Service
from mlspec.serve.validation import InputSchema
from tests.runtime.stagekit import Kit
from tests.serve.conftest import running

SPEC = """\
version: 1
project: wine-dated
task: multiclass
data:
  target: cultivar
  sources:
    train: {path: train.csv}
  exclude: [sample_id]
  derived:
    per_ash: {expr: "alcohol / (ash + 1) + log1p(magnesium)"}
    log_proline: {log: proline}
    alcohol_clipped: {clip: alcohol, min: 12, max: 14}
    hue_band: {bucket: hue, edges: [0.8, 1.0]}
    bottled_month: {date_part: bottled, part: month}
    phenol_ratio: {transformer: tests.transform.userfeatures.Ratio, columns: [flavanoids, total_phenols],
                   params: {scale: 2.0}}
training:
  packages: [tests]
  trust: [tests.transform.userfeatures.Ratio]
  models:
    forest:
      estimator: sklearn.ensemble.RandomForestClassifier
      params: {n_estimators: 20}
      data: train
evaluation:
  data: train
  metrics: [accuracy]
"""


def _wine() -> pd.DataFrame:
    frame: pd.DataFrame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    frame = frame.drop(columns=["od280/od315_of_diluted_wines"])
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 1500, len(frame)), unit="D")
    frame["bottled"] = days.strftime("%Y-%m-%d")
    frame.loc[[3, 50], "bottled"] = None
    frame["lot"] = [f"L{i:04d}" for i in range(len(frame))]  # an id nobody excluded
    return frame


def _kit(tmp_path: Path, spec: str = SPEC) -> Kit:
    root = tmp_path / "project"
    root.mkdir()
    _wine().to_csv(root / "train.csv", index=False)
    (root / "mlspec.yaml").write_text(spec)
    return Kit.of(root / "mlspec.yaml", tmp_path / "work")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    kit = _kit(tmp_path_factory.mktemp("dated"))
    assert kit.run("train:forest").failed is None
    return kit


def test_the_pipeline_derives_then_preprocesses(trained: Kit) -> None:
    model = bundle.load(trained.out_dir("train:forest"), trust=["tests.transform.userfeatures.Ratio"])
    assert [name for name, _ in model.model.steps] == ["derive", "preprocess", "estimator"]
    preprocess = dict((n, cols) for n, _, cols in model.model.named_steps["preprocess"].transformers)
    # The inferred date is a datetime feature (never one-hot); derived features are numeric.
    assert preprocess["datetime"] == ["bottled"]
    assert {"per_ash", "log_proline", "hue_band", "bottled_month", "phenol_ratio"} <= set(preprocess["numeric"])
    assert "bottled" not in preprocess.get("categorical", [])


def test_the_input_schema_lists_the_raw_columns_serving_needs(trained: Kit) -> None:
    meta = json.loads((trained.out_dir("train:forest") / "metadata.json").read_text())
    kinds = {f["name"]: f["kind"] for f in meta["input"]["features"]}
    assert kinds["bottled"] == "datetime" and kinds["lot"] == "categorical" and kinds["alcohol"] == "numeric"
    assert not set(kinds) & {"per_ash", "phenol_ratio", "sample_id", "cultivar"}
    assert meta["input"]["derived"]["log_proline"] == {"log": "proline"}
    assert meta["input"]["derived"]["phenol_ratio"] == {
        "transformer": "tests.transform.userfeatures.Ratio", "columns": ["flavanoids", "total_phenols"],
        "params": {"scale": 2.0}}
    # The reference profile keeps the date out of drift: its range, not its values.
    reference = json.loads((trained.out_dir("train:forest") / "reference.json").read_text())
    assert reference["features"]["bottled"]["kind"] == "datetime"
    assert reference["features"]["bottled"]["nulls"] == 2


def test_the_notice_and_warnings_name_the_column_and_the_fix(trained: Kit) -> None:
    logs = "\n".join(trained.logs)
    assert "column 'bottled' of data source 'train' holds ISO dates: it is a datetime feature" in logs
    assert "data.features.datetime: [bottled]" in logs
    meta = json.loads((trained.out_dir("train:forest") / "metadata.json").read_text())
    [warning] = meta["warnings"]
    assert warning["column"] == "lot" and warning["spec_path"] == ["data", "sources", "train"]
    assert "looks like an id (is unique per row)" in warning["message"]
    assert "exclude: [lot]" in warning["message"]


def test_serve_computes_what_training_computed(trained: Kit, tmp_path: Path) -> None:
    folder = trained.out_dir("train:forest")
    model = bundle.load(folder, trust=["tests.transform.userfeatures.Ratio"])
    frame = _wine()
    rows = frame.iloc[:40][model.features]
    service = Service(model.model, InputSchema.from_metadata(model.metadata), {"model": "forest"}, model.classes)
    body = json.loads(rows.to_json(orient="records"))
    for row in body:  # serving takes missing values as null where the pipeline imputes them
        if row["bottled"] is None:
            row["bottled"] = "2020-01-01"
    with running(service) as client:
        answer = client.predict({"rows": body}, "/predict?probabilities=true")
    assert answer.status == 200, answer.body
    fixed = rows.copy()
    fixed["bottled"] = fixed["bottled"].fillna("2020-01-01")
    expected = model.model.predict_proba(fixed)
    np.testing.assert_allclose(answer.body["probabilities"], expected)
    assert answer.body["predictions"] == model.model.predict(fixed).tolist()


def test_a_model_with_a_user_transformer_is_refused_without_its_trust(trained: Kit) -> None:
    with pytest.raises(bundle.BundleError, match=r"tests\.transform\.userfeatures\.Ratio"):
        bundle.load(trained.out_dir("train:forest"))


def test_an_expression_on_an_unknown_column_is_located_with_a_suggestion(tmp_path: Path) -> None:
    kit = _kit(tmp_path, SPEC.replace("alcohol / (ash + 1)", "alcohl / (ash + 1)"))
    with pytest.raises(StageError) as error:
        kit.run("train:forest")
    assert str(error.value) == ("derived feature 'per_ash' reads column 'alcohl', which data source 'train' does "
                                "not have; did you mean 'alcohol'?")
    assert error.value.spec_path == ("data", "derived", "per_ash", "expr")


def test_declared_dates_as_categories_warn(tmp_path: Path) -> None:
    spec = SPEC.replace("  exclude: [sample_id]\n", "  features:\n    numeric: [alcohol, hue, proline]\n"
                        "    categorical: [bottled]\n")
    kit = _kit(tmp_path, spec)
    assert kit.run("train:forest").failed is None
    meta = json.loads((kit.out_dir("train:forest") / "metadata.json").read_text())
    [warning] = meta["warnings"]
    assert warning["spec_path"] == ["data", "features", "categorical", 0]
    assert "holds dates but is categorical" in warning["message"]
    assert "data.features.datetime: [bottled]" in warning["message"]
