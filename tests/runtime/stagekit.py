"""Running single stages against copies of the examples (import as ``from tests.runtime.stagekit import ...``).

Upstream outputs are made here, not by the runner: a ``data:<source>`` or ``train:<model>`` dependency is
made by the real data or train stage (the data stage's snapshot is what every later stage reads), and a
``validate:<suite>`` dependency gets an empty directory (no stage reads a suite's outputs). :func:`profile`
computes a profile independently of the data stage, for comparisons.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from mlspec.graph import Stage
from mlspec.load import Loaded, load
from mlspec.runtime.context import StageContext, StageResult
from mlspec.runtime.stages import build, context

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO / "examples"


def copy_example(name: str, into: Path) -> Path:
    """A private copy of ``examples/<name>`` (tests may edit its data); returns its mlspec.yaml."""
    target = into / name
    shutil.copytree(EXAMPLES / name, target)
    return target / "mlspec.yaml"


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its sha256, to show that a stage wrote nothing outside its out_dir."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def profile(loaded: Loaded, source: str) -> dict[str, object]:
    import pandas as pd

    spec_source = loaded.spec.data.sources[source]
    path = loaded.root / spec_source.path
    frame = pd.read_csv(path) if spec_source.inferred_format() == "csv" else pd.read_parquet(path)
    return {
        "source": source,
        "path": spec_source.path,
        "format": spec_source.inferred_format(),
        "digest": "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
        "schema": {str(c): str(t) for c, t in frame.dtypes.items()},
    }


def kit_for(example: str, tmp_path: Path) -> Kit:
    """A :class:`Kit` on a fresh copy of ``examples/<example>`` under ``tmp_path``."""
    return Kit.of(copy_example(example, tmp_path / "project"), tmp_path / "work")


@dataclass
class Kit:
    """A project copy and a work directory in which stages run one at a time."""

    loaded: Loaded
    work: Path
    logs: list[str] = field(default_factory=list)
    done: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def of(cls, spec_path: Path, work: Path) -> Kit:
        return cls(load(spec_path), work)

    @property
    def stages(self) -> dict[str, Stage]:
        return {s.id: s for s in build(self.loaded.spec)}

    def edit_spec(self, old: str, new: str) -> None:
        """Replace the first ``old`` in mlspec.yaml by ``new`` and reload."""
        text = self.loaded.path.read_text()
        assert old in text, old
        self.loaded.path.write_text(text.replace(old, new, 1))
        self.reload()

    def edit_csv(self, rel: str, rows: list[int], column: str, values: list[object]) -> None:
        """Set ``column`` of the given rows of a data file (relative to the spec)."""
        import pandas as pd

        path = self.loaded.root / rel
        frame = pd.read_csv(path)
        frame[column] = frame[column].astype(object)
        for row, value in zip(rows, values, strict=True):
            frame.loc[row, column] = value
        frame.to_csv(path, index=False)

    def reload(self) -> None:
        """Read the (edited) mlspec.yaml again and forget every stage output."""
        self.loaded = load(self.loaded.path)
        self.done.clear()

    def out_dir(self, stage_id: str) -> Path:
        return self.work / stage_id.replace(":", "-")

    def context(self, stage_id: str) -> StageContext:
        stage = self.stages[stage_id]
        upstream = {need: self.prepare(need) for need in stage.needs}
        out = self.out_dir(stage_id)
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        # Through the registry: the stage sees only the spec sections its kind declares.
        return context(self.loaded, stage, out, upstream, self.logs.append)

    def prepare(self, stage_id: str) -> Path:
        if stage_id in self.done:
            return self.done[stage_id]
        stage = self.stages[stage_id]
        out = self.out_dir(stage_id)
        if stage.kind in ("data", "train"):
            result = self.run(stage_id)
            assert result.failed is None, result.failed
        else:
            out.mkdir(parents=True, exist_ok=True)
        self.done[stage_id] = out
        return out

    def run(self, stage_id: str) -> StageResult:
        """Run one stage (preparing its upstream outputs first); its outputs stay in ``out_dir(stage_id)``."""
        import importlib

        from threadpoolctl import threadpool_limits

        ctx = self.context(stage_id)
        module = importlib.import_module(f"mlspec.runtime.stages.{ctx.stage.kind}")
        # One thread: the example tables are tiny, and on a busy machine OpenMP threads that wait for each
        # other turn HistGradientBoosting's 0.1 s fit on wine into a minute. Results do not depend on it.
        with threadpool_limits(1):
            result: StageResult = module.run(ctx)
        self.done[stage_id] = ctx.out_dir
        return result
