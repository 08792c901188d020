"""The CI platforms `mlspec compile` generates files for: one compiler module per platform, each turning a spec
into plain view-model dicts for its templates, registered in :data:`PLATFORMS`.

In code these are *platforms* (``--target`` on the command line, for compatibility); "target" is left to the
spec's deploy targets. ``mlspec compile --target`` takes its choices from here, and
:func:`mlspec.compile.compile_spec` iterates the registry, so a new platform is one module (with ``files(ctx)``
and ``OUTPUTS``) and one line below. What mlspec knows of a platform at run time (detection, its API) is
:mod:`mlspec.platforms`.

This module imports no compiler (nor the spec models): the command line reads the names on every start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlspec.spec import Spec
    from mlspec.targets.common import Context


@dataclass(frozen=True)
class PlatformCompiler:
    """How `mlspec compile` writes one CI platform's files."""

    name: str
    """What ``--target`` calls it."""
    module: str
    """The module whose ``files(ctx)`` returns the view-models by output path, and whose ``OUTPUTS`` names
    every path it may write."""
    enabled: Callable[[Spec], bool]
    """Whether the spec asks for this platform (its ``ci.<platform>.enabled``)."""

    def compiler(self) -> ModuleType:
        return importlib.import_module(self.module)

    def files(self, ctx: Context) -> dict[str, dict[str, Any]]:
        files: dict[str, dict[str, Any]] = self.compiler().files(ctx)
        return files

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.compiler().OUTPUTS)


PLATFORMS: tuple[PlatformCompiler, ...] = (
    PlatformCompiler("github", "mlspec.targets.github", lambda spec: spec.ci.github.enabled),
    PlatformCompiler("gitlab", "mlspec.targets.gitlab", lambda spec: spec.ci.gitlab.enabled),
)
NAMES = tuple(p.name for p in PLATFORMS)
