"""The trial cache: results by fingerprint in the workspace and the store; anything else is as good as absent."""

from __future__ import annotations

from pathlib import Path

from mlspec.runtime.search.cache import TrialCache, trial_fingerprint

RESULT = {"params": {"C": 1.0}, "scores": [0.9, 0.8], "mean": 0.85, "std": 0.05, "seconds": 0.1}


def test_a_fingerprint_covers_the_trial_params_and_the_search_it_belongs_to() -> None:
    base = {"estimator": "sklearn.linear_model.LogisticRegression", "cv": 3, "seed": 0}
    one = trial_fingerprint(base, {"C": 1.0})
    assert one == trial_fingerprint(dict(base), {"C": 1.0})
    assert one != trial_fingerprint(base, {"C": 2.0})
    assert one != trial_fingerprint({**base, "cv": 5}, {"C": 1.0})


def test_a_result_is_kept_and_found_and_a_damaged_one_is_ignored(tmp_path: Path) -> None:
    cache = TrialCache.of(tmp_path, "m")
    fp = trial_fingerprint({}, {"C": 1.0})
    assert cache.get(fp) is None
    cache.put(fp, RESULT)
    path = tmp_path / "trials" / "m" / (fp.removeprefix("sha256:") + ".json")
    assert path.is_file() and cache.get(fp) == {"format": 1, "fingerprint": fp, **RESULT}
    path.write_text('{"format": 1, "fingerprint": "', encoding="utf-8")  # cut short by a crash elsewhere
    assert cache.get(fp) is None
    other = trial_fingerprint({}, {"C": 2.0})
    path.write_text(path.read_text(encoding="utf-8").replace(fp, other), encoding="utf-8")
    assert cache.get(fp) is None  # a record about another trial
