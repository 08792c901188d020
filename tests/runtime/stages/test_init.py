"""The registry of stage kinds: complete, light to import, and what each kind's fingerprint covers.

The expectations derive from the kinds' own declarations rather than repeating them, so a kind added or
changed is checked without editing this file: every section a stage declares changes its fingerprint when
edited, and a stage that reads a section it did not declare fails.
"""

from __future__ import annotations

import subprocess
import sys
import typing
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel

from mlspec.graph import Stage
from mlspec.load import load
from mlspec.runtime import runner, stages
from mlspec.runtime.context import StageContext, StageResult
from mlspec.runtime.hashing import fingerprint
from mlspec.runtime.specview import UndeclaredRead
from mlspec.runtime.stages import KINDS, build
from mlspec.runtime.stages.kind import Ci, Kind, Read, section_values
from mlspec.spec import Spec, StageKind
from tests.runtime import fakestages
from tests.support import EXAMPLE_NAMES, EXAMPLES

SPECS = {name: load(EXAMPLES / name / "mlspec.yaml").spec for name in EXAMPLE_NAMES}
CASES = [(name, s.id) for name, spec in SPECS.items() for s in build(spec) if s.kind in stages.RUNNABLE]


def test_the_registry_lists_every_stage_kind_once() -> None:
    assert sorted(k.name for k in KINDS) == sorted(typing.get_args(StageKind))
    assert len({k.name for k in KINDS}) == len(KINDS)
    for kind in KINDS:  # each kind lives in the module of its name, beside its run()
        module = sys.modules[f"mlspec.runtime.stages.{kind.name}"]
        assert module.KIND is kind
        assert callable(getattr(module, "run", None)) == kind.runnable


def test_every_stage_comes_from_its_kind(example: Path) -> None:
    spec = load(example).spec
    for kind in KINDS:
        assert {s.id for s in kind.stages(spec)} == {s.id for s in build(spec) if s.kind == kind.name}


def test_importing_the_registry_imports_no_heavy_library_or_feature() -> None:
    # `mlspec validate` and `mlspec compile` build the graph through the registry.
    heavy = ["pandas", "numpy", "sklearn", "great_expectations", "scipy", "matplotlib", "skops", "pyarrow",
             "mlspec.monitor", "mlspec.baseline", "mlspec.gates", "mlspec.registry"]
    code = ("import sys\nimport mlspec.runtime.stages\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_message_for_kinds_mlspec_run_does_not_run() -> None:
    assert stages.describe_runnable() == ("mlspec run can run prepare, data, validate, train, evaluate, gate "
                                          "and monitor stages; deploy with `mlspec deploy TARGET`")


# --- every declared section is fingerprinted -------------------------------------------------------------------


def _edited(value: Any) -> Any:
    """``value`` with every leaf changed (a mapping also gains a key), of the same shape. A discriminator (a
    one-value ``Literal``, such as a source's ``kind``) stays: changing it would name a kind that does not exist."""
    if isinstance(value, BaseModel):
        return value.model_copy(update={k: _edited(getattr(value, k)) for k, f in type(value).model_fields.items()
                                        if not _discriminator(f.annotation)})
    if isinstance(value, Mapping):
        added = _edited(next(iter(value.values()))) if value else "x"
        return {**{k: _edited(v) for k, v in value.items()}, "edited": added}
    if isinstance(value, list | tuple):
        return [*(_edited(v) for v in value), _edited(value[0]) if value else "edited"]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + ".edited"
    return "edited"  # None


def _discriminator(annotation: Any) -> bool:
    return typing.get_origin(annotation) is typing.Literal and len(typing.get_args(annotation)) == 1


def _replaced(obj: Any, parts: Sequence[str], new: Any) -> Any:
    if not parts:
        return new
    head, rest = parts[0], parts[1:]
    if isinstance(obj, Mapping):
        return {**obj, head: _replaced(obj[head], rest, new)}
    return obj.model_copy(update={head: _replaced(getattr(obj, head), rest, new)})


def _lookup(spec: Spec, parts: Sequence[str]) -> Any:
    obj: Any = spec
    for part in parts:
        obj = obj[part] if isinstance(obj, Mapping) else getattr(obj, part)
    return obj


# The edited values keep their shape but not always their type (an empty mapping of models gains a string).
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@pytest.mark.parametrize(("example", "stage_id"), CASES)
def test_editing_a_declared_section_changes_the_fingerprint(example: str, stage_id: str) -> None:
    spec = SPECS[example]
    stage = next(s for s in build(spec) if s.id == stage_id)
    reads = stages.reads(spec, stage)
    before = fingerprint(section_values(spec, reads))
    tracked = [r for r in reads if r.fingerprinted and r.derived is None]
    assert tracked, stage_id
    for read in tracked:
        edited = _replaced(spec, read.parts, _edited(_lookup(spec, read.parts)))
        assert fingerprint(section_values(edited, reads)) != before, (stage_id, read.path)


@pytest.mark.parametrize(("example", "stage_id"), CASES)
def test_every_declared_section_exists(example: str, stage_id: str) -> None:
    spec = SPECS[example]
    stage = next(s for s in build(spec) if s.id == stage_id)
    for read in stages.reads(spec, stage):
        if read.derived is None:
            _lookup(spec, read.parts)  # raises for a path that names no section


def test_excluded_fields_are_not_fingerprinted() -> None:
    spec = SPECS["breast-cancer"]
    evaluate = next(s for s in build(spec) if s.id == "evaluate")
    before = stages.spec_sections(spec, evaluate)
    edited = _replaced(spec, ("evaluation", "gates"), _edited(spec.evaluation.gates))
    assert stages.spec_sections(edited, evaluate) == before


# --- a stage sees only what its kind declares ------------------------------------------------------------------


def _reads_the_gates(ctx: StageContext) -> StageResult:
    ctx.log(str(ctx.spec.evaluation.gates))
    return StageResult()


def test_a_stage_reading_an_undeclared_section_is_a_bug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "stage_module", lambda kind: SimpleNamespace(run=_reads_the_gates)
                        if kind == "train" else fakestages.stage_module(kind))
    loaded = load(fakestages.write_project(tmp_path))
    with pytest.raises(UndeclaredRead) as err:
        runner.run(loaded, ["train:m1"])
    assert str(err.value) == (
        "internal error: stage train:m1 read spec section 'evaluation', which its kind does not declare; "
        "add it to the reads of mlspec.runtime.stages.train.KIND, so that editing it reruns the stage")


