"""The data stage: profile.json from a real CSV or parquet file, and located errors for unreadable sources."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mlspec.graph import build
from mlspec.load import load
from mlspec.runtime.context import StageContext, StageError
from mlspec.runtime.stages import data

SPEC = """\
version: 1
project: p
task: binary
data:
  target: y
  sources:
    train:
      path: {path}
training:
  models:
    m: {{estimator: sklearn.linear_model.LogisticRegression, data: train}}
evaluation:
  data: train
  metrics: [accuracy]
"""


def _context(root: Path, path: str) -> StageContext:
    (root / "mlspec.yaml").write_text(SPEC.format(path=path))
    loaded = load(root / "mlspec.yaml")
    stage = next(s for s in build(loaded.spec) if s.id == "data:train")
    out = root / "out"
    out.mkdir()
    return StageContext(loaded, stage, out, {}, lambda _: None)


def test_profile_of_a_csv(tmp_path: Path) -> None:
    csv = b"id,name,score,y\n1,ann,2.5,0\n2,bob,,1\n3,cy,1.0,1\n"
    (tmp_path / "train.csv").write_bytes(csv)
    ctx = _context(tmp_path, "train.csv")
    result = data.run(ctx)
    text = (ctx.out_dir / "profile.json").read_text()
    assert json.loads(text) == {
        "source": "train",
        "path": "train.csv",
        "format": "csv",
        "digest": "sha256:" + hashlib.sha256(csv).hexdigest(),
        "rows": 3,
        "columns": ["id", "name", "score", "y"],
        "schema": {"id": "int64", "name": "str", "score": "float64", "y": "int64"},
    }
    assert list(json.loads(text)) == ["source", "path", "format", "digest", "rows", "columns", "schema"]
    assert (result.metrics, result.summary, result.failed) == ({"rows": 3, "columns": 4}, "3 rows, 4 columns", None)
    assert [p.name for p in ctx.out_dir.iterdir()] == ["profile.json"]


def test_profile_of_a_parquet_file(tmp_path: Path) -> None:
    import pandas as pd

    pd.DataFrame({"x": [1.5, 2.5], "y": [True, False]}).to_parquet(tmp_path / "t.parquet")
    ctx = _context(tmp_path, "t.parquet")
    data.run(ctx)
    profile = json.loads((ctx.out_dir / "profile.json").read_text())
    assert (profile["format"], profile["rows"], profile["schema"]) == ("parquet", 2, {"x": "float64", "y": "bool"})


def test_missing_file_is_a_stage_error_at_the_path(tmp_path: Path) -> None:
    ctx = _context(tmp_path, "nope.csv")
    with pytest.raises(StageError) as caught:
        data.run(ctx)
    assert str(caught.value) == "data source 'train': file 'nope.csv' not found"
    assert caught.value.spec_path == ("data", "sources", "train", "path")
    assert ctx.loaded.line_of(*caught.value.spec_path).line == 8
