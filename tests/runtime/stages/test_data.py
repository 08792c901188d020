"""The data stage: profile.json from a real CSV or parquet file, and located errors for unreadable sources."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from mlspec.load import load
from mlspec.runtime.context import StageContext, StageError
from mlspec.runtime.stages import build, context, data

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
    return context(loaded, stage, out, {}, lambda _: None)


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
    assert sorted(p.name for p in ctx.out_dir.iterdir()) == ["profile.json", "snapshot.parquet"]


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


def test_a_gzipped_csv_is_read(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"x,y\n1,0\n2,1\n"))
    ctx = _context(tmp_path, "t.csv.gz")
    data.run(ctx)
    assert json.loads((ctx.out_dir / "profile.json").read_text())["rows"] == 2


def _outputs(ctx: StageContext) -> str:
    return "".join(p.read_text(errors="replace") for p in ctx.out_dir.rglob("*") if p.is_file())


@pytest.mark.parametrize("target", ["secret", "proc"])
def test_a_source_swapped_for_a_symlink_out_after_validation_is_never_read(target: str, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSPEC_TEST_PLANTED", "PLANTED-SECRET")
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "secret.csv").write_text("token,y\nPLANTED-SECRET,1\n")
    (project / "train.csv").write_text("x,y\n1,0\n")
    ctx = _context(project, "train.csv")  # validated while train.csv is a plain file in the project
    (project / "train.csv").unlink()
    outside = tmp_path / "secret.csv" if target == "secret" else Path("/proc/self/environ")
    (project / "train.csv").symlink_to(outside)
    with pytest.raises(StageError) as caught:
        data.run(ctx)
    assert str(caught.value) == (f"data source 'train': 'train.csv' resolves outside the project (to "
                                 f"{outside.resolve()}); move the file into the project or set "
                                 "`outside_project: true` on this source")
    assert caught.value.spec_path == ("data", "sources", "train", "path")
    assert "PLANTED-SECRET" not in _outputs(ctx)


def test_proc_is_never_read_even_with_the_opt_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSPEC_TEST_PLANTED", "PLANTED-SECRET")
    (tmp_path / "train.csv").write_text("x,y\n1,0\n")
    ctx = _context(tmp_path, "train.csv\n      outside_project: true")
    (tmp_path / "train.csv").unlink()
    (tmp_path / "train.csv").symlink_to("/proc/self/environ")
    with pytest.raises(StageError) as caught:
        data.run(ctx)
    assert str(caught.value).startswith("data source 'train': 'train.csv' resolves to /proc/")
    assert str(caught.value).endswith(", a system file, not data; mlspec reads only regular files")
    assert "PLANTED-SECRET" not in _outputs(ctx)


def test_the_opt_in_reads_a_regular_file_outside(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "train.csv").write_text("x,y\n1,0\n2,1\n")
    project = tmp_path / "project"
    project.mkdir()
    ctx = _context(project, "../shared/train.csv\n      outside_project: true")
    data.run(ctx)
    assert json.loads((ctx.out_dir / "profile.json").read_text())["rows"] == 2


def test_a_fifo_swapped_in_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    (tmp_path / "train.csv").write_text("x,y\n1,0\n")
    ctx = _context(tmp_path, "train.csv")
    (tmp_path / "train.csv").unlink()
    os.mkfifo(tmp_path / "train.csv")
    with pytest.raises(StageError) as caught:
        data.run(ctx)
    assert str(caught.value).endswith("which is not a regular file (a device, FIFO or socket); "
                                      "mlspec reads only regular files")


def test_profile_never_carries_values_of_an_excluded_column(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("ssn,x,y\nPLANTED-SECRET-1,1.5,0\nPLANTED-SECRET-2,2.5,1\n")
    ctx = _context(tmp_path, "train.csv")
    text = (tmp_path / "mlspec.yaml").read_text().replace("  target: y\n", "  target: y\n  exclude: [ssn]\n")
    (tmp_path / "mlspec.yaml").write_text(text)
    ctx = context(load(tmp_path / "mlspec.yaml"), ctx.stage, ctx.out_dir, {}, lambda _: None)
    data.run(ctx)
    text = (ctx.out_dir / "profile.json").read_text()
    assert json.loads(text)["schema"]["ssn"] == "str"  # its name and dtype only
    assert "PLANTED-SECRET" not in text
    # The snapshot is the table itself, excluded columns too (a suite may check an id column): it is data.
    assert sorted(p.name for p in ctx.out_dir.iterdir()) == ["profile.json", "snapshot.parquet"]


URL_SPEC = """\
version: 1
project: p
task: binary
data:
  target: y
  sources:
    train: {{kind: url, url: "s3://bkt1/t.csv"{own}}}
    web: {{kind: url, url: "https://example.com/t.csv"}}
{store}training:
  models:
    m: {{estimator: sklearn.linear_model.LogisticRegression, data: train}}
evaluation:
  data: web
  metrics: [accuracy]
"""


@pytest.mark.parametrize(("own", "store", "env", "endpoint"), [
    ("", "store:\n  url: s3://bkt1/store\n  endpoint_url: http://minio:9000\n", "", "http://minio:9000"),
    ("", "store:\n  url: s3://bkt1/store\n", "http://env:9000", "http://env:9000"),  # MLSPEC_STORE_ENDPOINT_URL
    (", endpoint_url: 'http://own:9000'", "store:\n  url: s3://bkt1/store\n  endpoint_url: http://minio:9000\n", "",
     None),  # the source's own endpoint wins (the adapter prefers it; the store's is not even read)
    ("", "store:\n  url: az://ctr/store\n", "", None),  # a store elsewhere has no S3 endpoint to lend
    ("", "", "", None),
])
def test_an_s3_source_borrows_the_store_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: str,
                                                 store: str, env: str, endpoint: str | None) -> None:
    monkeypatch.delenv("MLSPEC_STORE", raising=False)
    if env:
        monkeypatch.setenv("MLSPEC_STORE_ENDPOINT_URL", env)
    else:
        monkeypatch.delenv("MLSPEC_STORE_ENDPOINT_URL", raising=False)
    (tmp_path / "mlspec.yaml").write_text(URL_SPEC.format(own=own, store=store))
    loaded = load(tmp_path / "mlspec.yaml")
    reading = data._reading(loaded, loaded.spec.data.sources["train"])
    assert reading.store_endpoint == endpoint and reading.filesystems is not None
    stages = {s.id: s for s in build(loaded.spec)}
    reads = [r.path for r in data.KIND.reads(loaded.spec, stages["data:train"])]
    # A binary task's training source is checked for its positive class (the label reads are unfingerprinted).
    labels = ["task", "training.models", "data.target", "data.positive_class"]
    assert reads == (["data.sources.train", *labels] if own else ["data.sources.train", *labels, "store"])
    assert [r.path for r in data.KIND.reads(loaded.spec, stages["data:web"])] == ["data.sources.web", "task",
                                                                                "training.models"]
