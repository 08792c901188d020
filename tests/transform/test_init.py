from __future__ import annotations

import importlib

from mlspec import transform
from mlspec.runtime import trusted_types


def test_every_class_of_the_package_is_reviewed_and_nothing_else() -> None:
    # mlspec's entry also reviews the label-code wrapper of the boosting classifiers (mlspec.runtime).
    reviewed = {t for t in trusted_types.REVIEWED["mlspec"] if t.startswith("mlspec.transform.")}
    assert reviewed == set(transform.TYPES)
    for name in transform.TYPES:
        module, cls = name.rsplit(".", 1)
        assert isinstance(getattr(importlib.import_module(module), cls), type)
