"""A registry version scored on this run's evaluation rows: the gate's baseline when it comes from the registry.

The version's metrics as registered were computed on the evaluation data of *its* run, which may be other
rows; a relative gate and the paired bootstrap need both models on the *same* rows. So the gate fetches the
version's files (``Registry.files``, which verifies them against the registry's record before anything is
read: a file from elsewhere is untrusted until then), loads the bundle with the safe loader
(:mod:`mlspec.runtime.bundle`), and scores it on the evaluate stage's own rows, the snapshot of
``data:<evaluation.data>`` (:func:`mlspec.runtime.snapshot.read`, the same table in the same order), with
the evaluate stage's code (:mod:`mlspec.runtime.scoring`): its labels by the decision threshold the version
was trained with, its binary metrics about the spec's positive class. The result is the version's metrics and a
``predictions.parquet`` laid out as the evaluate stage's, so :mod:`mlspec.runtime.significance` pairs it
with the champion's row by row.

Two kinds of failure. A version that fails verification, or whose bundle the safe loader refuses, is a
:class:`StageError`: it must stop the gate, never be skipped. A version that cannot score these rows (the
evaluation data lost a feature it needs, it raises on them, a metric is undefined for it) is
:class:`CannotScore`: there is then nothing to compare on these rows, which the gate reports as "no
baseline" with that reason, as it does when the evaluation rows changed under a lock's predictions.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from mlspec.errors import MlspecError
from mlspec.registry.base import RegistryError
from mlspec.registry.filestore import BUNDLE
from mlspec.runtime.context import StageContext, StageError

if TYPE_CHECKING:
    from mlspec.registry.base import Registry, Version

WHERE = ("evaluation", "baseline")
"""The spec key a baseline's errors point at (the loader steps up to ``evaluation`` when it is not written)."""


class CannotScore(MlspecError):
    """The version cannot be scored on these evaluation rows (see the module docstring)."""


def score(ctx: StageContext, registry: Registry, version: Version, what: str, predictions_file: Path
          ) -> dict[str, float | None]:
    """``version``'s metrics on the evaluate stage's rows; writes its ``predictions_file``. ``what`` names the
    version in messages (``registry production = forest v3``)."""
    from mlspec.runtime import bundle, scoring, snapshot

    spec = ctx.spec
    source = spec.evaluation.data
    frame = snapshot.read(ctx, source)
    y_true = frame[spec.data.target].to_numpy()
    name = version.trained_model
    with tempfile.TemporaryDirectory(prefix="mlspec-baseline.") as scratch:
        try:
            folder = registry.files(version.model, version.number, Path(scratch))
        except RegistryError as exc:
            raise StageError(f"the baseline {what}: {exc}", WHERE) from None
        try:
            model = bundle.load(folder / BUNDLE, spec.training.trust, ctx.log)
        except bundle.BundleError as exc:
            raise StageError(f"the baseline {what}: {exc}", WHERE) from None
    try:  # the model is in memory now: the downloaded files can go
        scored = scoring.predict(spec.task, name, model, frame, source, spec.data.positive_class)
        metrics = scoring.compute_metrics(spec, scored, y_true)
    except StageError as exc:
        raise CannotScore(str(exc)) from None
    predictions_file.parent.mkdir(parents=True, exist_ok=True)
    scoring.predictions_frame(frame.index, y_true, [scored]).to_parquet(predictions_file, index=False)
    return metrics
