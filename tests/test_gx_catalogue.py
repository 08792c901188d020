"""The static expectation catalogue that lets `validate` avoid importing Great Expectations agrees with it."""

from __future__ import annotations

from mlspec import expectations
from mlspec.expectations import catalogue_from_gx
from mlspec.gx_catalogue import CATALOGUE, COMMON_TYPES, TYPES


def test_expectation_catalogue_matches_installed_great_expectations() -> None:
    assert catalogue_from_gx() == (CATALOGUE, TYPES, COMMON_TYPES), (
        "mlspec/gx_catalogue.py is out of date; regenerate it with `python -m mlspec.expectations`"
    )


def test_expectation_lookup() -> None:
    info = expectations.lookup("expect_column_values_to_be_between")
    assert info is not None
    assert info.required == ("column",)
    assert {"min_value", "max_value", "mostly", "meta"} <= set(info.allowed)
    assert info.kinds("mostly") == ("number[0.0,1.0]",)
    assert info.kinds("min_value") == ("number", "date", "null")
    assert info.kinds("result_format") == ("=BASIC", "=BOOLEAN_ONLY", "=COMPLETE", "=SUMMARY")
    assert expectations.lookup("expect_nothing") is None


def test_every_argument_has_a_type() -> None:
    for name, (required, optional) in CATALOGUE.items():
        assert sorted(TYPES[name]) == sorted((*required, *optional)), name
