"""`mlspec serve` predicts labels by the decision threshold recorded in the model's bundle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mlspec.registry import FileRegistry
from mlspec.runtime import bundle
from mlspec.serve import load_service
from tests.serve.conftest import running
from tests.serve.models import register, train_classifier

ROWS = [{"size": float(s), "color": c, "grade": g, "fresh": f}
        for s, c, g, f in [(0, "red", 0, True), (3, "blue", 1, False), (4, "green", 2, False), (6, "red", 3, True),
                           (5, "blue", 0, False), (2, "green", 1, True)]]


def _thresholded_version(tmp_path: Path, threshold: float) -> FileRegistry:
    folder = train_classifier(tmp_path / "bundle")
    meta_file = folder / bundle.METADATA_FILE
    meta = json.loads(meta_file.read_text())
    meta["decision"] = {"positive_class": "yes", "threshold": threshold}  # as the train stage records it
    meta_file.write_text(json.dumps(meta))
    registry = FileRegistry(tmp_path / "registry")
    register(registry, "shop", folder)
    return registry


def test_serve_predicts_by_the_bundles_threshold(tmp_path: Path) -> None:
    registry = _thresholded_version(tmp_path, 0.9)
    service = load_service(registry, "shop", "production", tmp_path / "scratch")
    assert service.decision == ("yes", 0.9)
    with running(service) as client:
        answer = client.predict({"rows": ROWS}, "/predict?probabilities=true")
    assert answer.status == 200
    body = answer.body
    proba = np.asarray(body["probabilities"])
    positive = body["classes"].index("yes")
    assert body["predictions"] == ["yes" if p >= 0.9 else "no" for p in proba[:, positive]]
    # The cut matters on these rows: the estimator's own predict (0.5) calls more of them "yes".
    own = service.model.predict(pd.DataFrame(ROWS)).tolist()
    assert own != body["predictions"] and own.count("yes") > body["predictions"].count("yes")
