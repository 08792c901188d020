"""What training saw per feature, recorded in the bundle, and the values of a request it never saw."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from mlspec.runtime.seen import MAX_CATEGORIES, Seen, counts, find, record


def _seen(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> Seen:
    # Through JSON, as the bundle's metadata.json carries it.
    seen = Seen.from_input(json.loads(json.dumps({"seen": record(frame, numeric, categorical)})))
    assert seen is not None
    return seen


def test_record_keeps_categories_and_finite_ranges_and_drops_missing_values() -> None:
    frame = pd.DataFrame({"island": ["Dream", "Biscoe", None, "Dream"], "sex": [2, 1, 1, 2],
                          "bill": [39.1, np.nan, 46.5, np.inf], "flag": [True, False, True, True]})
    assert record(frame, ["bill"], ["island", "sex", "flag"]) == {
        "categories": {"island": ["Biscoe", "Dream"], "sex": [1, 2], "flag": [False, True]},
        "ranges": {"bill": [39.1, 46.5]},
    }


def test_a_column_with_too_many_values_to_be_a_category_set_is_not_recorded() -> None:
    frame = pd.DataFrame({"id": [f"c{i}" for i in range(MAX_CATEGORIES + 1)]})
    seen = _seen(frame, [], ["id"])
    assert seen.categories == {}
    assert find(seen, {"id": ["never"]}) == []


def test_find_names_each_value_and_counts_sum_them_per_feature() -> None:
    frame = pd.DataFrame({"island": ["Dream", "Biscoe"], "sex": [1, 2], "bill": [30.0, 50.0],
                          "flag": [True, False]})
    seen = _seen(frame, ["bill"], ["island", "sex", "flag"])
    columns = {"island": ["Dream", "Atlantis", None, "dream"], "sex": [1, 2.0, 3, 1],
               "bill": [30.0, 50.0, 29.9, 1e6], "flag": [True, False, True, False]}
    issues = find(seen, columns)
    assert [(i.kind, i.row, i.column, i.value) for i in issues] == [
        ("unseen_categories", 1, "island", "Atlantis"), ("unseen_categories", 3, "island", "dream"),
        ("unseen_categories", 2, "sex", 3), ("out_of_range", 2, "bill", 29.9), ("out_of_range", 3, "bill", 1e6)]
    assert counts(issues) == {"unseen_categories": {"island": 2, "sex": 1}, "out_of_range": {"bill": 2}}
    assert issues[0].explain(seen) == "'Atlantis' was never seen in training (seen: 'Biscoe', 'Dream')"
    assert issues[3].explain(seen) == "29.9 is outside the training range 30 to 50"


def test_a_boolean_is_not_the_number_one() -> None:
    seen = _seen(pd.DataFrame({"grade": [0, 1, 2], "flag": [True, False, True]}), [], ["grade", "flag"])
    assert [(i.column, i.value) for i in find(seen, {"grade": [True], "flag": [1]})] == [("grade", True), ("flag", 1)]


def test_a_bundle_from_before_the_record_has_nothing_to_compare() -> None:
    assert Seen.from_input({"features": [], "target": "y"}) is None
    assert counts([]) == {"unseen_categories": {}, "out_of_range": {}}
