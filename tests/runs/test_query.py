"""Conditions (``--where``), filters and run references, over hand-made records."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.errors import MlspecError
from mlspec.runs.history import History
from mlspec.runs.query import Condition, Filters, RunNotFound, find, parse_where, resolve
from tests.runs.records import record


@pytest.mark.parametrize(("text", "parsed"), [
    ("roc_auc>=0.9", Condition(None, "roc_auc", ">=", 0.9)),
    ("forest.roc_auc < 1e-1", Condition("forest", "roc_auc", "<", 0.1)),
    ("my-model.v2.f1==1", Condition("my-model.v2", "f1", "==", 1.0)),
    ("rmse!=-3", Condition(None, "rmse", "!=", -3.0)),
])
def test_conditions(text: str, parsed: Condition) -> None:
    assert parse_where(text) == parsed


@pytest.mark.parametrize("text", ["roc_auc", "roc_auc=0.9", "roc_auc>=", ">=0.9", "roc_auc>=nan", "roc_auc>=inf",
                                  "roc auc>=0.9", "roc_auc>=0.9 and f1>0"])
def test_malformed_conditions_name_the_form(text: str) -> None:
    with pytest.raises(MlspecError, match=r"expected \[MODEL\.\]METRIC OP NUMBER with OP one of >= <= == != > <"):
        parse_where(text)


def test_filters_narrow_by_index_and_check_the_merged_run(tmp_path: Path) -> None:
    h = History(tmp_path / "runs.db")
    for n, (branch, auc) in enumerate([("main", 0.8), ("exp", 0.95), ("main", 0.99)]):
        h.add(record(f"2026120{n + 1}T100000Z-aaaaaa", finished=f"2026-12-0{n + 1}T10:00:05+00:00", branch=branch,
                     auc=auc))
    ids = [r.run_id[:9] for r in find(h, Filters(branch="main"))]
    assert ids == ["20261203T", "20261201T"]
    assert [r.run_id[:9] for r in find(h, Filters(where=(parse_where("roc_auc>0.9"),)))] == ["20261203T", "20261202T"]
    assert [r.run_id[:9] for r in find(h, Filters("main", "forest", (parse_where("forest.accuracy>=0.85"),)))] == [
        "20261203T"]
    assert find(h, Filters(where=(parse_where("logreg.roc_auc>0"),))) == []
    assert len(find(h, limit=2)) == 2


def test_run_references() -> None:
    ids = ["gitlab-120", "gitlab-12", "20261203T100000Z-abcdef"]
    assert resolve("latest", ids) == "gitlab-120" and resolve("latest~2", ids) == "20261203T100000Z-abcdef"
    assert resolve("gitlab-12", ids) == "gitlab-12"  # an exact id wins over being a prefix of another
    assert resolve("2026", ids) == "20261203T100000Z-abcdef"
    with pytest.raises(RunNotFound, match=r"'gitlab-1' is ambiguous: it starts 2 run ids \(gitlab-120, gitlab-12\)"):
        resolve("gitlab-1", ids)
    with pytest.raises(RunNotFound, match=r"no run 'gitlab-13' in the history; did you mean 'gitlab-12'\?"):
        resolve("gitlab-13", ids)
    with pytest.raises(RunNotFound, match=r"the history holds 3 runs"):
        resolve("latest~3", ids)
    with pytest.raises(RunNotFound, match=r"the history is empty: `mlspec run` records one"):
        resolve("abc", [])
