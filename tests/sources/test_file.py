"""The file adapter: what it tells the fingerprints, CI and reports, and how it reads (identity = bytes read)."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from mlspec import sources
from mlspec.runtime import hashing
from mlspec.sources import file as file_kind
from mlspec.sources.base import Concern, SourceError
from mlspec.spec import FileSource, Source

ADAPTER = file_kind.FileAdapter()


def test_every_kind_of_the_spec_has_an_adapter() -> None:
    from mlspec.schematypes import tagged_members

    assert list(sources.ADAPTERS) == list(tagged_members(Source) or {}) == ["file", "url"]
    assert all(adapter.kind == kind for kind, adapter in sources.ADAPTERS.items())
    assert isinstance(sources.adapter(FileSource(path="t.csv")), file_kind.FileAdapter)


def test_what_the_fingerprints_ci_and_reports_see() -> None:
    source = FileSource(path="data/t.pq", description="edited often", outside_project=True)
    # Neither the description nor the kind: the fingerprints of locks written before kinds stay valid.
    assert ADAPTER.section(source) == {"path": "data/t.pq", "format": "parquet"}
    assert ADAPTER.files(source) == ["data/t.pq"]
    assert ADAPTER.location(source) == "data/t.pq"
    assert ADAPTER.table_format(source) == "parquet"
    assert ADAPTER.table_format(FileSource(path="t.txt", format="csv")) == "csv"


def test_concerns_at_validation(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("x\n1\n")
    assert ADAPTER.concerns(tmp_path, "train", FileSource(path="t.csv")) == []
    assert ADAPTER.concerns(tmp_path, "train", FileSource(path="later.csv")) == [
        Concern(("data", "sources", "train", "path"), "'later.csv' does not exist (yet)", warning=True)]
    outside = ADAPTER.concerns(tmp_path, "train", FileSource(path="../x.csv"))
    assert [(c.path, c.warning) for c in outside] == [(("data", "sources", "train", "path"), False)]
    assert outside[0].message.startswith("'../x.csv' resolves outside the project")


def test_read_gives_the_table_and_the_digest_of_its_bytes(tmp_path: Path) -> None:
    data = b"a,b\n1,x\n2,\n"
    (tmp_path / "t.csv").write_bytes(data)
    read = ADAPTER.read(tmp_path, "train", FileSource(path="t.csv"))
    assert read.identity == "sha256:" + hashlib.sha256(data).hexdigest()
    assert read.frame["a"].tolist() == [1, 2] and read.frame["b"].isna().tolist() == [False, True]


def test_read_parquet_and_compressed_csv(tmp_path: Path) -> None:
    import pandas as pd

    pd.DataFrame({"x": [1.5, 2.5]}).to_parquet(tmp_path / "t.parquet")
    assert ADAPTER.read(tmp_path, "s", FileSource(path="t.parquet")).frame["x"].tolist() == [1.5, 2.5]
    packed = gzip.compress(b"x\n1\n2\n3\n")
    (tmp_path / "t.csv.gz").write_bytes(packed)
    read = ADAPTER.read(tmp_path, "s", FileSource(path="t.csv.gz"))
    assert len(read.frame) == 3 and read.identity == "sha256:" + hashlib.sha256(packed).hexdigest()


@pytest.mark.parametrize(("content", "path", "message"), [
    (None, "nope.csv", "data source 'train': file 'nope.csv' not found"),
    (b"", "t.csv", "data source 'train': cannot read 't.csv' as csv: No columns to parse from file"),
    (b"not parquet", "t.parquet", "data source 'train': cannot read 't.parquet' as parquet: "),
])
def test_unreadable_files_are_located_errors(tmp_path: Path, content: bytes | None, path: str, message: str) -> None:
    if content is not None:
        (tmp_path / path).write_bytes(content)
    with pytest.raises(SourceError) as caught:
        ADAPTER.read(tmp_path, "train", FileSource(path=path))
    assert str(caught.value).startswith(message)
    assert caught.value.spec_path == ("data", "sources", "train", "path")


def test_a_file_written_while_it_is_read_is_not_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest and the table must describe the same bytes: a write between hashing and parsing is caught."""
    path = tmp_path / "t.csv"
    path.write_text("x\n1\n")
    real = hashing.stream_digest

    def hash_then_write(handle: object) -> str:
        digest = real(handle)  # type: ignore[arg-type]
        with path.open("a") as more:
            more.write("2\n")
        return digest

    monkeypatch.setattr(hashing, "stream_digest", hash_then_write)
    with pytest.raises(SourceError) as caught:
        ADAPTER.read(tmp_path, "train", FileSource(path="t.csv"))
    assert str(caught.value) == "data source 'train': 't.csv' changed while it was being read; run again"


def test_importing_the_adapters_imports_no_pandas() -> None:
    import subprocess
    import sys

    code = "import sys, mlspec.sources; print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_kind_file_written_out_is_the_same_source() -> None:
    """`kind: file` is the default spelled out: same model, same fingerprinted section, accepted by the schema."""
    import jsonschema
    import yaml

    from mlspec.load import load_text
    from mlspec.runtime import stages
    from mlspec.schema import json_schema
    from tests.test_load_errors import BASE

    explicit = BASE.replace("train: {path: train.csv}", "train: {kind: file, path: train.csv}", 1)
    plain, spelled = load_text(BASE).spec, load_text(explicit).spec
    assert plain == spelled
    stage = next(s for s in stages.build(plain) if s.id == "data:train")
    assert stages.spec_sections(plain, stage) == stages.spec_sections(spelled, stage) == {
        "data.sources.train": {"path": "train.csv", "format": "csv"}}
    jsonschema.validate(yaml.safe_load(explicit), json_schema())


def test_the_spec_dump_is_what_it_was_before_kinds() -> None:
    """Registry provenance records a fingerprint of the spec's dump: a default kind must not change it."""
    dumped = FileSource(path="t.csv").model_dump(mode="json")
    assert dumped == {"path": "t.csv", "outside_project": False, "format": None, "description": None}
    assert FileSource.model_validate(dumped).kind == "file"
