"""Dates as numbers: ``DateParts`` turns date/datetime columns into their numeric parts.

A date is never a category: one-hot encoding its values gives a column per day that no future row matches,
and monitoring then sees "new categories" every run. Its parts (year, month, day, day of week, day of year,
and the hour when the values have a time) are numbers the model can learn from and that recur.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklearn.base import BaseEstimator, TransformerMixin

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

DATE_PARTS = ("year", "month", "day", "dayofweek", "dayofyear")
TIME_PARTS = ("hour",)
_ACCESSOR = {"dayofweek": "day_of_week", "dayofyear": "day_of_year"}  # pandas' own names (Monday is 0)


def parse(series: pd.Series) -> pd.Series:
    """``series`` as naive UTC datetimes: datetime dtypes as they are (time zones converted to UTC), text in
    ISO 8601 (dates, datetimes, with or without an offset); anything else, and missing values, as NaT."""
    import pandas as pd

    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    text = series.astype("string")  # ISO text only: a number is not a date, not even a Unix time
    parsed = pd.to_datetime(text.where(text.str.contains("-", regex=False)), errors="coerce",
                            format="ISO8601", utc=True)
    return parsed.dt.tz_localize(None)


def part(values: pd.Series, name: str) -> np.ndarray:
    """One part of parsed datetimes as floats, NaN where the value is missing."""
    import numpy as np

    out = getattr(values.dt, _ACCESSOR.get(name, name))
    return np.asarray(out.to_numpy(dtype=float, na_value=np.nan), dtype=float)


class DateParts(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Each input column becomes its :data:`DATE_PARTS`, plus the hour when any training value had a time."""

    def fit(self, x: pd.DataFrame, y: Any = None) -> DateParts:
        self.columns_ = [str(c) for c in x.columns]
        self.parts_ = []
        for column in self.columns_:
            values = parse(x[column])
            timed = bool((values.dropna() != values.dropna().dt.normalize()).any())
            self.parts_.append([*DATE_PARTS, *(TIME_PARTS if timed else ())])
        self.n_features_in_ = len(self.columns_)
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        import numpy as np
        import pandas as pd

        frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(x, columns=self.columns_)
        out: list[np.ndarray] = []
        for column, parts in zip(self.columns_, self.parts_, strict=True):
            values = parse(frame[column])
            out.extend(part(values, p) for p in parts)
        return np.column_stack(out) if out else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        import numpy as np

        return np.asarray([f"{c}_{p}" for c, parts in zip(self.columns_, self.parts_, strict=True) for p in parts],
                          dtype=object)
