"""`mlspec run` with `tracking: {backend: mlflow}` as a real subprocess: the run reaches MLflow; with the server
down the run ends with a named error and exit 1, everything else intact, and `mlspec runs sync` sends it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mlspec.runtime.workspace import Workspace
from mlspec.tracking import outbox
from tests.mlflowserver import QUIET_MLFLOW
from tests.runtime.gatekit import CLEAN
from tests.runtime.stagekit import copy_example
from tests.servers import free_port


def mlspec(root: Path, *args: str, uri: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEAN and not k.startswith("MLFLOW_")}
    return subprocess.run([sys.executable, "-m", "mlspec", *args], cwd=root, capture_output=True, text=True,
                          env={**env, **QUIET_MLFLOW, "MLFLOW_TRACKING_URI": uri}, timeout=600)


def parents(client: MlflowClient, experiment: str) -> list[str]:
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    runs = client.search_runs([found.experiment_id], "tags.`mlspec.kind` = 'run'")
    return sorted(r.data.tags["mlspec.run_id"] for r in runs)


@pytest.mark.slow  # `mlspec run` three times as a subprocess, and `mlspec runs sync`
def test_a_run_reaches_mlflow_and_a_server_that_is_down_fails_it_after_everything_else(
        tmp_path: Path, mlflow_server: str) -> None:
    spec = copy_example("diabetes", tmp_path)
    spec.write_text(spec.read_text() + "\ntracking: {backend: mlflow, experiment: cli-run}\n")
    root = spec.parent
    client = MlflowClient(mlflow_server)

    done = mlspec(root, "run", "train:ridge", "--set", "training.models.ridge.params.alpha=2.0", uri=mlflow_server)
    assert done.returncode == 0, done.stderr
    assert "sent to MLflow, experiment 'cli-run': http://127.0.0.1:" in done.stdout
    assert "View run" not in done.stdout, "MLflow's own line per finished run is not printed"
    [first] = parents(client, "cli-run")
    found = client.search_runs([client.get_experiment_by_name("cli-run").experiment_id],  # type: ignore[union-attr]
                               f"tags.`mlspec.run_id` = '{first}' and tags.`mlspec.model` = 'ridge'")
    assert [r.data.params["alpha"] for r in found] == ["2.0"], "what was trained, with the override"
    assert client.search_runs([found[0].info.experiment_id], f"tags.`mlspec.run_id` = '{first}' and "
                              "tags.`mlspec.kind` = 'run'")[0].data.tags["mlspec.overrides"] == \
        "training.models.ridge.params.alpha=2.0"

    down = f"http://127.0.0.1:{free_port()}"
    failed = mlspec(root, "run", "train:ridge", "--set", "training.models.ridge.params.alpha=2.0", uri=down)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert f"tracking: the MLflow server {down} (from MLFLOW_TRACKING_URI) did not take run " in failed.stderr
    assert ": connection refused (is the server running?); 1 record(s) kept in " in failed.stderr
    assert "send them with `mlspec runs sync`" in failed.stderr
    box = outbox.folder(Workspace.for_spec(spec))
    assert len(outbox.pending(box)) == 1
    plan = mlspec(root, "plan", "train:ridge", "--set", "training.models.ridge.params.alpha=2.0", uri=down)
    assert plan.stdout.splitlines()[-1] == "mlspec plan: 0 to run, 3 up to date", "the run itself was done"

    synced = mlspec(root, "runs", "sync", uri=mlflow_server)
    assert synced.returncode == 0, synced.stderr
    assert outbox.pending(box) == []
    assert len(parents(client, "cli-run")) == 2, "the run that failed to send is in MLflow now"
