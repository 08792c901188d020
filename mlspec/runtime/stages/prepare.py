"""The ``prepare:<name>`` stage: run a declared command of the project that builds files from others.

The command is an argv list, run without a shell, with the spec's directory as its working directory; its
stdout and stderr are streamed to the run log. ``python`` (or ``python3``) as the first argument is the
interpreter running mlspec (in CI, the job's Python with mlspec and the project's requirements; locally, the
environment mlspec was started from), a first argument holding a ``/`` is a path relative to the spec's
directory, any other is looked up on PATH.

Its declared outputs are written where they are declared (the data sources read them there) *and* copied into
the stage's output directory under ``files/``, so they travel like any stage output (CI artifacts, the store)
and their digests are in mlspec.lock. The stage directory is the truth, the declared paths are a copy of it:
whenever the step is up to date (its outputs arrived from another job, from the store, or a killed run left a
half-written file), :func:`restore` puts its recorded outputs back where declared before anything reads them.

A failed step leaves the previous good outputs: the files at the declared paths are copied aside before the
command starts and copied back when it exits non-zero, does not create every output, or is interrupted. A run
killed outright (SIGKILL) cannot do that; the next run finds the step up to date with its kept outputs, or
not recorded at all, and restores or reruns it.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from mlspec.graph import Stage, producers, stage_id
from mlspec.preparecheck import outside
from mlspec.runtime.stages.kind import Ci, Kind, Read
from mlspec.spec import PrepareStep, Spec

if TYPE_CHECKING:
    from mlspec.load import Loaded
    from mlspec.runtime.context import StageContext, StageResult

FILES = "files"
"""The directory of the stage's outputs holding the declared outputs, at their paths relative to the spec."""
PYTHON_NAMES = frozenset({"python", "python3"})
TAIL_LINES = 10


def _stages(spec: Spec) -> list[Stage]:
    return [Stage(stage_id("prepare", name), "prepare", name, producers(spec, step.inputs, besides=name))
            for name, step in spec.prepare.items()]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    # The description is documentation: editing it must not rerun the command.
    return [Read(f"prepare.{stage.name}", exclude=frozenset({"description"}))]


def _files(spec: Spec, stage: Stage) -> list[str]:
    # A directory is expanded into its files where the fingerprint is computed (mlspec.runtime.staleness).
    return [posixpath.normpath(p) for p in spec.prepare[str(stage.name)].inputs]


def run(ctx: StageContext) -> StageResult:
    from mlspec.runtime.context import StageError, StageResult

    name = str(ctx.stage.name)
    step: PrepareStep = ctx.spec.prepare[name]
    root = ctx.root
    key = ("prepare", name)
    outputs = [posixpath.normpath(p) for p in step.outputs]
    for i, rel in enumerate(outputs):
        _confined(root, rel, (*key, "outputs", i))
    for i, rel in enumerate(step.inputs):
        _confined(root, rel, (*key, "inputs", i))
        if not (root / rel).exists():
            raise StageError(f"prepare step {name!r}: input {rel!r} does not exist; create it or remove it from "
                             "`inputs`", (*key, "inputs", i))
    argv = [program(root, step.cmd[0], (*key, "cmd", 0)), *step.cmd[1:]]
    backup = ctx.out_dir / ".previous"
    _copy_existing(root, outputs, backup)
    try:
        code, tail = _execute(argv, root, {**os.environ, **step.env}, ctx.log)
        if code != 0:
            shown = f"; its last lines on stderr:\n{tail}" if tail else ""
            raise StageError(f"prepare step {name!r} failed: {_describe(step.cmd)} exited with code {code}; "
                             f"its previous outputs are kept{shown}", (*key, "cmd"))
        for i, rel in enumerate(outputs):
            if not (root / rel).exists():
                raise StageError(f"prepare step {name!r}: the command exited 0 but did not create {rel!r}; make "
                                 "it write every path of `outputs`, or remove this one; its previous outputs are "
                                 "kept", (*key, "outputs", i))
    except BaseException:
        # Failed or interrupted (Ctrl-C): the previous outputs go back where the data stages read them.
        _put_back(backup, root, outputs)
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)
    count = 0
    for rel in outputs:
        count += _copy(root / rel, ctx.out_dir / FILES / rel)
    listed = ", ".join(outputs)
    return StageResult(metrics={"files": count}, summary=f"wrote {listed} ({count} file{'s' if count != 1 else ''})")


