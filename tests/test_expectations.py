"""Expectation arguments are typed and row conditions parsed by mlspec: no user text reaches DataFrame.query."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlspec import rowcondition
from mlspec.errors import SpecError
from mlspec.load import load_text
from mlspec.runtime.context import StageError
from tests.runtime.stagekit import kit_for
from tests.test_load_errors import edit

REPO = Path(__file__).resolve().parent.parent
PWNED = '@data.__class__.__init__.__globals__.get("sys").modules.get("os").system("touch pwned") == 0'


def _first(text: str) -> str:
    with pytest.raises(SpecError) as info:
        load_text(text)
    return str(info.value.problems[0])


def test_reproducer_inline_fails_validate_and_creates_nothing(tmp_path: Path) -> None:
    kit = kit_for("breast-cancer", tmp_path)
    spec = kit.loaded.path
    text = spec.read_text().replace("{column: worst_area, mostly: 0.99}",
                                    "{column: worst_area, condition_parser: pandas, row_condition: '" + PWNED + "'}")
    spec.write_text(text)
    run = subprocess.run([sys.executable, "-m", "mlspec", "validate"], cwd=spec.parent, capture_output=True,
                         text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 1
    assert ("expect_column_values_to_not_be_null.row_condition: '@' refers to Python variables, which a row "
            "condition cannot use (at character 1)") in run.stderr
    assert not (spec.parent / "pwned").exists()


def test_reproducer_in_a_suite_file_fails_validate_and_the_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    kit = kit_for("wine", tmp_path)
    monkeypatch.chdir(kit.loaded.root)
    suite = kit.loaded.root / "gx" / "holdout_suite.json"
    entry = {"type": "expect_column_values_to_not_be_null",
             "kwargs": {"column": "alcohol", "row_condition": PWNED, "condition_parser": "pandas"}}
    expected = ("suite file 'gx/holdout_suite.json': expectations[0] (expect_column_values_to_not_be_null): "
                "row_condition: '@' refers to Python variables, which a row condition cannot use (at character 1)")
    # Changed after `mlspec validate` looked at it: the stage checks again before anything reaches GX.
    suite.write_text(json.dumps({"expectations": [entry]}))
    with pytest.raises(StageError) as err:
        kit.run("validate:holdout_suite")
    assert str(err.value) == expected
    assert not (kit.loaded.root / "pwned").exists()
    with pytest.raises(SpecError) as info:
        kit.reload()
    assert str(info.value.problems[0]).endswith("validation.holdout_suite.suite_file: " + expected)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("__import__('os').system('x') == 0",
         "function calls are not allowed; a row condition compares columns with literals, such as age > 18 and "
         "sex == 'F' (at character 11)"),
        ("`a` > 0 or @data.x == 1",
         "'@' refers to Python variables, which a row condition cannot use (at character 12)"),
        ("`a` > 0 or `b`", "expected a comparison (==, !=, <, <=, >, >=, in) after '`b`', found end of the condition "
         "(at character 15)"),
        ("a.__class__ == 1", "attribute access is not allowed; the only methods are .isnull(), .notnull(), .isna() "
         "and .notna() on a column (at character 2)"),
        ("a == 1, engine='python'", "write `==` to compare (at character 15)"),
        ("a > 1 & b < 2", "write `and` instead of '&' (at character 7)"),
        ("a < b", "comparing two columns is not supported; compare a column with a literal (at character 5)"),
        ("a == None", "None compares false with everything; write column.isnull() or column.notnull() "
         "(at character 6)"),
        ("a[0] == 1", "indexing is not allowed; a row condition compares columns with literals, such as age > 18 "
         "and sex == 'F' (at character 2)"),
        ("lambda: 1", "':' is not allowed; a row condition compares columns with literals, such as age > 18 and "
         "sex == 'F' (at character 7)"),
        ("a < 1 < 2", "chained comparisons are not supported; write `a < x and x < b` (at character 7)"),
        ("", "the row condition is empty; a row condition compares columns with literals, such as age > 18 and "
         "sex == 'F' (at character 1)"),
    ],
)
def test_injection_shapes_are_refused(condition: str, message: str) -> None:
    with pytest.raises(rowcondition.ConditionError) as err:
        rowcondition.parse(condition)
    assert str(err.value) == message


def test_backtick_names_cannot_break_out_of_gx_query() -> None:
    # GX pastes a column name between backticks; the grammar ends a name at the first backtick.
    with pytest.raises(rowcondition.ConditionError):
        rowcondition.parse("`a` == 1` or @self == 1 or `b` == 2")


LINE = "mlspec.yaml:13:9: validation.checks.expectations[0]."
EXP = "expect_column_values_to_not_be_null"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("{column: 3}", f"mlspec.yaml:13:55: validation.checks.expectations[0].{EXP}.column: "
         "expected a string, got the number 3"),
        ("{column: label, mostly: 1.5}", f"mlspec.yaml:13:70: validation.checks.expectations[0].{EXP}.mostly: "
         "expected a number from 0 to 1, got the number 1.5"),
        ("{column: label, mostly: high}", f"mlspec.yaml:13:70: validation.checks.expectations[0].{EXP}.mostly: "
         "expected a number from 0 to 1, got the string 'high'"),
        ("{column: label, result_format: summary}", f"mlspec.yaml:13:77: validation.checks.expectations[0]."
         f"{EXP}.result_format: expected one of 'BASIC', 'BOOLEAN_ONLY', 'COMPLETE', 'SUMMARY', got the string "
         "'summary'; did you mean 'SUMMARY'?"),
        ("{column: label, meta: [a]}", f"mlspec.yaml:13:68: validation.checks.expectations[0].{EXP}.meta: "
         "expected a mapping or null, got a list"),
        ("{column: label, catch_exceptions: 1}", f"mlspec.yaml:13:80: validation.checks.expectations[0].{EXP}."
         "catch_exceptions: expected true or false, got the number 1"),
        ("{column: label, condition_parser: great_expectations, row_condition: 'a > 1'}",
         f"mlspec.yaml:13:80: validation.checks.expectations[0].{EXP}.condition_parser: the string "
         "'great_expectations' is not supported: mlspec parses row_condition itself, in pandas syntax (age > 18 "
         "and sex == 'F'); write `condition_parser: pandas` or leave it out"),
        ("{column: label, row_condition: {type: pass_through}}", f"mlspec.yaml:13:77: validation.checks."
         f"expectations[0].{EXP}.row_condition: expected a condition written as text, such as \"age > 18 and sex "
         "== 'F'\", got a mapping"),
    ],
)
def test_bad_argument_types(args: str, message: str) -> None:
    assert _first(edit("{column: label}", args)) == message


def test_list_items_are_located() -> None:
    text = edit("expect_column_values_to_not_be_null: {column: label}",
                "expect_column_values_to_be_in_set: {column: label, value_set: [0, [1]]}")
    assert _first(text) == ("mlspec.yaml:13:75: validation.checks.expectations[0].expect_column_values_to_be_in_set."
                            "value_set[1]: expected a string, number, boolean, date or null, got a list")


def test_empty_suite_is_an_error() -> None:
    text = edit("    expectations:\n      - expect_column_values_to_not_be_null: {column: label}",
                "    expectations: []")
    assert _first(text) == ("mlspec.yaml:12:19: validation.checks.expectations: a suite with no expectations checks "
                            "nothing; add at least one, such as `- expect_table_row_count_to_be_between: "
                            "{min_value: 1}`")


def test_empty_suite_file_is_an_error(tmp_path: Path) -> None:
    kit = kit_for("wine", tmp_path)
    (kit.loaded.root / "gx" / "holdout_suite.json").write_text('{"expectations": []}')
    with pytest.raises(StageError) as err:
        kit.run("validate:holdout_suite")
    assert str(err.value).startswith("suite file 'gx/holdout_suite.json': \"expectations\" is empty: a suite with "
                                     "no expectations checks nothing")


def test_a_row_condition_really_filters_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kit = kit_for("diabetes", tmp_path)
    monkeypatch.chdir(kit.loaded.root)
    kit.edit_csv("data/train.csv", [5], "age", [7])
    kit.edit_csv("data/train.csv", [5], "sex", [1])
    result = kit.run("validate:train_ranges")
    assert result.failed is not None and "[0] expect_column_values_to_be_between(column='age'" in result.failed
    # The only bad age has sex == 1: a condition that keeps only sex == 2 rows (and the nulls) makes it pass.
    kit.edit_spec("{column: age, min_value: 18, max_value: 100}",
                  "{column: age, min_value: 18, max_value: 100, condition_parser: pandas, "
                  "row_condition: 'not (sex == 1) or `sex`.isnull()'}")
    result = kit.run("validate:train_ranges")
    assert result.failed is None, result.failed
    summary = (kit.out_dir("validate:train_ranges") / "summary.md").read_text()
    assert "row_condition='not (sex == 1) or `sex`.isnull()'" in summary


def test_the_query_gx_builds_holds_only_comparisons(tmp_path: Path) -> None:
    import pandas as pd
    from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine

    text = "`a b` == 'x` or @data.__class__ == 1 or `c' or c in [1, 2] and not (c > 1)"
    query = PandasExecutionEngine().condition_to_filter_clause(rowcondition.to_gx(rowcondition.parse(text)))
    assert query == ("(`a b` == 'x` or @data.__class__ == 1 or `c' or (c in [1, 2] and c <= 1) "
                     "or (c in [1, 2] and c.isnull()))")
    frame = pd.DataFrame({"a b": ["x` or @data.__class__ == 1 or `c", "z", "y"], "c": [5, 1, 2]})
    assert list(frame.query(query).index) == [0, 1]  # the string is a literal, compared, never evaluated
