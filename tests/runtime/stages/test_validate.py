"""The validate stage: real Great Expectations 1.x suites on copies of the examples."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlspec.runtime.context import StageError
from tests.runtime.stagekit import kit_for, tree

SUITES = [
    ("breast-cancer", "train_quality", 6),
    ("breast-cancer", "holdout_quality", 2),
    ("wine", "train_schema", 2),
    ("wine", "holdout_suite", 7),
    ("diabetes", "train_ranges", 4),
]


@pytest.mark.parametrize(("example", "suite", "count"), SUITES)
def test_example_suites_pass(
    example: str, suite: str, count: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kit = kit_for(example, tmp_path)
    project = kit.loaded.root
    monkeypatch.chdir(project)  # GX must not create a gx/ project folder in the working directory
    before = tree(project)
    result = kit.run(f"validate:{suite}")
    assert result.failed is None
    source = kit.loaded.spec.validation[suite].data
    rows = len(pd.read_csv(project / kit.loaded.spec.data.sources[source].path))
    assert result.metrics == {"rows": rows, "expectations": count, "failed": 0}
    assert result.summary == f"{count} expectations passed on {source!r}"
    out = kit.out_dir(f"validate:{suite}")
    assert sorted(p.name for p in out.iterdir()) == ["result.json", "summary.md"]
    gx_result = json.loads((out / "result.json").read_text())
    assert gx_result["success"] is True
    assert gx_result["statistics"]["evaluated_expectations"] == count
    summary = (out / "summary.md").read_text()
    assert f"**passed**: {count} of {count} expectations passed." in summary
    assert tree(project) == before
    assert (project / "gx").exists() == any(p.startswith("gx/") for p in before)


def test_failing_suite_lists_failed_expectations_with_sample_values(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_csv("data/train.csv", [3, 10, 11], "mean_radius", [99.5, 123.0, 4.5])
    result = kit.run("validate:train_quality")
    assert result.failed == (
        "suite 'train_quality' on data source 'train': 1 of 6 expectations failed:\n"
        "  - [3] expect_column_values_to_be_between(column='mean_radius', min_value=5.0, max_value=40.0): "
        "3 unexpected values (0.75%), e.g. 99.5, 123.0, 4.5"
    )
    assert result.metrics == {"rows": 398, "expectations": 6, "failed": 1}
    out = kit.out_dir("validate:train_quality")
    gx_result = json.loads((out / "result.json").read_text())
    assert gx_result["success"] is False
    summary = (out / "summary.md").read_text()
    assert "**failed**: 5 of 6 expectations passed." in summary
    assert (
        "| 3 | `expect_column_values_to_be_between(column='mean_radius', min_value=5.0, max_value=40.0)` "
        "| FAILED | 3 unexpected values (0.75%), e.g. 99.5, 123.0, 4.5 |"
    ) in summary


def test_failures_are_listed_in_suite_order(tmp_path: Path) -> None:
    kit = kit_for("diabetes", tmp_path)
    kit.edit_csv("data/train.csv", [0, 1], "sex", [3, 0])
    kit.edit_csv("data/train.csv", [5], "age", [7])
    result = kit.run("validate:train_ranges")
    assert result.failed == (
        "suite 'train_ranges' on data source 'train': 2 of 4 expectations failed:\n"
        "  - [0] expect_column_values_to_be_between(column='age', min_value=18.0, max_value=100.0): "
        "1 unexpected values (0.32%), e.g. 7\n"
        "  - [2] expect_column_values_to_be_in_set(column='sex', value_set=[1, 2]): "
        "2 unexpected values (0.65%), e.g. 3, 0"
    )


def test_string_samples_are_quoted_and_escaped_in_the_summary(tmp_path: Path) -> None:
    kit = kit_for("wine", tmp_path)
    kit.edit_csv("data/train.csv", [0, 4], "cultivar", ["x|y", "two"])
    result = kit.run("validate:train_schema")
    # One text value makes pandas read the whole column as text: every label is now unexpected.
    assert result.failed == (
        "suite 'train_schema' on data source 'train': 1 of 2 expectations failed:\n"
        "  - [1] expect_column_values_to_be_in_set(column='cultivar', value_set=[0, 1, 2]): "
        "124 unexpected values (100.00%), e.g. 'x|y', '0', '0', '0', 'two'"
    )
    summary = (kit.out_dir("validate:train_schema") / "summary.md").read_text()
    assert (
        "| 1 | `expect_column_values_to_be_in_set(column='cultivar', value_set=[0, 1, 2])` | FAILED "
        "| 124 unexpected values (100.00%), e.g. 'x\\|y', '0', '0', '0', 'two' |"
    ) in summary


def test_warn_only_suite_passes_and_keeps_the_failures_in_its_summary(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_spec("  train_quality:\n    data: train\n", "  train_quality:\n    data: train\n    warn_only: true\n")
    kit.edit_csv("data/train.csv", [0], "mean_radius", [77.0])
    result = kit.run("validate:train_quality")
    assert result.failed is None
    assert result.summary == "suite 'train_quality' on data source 'train': 1 of 6 expectations failed (warn_only)"
    assert result.metrics["failed"] == 1
    assert kit.logs[-1] == (
        "warning: [3] expect_column_values_to_be_between(column='mean_radius', min_value=5.0, "
        "max_value=40.0): 1 unexpected values (0.25%), e.g. 77.0"
    )
    summary = (kit.out_dir("validate:train_quality") / "summary.md").read_text()
    assert "**passed with warnings (warn_only)**: 5 of 6 expectations passed." in summary
    assert "| warning | 1 unexpected values (0.25%), e.g. 77.0 |" in summary


def test_suite_file_failure(tmp_path: Path) -> None:
    kit = kit_for("wine", tmp_path)
    kit.edit_csv("data/holdout.csv", [2], "alcohol", [17.25])
    result = kit.run("validate:holdout_suite")
    assert result.failed == (
        "suite 'holdout_suite' on data source 'holdout': 1 of 7 expectations failed:\n"
        "  - [4] expect_column_values_to_be_between(column='alcohol', min_value=10.0, max_value=16.0): "
        "1 unexpected values (1.85%), e.g. 17.25"
    )


def test_expectation_on_a_missing_column_fails_with_the_reason(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_spec("{column: worst_area, mostly: 0.99}", "{column: worst_areaa}")
    result = kit.run("validate:train_quality")
    assert result.failed == (
        "suite 'train_quality' on data source 'train': 1 of 6 expectations failed:\n"
        "  - [5] expect_column_values_to_not_be_null(column='worst_areaa'): "
        'error: The column "worst_areaa" in BatchData does not exist.'
    )


def test_gx_still_refuses_what_the_catalogue_types_allow(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    kit.edit_spec("expect_column_values_to_not_be_null: {column: worst_area, mostly: 0.99}",
                  "expect_column_values_to_be_between: {column: worst_area, min_value: null, max_value: null}")
    with pytest.raises(StageError) as err:
        kit.run("validate:train_quality")
    assert str(err.value).startswith("expect_column_values_to_be_between: ")
    assert err.value.spec_path == (
        "validation", "train_quality", "expectations", 5, "expect_column_values_to_be_between"
    )


SUITE_FILE = "suite file 'gx/holdout_suite.json': "


def _suite_entries() -> list[dict[str, object]]:
    return [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 30}}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("{", "1:2: not valid JSON: Expecting property name enclosed in double quotes"),
        ("[]", 'is not a Great Expectations suite: expected an object with an "expectations" list'),
        ({"name": "s"}, 'is not a Great Expectations suite: expected an object with an "expectations" list'),
        ({"expectations": [{"kwargs": {}}]}, 'expectations[0] is not an object with a "type"'),
        (
            {"expectations": [*_suite_entries(), {"type": "expect_column_values_to_not_be_nul",
                                                  "kwargs": {"column": "a"}}]},
            "expectations[1] (expect_column_values_to_not_be_nul): unknown Great Expectations expectation "
            "'expect_column_values_to_not_be_nul'; did you mean 'expect_column_values_to_not_be_null'?",
        ),
        (
            {"expectations": [{"type": "expect_column_values_to_be_between",
                               "kwargs": {"column": "alcohol", "min_value": "ten"}}]},
            "expectations[0] (expect_column_values_to_be_between): min_value: expected a number, a date (YYYY-MM-DD) "
            "or null, got the string 'ten'",
        ),
        (
            {"expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {}}]},
            "expectations[0] (expect_column_values_to_not_be_null): expect_column_values_to_not_be_null needs "
            "'column'; write `expect_column_values_to_not_be_null: {column: ...}`",
        ),
        (
            {"expectations": [{"type": "expect_column_values_to_not_be_null",
                               "kwargs": {"column": "a", "colour": "red"}}]},
            "expectations[0] (expect_column_values_to_not_be_null): unknown argument 'colour' of "
            "expect_column_values_to_not_be_null; did you mean 'column'?",
        ),
        (
            {"expectations": [{"type": "expect_table_row_count_to_be_between", "kwarg": {"min_value": 1}}]},
            "expectations[0]: unknown key 'kwarg'; did you mean 'kwargs'?",
        ),
    ],
)
def test_bad_suite_file(content: object, message: str, tmp_path: Path) -> None:
    kit = kit_for("wine", tmp_path)
    path = kit.loaded.root / "gx" / "holdout_suite.json"
    if content is None:
        path.unlink()
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(StageError) as err:
        kit.run("validate:holdout_suite")
    expected = "suite file gx/holdout_suite.json:" + message if message[0].isdigit() else SUITE_FILE + message
    assert str(err.value) == expected
    assert err.value.spec_path == ("validation", "holdout_suite", "suite_file")
    lines = kit.loaded.path.read_text().splitlines()
    assert lines[kit.loaded.line_of(*err.value.spec_path).line - 1] == "    suite_file: gx/holdout_suite.json"


def test_a_suite_file_swapped_for_a_symlink_out_after_validation_is_never_read(tmp_path: Path) -> None:
    kit = kit_for("wine", tmp_path)  # validated while the suite is a plain file in the project
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps({"expectations": _suite_entries()}))
    path = kit.loaded.root / "gx" / "holdout_suite.json"
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(StageError) as err:
        kit.run("validate:holdout_suite")
    assert str(err.value) == (f"suite file 'gx/holdout_suite.json' resolves outside the project (to "
                              f"{outside.resolve()}); move the file into the project")
    assert err.value.spec_path == ("validation", "holdout_suite", "suite_file")


def test_values_of_a_column_the_spec_does_not_use_never_reach_results_or_logs(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    path = kit.loaded.root / "data/train.csv"
    frame = pd.read_csv(path)
    frame["api_key"] = [f"sk-planted-{i}" for i in range(len(frame))]
    frame.to_csv(path, index=False)
    kit.edit_spec("  target: malignant\n", "  target: malignant\n  exclude: [api_key]\n")
    kit.edit_spec("      - expect_table_row_count_to_be_between: {min_value: 100}\n",
                  "      - expect_table_row_count_to_be_between: {min_value: 100}\n"
                  "      - expect_column_values_to_match_regex: {column: api_key, regex: '^pk-'}\n"
                  "      - expect_column_max_to_be_between: {column: api_key, min_value: 0, max_value: 1}\n"
                  "      - expect_column_values_to_be_between: {column: mean_radius, min_value: 5, max_value: 6}\n")
    result = kit.run("validate:train_quality")
    assert result.failed is not None
    out = kit.out_dir("validate:train_quality")
    written = (out / "result.json").read_text() + (out / "summary.md").read_text() + result.failed
    assert "sk-planted" not in written
    assert "column='api_key', regex='^pk-'): " in result.failed  # the failure itself is still reported
    # A used column keeps its sample values: they are what a person needs to fix the data.
    assert "column='mean_radius', min_value=5.0, max_value=6.0): " in result.failed
    assert ", e.g. " in result.failed.split("mean_radius")[1]
