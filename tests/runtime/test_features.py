"""Feature resolution: declared columns checked against the table, or inferred from dtypes."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from mlspec.load import load
from mlspec.runtime.context import StageError
from mlspec.runtime.features import infer, require_columns, resolve
from tests.runtime.stagekit import EXAMPLES

BREAST = EXAMPLES / "breast-cancer"
DIABETES = EXAMPLES / "diabetes"


def test_inferred_features_are_every_column_but_the_target() -> None:
    data = load(BREAST / "mlspec.yaml").spec.data
    frame = pd.read_csv(BREAST / "data" / "train.csv")
    features = resolve(data, frame, "train")
    assert features.label == "malignant"
    assert features.numeric == tuple(c for c in frame.columns if c != "malignant")
    assert len(features.numeric) == 30
    assert features.categorical == ()
    assert features.declared is False


def test_declared_features_keep_their_kind_and_order() -> None:
    data = load(DIABETES / "mlspec.yaml").spec.data
    frame = pd.read_csv(DIABETES / "data" / "train.csv")
    features = resolve(data, frame, "train")
    assert features.numeric == ("age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
    assert features.categorical == ("sex",)
    assert features.columns == [*features.numeric, "sex"]
    assert features.declared is True


def test_inference_types_by_dtype_and_skips_excluded_columns() -> None:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "age": [30, 40, None],
            "income": [1.5, 2.5, 3.5],
            "city": ["a", "b", None],
            "member": [True, False, True],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "label": [0, 1, 0],
        }
    )
    features = infer(frame, "label", ["id"])
    assert features.numeric == ("age", "income")
    assert features.categorical == ("city", "member")
    assert features.datetime == ("when",)  # a datetime dtype is a date, never a category
    assert features.notices == ()


def test_inference_finds_iso_dates_in_text_and_says_how_to_declare_them() -> None:
    frame = pd.DataFrame({
        "signup": ["2024-01-01", None, "2024-02-29T10:00:00Z"],
        "code": ["2024-01-01", "A7", "2024-01-03"],  # one value that is no date: a category
        "year": ["2024", "2023", "2022"],  # a year alone is not a date
        "label": [0, 1, 0],
    })
    features = infer(frame, "label", source="train")
    assert features.datetime == ("signup",)
    assert features.categorical == ("code", "year")
    assert features.notices == (
        "column 'signup' of data source 'train' holds ISO dates: it is a datetime feature (its year, month, day, "
        "... parts); declare it with data.features.datetime: [signup], or add it to data.exclude",)


def test_missing_declared_feature_names_column_source_and_key() -> None:
    loaded = load(DIABETES / "mlspec.yaml")
    frame = pd.read_csv(DIABETES / "data" / "train.csv").rename(columns={"bmi": "bmii"})
    with pytest.raises(StageError) as err:
        resolve(loaded.spec.data, frame, "train")
    assert str(err.value) == (
        "data source 'train' has no column 'bmi', declared in data.features.numeric; did you mean 'bmii'?"
    )
    assert err.value.spec_path == ("data", "features", "numeric", 1)
    text = (DIABETES / "mlspec.yaml").read_text().splitlines()
    mark = loaded.line_of(*err.value.spec_path)
    assert "numeric: [age, bmi," in text[mark.line - 1]


def test_missing_categorical_feature() -> None:
    data = load(DIABETES / "mlspec.yaml").spec.data
    frame = pd.read_csv(DIABETES / "data" / "train.csv").drop(columns=["sex"])
    with pytest.raises(StageError) as err:
        resolve(data, frame, "holdout")
    assert str(err.value) == "data source 'holdout' has no column 'sex', declared in data.features.categorical"
    assert err.value.spec_path == ("data", "features", "categorical", 0)


def test_missing_target_column() -> None:
    data = load(BREAST / "mlspec.yaml").spec.data
    frame = pd.read_csv(BREAST / "data" / "train.csv").rename(columns={"malignant": "malignent"})
    with pytest.raises(StageError) as err:
        resolve(data, frame, "train")
    assert str(err.value) == "data source 'train' has no target column 'malignant'; did you mean 'malignent'?"
    assert err.value.spec_path == ("data", "target")


@pytest.mark.parametrize(
    ("present", "message"),
    [
        (["a", "bb", "c"], "data source 'holdout' has no column 'b', needed by model 'm'; did you mean 'bb'?"),
        (["a", "zzz"], "data source 'holdout' has no column 'b', needed by model 'm'"),
        (["zzz"], "data source 'holdout' lacks 2 columns needed by model 'm': 'a', 'b'"),
    ],
)
def test_require_columns(present: list[str], message: str) -> None:
    with pytest.raises(StageError) as err:
        require_columns(["a", "b"], present, "holdout", ("evaluation", "data"), "model 'm'")
    assert str(err.value) == message
    assert err.value.spec_path == ("evaluation", "data")


def test_require_columns_passes_when_all_present() -> None:
    require_columns(["a", "b"], ["b", "a", "c"], "holdout", ("evaluation", "data"), "model 'm'")


def test_stage_modules_import_no_heavy_library() -> None:
    # `mlspec run` imports every stage module to plan; a fully cached run must not pay for pandas or GX.
    code = (
        "import sys\n"
        "import mlspec.runtime.features, mlspec.runtime.bundle, mlspec.runtime.plots\n"
        "import mlspec.runtime.stages.validate, mlspec.runtime.stages.train, mlspec.runtime.stages.evaluate\n"
        "heavy = ['pandas', 'numpy', 'sklearn', 'great_expectations', 'skops', 'matplotlib']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
