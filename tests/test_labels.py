"""The positive-class rule of a binary target (mlspec.labels), with the exact messages users get."""

from __future__ import annotations

from typing import Any

import pytest

from mlspec.labels import match, natural_positive, positive_problem, resolve


@pytest.mark.parametrize(("seen", "positive"), [
    ([0, 1], 1), ([1, 0], 1), ([0.0, 1.0], 1.0), ([False, True], True),
    (["no", "yes"], None), ([1, 2], None), (["0", "1"], None), ([0], None), ([0, 1, 2], None),
])
def test_labels_that_name_their_positive_class(seen: list[Any], positive: Any) -> None:
    assert natural_positive(seen) == positive


@pytest.mark.parametrize(("declared", "seen", "found"), [
    ("yes", ["no", "yes"], "yes"),
    (1, ["0", "1"], "1"),  # a number written for text labels
    (True, [0, 1], None),  # true is not 1: YAML's true for labels 0/1 is a mistake to report
    (1, [False, True], None),
    ("Yes", ["no", "yes"], None),  # exact spelling
])
def test_match(declared: Any, seen: list[Any], found: Any) -> None:
    assert match(declared, seen) == found
    if found is not None:
        assert type(match(declared, seen)) is type(found)


def test_resolve_prefers_the_declared_class_then_the_natural_one() -> None:
    assert resolve(["affair", "faithful"], "affair") == "affair"
    assert resolve([0, 1], None) == 1
    assert resolve(["affair", "faithful"], None) == "faithful"  # bundles from before positive_class


@pytest.mark.parametrize(("seen", "declared", "expected"), [
    ({0: 10, 1: 5}, None, None),
    ({False: 3, True: 4}, None, None),
    ({"no": 100, "yes": 20}, "yes", None),
    ({"no": 100, "yes": 20, "maybe": 1}, None, None),  # three labels: the task's problem, said elsewhere
    ({"no": 100, "yes": 20}, None,
     'the task is binary and the labels are "no" (100 rows), "yes" (20 rows), which do not say which one is '
     'positive; name it under data, `positive_class: "no"` or `positive_class: "yes"` (the class whose precision, '
     "recall and probability the metrics are about)"),
    (["faithful", "affair"], None,
     'the task is binary and the labels are "affair", "faithful", which do not say which one is positive; name it '
     'under data, `positive_class: "affair"` or `positive_class: "faithful"` (the class whose precision, recall '
     "and probability the metrics are about)"),
    ({"no": 100, "yes": 20}, True,
     'positive_class true is not one of the labels, which are "no" (100 rows), "yes" (20 rows); YAML reads an '
     'unquoted yes as true: quote it, `positive_class: "yes"`'),
    ({"N": 1, "Y": 2}, False,
     'positive_class false is not one of the labels, which are "N" (1 row), "Y" (2 rows); YAML reads an '
     'unquoted N as false: quote it, `positive_class: "N"`'),
    ({"no": 100, "yes": 20}, "Yes",
     'positive_class "Yes" is not one of the labels, which are "no" (100 rows), "yes" (20 rows); write one of '
     'them, e.g. `positive_class: "no"`'),
    ({0: 3, 1: 4}, 2, "positive_class 2 is not one of the labels, which are 0 (3 rows), 1 (4 rows); write one of "
     "them, e.g. `positive_class: 0`"),
])
def test_positive_problem(seen: Any, declared: Any, expected: str | None) -> None:
    assert positive_problem(seen, declared) == expected
