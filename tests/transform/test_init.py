from __future__ import annotations

import importlib

from mlspec import transform
from mlspec.runtime import trusted_types


def test_every_class_of_the_package_is_reviewed_and_nothing_else() -> None:
    assert trusted_types.REVIEWED["mlspec"] == frozenset(transform.TYPES)
    for name in transform.TYPES:
        module, cls = name.rsplit(".", 1)
        assert isinstance(getattr(importlib.import_module(module), cls), type)
