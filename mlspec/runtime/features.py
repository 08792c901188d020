"""Which columns of a table are the features and the label (``data.target``), from the spec or inferred from the dtypes.

Declared features (``data.features``) are checked against the table so that a typo fails with the column,
the source and a suggestion instead of a KeyError deep inside scikit-learn. Without a declaration every
column but the label and ``data.exclude`` is a feature: numeric dtypes are numeric, datetime dtypes and text
columns whose values are all ISO dates are datetime (with a notice saying how to declare it), everything else
(strings, booleans, categoricals) is categorical.

``data.derived`` adds features computed from columns; the columns they read must be in the table too (or be
earlier derived features), and they are raw inputs of the model even when they are not features themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlspec.runtime.context import StageError
from mlspec.spec import derived_reads
from mlspec.suggest import closest

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.spec import Data, DerivedFeature

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
"""What a text value must look like for an inferred datetime feature: an ISO 8601 date or date and time."""
DATE_SAMPLE = 1000


@dataclass(frozen=True)
class FeatureSet:
    label: str
    """The label column: what the models learn to predict (``data.target``)."""
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    declared: bool
    """True when the columns come from ``data.features``, False when inferred from dtypes."""
    datetime: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    """The names of ``data.derived``, in spec order (numeric features computed inside the Pipeline)."""
    derived_inputs: tuple[str, ...] = ()
    """Raw columns that derived features read and that are not features themselves."""
    notices: tuple[str, ...] = ()
    """What inference decided that the user may want to write down (an inferred datetime column)."""

    @property
    def columns(self) -> list[str]:
        """The raw columns the model reads: what a request to it must carry."""
        return [*self.numeric, *self.categorical, *self.datetime, *self.derived_inputs]

    def kind(self, column: str) -> str:
        if column in self.datetime:
            return "datetime"
        if column in self.categorical:
            return "categorical"
        return "numeric"


def resolve(data: Data, frame: pd.DataFrame, source: str) -> FeatureSet:
    """The feature columns of ``frame`` (read from data source ``source``); raise :class:`StageError`."""
    columns = [str(c) for c in frame.columns]
    require_label(data.target, columns, source)
    if data.features is not None:
        for kind in ("numeric", "categorical", "datetime"):
            for i, name in enumerate(getattr(data.features, kind)):
                if name not in columns:
                    raise StageError(
                        f"data source {source!r} has no column {name!r}, declared in data.features.{kind}"
                        + _suggest(name, columns),
                        ("data", "features", kind, i),
                    )
        found = FeatureSet(data.target, tuple(data.features.numeric), tuple(data.features.categorical), True,
                           tuple(data.features.datetime))
    else:
        found = infer(frame, data.target, [*data.exclude, *data.derived], source)
    return _with_derived(found, data.derived, columns, source)


def infer(frame: pd.DataFrame, label: str, exclude: Sequence[str] = (), source: str = "") -> FeatureSet:
    import pandas as pd

    numeric: list[str] = []
    categorical: list[str] = []
    datetime: list[str] = []
    notices: list[str] = []
    skip = {label, *exclude}
    for column, dtype in frame.dtypes.items():
        name = str(column)
        if name in skip:
            continue
        # Booleans are numeric to pandas, but imputing a median of flags makes no sense: encode them.
        if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
            numeric.append(name)
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            datetime.append(name)
        elif looks_like_dates(frame[name]):
            datetime.append(name)
            notices.append(f"column {name!r} of data source {source!r} holds ISO dates: it is a datetime feature "
                           f"(its year, month, day, ... parts); declare it with data.features.datetime: [{name}], "
                           f"or add it to data.exclude")
        else:
            categorical.append(name)
    return FeatureSet(label, tuple(numeric), tuple(categorical), False, tuple(datetime), notices=tuple(notices))


def looks_like_dates(series: pd.Series) -> bool:
    """Whether every non-missing value of (a fixed sample of) a text column is an ISO date or datetime."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return False
    values = series.dropna()
    if values.empty:
        return False
    sample = values.iloc[:DATE_SAMPLE]
    return all(isinstance(v, str) and ISO_DATE.match(v.strip()) for v in sample)


def _with_derived(found: FeatureSet, derived: dict[str, DerivedFeature], columns: Sequence[str],
                  source: str) -> FeatureSet:
    """``found`` with ``data.derived``: their inputs checked against the table (or earlier derived features)."""
    known = list(columns)
    extra: list[str] = []
    for name, definition in derived.items():
        if name in columns:
            raise StageError(f"derived feature {name!r} has the name of a column of data source {source!r}; "
                             "rename it", ("data", "derived", name))
        for column, where in derived_reads(definition):
            if column not in known:
                raise StageError(f"derived feature {name!r} reads column {column!r}, which data source {source!r} "
                                 "does not have" + _suggest(column, known), ("data", "derived", name, *where))
            if column == found.label:
                raise StageError(f"derived feature {name!r} reads the target {column!r}: a model cannot have its "
                                 "label as an input when it predicts", ("data", "derived", name, *where))
            if column in columns and column not in found.columns:
                extra.append(column)
        known.append(name)
    return FeatureSet(found.label, found.numeric, found.categorical, found.declared, found.datetime,
                      tuple(derived), tuple(dict.fromkeys(extra)), found.notices)


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
