"""Real model bundles for the serving tests and the serving benchmark, trained in a second, registered in a
file registry (import as ``from tests.serve.models import ...``).

They are built with mlspec's own pipeline (:func:`mlspec.runtime.stages.train.make_pipeline`) and saved as
the train stage saves them, so the bundle, its input schema and its loading are the real ones.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mlspec.registry import FileRegistry
from mlspec.registry.base import Actor, Candidate
from mlspec.runtime import bundle
from mlspec.runtime.features import FeatureSet
from mlspec.runtime.hashing import file_digest, manifest, outputs_fingerprint
from mlspec.runtime.stages.train import input_schema, make_pipeline
from mlspec.spec import Preprocessing
from tests.support import EXAMPLES

BY = Actor("test", "local")


def diabetes_frame(source: str = "train") -> Any:
    import pandas as pd

    return pd.read_csv(EXAMPLES / "diabetes" / "data" / f"{source}.csv")


def train_diabetes(into: Path, estimator: Any = None) -> Path:
    """A regressor (default: Ridge) on the diabetes example: nine numeric columns and ``sex``, an
    integer-coded categorical."""
    from sklearn.linear_model import Ridge

    estimator = Ridge() if estimator is None else estimator
    path = f"{type(estimator).__module__.rsplit('._', 1)[0]}.{type(estimator).__name__}"
    features = FeatureSet("progression", ("age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"), ("sex",), True)
    return _save(into, diabetes_frame(), features, estimator, "regression", path)


def train_classifier(into: Path) -> Path:
    """A logistic regression with a numeric, a text categorical, an integer categorical and a boolean column."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    n = 60
    frame = pd.DataFrame({
        "size": [float(i % 7) for i in range(n)],
        "color": [("red", "blue", "green")[i % 3] for i in range(n)],
        "grade": [i % 4 for i in range(n)],
        "fresh": [i % 5 == 0 for i in range(n)],
        "label": ["yes" if (i % 7) > 3 else "no" for i in range(n)],
    })
    features = FeatureSet("label", ("size",), ("color", "grade", "fresh"), True)
    return _save(into, frame, features, LogisticRegression(), "binary", "sklearn.linear_model.LogisticRegression")


def _save(into: Path, frame: Any, features: FeatureSet, estimator: Any, task: str, path: str) -> Path:
    prep = Preprocessing()
    pipeline = make_pipeline(features, prep, estimator)
    pipeline.fit(frame[features.columns], frame[features.label])
    metadata = {"format": bundle.BUNDLE_FORMAT, "model": "m", "estimator": path, "params": {},
                "preprocessing": prep.model_dump(), "input": input_schema(frame, features, task, pipeline),
                "versions": {}}
    bundle.save(into, pipeline, metadata)
    return into


def register(registry: FileRegistry, model: str, bundle_dir: Path, alias: str = "production") -> int:
    digest = outputs_fingerprint(manifest(bundle_dir, file_digest) or {})
    meta = bundle.load(bundle_dir).metadata
    prov = {"model": model, "trained_model": "m", "estimator": meta["estimator"], "input": meta["input"],
            "bundle_digest": digest, "gate": {"verdict": "pass", "gates": []}}
    version, _ = registry.register(model, Candidate(bundle_dir, digest, "m", {"verdict": "pass"}, {}, prov), BY)
    registry.promote(model, alias, version.number, BY)
    return version.number


def registry_with_models(root: Path) -> FileRegistry:
    """A file registry holding ``diabetes`` and ``shop`` (the classifier), each with a ``production`` alias."""
    registry = FileRegistry(root)
    with tempfile.TemporaryDirectory() as tmp:
        register(registry, "diabetes", train_diabetes(Path(tmp) / "diabetes"))
        register(registry, "shop", train_classifier(Path(tmp) / "shop"))
    return registry
