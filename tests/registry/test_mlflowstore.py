"""The MLflow backend against a real local MLflow tracking server (SQLite store): what a team sees in MLflow
after `mlspec deploy`, serving a version from it, and the errors when MLflow is missing or unreachable.

The state machine itself runs on this backend in test_base.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlspec.cli import main
from mlspec.registry.mlflowstore import MlflowRegistry
from mlspec.serve import load_service
from mlspec.serve.validation import InputSchema, to_frame
from tests.runtime.gatekit import edit
from tests.servers import free_port

pytestmark = pytest.mark.usefixtures("quiet_mlflow")


@pytest.fixture
def mlflow_project(project: Path, mlflow_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The run diabetes project with ``registry.backend: mlflow``, under a model name of its own."""
    name = f"diabetes-{project.parent.name[-8:].lower().replace('_', '-')}"
    edit("project: diabetes", f"project: {name}")
    edit("deploy:\n", "registry:\n  backend: mlflow\n\ndeploy:\n")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    return name


def test_deploy_registers_logs_and_sets_the_alias(mlflow_project: str, mlflow_server: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from mlflow.tracking import MlflowClient

    assert main(["deploy", "staging"]) == 0
    out = capsys.readouterr().out
    assert f"registered 'ridge' as version 1 of {mlflow_project!r} in registry {mlflow_server}" in out
    client = MlflowClient(mlflow_server)
    model = client.get_registered_model(mlflow_project)
    assert model.aliases == {"staging": "1"}
    version = client.get_model_version(mlflow_project, "1")
    verdict = json.loads(Path(".mlspec/stages/gate/verdict.json").read_text())
    assert version.tags["mlspec.digest"] == verdict["model_digest"]
    assert (version.tags["mlspec.verdict"], version.tags["mlspec.trained_model"]) == ("pass", "ridge")
    run = client.get_run(version.run_id)
    assert run.data.params["alpha"] == "1.0" and run.data.params["estimator"] == "sklearn.linear_model.Ridge"
    assert run.data.metrics["root_mean_squared_error"] == pytest.approx(55.7144569782409)
    assert run.info.status == "FINISHED"
    listed = {a.path for a in client.list_artifacts(version.run_id, "mlspec")}
    assert {"mlspec/bundle", "mlspec/MODEL_CARD.md", "mlspec/provenance.json", "mlspec/verdict.json"} <= listed
    history = [json.loads(v) for k, v in model.tags.items() if k.startswith("mlspec.history.")]
    assert sorted(e["event"] for e in history) == ["promote", "register"]
    # A retried job registers nothing and moves nothing.
    assert main(["deploy", "staging"]) == 0
    assert "already holds this bundle" in capsys.readouterr().out
    assert len(client.search_model_versions(f"name = '{mlflow_project}'")) == 1


def test_a_version_is_served_from_mlflow(mlflow_project: str, mlflow_server: str, tmp_path: Path) -> None:
    from mlspec.runtime import bundle

    assert main(["deploy", "staging"]) == 0
    service = load_service(MlflowRegistry(mlflow_server), mlflow_project, "staging", tmp_path)
    assert (service.info["version"], service.info["alias"], service.info["verdict"]) == (1, "staging", "pass")
    local = bundle.load(Path(".mlspec/stages/train/ridge"))
    row = {"age": 50, "sex": 1, "bmi": 25.0, "bp": 90.0, "s1": 180, "s2": 100.0, "s3": 50.0, "s4": 4.0,
           "s5": 4.5, "s6": 90}
    frame = to_frame(InputSchema.from_metadata(local.metadata), {k: [v] for k, v in row.items()})
    assert service.model.predict(frame).tolist() == local.model.predict(frame).tolist()


def test_without_a_tracking_uri(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit("deploy:\n", "registry:\n  backend: mlflow\n\ndeploy:\n")
    assert main(["registry", "list"]) == 1
    assert capsys.readouterr().err == (
        "error: registry.backend is mlflow, but MLFLOW_TRACKING_URI is not set; set it to the tracking server "
        "(GitLab: https://<gitlab>/api/v4/projects/<id>/ml/mlflow with MLFLOW_TRACKING_TOKEN)\n")


def test_an_unreachable_server_is_a_clear_error(project: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    edit("deploy:\n", "registry:\n  backend: mlflow\n\ndeploy:\n")
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # MLflow's default backs off for minutes
    assert main(["registry", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: MLflow ({uri}): listing the versions of 'diabetes' failed: ")
    assert len(err.splitlines()) == 1


def test_credentials_in_the_uri_are_never_shown() -> None:
    assert MlflowRegistry("https://user:secret@mlflow.example.com/api").location == "https://mlflow.example.com/api"


def test_without_the_mlflow_client(project: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    edit("deploy:\n", "registry:\n  backend: mlflow\n\ndeploy:\n")
    monkeypatch.delitem(sys.modules, "mlspec.registry.mlflowstore", raising=False)
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")] or ["mlflow"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: importing it raises
    assert main(["deploy", "staging"]) == 1
    assert capsys.readouterr().err == (
        "error: registry.backend is mlflow, but the MLflow client is not installed: pip install 'mlspec-ci[mlflow]' "
        "(in CI: add mlflow-skinny to ci.requirements)\n")


def test_the_gate_scores_the_mlflow_version_as_its_baseline(mlflow_project: str) -> None:
    """The registry baseline works through any backend: the version is downloaded, verified and scored."""
    from tests.runtime.gatekit import go

    assert main(["deploy", "staging"]) == 0
    edit("alpha: 1.0", "alpha: 30.0")
    report, lines, _ = go()
    assert report.ok
    assert "  baseline: scoring registry staging = ridge v1 on the evaluation rows" in lines
    verdict = json.loads(Path(".mlspec/stages/gate/verdict.json").read_text())
    assert verdict["baseline"]["source"] == "registry staging = ridge v1"
    assert verdict["baseline"]["registry"]["model"] == mlflow_project
    rmse = next(g for g in verdict["gates"] if g["metric"] == "root_mean_squared_error")
    assert rmse["reason"] == "55.45 <= max 65; 0.2694 better than the baseline 55.71"


def test_an_unreachable_server_stops_the_gate_naming_it(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    edit("deploy:\n", "registry:\n  backend: mlflow\n\ndeploy:\n")
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    assert main(["gate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: the baseline: cannot read alias 'staging' of 'diabetes' in the registry {uri}: "
                          f"MLflow ({uri}): ")
    assert len(err.splitlines()) == 1
