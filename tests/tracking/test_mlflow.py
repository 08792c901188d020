"""The MLflow backend against a real ``mlflow server`` on 127.0.0.1, read back through MLflow's own client."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from mlspec import tracking
from mlspec.runtime.workspace import Workspace
from mlspec.tracking import TrackingError, outbox
from mlspec.tracking.mlflow import MAX_PARAM_VAL_LENGTH
from tests.mlflowserver import running
from tests.servers import free_port, serve
from tests.tracking.kit import EVALUATE, RECORD, project, quiet

pytestmark = pytest.mark.usefixtures("quiet_mlflow")


@pytest.fixture(autouse=True)
def _no_server_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def runs_of(client: MlflowClient, experiment: str, run_id: str) -> tuple[Any, dict[str, Any]]:
    """The parent run of ``run_id`` (exactly one) and its nested runs by model."""
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    runs = client.search_runs([found.experiment_id], f"tags.`mlspec.run_id` = '{run_id}'")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, [r.info.run_name for r in runs]
    children = {r.data.tags["mlspec.model"]: r for r in runs if "mlflow.parentRunId" in r.data.tags}
    assert len(children) == len(runs) - 1, "one nested run per model"
    assert {r.data.tags["mlflow.parentRunId"] for r in children.values()} == {parents[0].info.run_id}
    return parents[0], children


def test_a_run_is_one_parent_with_a_nested_run_per_model(tmp_path: Path, mlflow_server: str) -> None:
    loaded = project(tmp_path, f"{{backend: mlflow, uri: '{mlflow_server}', experiment: one-run}}")
    report = Workspace.for_spec(loaded.path).root / "report"
    report.mkdir(parents=True)
    (report / "report.md").write_text("# diabetes\n\ngate passed\n")
    (report / "report.html").write_text("<html><body>gate passed</body></html>\n")
    record = replace(EVALUATE, run_id="gitlab-1", part="local")
    log, out = quiet()

    tracking.send(loaded, record, log)

    client = MlflowClient(mlflow_server)
    parent, children = runs_of(client, "one-run", "gitlab-1")
    assert out.getvalue() == (f"tracking: run gitlab-1 (local) sent to MLflow, experiment 'one-run': {mlflow_server}"
                              f"/#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}\n")
    assert parent.info.run_name == "gitlab-1"
    assert parent.info.status == "FINISHED"
    tags = parent.data.tags
    assert {k: tags[k] for k in ("mlspec.commit", "mlspec.branch", "mlspec.dirty", "mlspec.who", "mlspec.verdict",
                                 "mlspec.champion", "mlspec.version", "mlspec.ci_url", "mlspec.overrides",
                                 "mlspec.stages_ran", "mlflow.source.git.commit")} == {
        "mlspec.commit": "0123abc", "mlspec.branch": "feature/depth", "mlspec.dirty": "false", "mlspec.who": "ada",
        "mlspec.verdict": "passed", "mlspec.champion": "ridge", "mlspec.version": "0.14.0",
        "mlspec.ci_url": "https://gitlab.example.com/p/-/pipelines/4711",
        "mlspec.overrides": "training.models.forest.params.n_estimators=50", "mlspec.stages_ran": "evaluate, gate",
        "mlflow.source.git.commit": "0123abc"}
    assert parent.data.metrics == {"root_mean_squared_error": 55.5, "r2": 0.45}, "the champion's metrics"
    assert sorted(children) == ["forest", "ridge"]
    forest, ridge = children["forest"], children["ridge"]
    assert forest.data.params == {"n_estimators": "50", "min_samples_leaf": "3",
                                  "mlspec.estimator": "sklearn.ensemble.RandomForestRegressor"}
    assert forest.data.metrics == {"root_mean_squared_error": 57.25, "r2": 0.41}
    assert (ridge.data.tags["mlspec.champion"], forest.data.tags["mlspec.champion"]) == ("true", "false")
    assert ridge.data.params["alpha"] == "1.0"
    shown = sorted(a.path for a in client.list_artifacts(parent.info.run_id, "report"))
    assert shown == ["report/report.html", "report/report.md"]
    fetched = Path(client.download_artifacts(parent.info.run_id, "report/report.md", str(tmp_path / "got")))
    assert fetched.read_text() == "# diabetes\n\ngate passed\n"
    assert outbox.pending(outbox.folder(Workspace.for_spec(loaded.path))) == [], "sent, so no longer waiting"


def test_the_parts_of_a_ci_pipeline_add_to_one_run(tmp_path: Path, mlflow_server: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    train_job = project(tmp_path / "train", "{backend: mlflow, experiment: parts}")
    evaluate_job = project(tmp_path / "evaluate", "{backend: mlflow, experiment: parts}")
    log, _ = quiet()

    tracking.send(train_job, RECORD, log)
    tracking.send(evaluate_job, EVALUATE, log)
    tracking.send(evaluate_job, EVALUATE, log)  # sent twice (a timeout after the server took it): no change

    client = MlflowClient(mlflow_server)
    parent, children = runs_of(client, "parts", RECORD.run_id)
    assert parent.data.tags["mlspec.parts"] == "evaluate, train"
    assert parent.data.tags["mlspec.stages_ran"] == "evaluate, gate, train:forest, train:ridge"
    assert parent.data.tags["mlspec.verdict"] == "passed", "the train part had no verdict to say"
    assert sorted(children) == ["forest", "ridge"]
    assert children["forest"].data.params["n_estimators"] == "50"
    assert children["forest"].data.metrics["r2"] == 0.41
    history = client.get_metric_history(children["forest"].info.run_id, "r2")
    assert [m.value for m in history] == [0.41], "the repeated send logged nothing again"
    assert parent.info.start_time == 1796407200000, "the earliest part's start (2026-12-04T18:00:00Z)"
    assert parent.info.end_time == 1796407340000, "the latest part's end (2026-12-04T18:02:20Z)"


def test_a_param_longer_than_mlflow_takes_is_truncated_visibly(tmp_path: Path, mlflow_server: str) -> None:
    loaded = project(tmp_path, f"{{backend: mlflow, uri: '{mlflow_server}', experiment: long}}")
    vocabulary = [f"word{i}" for i in range(2000)]
    record = replace(RECORD, run_id="local-long", params={"ridge": {
        "estimator": "sklearn.linear_model.Ridge", "params": {"alpha": 1.0, "vocabulary": vocabulary}}})
    log, _ = quiet()

    tracking.send(loaded, record, log)

    _, children = runs_of(MlflowClient(mlflow_server), "long", "local-long")
    shown = children["ridge"].data.params["vocabulary"]
    assert len(shown) == MAX_PARAM_VAL_LENGTH
    assert shown.startswith('["word0", "word1", ')
    full = len(str(vocabulary).replace("'", '"'))
    assert shown.endswith(f" …[truncated: {full} chars]")
    assert children["ridge"].data.tags["mlspec.truncated_params"] == "vocabulary"


@pytest.mark.slow  # starts a second MLflow server: half a minute
def test_a_server_that_is_down_loses_nothing_and_sync_sends_it_later(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    loaded = project(tmp_path / "project", "{backend: mlflow, experiment: later}")
    box = outbox.folder(Workspace.for_spec(loaded.path))
    log, out = quiet()

    started = time.monotonic()
    with pytest.raises(TrackingError) as caught:
        tracking.send(loaded, RECORD, log)
    assert time.monotonic() - started < 8, "fails fast, not after MLflow's minutes of retries"
    message = str(caught.value)
    assert message == (f"tracking: the MLflow server {uri} (from MLFLOW_TRACKING_URI) did not take run "
                       f"gitlab-4711: connection refused (is the server running?); 1 record(s) kept in {box}: "
                       "send them with `mlspec runs sync` once it answers (or the next `mlspec run`)")
    assert [outbox.read(p) for p in outbox.pending(box)] == [RECORD]
    with pytest.raises(TrackingError):
        tracking.send(loaded, EVALUATE, log)  # still down: both wait, oldest first
    assert [outbox.read(p).part for p in outbox.pending(box)] == ["train", "evaluate"]

    with running(tmp_path / "server", port):
        assert tracking.sync(loaded, log) == 2
        assert outbox.pending(box) == []
        parent, children = runs_of(MlflowClient(uri), "later", RECORD.run_id)
    assert parent.data.tags["mlspec.parts"] == "evaluate, train"
    assert sorted(children) == ["forest", "ridge"]
    assert tracking.sync(loaded, log) == 0, "nothing left to send (and no server asked)"
    assert out.getvalue().count("sent to MLflow") == 2


def test_a_server_that_is_not_mlflow_refuses_and_the_record_waits(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "www").mkdir()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)]
    with serve(argv, port, tmp_path / "www"):
        loaded = project(tmp_path, f"{{backend: mlflow, uri: 'http://127.0.0.1:{port}/ml'}}")
        log, _ = quiet()
        with pytest.raises(TrackingError) as caught:
            tracking.send(loaded, RECORD, log)
    assert f"the MLflow server http://127.0.0.1:{port}/ml (from tracking.uri in mlspec.yaml) did not take run " \
           "gitlab-4711: HTTP 404: no MLflow tracking API at this address; 1 record(s) kept in " in str(caught.value)
    assert len(outbox.pending(outbox.folder(Workspace.for_spec(loaded.path)))) == 1


def test_a_damaged_outbox_file_is_set_aside_and_the_rest_is_sent(tmp_path: Path, mlflow_server: str) -> None:
    loaded = project(tmp_path, f"{{backend: mlflow, uri: '{mlflow_server}', experiment: damaged}}")
    box = outbox.folder(Workspace.for_spec(loaded.path))
    box.mkdir(parents=True)
    (box / "00000000000000000001-cut-short.json").write_text('{"run_id": "x", ')
    (box / "00000000000000000002-not-a-record.json").write_text('{"run_id": "x"}')
    outbox.put(box, replace(RECORD, run_id="local-damaged"))
    log, out = quiet()

    assert tracking.sync(loaded, log) == 1
    assert sorted(p.name for p in box.iterdir()) == ["00000000000000000001-cut-short.damaged",
                                                     "00000000000000000002-not-a-record.damaged"]
    assert out.getvalue().count("which is not a run record") == 2
    runs_of(MlflowClient(mlflow_server), "damaged", "local-damaged")


def test_no_server_named_keeps_the_record_and_says_what_to_set(tmp_path: Path) -> None:
    loaded = project(tmp_path, "{backend: mlflow}")
    log, _ = quiet()
    with pytest.raises(TrackingError, match=r"^tracking.backend is mlflow, but neither tracking.uri nor "
                       r"MLFLOW_TRACKING_URI names a tracking server; set one: 1 record\(s\) kept in .*"
                       r"tracking/outbox; send them with `mlspec runs sync`"):
        tracking.send(loaded, RECORD, log)
    assert len(outbox.pending(outbox.folder(Workspace.for_spec(loaded.path)))) == 1


def test_the_local_backend_sends_nothing_and_keeps_no_outbox(tmp_path: Path) -> None:
    loaded = project(tmp_path, "{backend: local}")
    log, out = quiet()
    tracking.send(loaded, RECORD, log)
    assert tracking.sync(loaded, log) == 0
    assert not (Workspace.for_spec(loaded.path).root / "tracking").exists()
    assert out.getvalue() == ""


def test_a_searched_model_and_odd_param_names_become_valid_mlflow_params() -> None:
    from mlspec.tracking.mlflow import _model_params, _search_metrics

    entry = {"estimator": "sklearn.svm.SVC", "params": {"C": 0.5, "class_weight": {"0": 1, "1": 3}, "a[b]": None},
             "search": {"method": "grid", "trials": 48, "best_trial": 7, "metric": "f1", "cv_score": 0.91}}
    assert _model_params(entry) == {
        "C": "0.5", "class_weight": '{"0": 1, "1": 3}', "a_b_": "null", "mlspec.estimator": "sklearn.svm.SVC",
        "mlspec.search.method": "grid", "mlspec.search.trials": "48", "mlspec.search.best_trial": "7",
        "mlspec.search.metric": "f1"}
    assert _search_metrics(entry) == {"search_cv_score": 0.91}
