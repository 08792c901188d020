"""The platform-independent job list: a model searched in shards gets its shard job before the train job."""

from __future__ import annotations

import pytest

from mlspec.errors import SpecError
from mlspec.load import load_text
from mlspec.spec import Spec
from mlspec.targets.pipeline import TRIALS_COMMAND, Job, jobs, report_job
from tests.golden import spec_of
from tests.support import EXAMPLES

WINE = (EXAMPLES / "wine" / "mlspec.yaml").read_text()


def _searched(shards: int, *, model: str = "logreg", tail: str = "") -> Spec:
    """The wine example with one model searched over as many grid points as shards (at least 3)."""
    params = {"logreg": "{max_iter: 2000}", "boosting": "{max_iter: 100, learning_rate: 0.1}"}[model]
    key = {"logreg": "C", "boosting": "max_leaf_nodes"}[model]
    points = [2 + i for i in range(max(shards, 3))]
    search = f"{params}\n      search: {{space: {{{key}: {points}}}, shards: {shards}}}"
    return load_text(WINE.replace(f"      params: {params}\n", f"      params: {search}\n", 1) + tail).spec


def _by_id(spec: Spec) -> dict[str, Job]:
    return {job.id: job for job in jobs(spec)}


def test_each_model_searched_in_shards_has_a_shard_job_before_the_train_job() -> None:
    listed = jobs(spec_of("wine+search"))
    assert [j.id for j in listed] == ["validate", "trials-logreg", "trials-boosting", "train", "evaluate", "gate",
                                      "deploy-production"]
    by_id = {j.id: j for j in listed}
    logreg, boosting, train = by_id["trials-logreg"], by_id["trials-boosting"], by_id["train"]
    assert (logreg.matrix_var, logreg.matrix) == ("SHARD", ("1", "2"))
    assert boosting.matrix == ("1", "2", "3")
    assert logreg.env == (("MODEL", "logreg"), ("SHARDS", "2"))
    assert logreg.command == 'mlspec trials -f "$MLSPEC_SPEC" "train:$MODEL" --shard "$SHARD/$SHARDS"'
    assert (logreg.kind, logreg.trials_of, logreg.target) == ("train", "logreg", None)
    # The shard jobs need what the train job needs; the train job needs them and reads their results.
    assert logreg.needs == boosting.needs == ("validate",)
    assert train.needs == ("validate", "trials-logreg", "trials-boosting")
    assert train.trials == ("trials-logreg", "trials-boosting")
    assert by_id["evaluate"].needs == ("validate", "trials-logreg", "trials-boosting", "train")
    assert by_id["evaluate"].trials == ()


def test_a_search_in_the_train_job_alone_adds_no_job() -> None:
    plain = jobs(load_text(WINE).spec)
    assert jobs(_searched(1)) == plain
    assert [j.id for j in jobs(_searched(3, model="boosting"))] == [
        "validate", "trials-boosting", "train", "evaluate", "gate", "deploy-production"]


def test_shard_jobs_follow_prepare_steps_and_precede_the_report() -> None:
    spec = _searched(2, tail="\nprepare:\n  p: {cmd: [python, p.py], inputs: [p.py], outputs: [data/x.csv]}\n")
    assert _by_id(spec)["trials-logreg"].needs == ("prepare-p", "validate")
    assert report_job(spec).needs == ("prepare-p", "validate", "trials-logreg", "train", "evaluate", "gate")


def test_the_spec_bounds_the_shards_of_a_matrix() -> None:
    # 32 legs at most per shard job, one job per model: far below GitHub's 256 and GitLab's 200 per matrix.
    assert _by_id(_searched(32))["trials-logreg"].matrix == tuple(str(i) for i in range(1, 33))
    with pytest.raises(SpecError) as info:
        _searched(33)
    assert str(info.value.problems[0]).endswith(": training.models.logreg.search.shards: must be <= 32, got 33")


def test_the_command_reads_every_value_from_variables() -> None:
    # Nothing from the spec inside the script: the model, the shard and their count are variables.
    assert "{spec}" in TRIALS_COMMAND
    for job in jobs(spec_of("wine+search")):
        if job.trials_of:
            assert job.trials_of not in job.command
