from __future__ import annotations

import numpy as np
import pandas as pd
import skops.io as sio

from mlspec.transform.dates import DateParts, parse


def test_iso_text_dates_become_numeric_parts_and_missing_stays_missing() -> None:
    x = pd.DataFrame({"signup": ["2024-03-01", "2023-12-31", None, "not a date"]})
    parts = DateParts().fit(x)
    assert list(parts.get_feature_names_out()) == ["signup_year", "signup_month", "signup_day", "signup_dayofweek",
                                                   "signup_dayofyear"]
    out = parts.transform(x)
    assert out[0].tolist() == [2024, 3, 1, 4, 61]  # a Friday, the 61st day of a leap year
    assert out[1].tolist() == [2023, 12, 31, 6, 365]
    assert np.isnan(out[2]).all() and np.isnan(out[3]).all()


def test_an_hour_part_only_when_the_values_have_a_time() -> None:
    x = pd.DataFrame({"at": ["2024-03-01T13:45:00", "2024-03-02 08:00"]})
    parts = DateParts().fit(x)
    assert parts.get_feature_names_out()[-1] == "at_hour"
    assert parts.transform(x)[:, -1].tolist() == [13, 8]


def test_datetime_dtypes_and_offsets_are_parsed_as_utc() -> None:
    aware = pd.Series(pd.to_datetime(["2024-01-01T23:30:00+00:00"])).dt.tz_convert("Europe/Berlin")
    assert parse(aware).iloc[0] == pd.Timestamp("2024-01-01T23:30:00")
    assert parse(pd.Series(["2024-01-01T23:30:00-02:00"])).iloc[0] == pd.Timestamp("2024-01-02T01:30:00")
    # A number is not a date (not even a Unix time): parts of it would be nonsense.
    assert parse(pd.Series([20240101, 1700000000])).isna().all()


def test_skops_round_trip_gives_the_same_parts() -> None:
    x = pd.DataFrame({"a": ["2024-03-01T10:00", "2021-07-04T00:00"], "b": ["2020-02-29", None]})
    parts = DateParts().fit(x)
    data = sio.dumps(parts)
    assert sio.get_untrusted_types(data=data) == ["mlspec.transform.dates.DateParts"]
    loaded = sio.loads(data, trusted=["mlspec.transform.dates.DateParts"])
    np.testing.assert_array_equal(loaded.transform(x), parts.transform(x))
