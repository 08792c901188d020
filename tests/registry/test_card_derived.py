from __future__ import annotations

from mlspec.registry.card import render


def test_the_card_lists_the_derived_features_with_their_definitions() -> None:
    card = render({"model": "m", "input": {
        "features": [{"name": "income", "kind": "numeric", "dtype": "float64"},
                     {"name": "signup", "kind": "datetime", "dtype": "str"}],
        "derived": {"log_income": {"log": "income"}, "band": {"bucket": "income", "edges": [10.0, 20.0]}},
        "target": "y", "target_dtype": "int64"}})
    assert "| `signup` | datetime | str |" in card
    assert "Derived features, computed inside the model from these columns: 2." in card
    assert '| `log_income` | `log: "income"` |' in card
    assert '| `band` | `bucket: "income", edges: [10.0, 20.0]` |' in card


def test_no_derived_section_without_derived_features() -> None:
    assert "Derived features" not in render({"model": "m", "input": {"features": []}})