def test_a_kind_that_declares_too_little_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The train stand-in reads its model and the seed; a kind that declared only `task` would cache wrongly.
    narrow = replace(stages.BY_NAME["train"], reads=lambda spec, stage: [Read("task")])
    monkeypatch.setitem(stages.BY_NAME, "train", narrow)
    monkeypatch.setattr(runner, "stage_module", fakestages.stage_module)
    loaded = load(fakestages.write_project(tmp_path))
    with pytest.raises(UndeclaredRead, match="stage train:m1 read spec section 'training'"):
        runner.run(loaded, ["train:m1"])


def test_the_context_view_covers_loaded_spec_too(tmp_path: Path) -> None:
    loaded = load(fakestages.write_project(tmp_path))
    stage: Stage = next(s for s in build(loaded.spec) if s.id == "gate")
    ctx = stages.context(loaded, stage, tmp_path, {}, lambda _: None)
    assert ctx.spec.task == "binary" and ctx.loaded.spec.evaluation.gates == {}
    with pytest.raises(UndeclaredRead):
        _ = ctx.loaded.spec.training.models  # the gate reads only training.trust of it
    assert ctx.loaded.path == loaded.path and ctx.loaded.line_of("task") == loaded.line_of("task")


# --- a new kind is one module and one registry line -------------------------------------------------------------


def _tune_stages(spec: Spec) -> list[Stage]:
    return [Stage(f"tune:{name}", "tune", name, (f"data:{model.data}",))  # type: ignore[arg-type]
            for name, model in spec.training.models.items()]


TUNE = Kind("tune", _tune_stages, reads=lambda spec, stage: [Read("training.seed")],  # type: ignore[arg-type]
            files=lambda spec, stage: [], ci=Ci('mlspec run {spec} "tune:$TRIAL"', matrix_var="TRIAL"))


def test_a_registered_kind_reaches_the_graph_the_fingerprint_and_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlspec.targets import pipeline

    kinds = (*KINDS[:2], TUNE, *KINDS[2:])
    monkeypatch.setattr(stages, "KINDS", kinds)
    monkeypatch.setattr(pipeline, "KINDS", kinds)
    monkeypatch.setitem(stages.BY_NAME, "tune", TUNE)
    spec = SPECS["breast-cancer"]
    tune = next(s for s in stages.build(spec) if s.id == "tune:forest")
    assert tune.needs == ("data:train",)
    assert stages.spec_sections(spec, tune) == {"training.seed": spec.training.seed}
    job = next(j for j in pipeline.jobs(spec) if j.kind == "tune")
    assert (job.command, job.matrix_var, job.matrix) == (
        'mlspec run -f "$MLSPEC_SPEC" "tune:$TRIAL"', "TRIAL", ("logreg", "forest"))
    gate = next(j for j in pipeline.jobs(spec) if j.kind == "gate")
    assert "tune" in gate.needs  # as every job does for every job before it
