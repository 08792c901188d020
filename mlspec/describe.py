"""A short human summary of a valid spec, printed by `mlspec validate`."""

from __future__ import annotations

from mlspec.runtime.stages import build
from mlspec.spec import Spec


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(spec: Spec) -> list[tuple[str, str]]:
    """(section, description) rows in spec order."""
    rows: list[tuple[str, str]] = [("project", f"{spec.project} ({spec.task})")]
    sources = spec.data.sources
    rows.append(("data", f"{_plural(len(sources), 'source')}: {', '.join(sources)}; target {spec.data.target!r}"))
    if spec.validation:
        parts = []
        for name, suite in spec.validation.items():
            what = _plural(len(suite.expectations), "expectation") if suite.expectations else suite.suite_file
            parts.append(f"{name} on {suite.data} ({what})")
        rows.append(("validation", "; ".join(parts)))
    models = spec.training.models
    rows.append(("training", ", ".join(f"{n} ({m.estimator.rsplit('.', 1)[-1]})" for n, m in models.items())))
    ev = spec.evaluation
    champion = ev.champion
    rule = (f"best {champion.metric}" if champion and champion.metric else
            f"always {champion.model}" if champion and champion.model else f"best {ev.metrics[0]}")
    rows.append(("evaluation", f"{', '.join(ev.metrics)} on {ev.data}; champion: {rule}; "
                 f"{_plural(len(ev.gates), 'gate')}"))
    if spec.deploy:
        parts = []
        for name, t in spec.deploy.items():
            when = [*(f"branch {b}" for b in t.when.branches), *(f"tag {g}" for g in t.when.tags)]
            cond = " or ".join(when) or "default branch"
            parts.append(f"{name} ({t.kind}, {cond}{', manual' if t.when.manual else ''})")
        rows.append(("deploy", "; ".join(parts)))
    if spec.monitoring is not None:
        m = spec.monitoring
        ref = m.reference or "training data"
        rows.append(("monitoring", f"{m.current} vs {ref}, cron {m.schedule!r}, on drift: {m.on_drift}"))
    stages = [s.id for s in build(spec) if not s.scheduled]
    rows.append(("stages", " -> ".join(stages)))
    return rows


def render_summary(spec: Spec) -> str:
    rows = summary(spec)
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)
