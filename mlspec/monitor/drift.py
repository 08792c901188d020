"""Per-feature drift verdicts: the current data against a reference profile, with the spec's thresholds.

Method per feature: ``monitoring.drift.features.<name>.method``, else ``monitoring.drift.method``; ``auto``
is KS for numeric features and chi-squared for categorical ones. A global ``ks`` cannot apply to a
categorical feature, which then gets chi-squared (noted in the report); a per-feature ``ks`` on one is an
error. ``chi2`` on a numeric feature tests the counts in the reference's decile bins.

Threshold: the feature's ``threshold``, else ``psi_threshold`` (for ``psi``) or ``p_value`` (for the tests).
A feature drifts when PSI > threshold, or p-value < threshold. The p-values are per feature and *not*
corrected for multiple testing: the spec's ``p_value`` is the false-alarm rate of each feature, so with many
features some alarm is more likely (the report states how likely, see
:func:`mlspec.monitor.stats.family_false_alarm`); lower ``p_value`` to trade sensitivity for fewer alarms.
With very large current samples the tests flag shifts too small to matter; ``psi`` thresholds the size of a
shift instead.

PSI is computed for every feature whatever its method (it is cheap and reads as a size), with nulls as a bin
of their own, so a jump in missing values shows. The verdicts that are not a plain ok / drift:

* ``new categories``: values of a categorical feature the reference never had; always drift, each named.
* ``no data``: every current value is null. Drift when the reference had values (the model now imputes a
  whole column); not drift when the reference had none either.
* ``type changed``: a numeric feature whose current column holds values that are not numbers; drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlspec.monitor import profile as prof
from mlspec.monitor import stats
from mlspec.runtime.context import StageError

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.spec import Drift

Where = tuple[str | int, ...]
NULL = "<null>"


@dataclass
class FeatureDrift:
    """The drift result of one feature (or of the predictions)."""

    name: str
    kind: str
    method: str
    threshold: float
    verdict: str = "ok"
    """ok, drift, new categories, no data, or type changed."""
    drift: bool = False
    statistic: float | None = None
    """KS D, the chi-squared statistic, or PSI (method psi)."""
    p_value: float | None = None
    psi: float | None = None
    reason: str = ""
    note: str = ""
    reference: dict[str, Any] = field(default_factory=dict)
    """rows and nulls, and for the report a summary (mean or top categories)."""
    current: dict[str, Any] = field(default_factory=dict)
    new_categories: dict[str, int] = field(default_factory=dict)
    spec_path: Where = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "method": self.method, "threshold": self.threshold,
            "verdict": self.verdict, "drift": self.drift, "statistic": _round(self.statistic),
            "p_value": _round(self.p_value), "psi": _round(self.psi), "reason": self.reason, "note": self.note,
            "reference": self.reference, "current": self.current, "new_categories": self.new_categories,
        }


def _round(value: float | None) -> float | None:
    # Reports are outputs too (content-addressed): 6 significant digits are plenty and stable across platforms.
    return None if value is None else prof.shown(value)


# --- settings --------------------------------------------------------------------------------------------------


def settings(drift: Drift, name: str, kind: str) -> tuple[str, float, Where, str]:
    """The method, threshold and spec key of feature ``name``, and a note when the method was substituted."""
    override = drift.features.get(name)
    own: Where = ("monitoring", "drift", "features", name)
    method = override.method if override and override.method else drift.method
    note = ""
    if method == "auto":
        method = "ks" if kind == "numeric" else "chi2"
    if method == "ks" and kind != "numeric":
        if override and override.method == "ks":
            raise StageError(f"feature {name!r} is categorical; the KS test needs a numeric feature: use chi2 or psi",
                             (*own, "method"))
        method, note = "chi2", "categorical: chi2 instead of ks"
    if override and override.threshold is not None:
        threshold, where = override.threshold, (*own, "threshold")
    else:
        threshold = drift.psi_threshold if method == "psi" else drift.p_value
        where = own if override else ("monitoring", "drift", "psi_threshold" if method == "psi" else "p_value")
    if method != "psi" and threshold >= 1:
        raise StageError(f"the threshold of feature {name!r} is a p-value for {method} and must be below 1, got "
                         f"{threshold}", where)
    return method, threshold, where, note


def check_overrides(drift: Drift, features: list[str]) -> None:
    """Every ``drift.features`` key must be a feature of the monitored model."""
    from mlspec.suggest import did_you_mean

    for name in drift.features:
        if name not in features:
            raise StageError(f"{name!r} is not a feature of the monitored model" + did_you_mean(name, features),
                             ("monitoring", "drift", "features", name))


# --- comparing -------------------------------------------------------------------------------------------------


def compare(name: str, reference: dict[str, Any], current: pd.Series, method: str, threshold: float) -> FeatureDrift:
    """The verdict of one feature: its reference profile against its current column."""
    if reference["kind"] == "numeric":
        return _numeric(name, reference, current, method, threshold)
    return _categorical(name, reference, current, method, threshold)


def _numeric(name: str, ref: dict[str, Any], series: pd.Series, method: str, threshold: float) -> FeatureDrift:
    import numpy as np

    values, bad = prof.numeric_values(series)
    finite = np.sort(values[~np.isnan(values)])  # once: the bins and the KS statistic then only search in it
    v = FeatureDrift(name, "numeric", method, threshold)
    ref_values = ref["rows"] - ref["nulls"]
    v.reference = {"rows": ref["rows"], "nulls": ref["nulls"], "mean": ref.get("mean")}
    v.current = {"rows": len(values), "nulls": len(values) - len(finite),
                 "mean": prof.shown(float(np.mean(finite))) if len(finite) else None}
    if bad:
        shown = ", ".join(repr(b) for b in bad)
        v.verdict, v.drift = "type changed", True
        v.reason = f"numeric in the reference, but the current column ({series.dtype}) holds non-numbers: {shown}"
        return v
    if _no_data(v, ref_values, len(finite)):
        return v
    cur_counts = stats.bin_counts(ref["edges"], finite, is_sorted=True)
    ref_counts = np.asarray(ref["counts"])
    v.psi = stats.psi([*ref_counts, ref["nulls"]], [*cur_counts, v.current["nulls"]])
    if method == "ks":
        test = stats.ks_from_sketch(ref["sketch"], ref_values, finite, is_sorted=True)
        v.statistic, v.p_value = test.statistic, test.p_value
    elif method == "chi2":
        bins = {f"bin {i}": int(c) for i, c in enumerate(ref_counts)}
        test, _ = stats.chi2_homogeneity(bins, {f"bin {i}": int(c) for i, c in enumerate(cur_counts)})
        v.statistic, v.p_value = test.statistic, test.p_value
    else:
        v.statistic = v.psi
    _decide(v)
    return v


def _categorical(name: str, ref: dict[str, Any], series: pd.Series, method: str, threshold: float) -> FeatureDrift:
    counts, nulls = prof.category_counts(series)
    v = FeatureDrift(name, "categorical", method, threshold)
    ref_counts: dict[str, int] = dict(ref["counts"])
    v.reference = {"rows": ref["rows"], "nulls": ref["nulls"], "categories": len(ref_counts)}
    v.current = {"rows": len(series), "nulls": nulls, "categories": len(counts)}
    if _no_data(v, ref["rows"] - ref["nulls"], len(series) - nulls):
        return v
    if ref.get("truncated"):
        # Beyond the reference's top categories nothing is known: unknown values are "other", never "new".
        ref_counts[prof.OTHER] = ref_counts.get(prof.OTHER, 0) + int(ref.get(prof.OTHER, 0))
        lumped = sum(c for k, c in counts.items() if k not in ref_counts)
        counts = {k: c for k, c in counts.items() if k in ref_counts}
        counts[prof.OTHER] = counts.get(prof.OTHER, 0) + lumped
    else:
        v.new_categories = dict(sorted(((k, c) for k, c in counts.items() if k not in ref_counts),
                                       key=lambda kv: (-kv[1], kv[0])))
    if ref["nulls"] or nulls:
        ref_counts[NULL], counts[NULL] = ref["nulls"], nulls
    names = sorted(set(ref_counts) | set(counts))
    v.psi = stats.psi([ref_counts.get(k, 0) for k in names], [counts.get(k, 0) for k in names])
    if method == "psi":
        v.statistic = v.psi
    else:
        test, _ = stats.chi2_homogeneity(ref_counts, counts)
        v.statistic, v.p_value = test.statistic, test.p_value
    _decide(v)
    if v.new_categories:
        shown = ", ".join(f"{k!r} ({c} rows)" for k, c in list(v.new_categories.items())[:10])
        more = f" and {len(v.new_categories) - 10} more" if len(v.new_categories) > 10 else ""
        v.verdict, v.drift = "new categories", True
        v.reason = f"categories the reference never had: {shown}{more}; {v.reason}"
    return v


def _no_data(v: FeatureDrift, reference_values: int, current_values: int) -> bool:
    """Settle ``v`` when one side has no values at all; True if it did."""
    if current_values and reference_values:
        return False
    v.verdict = "no data"
    if not current_values and not reference_values:
        v.reason = "no values in the reference or the current data (every row is null on both sides)"
    elif not current_values:
        v.drift = True
        v.reason = (f"all {v.current['rows']} current values are null; the reference had {reference_values} "
                    "values" if v.current["rows"] else "the current data has no rows")
    else:
        v.drift = True
        v.reason = f"the reference has no values, the current data has {current_values}"
    return True


def _decide(v: FeatureDrift) -> None:
    if v.method == "psi":
        assert v.psi is not None
        v.drift = v.psi > v.threshold
        v.reason = f"PSI {v.psi:.3g} {'>' if v.drift else '<='} {v.threshold:g}"
    else:
        assert v.p_value is not None
        v.drift = v.p_value < v.threshold
        v.reason = f"p {_p(v.p_value)} {'<' if v.drift else '>='} {v.threshold:g}"
    v.verdict = "drift" if v.drift else "ok"


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"
