"""`mlspec validate --data` (mlspec.datacheck): each check on real tables the test writes and on scikit-learn's
bundled wine data, with the exact, located messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.datacheck import Report, check_data
from mlspec.load import load, locate

TABLE = "age,Income,plan,label\n" + "".join(f"{20 + i},{1000 + 10 * i},{'ab'[i % 2]},{'yes' if i % 3 else 'no'}\n"
                                             for i in range(30))


def project(tmp_path: Path, *, task: str = "binary", data: str = "", models: str = "", metrics: str = "[accuracy]",
            extra: str = "", tables: dict[str, str] | None = None) -> Path:
    for name, text in (tables if tables is not None else {"train": TABLE, "holdout": TABLE}).items():
        (tmp_path / "data").mkdir(exist_ok=True)
        (tmp_path / "data" / f"{name}.csv").write_text(text, encoding="utf-8")
    models = models or "    lr: {estimator: sklearn.linear_model.LogisticRegression, data: train}\n"
    spec = (f"version: 1\nproject: p\ntask: {task}\n"
            "data:\n  target: label\n" + ('  positive_class: "yes"\n' if task == "binary" else "") +
            "  sources:\n    train: {path: data/train.csv}\n"
            "    holdout: {path: data/holdout.csv}\n" + data +
            "training:\n  models:\n" + models +
            f"evaluation:\n  data: holdout\n  metrics: {metrics}\n" + extra)
    path = tmp_path / "mlspec.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


def problems(spec: Path) -> tuple[list[str], Report]:
    loaded = load(spec)
    report = check_data(loaded.spec, loaded.root)
    return [str(p).removeprefix(f"{spec}:") for p in locate(loaded, report.findings)], report


def test_a_spec_that_fits_its_data_has_no_problems_and_reads_every_source(tmp_path: Path) -> None:
    found, report = problems(project(tmp_path))
    assert found == []
    assert report.checked == ["train", "holdout"]
    assert report.notes == []


def test_a_column_in_the_wrong_case_is_found_in_every_source_with_the_exact_spelling(tmp_path: Path) -> None:
    spec = project(tmp_path, data="  features:\n    numeric: [Age, income]\n    categorical: [plan]\n"
                                  "  exclude: [plan_id]\n")
    found, _ = problems(spec)
    assert found == [
        "11:15: data.features.numeric[0]: data source 'train' has no column 'Age', needed by data.features.numeric; "
        "did you mean 'age'? (column names are case-sensitive)",
        "11:20: data.features.numeric[1]: data source 'train' has no column 'income', needed by "
        "data.features.numeric; did you mean 'Income'? (column names are case-sensitive)",
        "13:13: data.exclude[0]: data source 'train' has no column 'plan_id', needed by data.exclude; "
        "did you mean 'plan'?",
        "18:9: evaluation.data: data source 'holdout' has no column 'Age', needed by the models; did you mean "
        "'age'? (column names are case-sensitive)",
        "18:9: evaluation.data: data source 'holdout' has no column 'income', needed by the models; did you "
        "mean 'Income'? (column names are case-sensitive)",
    ]


def test_a_holdout_without_a_training_column_is_found_for_inferred_features(tmp_path: Path) -> None:
    holdout = TABLE.replace("plan,", "tier,", 1)
    found, _ = problems(project(tmp_path, tables={"train": TABLE, "holdout": holdout}))
    assert found == ["14:9: evaluation.data: data source 'holdout' has no column 'plan', needed by the models"]


def test_suite_columns_monitoring_sources_and_drift_overrides_are_checked(tmp_path: Path) -> None:
    current = "age,Income,Plan\n30,1000,a\n"
    extra = ("validation:\n  checks:\n    data: train\n    expectations:\n"
             "      - expect_column_values_to_not_be_null: {column: lable}\n"
             "monitoring:\n  current: current\n  drift:\n    features:\n      incme: {threshold: 0.3}\n")
    spec = project(tmp_path, tables={"train": TABLE, "holdout": TABLE, "current": current}, extra=extra,
                   data="    current: {path: data/current.csv}\n")
    found, _ = problems(spec)
    assert found == [
        "21:55: validation.checks.expectations[0].expect_column_values_to_not_be_null.column: data source 'train' "
        "has no column 'lable', needed by suite 'checks'; did you mean 'label'?",
        "23:12: monitoring.current: data source 'current' has no column 'plan', needed by the models; did you "
        "mean 'Plan'? (column names are case-sensitive)",
        "26:7: monitoring.drift.features: drift override for 'incme', which is not a feature of the models; "
        "did you mean 'Income'?",
    ]


def test_a_misspelt_estimator_class_and_a_misspelt_param_are_found_before_training(tmp_path: Path) -> None:
    models = ("    lr: {estimator: sklearn.linear_model.LogisticRegresion, data: train}\n"
              "    forest:\n      estimator: sklearn.ensemble.RandomForestClassifier\n"
              "      params: {n_estimator: 10}\n      data: train\n")
    found, _ = problems(project(tmp_path, models=models))
    assert found == [
        "12:21: training.models.lr.estimator: module 'sklearn.linear_model' has no attribute "
        "'LogisticRegresion'; did you mean 'LogisticRegression'?",
        "15:29: training.models.forest.params.n_estimator: unknown parameter 'n_estimator' of "
        "RandomForestClassifier; did you mean 'n_estimators'?",
    ]


def test_a_regressor_for_a_classification_task_is_found(tmp_path: Path) -> None:
    models = "    lin: {estimator: sklearn.linear_model.LinearRegression, data: train}\n"
    found, _ = problems(project(tmp_path, models=models))
    assert found == ["12:22: training.models.lin.estimator: sklearn.linear_model.LinearRegression is a regressor, "
                     "but the task is binary classification; use a classifier"]


def test_an_undeclared_package_is_refused_without_importing_it(tmp_path: Path) -> None:
    models = "    m: {estimator: antigravity.Fly, data: train}\n"
    with pytest.raises(Exception, match="which the spec does not declare"):
        problems(project(tmp_path, models=models))  # plain validation already stops it


def test_a_score_metric_for_an_estimator_without_scores_is_found(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A project's own classifier that only predicts labels; SVC (decision_function) and a probability SVC pass.
    (tmp_path / "labelonly.py").write_text(
        "from sklearn.base import BaseEstimator, ClassifierMixin\n"
        "class Majority(ClassifierMixin, BaseEstimator):\n"
        "    def fit(self, X, y):\n        self.label_ = y.mode()[0]\n        return self\n"
        "    def predict(self, X):\n        return [self.label_] * len(X)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    models = ("    svm: {estimator: sklearn.svm.SVC, data: train}\n"
              "    prob: {estimator: sklearn.svm.SVC, data: train, params: {probability: true}}\n"
              "    own: {estimator: labelonly.Majority, data: train}\n")
    spec = project(tmp_path, models=models, metrics="[accuracy, roc_auc]",
                   extra="").read_text().replace("training:\n", "training:\n  packages: [labelonly]\n")
    (tmp_path / "mlspec.yaml").write_text(spec, encoding="utf-8")
    found, _ = problems(tmp_path / "mlspec.yaml")
    assert found == [
        "18:23: evaluation.metrics[1]: roc_auc needs predicted scores, but model 'own' (labelonly.Majority) has "
        "neither predict_proba nor decision_function with these params; use metrics of labels (e.g. accuracy) "
        "or an estimator that has one",
    ]


def test_a_binary_task_on_three_labels_is_found_from_the_target_column(tmp_path: Path) -> None:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "label"})
    table = frame.to_csv(index=False)
    found, _ = problems(project(tmp_path, tables={"train": table, "holdout": table}, metrics="[f1, accuracy]"))
    assert found == ["3:7: task: the task is binary, but target column 'label' of data source 'train' has 3 labels "
                     "(and the binary metrics f1 need two): 0, 1, 2; use `task: multiclass` with averaged metrics "
                     "such as f1_macro"]


def test_a_binary_target_without_its_positive_class_is_found_with_the_labels_seen(tmp_path: Path) -> None:
    spec = project(tmp_path)
    spec.write_text(spec.read_text("utf-8").replace('  positive_class: "yes"\n', ""), "utf-8")
    found, _ = problems(spec)
    assert found == ['5:11: data.target: the task is binary and the labels are "no" (10 rows), "yes" (20 rows), '
                     'which do not say which one is positive; name it under data, `positive_class: "no"` or '
                     '`positive_class: "yes"` (the class whose precision, recall and probability the metrics are '
                     'about)']
    spec.write_text(spec.read_text("utf-8").replace("  target: label\n", "  target: label\n  positive_class: yes\n"),
                    "utf-8")
    found, _ = problems(spec)
    assert len(found) == 1, found
    assert found[0].startswith("6:19: data.positive_class: positive_class true is not one of "), found
    assert 'quote it, `positive_class: "yes"`' in found[0]


def test_regression_on_text_labels_and_missing_labels_are_found(tmp_path: Path) -> None:
    import pandas as pd

    models = "    lin: {estimator: sklearn.linear_model.LinearRegression, data: train}\n"
    found, _ = problems(project(tmp_path, task="regression", models=models, metrics="[r2]"))
    dtype = pd.read_csv(tmp_path / "data" / "train.csv")["label"].dtype  # object or str, by pandas version
    assert found == [f"3:7: task: target column 'label' of data source 'train' is {dtype}, not numeric; the task "
                     "is regression (use binary or multiclass for labels)"]
    gaps = TABLE.replace(",yes\n", ",\n", 2)
    found, _ = problems(project(tmp_path, tables={"train": gaps, "holdout": TABLE}))
    assert found == ["5:11: data.target: target column 'label' of data source 'train' has 2 missing values; drop "
                     "or fill those rows"]


def test_parquet_headers_are_read_from_the_schema(tmp_path: Path) -> None:
    import pandas as pd

    project(tmp_path)
    frame = pd.read_csv(tmp_path / "data" / "train.csv")
    frame.to_parquet(tmp_path / "data" / "train.parquet")
    spec = tmp_path / "mlspec.yaml"
    spec.write_text(spec.read_text().replace("data/train.csv", "data/train.parquet").replace("target: label",
                                                                                             "target: Label"))
    found, _ = problems(spec)
    assert found[0] == ("5:11: data.target: data source 'train' has no column 'Label', needed by the target; did "
                        "you mean 'label'? (column names are case-sensitive)")


def test_sources_that_cannot_be_read_here_are_skipped_with_a_note(tmp_path: Path) -> None:
    data = "    later: {path: data/later.csv}\n    remote: {kind: url, url: 'https://example.org/t.csv'}\n"
    found, report = problems(project(tmp_path, data=data))
    assert found == []
    assert report.notes == [
        "data source 'later' (data/later.csv) is not checked: it does not exist yet",
        "data source 'remote' is a URL: its columns are checked when the data stage fetches it, not here",
    ]
    assert report.checked == ["train", "holdout"]


def test_a_misspelt_search_param_is_found_at_its_key(tmp_path: Path) -> None:
    models = ("    forest:\n      estimator: sklearn.ensemble.RandomForestClassifier\n      data: train\n"
              "      search:\n        space: {max_dept: [2, 4], min_samples_leaf: [1, 5]}\n")
    found, _ = problems(project(tmp_path, models=models))
    assert found == ["16:17: training.models.forest.search.space: unknown parameter 'max_dept' of "
                     "RandomForestClassifier; did you mean 'max_depth'?"]