def program(root: Path, first: str, spec_path: tuple[str | int, ...]) -> str:
    """The executable ``first`` names: the running interpreter for ``python``, a project path, or a PATH entry."""
    from mlspec.runtime.context import StageError

    if first in PYTHON_NAMES:
        return sys.executable
    if "/" in first:
        path = (root / first) if not os.path.isabs(first) else Path(first)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise StageError(f"{first!r} is not an executable file (relative to mlspec.yaml); give the path of "
                             "a program, or make the script executable", spec_path)
        return str(path)
    found = shutil.which(first)
    if found is None:
        raise StageError(f"program {first!r} is not on PATH; install it, or give its path", spec_path)
    return found


def _execute(argv: list[str], cwd: Path, env: Mapping[str, str], log: Callable[[str], None]) -> tuple[int, str]:
    """Run ``argv`` with both streams shown line by line as they come; its exit code and stderr's last lines."""
    # Imported here: `validate` and `compile` read this module's declaration and never run a command.
    import subprocess
    import threading
    from collections import deque

    tail: deque[str] = deque(maxlen=TAIL_LINES)
    lock = threading.Lock()

    def pump(stream: IO[bytes], keep: bool) -> None:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            with lock:
                log(text)
                if keep:
                    tail.append(text)

    with subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        readers = [threading.Thread(target=pump, args=(proc.stdout, False), daemon=True),
                   threading.Thread(target=pump, args=(proc.stderr, True), daemon=True)]
        for reader in readers:
            reader.start()
        try:
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        for reader in readers:
            reader.join()
    return code, "\n".join(tail)


def _describe(cmd: Iterable[str]) -> str:
    return "[" + ", ".join(cmd) + "]"


def _confined(root: Path, rel: str, spec_path: tuple[str | int, ...]) -> None:
    from mlspec.runtime.context import StageError

    problem = outside(root, rel)
    if problem:
        raise StageError(problem, spec_path)


def _copy(src: Path, dst: Path) -> int:
    """Copy a file or a directory tree (symlinks as links, never followed); the number of files copied."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dst, symlinks=True)
        return sum(1 for p in dst.rglob("*") if not p.is_dir())
    shutil.copy2(src, dst, follow_symlinks=False)
    return 1


def _copy_existing(root: Path, outputs: list[str], into: Path) -> None:
    for rel in outputs:
        if (root / rel).exists() or (root / rel).is_symlink():
            _copy(root / rel, into / rel)


def _put_back(backup: Path, root: Path, outputs: list[str]) -> None:
    """Make each declared output what it was before the command ran (what did not exist is left as it is:
    a failed command's partial file is for its author to read)."""
    for rel in outputs:
        kept = backup / rel
        if kept.exists() or kept.is_symlink():
            _replace(kept, root / rel)


def _replace(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` in one rename (a file) or two (a directory, whose old copy is renamed aside)."""
    from mlspec.fsutil import make_temp_dir, remove

    dst.parent.mkdir(parents=True, exist_ok=True)
    staging = make_temp_dir(dst.parent, "restore")
    try:
        _copy(src, staging / "new")
        if dst.is_dir() and not dst.is_symlink():
            os.replace(dst, staging / "old")
        os.replace(staging / "new", dst)
    finally:
        remove(staging)


def restore(loaded: Loaded, stage: Stage, stage_dir: Path, outputs: Mapping[str, str],
            digest: Callable[[Path], str | None]) -> list[str]:
    """Put the step's recorded outputs back where they are declared, where they differ (a job that did not run
    the step, an edit by hand, a killed run); the paths restored. Files in a declared directory that the step
    did not make are left alone."""
    step = loaded.spec.prepare[str(stage.name)]
    root = loaded.root
    restored: list[str] = []
    prefix = FILES + "/"
    for rel in (posixpath.normpath(p) for p in step.outputs):
        if outside(root, rel):
            continue  # the step's own run refuses it, pointing at the spec
        mine = {k[len(prefix):]: v for k, v in outputs.items()
                if k[len(prefix):] == rel or k[len(prefix):].startswith(rel + "/")}
        for path, want in sorted(mine.items()):
            if digest(root / path) != want:
                _replace(stage_dir / FILES / path, root / path)
                restored.append(path)
    return restored


# Last: the declaration names the hooks above.
KIND = Kind(
    "prepare", _stages, _reads, _files,
    spec_key=lambda stage: ("prepare", str(stage.name)),
    # One job per step, needing the jobs of the steps whose outputs it reads; the data stages run in the jobs
    # after them (validate, train), which take the outputs from their artifacts or the store.
    ci=Ci('mlspec run {spec} "prepare:$MLSPEC_PREPARE"', per_stage_var="MLSPEC_PREPARE", stage_cache=True),
    restore=restore,
)
