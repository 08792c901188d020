"""Which columns of a table are the features and the label (``data.target``), from the spec or inferred from the dtypes.

Declared features (``data.features``) are checked against the table so that a typo fails with the column,
the source and a suggestion instead of a KeyError deep inside scikit-learn. Without a declaration every
column but the label and ``data.exclude`` is a feature: numeric dtypes are numeric, everything else
(strings, booleans, categoricals, dates) is categorical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlspec.runtime.context import StageError
from mlspec.suggest import closest

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.spec import Data


@dataclass(frozen=True)
class FeatureSet:
    label: str
    """The label column: what the models learn to predict (``data.target``)."""
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    declared: bool
    """True when the columns come from ``data.features``, False when inferred from dtypes."""

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def resolve(data: Data, frame: pd.DataFrame, source: str) -> FeatureSet:
    """The feature columns of ``frame`` (read from data source ``source``); raise :class:`StageError`."""
    columns = [str(c) for c in frame.columns]
    require_label(data.target, columns, source)
    if data.features is not None:
        for kind in ("numeric", "categorical"):
            for i, name in enumerate(getattr(data.features, kind)):
                if name not in columns:
                    raise StageError(
                        f"data source {source!r} has no column {name!r}, declared in data.features.{kind}"
                        + _suggest(name, columns),
                        ("data", "features", kind, i),
                    )
        return FeatureSet(data.target, tuple(data.features.numeric), tuple(data.features.categorical), True)
    return infer(frame, data.target, data.exclude)


def infer(frame: pd.DataFrame, label: str, exclude: Sequence[str] = ()) -> FeatureSet:
    import pandas as pd

    numeric: list[str] = []
    categorical: list[str] = []
    skip = {label, *exclude}
    for column, dtype in frame.dtypes.items():
        name = str(column)
        if name in skip:
            continue
        # Booleans are numeric to pandas, but imputing a median of flags makes no sense: encode them.
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            numeric.append(name)
        else:
            categorical.append(name)
    return FeatureSet(label, tuple(numeric), tuple(categorical), False)


def require_label(label: str, columns: Sequence[str], source: str) -> None:
    if label not in columns:
        raise StageError(
            f"data source {source!r} has no target column {label!r}" + _suggest(label, columns),
            ("data", "target"),
        )


def require_columns(
    columns: Sequence[str], present: Sequence[str], source: str, spec_path: tuple[str | int, ...], why: str
) -> None:
    """Raise when ``present`` lacks any of ``columns``; ``why`` names who needs them ("model 'forest'")."""
    missing = [c for c in columns if c not in present]
    if not missing:
        return
    if len(missing) == 1:
        hint = _suggest(missing[0], present)
        raise StageError(f"data source {source!r} has no column {missing[0]!r}, needed by {why}{hint}",
                         spec_path)
    listed = ", ".join(repr(c) for c in missing)
    raise StageError(f"data source {source!r} lacks {len(missing)} columns needed by {why}: {listed}",
                     spec_path)


def _suggest(name: str, columns: Sequence[str]) -> str:
    match = closest(name, columns)
    return f"; did you mean {match!r}?" if match is not None else ""
