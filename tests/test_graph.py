"""The stage graph shared by `mlspec run` and the CI compilers."""

from __future__ import annotations

import pytest

from mlspec.graph import Stage, downstream, find_cycle, overlaps, toposort
from mlspec.load import load
from mlspec.runtime.stages import build
from tests.support import EXAMPLES


def test_breast_cancer_stages_and_needs() -> None:
    stages = {s.id: s for s in build(load(EXAMPLES / "breast-cancer" / "mlspec.yaml").spec)}
    assert stages["validate:train_quality"].needs == ("data:train",)
    # training waits for its data and for every suite on that data
    assert stages["train:forest"].needs == ("data:train", "validate:train_quality")
    assert stages["evaluate"].needs == (
        "data:holdout", "validate:holdout_quality", "train:logreg", "train:forest",
    )
    assert stages["deploy:production"].needs == ("gate", "deploy:staging")
    assert stages["monitor"].needs == ("data:current", "data:train")
    assert stages["monitor"].scheduled


def test_order_respects_needs_for_every_example(example: object) -> None:
    order = build(load(example).spec)  # type: ignore[arg-type]
    seen: set[str] = set()
    for stage in order:
        assert set(stage.needs) <= seen, stage.id
        seen.add(stage.id)


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": [], "c": ["a", "zzz"]}) is None


def test_toposort_refuses_cycles() -> None:
    with pytest.raises(ValueError, match="stages form a cycle: a -> b -> a"):
        toposort([Stage("a", "deploy", "a", ("b",)), Stage("b", "deploy", "b", ("a",))])


def test_downstream_of_a_data_source() -> None:
    stages = build(load(EXAMPLES / "breast-cancer" / "mlspec.yaml").spec)
    affected = downstream(stages, ["data:holdout"])
    assert "train:forest" not in affected
    assert {"validate:holdout_quality", "evaluate", "gate", "deploy:production"} <= affected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("data/train.csv", "data/train.csv", True), ("data", "data/train.csv", True), ("./data/", "data/x", True),
    ("data/train.csv", "data/train.csv.gz", False), ("data2", "data/x", False), ("raw", "data", False),
])
def test_overlaps(a: str, b: str, expected: bool) -> None:
    assert overlaps(a, b) is expected
    assert overlaps(b, a) is expected


def test_sources_and_steps_need_the_steps_that_write_what_they_read() -> None:
    from mlspec.load import load_text

    text = (EXAMPLES / "wine" / "mlspec.yaml").read_text() + (
        "prepare:\n"
        "  clean: {cmd: [python, c.py], inputs: [raw], outputs: [build]}\n"
        "  split: {cmd: [python, s.py], inputs: [build/clean.csv], outputs: [data/train.csv, data/holdout.csv]}\n")
    stages = {s.id: s for s in build(load_text(text, "mlspec.yaml").spec)}
    order = list(stages)
    assert order.index("prepare:clean") < order.index("prepare:split") < order.index("data:train")
    assert stages["prepare:split"].needs == ("prepare:clean",)
    assert (stages["data:train"].needs, stages["data:holdout"].needs) == (("prepare:split",), ("prepare:split",))
    assert stages["data:current"].needs == ()
