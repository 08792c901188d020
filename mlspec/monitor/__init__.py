"""Drift monitoring: does recent production data still look like the data the deployed model learned from?

* :mod:`mlspec.monitor.profile`: the reference profile a ``train:<model>`` stage saves beside its model
  (``reference.json``): per-feature distributions and the model's predictions, compact enough to compare
  with later without the raw training data.
* :mod:`mlspec.monitor.stats`: the statistics (population stability index, Kolmogorov-Smirnov from the
  profile's quantile sketch, chi-squared test of homogeneity), each cross-checked against SciPy in the tests.
* :mod:`mlspec.monitor.drift`: one verdict per feature, for the predictions, and the model's metrics on the
  current data when it has labels.
* :mod:`mlspec.monitor.deployed`: which model is monitored (the registry's production alias, else the
  workspace's champion).
* :mod:`mlspec.monitor.report`: ``drift.json``, ``drift.md``, ``drift.html`` and ``junit.xml``.
* :mod:`mlspec.monitor.issue`: the one GitHub / GitLab issue that ``on_drift: issue`` opens and updates.

The ``monitor`` stage (:mod:`mlspec.runtime.stages.monitor`) ties them together. Nothing here is imported by
``mlspec validate`` or ``mlspec compile``; NumPy, pandas and SciPy are imported inside the functions.
"""

DRIFT_VAR = "MLSPEC_DRIFT"
"""What ``mlspec monitor --outputs FILE`` sets (``true`` or ``false``) for the jobs that act on drift."""
