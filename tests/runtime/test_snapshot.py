"""The data stage's snapshot: awkward frames come back exactly, the bytes are deterministic, and a frame Parquet
cannot hold is a located error naming the column."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlspec.runtime import snapshot
from mlspec.runtime.context import StageError


def _back(frame: pd.DataFrame, tmp_path: Path, name: str = "train") -> pd.DataFrame:
    """``frame`` written as the data stage of source ``name`` writes it, then read as a later stage reads it."""
    out = tmp_path / f"data-{name}"
    out.mkdir(exist_ok=True)
    snapshot.write(frame, out, name)
    ctx: Any = SimpleNamespace(upstream={f"data:{name}": out}.__getitem__)
    return snapshot.read(ctx, name)


AWKWARD = {
    "pandas strings with missing values": pd.DataFrame({"s": pd.Series(["a", None, "c"], dtype="str")}),
    "ordered categories, one unused, one missing": pd.DataFrame(
        {"c": pd.Categorical(["x", "y", None], categories=["y", "x", "z"], ordered=True)}),
    "nullable integers and booleans": pd.DataFrame(
        {"i": pd.array([1, None, 3], dtype="Int64"), "b": pd.array([True, None, False], dtype="boolean")}),
    "floats with NaN and -0.0": pd.DataFrame({"f": [1.0, np.nan, -0.0], "f32": np.array([1, 2, 3], "float32")}),
    "small unsigned integers": pd.DataFrame({"u": np.array([0, 255], dtype="uint8")}),
    "times with and without a zone, durations": pd.DataFrame({
        "t": pd.to_datetime(["2024-01-01 10:00", None]),
        "tz": pd.to_datetime(["2024-01-01 10:00", None]).tz_localize("Europe/Paris"),
        "d": pd.to_timedelta([1.5, None], unit="s"),
    }),
    "Python dates with None": pd.DataFrame({"day": pd.Series([dt.date(2024, 2, 29), None], dtype=object)}),
    "bools with missing values from a CSV": pd.read_csv(__import__("io").StringIO("b\nTrue\n\nFalse\n")),
    "no rows": pd.DataFrame({"a": pd.Series([], dtype="int64"), "s": pd.Series([], dtype="str")}),
    "column order kept": pd.DataFrame({"z": [1], "a": ["x"], "m": [2.5]}),
}


@pytest.mark.parametrize("frame", AWKWARD.values(), ids=AWKWARD.keys())
def test_awkward_frames_come_back_exactly(frame: pd.DataFrame, tmp_path: Path) -> None:
    back = _back(frame, tmp_path)
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert list(back.columns) == list(frame.columns) and list(back.dtypes) == list(frame.dtypes)
    for column in frame.columns:  # missing values stay what they were: NaN stays NaN, None stays None, NA stays NA
        assert [type(v) for v in back[column]] == [type(v) for v in frame[column]], column


def test_the_index_is_dropped(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2]}, index=pd.Index([7, 3], name="id"))
    back = _back(frame, tmp_path)
    assert isinstance(back.index, pd.RangeIndex) and list(back.columns) == ["a"] and back["a"].tolist() == [1, 2]


def test_the_bytes_are_deterministic(tmp_path: Path) -> None:
    def frame() -> pd.DataFrame:
        rng = np.random.default_rng(0)
        return pd.DataFrame({"x": rng.normal(size=5000),
                             "s": pd.Series(rng.choice(["a", "b", None], 5000), dtype="str"),
                             "c": pd.Categorical(rng.choice(["p", "q"], 5000))})

    first, second = tmp_path / "1", tmp_path / "2"
    first.mkdir()
    second.mkdir()
    snapshot.write(frame(), first, "train")
    snapshot.write(frame(), second, "train")
    assert (first / snapshot.FILE).read_bytes() == (second / snapshot.FILE).read_bytes()


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"ok": [1, 2], "mixed": pd.Series([1, "a"], dtype=object)}),
     "data source 'train': column 'mixed' mixes value types (values of types int, str), which one Parquet column "
     "cannot hold; give the column one type in the source (numbers only, or text only)"),
    (pd.DataFrame({"o": pd.Series([1, 2], dtype=object)}),
     "data source 'train': column 'o' (object) would come back from the Parquet snapshot as int64; give the column "
     "one plain type in the source"),
    (pd.DataFrame({"c": pd.Categorical([1, 2, 1])}),
     "data source 'train': column 'c' (category) would come back from the Parquet snapshot as int64; give the "
     "column one plain type in the source"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]),
     "data source 'train': column 'a' appears twice; give every column its own name"),
    (pd.DataFrame({0: [1]}), "data source 'train': column name 0 is not text; a snapshot keeps text column names only"),
])
def test_a_frame_parquet_cannot_hold_is_a_located_error(frame: pd.DataFrame, message: str, tmp_path: Path) -> None:
    with pytest.raises(StageError) as caught:
        snapshot.write(frame, tmp_path, "train")
    assert str(caught.value) == message
    assert caught.value.spec_path == ("data", "sources", "train")
    assert not (tmp_path / snapshot.FILE).exists()  # no snapshot that a later stage could take for the table


def test_a_missing_snapshot_says_how_to_make_one(tmp_path: Path) -> None:
    ctx: Any = SimpleNamespace(upstream={"data:train": tmp_path}.__getitem__)
    with pytest.raises(StageError) as caught:
        snapshot.read(ctx, "train")
    assert str(caught.value) == ("data source 'train' has no snapshot in the outputs of data:train (written by an "
                                 "older mlspec?); run `mlspec run --force data:train`")


def test_one_run_sees_one_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source replaced right after its data stage read it (a bucket object overwritten, a file rewritten) does
    not reach the stages after it: validate, train, evaluate and monitor all see the table the data stage read,
    and the data stages are the only readers of the sources."""
    import io

    from threadpoolctl import threadpool_limits

    from mlspec.load import load
    from mlspec.runtime import lockfile, runner
    from mlspec.runtime.cilog import Log
    from mlspec.runtime.workspace import Workspace
    from mlspec.sources import file as file_kind
    from tests.runtime.gatekit import CLEAN
    from tests.runtime.stagekit import copy_example

    for var in CLEAN:
        monkeypatch.delenv(var, raising=False)
    spec = copy_example("breast-cancer", tmp_path)
    files = {name: spec.parent / "data" / f"{name}.csv" for name in ("train", "holdout", "current")}
    originals = {name: path.read_bytes() for name, path in files.items()}
    rows = {name: len(pd.read_csv(path)) for name, path in files.items()}
    reads: list[str] = []
    real = file_kind.FileAdapter.read

    def read_then_replace(self: Any, root: Path, name: str, source: Any, reading: Any = None) -> Any:
        read = real(self, root, name, source)
        reads.append(name)
        (root / source.path).write_text("replaced\n1\n")  # any later reader of the file would fail on this
        return read

    monkeypatch.setattr(file_kind.FileAdapter, "read", read_then_replace)
    with threadpool_limits(1):
        trained = runner.run(load(spec), log=Log(io.StringIO(), io.StringIO(), {}))
        assert trained.ok, trained.outcomes
        assert sorted(reads) == ["current", "holdout", "train"]  # each source once, by its data stage
        for name, path in files.items():  # as they were, so that only the forced data:current reads again
            path.write_bytes(originals[name])
        reads.clear()
        monitored = runner.run(load(spec), ["data:current", "monitor"], force=True,
                               log=Log(io.StringIO(), io.StringIO(), {}))
    assert monitored.ok, monitored.outcomes
    assert reads == ["current"]
    lock = lockfile.read(lockfile.path_for(spec))
    assert lock.stages["validate:train_quality"].metrics["rows"] == rows["train"]
    assert lock.stages["train:forest"].metrics["rows"] == rows["train"]
    evaluation = json.loads((Workspace.for_spec(spec).stage_dir("evaluate") / "metrics.json").read_text())
    assert evaluation["data"]["rows"] == rows["holdout"]
    assert lock.stages["monitor"].metrics["current_rows"] == rows["current"]
    # Only the data stages list the sources among their inputs; the rest hang on the data stages' outputs.
    assert {sid for sid, entry in lock.stages.items() if any(p.startswith("data/") for p in entry.inputs)} == {
        "data:train", "data:holdout", "data:current"}
    assert sorted(lock.stages["data:train"].outputs) == ["profile.json", snapshot.FILE]
