"""mlspec.lock: exact format, round trip, and messages for files that are not a lock mlspec can read."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec import gitio
from mlspec.errors import MlspecError
from mlspec.runtime import lockfile
from mlspec.runtime.lockfile import Entry, Lock
from mlspec.runtime.workspace import Workspace
from tests.gitkit import commit_all, init_repo, write_lock

ENTRY = Entry(
    fingerprint="sha256:f",
    spec={"data.sources.train": "sha256:s"},
    versions={"pandas": "3.0.0", "mlspec": "0.1.0"},
    inputs={"data/train.csv": "sha256:i"},
    upstream={},
    outputs={"profile.json": "sha256:o"},
    metrics={"rows": 3, "score": float("nan")},
)

EXPECTED = """\
{
  "schema": 1,
  "stages": {
    "data:train": {
      "fingerprint": "sha256:f",
      "inputs": {
        "data/train.csv": "sha256:i"
      },
      "metrics": {
        "rows": 3,
        "score": "nan"
      },
      "outputs": {
        "profile.json": "sha256:o"
      },
      "spec": {
        "data.sources.train": "sha256:s"
      },
      "upstream": {},
      "versions": {
        "mlspec": "0.1.0",
        "pandas": "3.0.0"
      }
    },
    "evaluate": {
      "fingerprint": "sha256:f",
      "inputs": {
        "data/train.csv": "sha256:i"
      },
      "metrics": {
        "rows": 3,
        "score": "nan"
      },
      "outputs": {
        "profile.json": "sha256:o"
      },
      "spec": {
        "data.sources.train": "sha256:s"
      },
      "upstream": {},
      "versions": {
        "mlspec": "0.1.0",
        "pandas": "3.0.0"
      }
    }
  }
}
"""


def test_exact_format_sorted_and_stable() -> None:
    # Inserted out of order: the file is sorted whatever order stages ran in.
    lock = Lock().with_entry("evaluate", ENTRY).with_entry("data:train", ENTRY)
    assert lockfile.dumps(lock) == EXPECTED


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "mlspec.lock"
    lock = Lock().with_entry("data:train", ENTRY)
    lockfile.write(path, lock)
    again = lockfile.read(path)
    assert lockfile.dumps(again) == path.read_text()
    assert again.stages["data:train"].outputs == {"profile.json": "sha256:o"}
    assert [p.name for p in tmp_path.iterdir()] == ["mlspec.lock"]  # no temp file left behind


def test_missing_lock_is_empty(tmp_path: Path) -> None:
    assert lockfile.read(tmp_path / "mlspec.lock") == Lock()


def test_updates_return_new_locks() -> None:
    one = Lock().with_entry("a", ENTRY)
    two = one.with_entry("b", ENTRY)
    assert list(one.stages) == ["a"]
    assert list(two.without("a").stages) == ["b"]
    assert list(two.only(["b", "c"]).stages) == ["b"]


def test_path_is_beside_the_spec() -> None:
    assert lockfile.path_for(Path("proj/mlspec.yaml")) == Path("proj/mlspec.lock")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{\n  "schema": 1,\n  "stages": {\n    "a": \n}\n',
         "mlspec.lock:5:1: not valid JSON: Expecting value; delete it to rerun every stage"),
        ('{\n<<<<<<< HEAD\n  "schema": 1\n=======\n  "schema": 1\n>>>>>>> main\n}\n',
         "mlspec.lock:2:1: unresolved merge conflict; keep one side's entries, or delete it to rerun every stage"),
        ("[]\n", 'mlspec.lock:1:1: not an mlspec lock file (no "schema" number); delete it to rerun every stage'),
        ('{"schema": true}\n',
         'mlspec.lock:1:1: not an mlspec lock file (no "schema" number); delete it to rerun every stage'),
        ('{"schema": 2, "stages": {}}\n',
         "mlspec.lock: lock schema 2 is not the schema 1 this mlspec reads; use the mlspec that wrote it, "
         "or delete it to rerun every stage"),
        ('{\n  "schema": 1,\n  "stages": []\n}\n',
         'mlspec.lock:3:1: "stages" must be a mapping; delete it to rerun every stage'),
        ('{\n  "schema": 1,\n  "stages": {\n    "train:m": {"fingerprint": 3}\n  }\n}\n',
         'mlspec.lock:4:1: stage train:m: "fingerprint" must be a string; delete it to rerun every stage'),
        ('{"schema": 1, "stages": {"x": {"fingerprint": "f", "spec": {}, "versions": {}, "inputs": {"a": 1},'
         ' "upstream": {}, "outputs": {}}}}\n',
         'mlspec.lock:1:1: stage x: "inputs" must be a mapping of strings; delete it to rerun every stage'),
        ("[" * 100_000 + "]" * 100_000, "mlspec.lock: nested deeper than 64 levels; delete it to rerun every stage"),
        ('{"schema": 1, "stages": ' + '{"a": ' * 70 + "{}" + "}" * 70 + "}",
         "mlspec.lock: nested deeper than 64 levels; delete it to rerun every stage"),
        ('{\n  "schema": ' + "1" * 5000 + "\n}\n",
         "mlspec.lock:2:13: integer of 5,000 digits; at most 20 are expected here; delete it to rerun every stage"),
        ('{"schema": 1, "stages": {"a": {"metrics": {"n": 1e999}}}}',
         "mlspec.lock:1:49: number 1e999 is beyond the range of a 64-bit float; delete it to rerun every stage"),
        ('{"schema": NaN}', "mlspec.lock: NaN is not a JSON number; delete it to rerun every stage"),
    ],
)
def test_unreadable_locks_are_located(text: str, message: str) -> None:
    with pytest.raises(MlspecError) as caught:
        lockfile.loads(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "m.json: nested deeper than 64 levels; delete it to rerun the stage"),
        ('{"fingerprint": ' + "7" * 5000 + "}",
         "m.json:1:17: integer of 5,000 digits; at most 20 are expected here; delete it to rerun the stage"),
        ('{"fingerprint": "f"', "m.json:1:20: not valid JSON: Expecting ',' delimiter; delete it to rerun the stage"),
    ],
)
def test_records_that_are_not_json_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    workspace = Workspace(tmp_path)
    record = workspace.record_file("train:m")
    record.parent.mkdir(parents=True)
    record.write_text(text, "utf-8")
    with pytest.raises(MlspecError) as caught:
        lockfile.read_record(workspace, "train:m")
    assert str(caught.value) == f"{tmp_path}/records/train/{message}"


def test_records_that_cannot_be_read_name_the_file(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    workspace.record_file("evaluate").mkdir(parents=True)  # a directory where the record should be
    with pytest.raises(MlspecError) as caught:
        lockfile.read_record(workspace, "evaluate")
    assert str(caught.value) == (f"{tmp_path}/records/evaluate.json: cannot read (Is a directory); delete it to "
                                 "rerun the stage")


def test_records_of_another_shape_or_missing_are_none(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    workspace.record_file("evaluate").parent.mkdir(parents=True)
    workspace.record_file("evaluate").write_text('{"fingerprint": 1}', "utf-8")
    assert lockfile.read_record(workspace, "evaluate") is None
    assert lockfile.read_record(workspace, "train:m") is None


def test_a_record_is_read_back_as_written(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    entry = lockfile.Entry("sha256:f", {"task": "sha256:t"}, {"mlspec": "0.1.0"}, {"data.csv": "sha256:d"},
                           {"data:main": "sha256:u"}, {"metrics.json": "sha256:o"}, {"champion": "m", "auc": 0.9})
    workspace.record_file("evaluate").parent.mkdir(parents=True)
    workspace.record_file("evaluate").write_text(lockfile.entry_to_json(entry), "utf-8")
    assert lockfile.read_record(workspace, "evaluate") == entry


# --- the lock at a git revision ------------------------------------------------------------------------------


def test_the_lock_and_spec_at_a_revision(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    init_repo(root)
    project = root / "sub"
    project.mkdir()
    (project / "mlspec.yaml").write_text("project: p\n")
    committed = write_lock(project, {"champion": "m", "auc": 0.9})
    commit_all(root, "run")
    lock = lockfile.read(committed)
    committed.unlink()  # the work tree's state does not matter: the commit's does

    found = lockfile.at_revision(project / "mlspec.yaml", "main", spec=True)
    assert found == lockfile.Committed("main", "sub/mlspec.lock", lock, "sub/mlspec.yaml", "project: p\n")
    assert found.source == "main:sub/mlspec.lock"
    without_spec = lockfile.at_revision(project / "mlspec.yaml", "HEAD")
    assert without_spec is not None and (without_spec.lock, without_spec.spec_text) == (lock, None)


def test_a_revision_without_a_lock_or_a_spec(tmp_path: Path) -> None:
    init_repo(tmp_path)
    commit_all(tmp_path, "nothing yet")
    found = lockfile.at_revision(tmp_path / "mlspec.yaml", "main", spec=True)
    assert found == lockfile.Committed("main", "mlspec.lock", None, "mlspec.yaml", None)


def test_a_revision_that_names_no_commit_is_none(tmp_path: Path) -> None:
    init_repo(tmp_path)
    commit_all(tmp_path, "first")
    for rev in ("mian", "--all", ""):
        assert lockfile.at_revision(tmp_path / "mlspec.yaml", rev) is None


def test_outside_a_repository_git_says_why(tmp_path: Path) -> None:
    with pytest.raises(gitio.GitError) as caught:
        lockfile.at_revision(tmp_path / "mlspec.yaml", "main")
    assert str(caught.value) == "not a git repository"


def test_a_broken_lock_at_a_revision_is_located_there(tmp_path: Path) -> None:
    init_repo(tmp_path)
    (tmp_path / "mlspec.lock").write_text('{\n  "schema": 1,\n  "stages": []\n}\n')
    commit_all(tmp_path, "bad lock")
    with pytest.raises(MlspecError) as caught:
        lockfile.at_revision(tmp_path / "mlspec.yaml", "main")
    assert str(caught.value) == 'main:mlspec.lock:3:1: "stages" must be a mapping; delete it to rerun every stage'
