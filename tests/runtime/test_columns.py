from __future__ import annotations

import uuid

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from mlspec.runtime.columns import declared_paths, warnings
from mlspec.runtime.features import infer
from mlspec.spec import Features


def _cancer() -> pd.DataFrame:
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return frame.iloc[:, [0, 1, 2, -1]].copy()


def test_real_measurements_raise_no_warning() -> None:
    frame = _cancer()
    assert warnings(frame, infer(frame, "target"), "train") == []


@pytest.mark.parametrize(("values", "why"), [
    (lambda n: list(range(1000, 1000 + n)), "a monotone integer unique per row"),
    (lambda n: [str(uuid.UUID(int=i * 7919 + 1)) for i in range(n)], "UUIDs"),
    (lambda n: [f"C{(i * 7919) % 100003:06d}" for i in range(n)], "unique per row"),
])
def test_id_like_columns(values: object, why: str) -> None:
    frame = _cancer()
    frame["customer"] = values(len(frame))  # type: ignore[operator]
    [warning] = warnings(frame, infer(frame, "target"), "train")
    assert warning.column == "customer" and warning.spec_path == ("data", "sources", "train")
    assert warning.message == (f"column 'customer' of data source 'train' looks like an id (is {why}): an id "
                               "tells a model nothing about new rows; add it to data.exclude (exclude: [customer])"
                               .replace("(is UUIDs)", "(holds UUIDs)"))


def test_free_text_and_many_categories() -> None:
    frame = _cancer()
    n = len(frame)
    frame["note"] = [f"patient {i % 300} reported symptoms that were noted at the visit, see file" for i in range(n)]
    frame["zip"] = [f"Z{i % 150}" for i in range(n)]
    found = {w.column: w.message for w in warnings(frame, infer(frame, "target"), "train")}
    assert "looks like free text" in found["note"] and "exclude: [note]" in found["note"]
    assert found["zip"].startswith("column 'zip' of data source 'train' is categorical with 150 distinct values")
    assert "encode: ordinal" in found["zip"]


def test_a_declared_column_is_located_at_its_features_entry() -> None:
    frame = _cancer()
    frame["day"] = pd.date_range("2020-01-01", periods=len(frame)).strftime("%Y-%m-%d")
    frame["day"] = frame["day"].where(frame.index % 3 != 0, "2020-01-01")  # not unique: not an id
    features = Features(numeric=["mean radius"], categorical=["day"])
    from mlspec.runtime.features import FeatureSet

    found = warnings(frame, FeatureSet("target", ("mean radius",), ("day",), True), "train", declared_paths(features))
    assert [(w.column, w.spec_path) for w in found] == [("day", ("data", "features", "categorical", 0))]
    assert "declare it with data.features.datetime: [day]" in found[0].message
