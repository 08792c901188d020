"""`training.trust` end to end: a project's own estimator class (a package of the project, as skorch or torch
models would be) trains, evaluates, deploys and serves only when the spec trusts its exact type, and every
load says that it trusted it."""

from __future__ import annotations

import http.client
import json
import sys
from pathlib import Path

from tests.runtime.boostproject import write_project
from tests.servers import free_port, serve
from tests.support import run_mlspec

PACKAGE = '''\
"""A tiny scikit-learn compatible regressor, as a project would write its own."""
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


class Shrunk(RegressorMixin, BaseEstimator):
    def __init__(self, shrink=0.5):
        self.shrink = shrink

    def fit(self, x, y):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self.coef_ = np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)[0] * (1 - self.shrink)
        self.offset_ = float(np.mean(y)) * self.shrink
        return self

    def predict(self, x):
        return np.c_[np.asarray(x, dtype=float), np.ones(len(x))] @ self.coef_ + self.offset_
'''
TRUSTED = "trusting from training.trust: shrunk.Shrunk"


def _project(root: Path, trust: bool) -> Path:
    spec = write_project(root, "diabetes", "shrunk.Shrunk", "{shrink: 0.1}")
    (root / "shrunk").mkdir()
    (root / "shrunk" / "__init__.py").write_text(PACKAGE, encoding="utf-8")
    text = spec.read_text().replace("packages: [xgboost, lightgbm, catboost]", "packages: [shrunk]")
    if trust:
        text = text.replace("  models:\n", "  trust: [shrunk.Shrunk]\n  models:\n", 1)
    spec.write_text(text.replace("{min: 0.1}", "{min: 0.2}"), encoding="utf-8")
    return spec


def test_a_trusted_project_class_runs_end_to_end_and_each_load_says_so(tmp_path: Path) -> None:
    _project(tmp_path, trust=True)
    done = run_mlspec("run", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert TRUSTED in done.stdout  # evaluate loaded it
    meta = json.loads((tmp_path / ".mlspec/stages/train/m/metadata.json").read_text())
    assert meta["trusted_types"] == {"scikit-learn": ["numpy.dtype"], "training.trust": ["shrunk.Shrunk"]}
    assert run_mlspec("deploy", "production", cwd=tmp_path).returncode == 0

    port = free_port()
    with serve([sys.executable, "-m", "mlspec", "serve", "--port", str(port)], port, tmp_path) as running:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        row = {"age": 0.01, "sex": 0.05, "bmi": 0.06, "bp": 0.02, "s1": -0.04, "s2": -0.03, "s3": -0.04,
               "s4": 0.0, "s5": 0.02, "s6": -0.02, "cellar": "high"}
        conn.request("POST", "/predict", json.dumps({"rows": [row]}), {"Content-Type": "application/json"})
        answer = conn.getresponse()
        assert answer.status == 200
        assert isinstance(json.loads(answer.read())["predictions"][0], float)
        conn.close()
    assert TRUSTED in running.log.read_text()


def test_without_trust_training_stops_at_training_trust(tmp_path: Path) -> None:
    spec = _project(tmp_path, trust=False)
    done = run_mlspec("run", "train:m", cwd=tmp_path)
    assert done.returncode == 1
    line = next(n for n, text in enumerate(spec.read_text().splitlines(), 1) if text.startswith("training:"))
    said = done.stdout + done.stderr
    assert (f"mlspec.yaml:{line}:1: stage train:m: model 'm' (shrunk.Shrunk) holds types outside mlspec's "
            "reviewed allowlist: shrunk.Shrunk; if you trust them, list them in training.trust") in said
    assert "Traceback" not in done.stderr
