"""mlspec's own scikit-learn transformers: the steps a spec's ``data.features.datetime`` and ``data.derived``
put into a model's Pipeline, so that whatever loads the model (evaluate, serve, monitor, batch scoring)
computes the features exactly as training did.

They use NumPy, pandas and scikit-learn only, and keep plain data attributes (strings, numbers, lists, and for
``transformer`` entries the user's fitted estimator), so that skops rebuilds them without running anything a
model file names; their exact types are in :data:`mlspec.runtime.trusted_types.REVIEWED` under ``mlspec``.
"""

TYPES = ("mlspec.transform.dates.DateParts", "mlspec.transform.derive.Derive")
"""The qualified names of the classes here: what a model file may hold of mlspec's own code."""
