"""The read-only view of the spec a stage runs with: declared sections only."""

from __future__ import annotations

import pytest

from mlspec.load import load
from mlspec.runtime.specview import UndeclaredRead, view
from mlspec.runtime.stages.kind import Read
from tests.support import EXAMPLES

SPEC = load(EXAMPLES / "breast-cancer" / "mlspec.yaml").spec


def _refused(section: str) -> str:
    return (f"internal error: stage train:forest read spec section {section!r}, which its kind does not declare; "
            "add it to the reads of mlspec.runtime.stages.train.KIND, so that editing it reruns the stage")


def test_a_section_declared_whole_is_the_spec_s_own_object() -> None:
    v = view(SPEC, [Read("training.models.forest"), Read("task")], "train:forest")
    assert v.task == SPEC.task
    assert v.training.models["forest"] is SPEC.training.models["forest"]


@pytest.mark.parametrize(
    ("read", "section"),
    [
        (lambda v: v.evaluation, "evaluation"),
        (lambda v: v.training.seed, "training.seed"),
        (lambda v: v.training.models["logreg"], "training.models.logreg"),
        (lambda v: list(v.training.models), "training.models"),
        (lambda v: "logreg" in v.training.models, "training.models"),
        (lambda v: v.model_copy(), "model_copy"),
    ],
)
def test_anything_else_is_refused(read: object, section: str) -> None:
    v = view(SPEC, [Read("training.models.forest"), Read("task")], "train:forest")
    with pytest.raises(UndeclaredRead) as err:
        read(v)  # type: ignore[operator]
    assert str(err.value) == _refused(section)


def test_an_excluded_field_is_refused_and_the_rest_readable() -> None:
    v = view(SPEC, [Read("evaluation", exclude=frozenset({"gates"}))], "train:forest")
    assert v.evaluation.metrics == SPEC.evaluation.metrics
    with pytest.raises(UndeclaredRead) as err:
        _ = v.evaluation.gates
    assert str(err.value) == _refused("evaluation.gates")


def test_a_mapping_declared_by_its_keys_lists_them_but_gives_no_values() -> None:
    v = view(SPEC, [Read("training.models", keys=True)], "train:forest")
    assert list(v.training.models) == list(SPEC.training.models) and len(v.training.models) == 2
    with pytest.raises(UndeclaredRead) as err:
        _ = v.training.models["forest"]
    assert str(err.value) == _refused("training.models.forest")


def test_reads_covered_elsewhere_are_readable_and_derived_labels_are_not() -> None:
    v = view(SPEC, [Read("ci.default_branch", fingerprinted=False),
                    Read("deploy.<alias>", derived=lambda spec: "x")], "train:forest")
    assert v.ci.default_branch == SPEC.ci.default_branch
    with pytest.raises(UndeclaredRead):
        _ = v.deploy


def test_the_view_is_read_only() -> None:
    v = view(SPEC, [Read("task")], "train:forest")
    with pytest.raises(AttributeError, match="the spec is read-only"):
        v.task = "regression"
