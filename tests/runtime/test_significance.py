"""The paired bootstrap: calibration on synthetic data, and metrics recomputed from real predictions files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from mlspec.gates import Interval, judge
from mlspec.load import Loaded, load_text
from mlspec.runtime.significance import intervals as compute_intervals
from mlspec.runtime.significance import paired_bootstrap
from mlspec.spec import Gate, Significance
from tests.support import EXAMPLES

# --- calibration: the bootstrap with a plain accuracy statistic -------------------------------------------------


def _accuracy_pair(cand: np.ndarray, base: np.ndarray) -> Any:
    return lambda idx: (float(cand[idx].mean()), float(base[idx].mean()))


def _decide(interval: Interval | str, current: float, baseline: float, max_drop: float) -> str:
    gate = Gate(max_drop=max_drop, significance=Significance())
    result = judge({"accuracy": gate}, {"accuracy": current}, {"accuracy": baseline},
                   significance={"accuracy": interval})
    return result.gates[0].verdict


def test_identical_models_never_fail() -> None:
    rng = np.random.default_rng(1)
    right = rng.random(400) < 0.8
    interval = paired_bootstrap(_accuracy_pair(right, right), 400, None, 500, 0.95)
    assert interval == Interval(0.0, 0.0, 0.95, 500)
    assert _decide(interval, 0.8, 0.8, 0.0) == "pass"


def test_a_clearly_worse_model_fails() -> None:
    rng = np.random.default_rng(2)
    base = rng.random(500) < 0.9
    cand = base & (rng.random(500) < 0.75)  # loses a quarter of the baseline's right answers
    interval = paired_bootstrap(_accuracy_pair(cand, base), 500, None, 1000, 0.95)
    assert isinstance(interval, Interval) and interval.high < -0.15
    assert _decide(interval, float(cand.mean()), float(base.mean()), 0.02) == "fail"


def test_noise_blocks_rarely_while_a_plain_threshold_blocks_half_the_time() -> None:
    """Two models of equal true accuracy (0.8) with independent errors on 300 rows, gated with max_drop 0: the
    plain threshold fails whenever the candidate is unluckier, about half the time; the significance test
    should fail about (1 - 0.95) / 2 = 2.5% of the time."""
    rng = np.random.default_rng(3)
    runs, significant, plain = 120, 0, 0
    for _ in range(runs):
        cand, base = rng.random(300) < 0.8, rng.random(300) < 0.8
        now, before = float(cand.mean()), float(base.mean())
        plain += now < before
        interval = paired_bootstrap(_accuracy_pair(cand, base), 300, None, 300, 0.95, seed=int(rng.integers(1 << 30)))
        significant += _decide(interval, now, before, 0.0) == "fail"
    assert plain / runs > 0.35
    assert significant / runs <= 0.07  # 2.5% expected; the bound leaves room for 120 runs' sampling error


def test_power_against_a_real_drop() -> None:
    """A candidate that gets 12% of the baseline's right answers wrong (and 10% of its wrong ones right): about
    9 points worse on 400 rows with 2 points allowed. Pairing sees that the models agree on most rows, so the
    drop is caught nearly always (about 98% by a normal approximation)."""
    rng = np.random.default_rng(4)
    caught = 0
    for _ in range(40):
        base = rng.random(400) < 0.85
        cand = np.where(base, rng.random(400) >= 0.12, rng.random(400) < 0.10)
        interval = paired_bootstrap(_accuracy_pair(cand, base), 400, None, 300, 0.95)
        caught += _decide(interval, float(cand.mean()), float(base.mean()), 0.02) == "fail"
    assert caught >= 36


def test_seeded_and_stratified() -> None:
    y = np.array([0] * 90 + [1] * 10)
    seen: list[int] = []

    def positives(idx: np.ndarray) -> tuple[float, float]:
        seen.append(int(y[idx].sum()))
        return float(y[idx].mean()), 0.0

    first = paired_bootstrap(positives, 100, y, 200, 0.9, seed=7)
    assert set(seen) == {10}  # every resample keeps the class counts
    rng_values = paired_bootstrap(lambda idx: (float(idx.mean()), 0.0), 100, None, 200, 0.9, seed=7)
    assert rng_values == paired_bootstrap(lambda idx: (float(idx.mean()), 0.0), 100, None, 200, 0.9, seed=7)
    assert first == Interval(0.1, 0.1, 0.9, 200)


def test_too_many_undefined_resamples() -> None:
    calls = iter(range(10_000))
    result = paired_bootstrap(lambda idx: (None if next(calls) % 5 == 0 else 1.0, 1.0), 50, None, 100, 0.95)
    assert result == "the metric is undefined on 20 of 100 resamples"
    calls = iter(range(10_000))
    fine = paired_bootstrap(lambda idx: (None if next(calls) % 20 == 0 else 1.0, 1.0), 50, None, 100, 0.95)
    assert fine == Interval(0.0, 0.0, 0.95, 100)


# --- from predictions.parquet, with the evaluate stage's own metric code ----------------------------------------


def _spec(example: str, old: str, new: str) -> Loaded:
    path = EXAMPLES / example / "mlspec.yaml"
    text = path.read_text()
    assert old in text
    return load_text(text.replace(old, new), base=path)


BINARY = _spec("breast-cancer", "roc_auc: {min: 0.95, max_drop: 0.01}",
               "roc_auc: {min: 0.95, max_drop: 0.01, significance: {resamples: 300}}\n"
               "    accuracy: {max_drop: 0.01, significance: {resamples: 300}}")
MULTI = _spec("wine", "f1_macro: {min: 0.9, max_drop: 0.02}",
              "f1_macro: {min: 0.9, max_drop: 0.02, significance: {resamples: 200}}\n"
              "    roc_auc_ovr: {max_drop: 0.02, significance: {resamples: 200}}")
REGRESSION = _spec("diabetes", 'root_mean_squared_error: {max: 65, max_drop: "5%"}',
                   'root_mean_squared_error: {max: 65, max_drop: "5%", significance: {resamples: 300}}')


def _binary_frame(rng: np.random.Generator, noise: dict[str, float], n: int = 300) -> tuple[pd.DataFrame, dict[
        str, dict[str, float]]]:
    y = (rng.random(n) < 0.4).astype(int)
    frame = pd.DataFrame({"row": np.arange(n), "y_true": y})
    recorded = {}
    for model, sd in noise.items():
        score = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, sd, n))))
        pred = (score > 0.5).astype(int)
        frame[f"{model}:pred"], frame[f"{model}:score"] = pred, score
        recorded[model] = {"roc_auc": skm.roc_auc_score(y, score), "accuracy": skm.accuracy_score(y, pred)}
    return frame, recorded


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, index=False)
    return path


def test_binary_same_model_and_clearly_worse_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    frame, recorded = _binary_frame(rng, {"good": 0.8, "bad": 3.0})
    cur = _write(frame, tmp_path / "cur.parquet")
    same = compute_intervals(BINARY.spec, ["roc_auc", "accuracy"], (cur, "good", recorded["good"]),
                             (cur, "good", recorded["good"]))
    assert same == {"roc_auc": Interval(0.0, 0.0, 0.95, 300), "accuracy": Interval(0.0, 0.0, 0.95, 300)}
    worse = compute_intervals(BINARY.spec, ["roc_auc", "accuracy"], (cur, "bad", recorded["bad"]),
                              (cur, "good", recorded["good"]))
    for metric, interval in worse.items():
        assert isinstance(interval, Interval) and interval.high < 0, metric
        verdict = _decide(interval, recorded["bad"][metric], recorded["good"][metric], 0.01)
        assert verdict == "fail", metric


def test_multiclass_probabilities_are_rebuilt_with_their_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    n, classes = 240, [1, 2, 3]
    y = rng.choice(classes, n)
    frame = pd.DataFrame({"row": np.arange(n), "y_true": y})
    recorded = {}
    for model, sd in {"a": 1.0, "b": 1.2}.items():
        logits = np.stack([(y == c) * 2.0 + rng.normal(0, sd, n) for c in classes], axis=1)
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        pred = np.array(classes)[proba.argmax(axis=1)]
        frame[f"{model}:pred"] = pred
        for j, c in enumerate(classes):
            frame[f"{model}:proba:{c}"] = proba[:, j]
        recorded[model] = {"f1_macro": skm.f1_score(y, pred, average="macro"),
                           "roc_auc_ovr": skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes)}
    path = _write(frame, tmp_path / "p.parquet")
    out = compute_intervals(MULTI.spec, ["f1_macro", "roc_auc_ovr"], (path, "b", recorded["b"]),
                            (path, "a", recorded["a"]))
    for metric, interval in out.items():
        assert isinstance(interval, Interval), interval
        diff = recorded["b"][metric] - recorded["a"][metric]
        assert interval.low <= diff <= interval.high, metric


def test_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    y = rng.normal(150, 50, 200)
    frame = pd.DataFrame({"row": np.arange(200), "y_true": y, "ridge:pred": y + rng.normal(0, 40, 200),
                          "forest:pred": y + rng.normal(0, 60, 200)})
    path = _write(frame, tmp_path / "p.parquet")
    rmse = {m: {"root_mean_squared_error": skm.root_mean_squared_error(y, frame[f"{m}:pred"])}
            for m in ("ridge", "forest")}
    out = compute_intervals(REGRESSION.spec, ["root_mean_squared_error"], (path, "forest", rmse["forest"]),
                            (path, "ridge", rmse["ridge"]))
    interval = out["root_mean_squared_error"]
    assert isinstance(interval, Interval) and interval.low > 5  # forest's errors are larger on most resamples


def test_reasons_when_there_is_no_paired_comparison(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    frame, recorded = _binary_frame(rng, {"good": 0.8})
    cur = _write(frame, tmp_path / "cur.parquet")
    other = _write(frame.iloc[:-1], tmp_path / "short.parquet")
    relabelled = frame.copy()
    relabelled.loc[0, "y_true"] = 1 - relabelled.loc[0, "y_true"]
    other_labels = _write(relabelled, tmp_path / "labels.parquet")
    rows = ("the baseline's predictions are on other evaluation rows (the evaluation data changed), so there is "
            "no paired comparison")
    good = recorded["good"]
    assert compute_intervals(BINARY.spec, ["roc_auc"], (cur, "good", good), (other, "good", good)) == {
        "roc_auc": rows}
    assert compute_intervals(BINARY.spec, ["roc_auc"], (cur, "good", good), (other_labels, "good", good)) == {
        "roc_auc": rows}
    assert compute_intervals(BINARY.spec, ["roc_auc"], (cur, "good", good), (cur, "gone", good)) == {
        "roc_auc": "no predictions of model 'gone' in the predictions file"}
    assert compute_intervals(BINARY.spec, ["roc_auc"], (cur, "good", good), (cur, None, good)) == {
        "roc_auc": "the baseline does not name its champion"}
    wrong = {**good, "roc_auc": 0.5}
    assert compute_intervals(BINARY.spec, ["roc_auc"], (cur, "good", good), (cur, "good", wrong)) == {
        "roc_auc": f"roc_auc of the baseline recomputed from its predictions ({good['roc_auc']}) is not the "
                   "recorded 0.5"}


def test_unreadable_predictions(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_text("not parquet")
    out = compute_intervals(BINARY.spec, ["roc_auc"], (tmp_path / "bad.parquet", "good", {}),
                            (tmp_path / "bad.parquet", "good", {}))
    assert str(out["roc_auc"]).startswith("cannot read the predictions: ")
