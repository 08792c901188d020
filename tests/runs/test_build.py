"""Every run is recorded: real runs of a small project, what their records say, the store mirror, tracking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlspec import jsonio, tracking
from mlspec.load import load
from mlspec.runs.history import History
from mlspec.runs.mirror import PREFIX
from mlspec.runs.record import RunRecord
from mlspec.runtime import lockfile, runner
from mlspec.store import Store, StoreConfig, StoreError
from mlspec.store.url import parse
from tests.runs.kit import environ, go, repo, write


def dir_store(path: Path) -> Store:
    return Store(StoreConfig(parse(str(path)), named_by="MLSPEC_STORE"))


def outputs(spec: Path, stage: str, name: str) -> dict[str, object]:
    kind, _, rest = stage.partition(":")
    return jsonio.read_object(spec.parent / ".mlspec" / "stages" / kind / rest / name)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    return repo(tmp_path / "tiny")


def test_a_run_is_recorded_from_what_it_left(spec: Path) -> None:
    report, out, err = go(spec)
    assert report.ok, out + err
    record = History(spec.parent / ".mlspec" / "runs.db").runs([report.run_id])[0]  # type: ignore[list-item]
    assert f"history: run {report.run_id} (`mlspec runs show {report.run_id}`)" in out.splitlines()
    assert record.part == "local" and record.project == "tiny" and not record.ci
    assert record.branch == "main" and record.dirty is False and record.who == "runner@example.com"
    assert record.commit is not None and len(record.commit) == 40
    assert record.params["forest"] == {"estimator": "sklearn.ensemble.RandomForestClassifier",
                                       "params": {"n_estimators": 8, "max_depth": 3, "random_state": 7}}
    metrics = outputs(spec, "evaluate:", "metrics.json")
    assert record.metrics == metrics["models"] and record.champion == metrics["champion"]
    assert record.data == {s: outputs(spec, f"data:{s}", "profile.json")["digest"] for s in ("train", "holdout")}
    assert record.verdict == "passed"
    assert [(s.id, s.status) for s in record.stages] == [
        ("data:train", "ran"), ("data:holdout", "ran"), ("train:forest", "ran"), ("train:logreg", "ran"),
        ("evaluate", "ran"), ("gate", "ran")]
    assert all(s.seconds is not None and s.seconds > 0 for s in record.stages)
    assert record.spec_fingerprint and record.spec_fingerprint.startswith("sha256:")


def test_a_no_op_run_is_recorded_too_and_plan_records_nothing(spec: Path) -> None:
    first, _, _ = go(spec)
    runner.plan(load(spec))
    second, _, _ = go(spec)
    assert first.run_id != second.run_id
    history = History(spec.parent / ".mlspec" / "runs.db")
    assert history.run_ids() == [second.run_id, first.run_id]
    again = history.runs([second.run_id])[0]  # type: ignore[list-item]
    assert {s.status for s in again.stages} == {"up to date"} and all(s.seconds is None for s in again.stages)
    assert again.metrics == history.runs([first.run_id])[0].metrics  # type: ignore[list-item]


def test_dirty_named_stages_and_force(spec: Path) -> None:
    write(spec.parent, max_depth=5)  # an edit not committed
    report, _, _ = go(spec, "train:forest", force=True)
    record = History(spec.parent / ".mlspec" / "runs.db").runs([report.run_id])[0]  # type: ignore[list-item]
    assert record.dirty is True and record.command == ("train:forest",) and record.force is True
    assert [s.id for s in record.stages] == ["data:train", "train:forest"]
    assert record.params["forest"]["params"]["max_depth"] == 5
    assert record.metrics == {} and record.verdict is None  # evaluate did not run in this run


def test_a_failed_gate_is_recorded_as_failed(spec: Path) -> None:
    write(spec.parent, min_auc=0.9999)
    report, _, _ = go(spec)
    assert not report.ok
    record = History(spec.parent / ".mlspec" / "runs.db").runs([report.run_id])[0]  # type: ignore[list-item]
    assert record.verdict == "failed"
    assert {s.id: s.status for s in record.stages}["gate"] == "failed"


def test_a_tracking_backend_that_refuses_fails_the_run_and_loses_nothing(
        spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[RunRecord] = []

    def refuse(loaded: object, record: RunRecord, log: object) -> None:
        sent.append(record)
        raise tracking.TrackingError("tracking server http://127.0.0.1:9 did not answer; `mlspec runs sync` "
                                     "sends the run later")

    monkeypatch.setattr(tracking, "send", refuse)
    report, _, err = go(spec)
    assert not report.ok and report.errors
    assert all(o.status == "ran" for o in report.outcomes)
    assert "error: tracking server http://127.0.0.1:9 did not answer" in err
    assert "Traceback" not in err
    assert sorted(lockfile.read(spec.parent / "mlspec.lock").stages) == sorted(o.stage_id for o in report.outcomes)
    assert [r.run_id for r in sent] == [report.run_id]
    assert History(spec.parent / ".mlspec" / "runs.db").run_ids() == [report.run_id]


def test_each_part_is_mirrored_to_the_store_once(spec: Path, tmp_path: Path) -> None:
    store = dir_store(tmp_path / "store")
    report, _, _ = go(spec, store=store)
    key = f"{PREFIX}{report.run_id}/local.json"
    assert store.list(PREFIX) == [key]
    raw = store.read(key)
    assert raw is not None
    assert RunRecord.from_json(json.loads(raw)) == only_part_kept(spec)
    assert History(spec.parent / ".mlspec" / "runs.db").pending() == []


def only_part_kept(spec: Path) -> RunRecord:
    history = History(spec.parent / ".mlspec" / "runs.db")
    (run_id,) = history.run_ids()
    return history.parts(run_id)[0]


def test_a_store_that_fails_leaves_the_part_pending_until_the_next_run(
        spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = dir_store(tmp_path / "store")
    report, _, _ = go(spec, store=None)  # no store yet: pending
    real = Store.create

    def down(self: Store, key: str, data: bytes) -> bool:
        if key.startswith(PREFIX):
            raise StoreError(f"store {self.location}: connection refused")
        return real(self, key, data)

    monkeypatch.setattr(Store, "create", down)
    second, out, _ = go(spec, store=store)
    assert second.ok  # a mirror that fails is a warning
    assert "warning: the run history was not mirrored to the store: store" in out
    assert "the next run with the store, or `mlspec runs sync`, sends it" in out
    assert len(History(spec.parent / ".mlspec" / "runs.db").pending()) == 2
    monkeypatch.setattr(Store, "create", real)
    third, _, _ = go(spec, store=store)
    assert sorted(store.list(PREFIX)) == sorted(f"{PREFIX}{r.run_id}/local.json" for r in (report, second, third))


def test_ci_jobs_of_one_pipeline_are_parts_of_one_run(tmp_path: Path) -> None:
    """Two GitLab jobs on two fresh machines (workspaces), one store; a laptop sees one run."""
    from mlspec.runs import open_history
    from mlspec.runs.query import find

    store = dir_store(tmp_path / "store")
    gitlab = {"GITLAB_CI": "true", "CI_PIPELINE_ID": "4242", "CI_COMMIT_SHA": "a" * 40, "CI_COMMIT_BRANCH": "main",
              "CI_PIPELINE_URL": "https://gitlab.example.com/p/-/pipelines/4242", "GITLAB_USER_LOGIN": "ci-user"}
    jobs = {"train: [forest]": ("train:forest",), "train: [logreg]": ("train:logreg",), "evaluate": ("gate",)}
    for n, (job, names) in enumerate(jobs.items()):
        spec = write(tmp_path / f"job{n}")
        report, out, err = go(spec, *names, store=store, env={**gitlab, "CI_JOB_NAME": job})
        assert report.ok and report.run_id == "gitlab-4242", out + err
    assert len(store.list(PREFIX)) == 3
    laptop = write(tmp_path / "laptop")
    with environ():
        history, imported = open_history(load(laptop), store)
    assert imported is not None and imported.added == 3
    (run,) = find(history)
    assert run.run_id == "gitlab-4242" and run.part == "evaluate+train: [forest]+train: [logreg]"
    assert run.ci["platform"] == "gitlab" and run.ci["pipeline"] == "4242" and run.branch == "main"
    assert run.who == "ci-user" and run.commit == "a" * 40 and run.dirty is None
    assert set(run.params) == {"forest", "logreg"} and set(run.metrics) == {"forest", "logreg"}
    stages = {s.id: s.status for s in run.stages}
    assert stages["train:forest"] == "ran" and stages["train:logreg"] == "ran"  # not the evaluate job's fetch
    assert stages["evaluate"] == "ran" and run.verdict == "passed"
    with environ():
        again = open_history(load(laptop), store)[1]
    assert again is not None and again.added == 0  # one listing; nothing read twice


def test_a_run_a_store_error_stops_is_recorded_with_what_it_did(
        spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlspec.store import runcache

    def refused(*args: object, **kwargs: object) -> object:
        raise StoreError("store /nowhere: access denied")

    monkeypatch.setattr(runcache, "push", refused)
    with pytest.raises(StoreError, match="access denied"):
        go(spec, store=dir_store(tmp_path / "store"))
    history = History(spec.parent / ".mlspec" / "runs.db")
    (run,) = history.runs(history.run_ids())
    assert [(s.id, s.status) for s in run.stages] == [("data:train", "ran")]  # stopped at its push
    assert run.data and run.metrics == {}
