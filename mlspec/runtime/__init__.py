"""The stage runtime behind `mlspec run`: the same code runs on a laptop and on a CI runner.

Layout: ``context`` (what a stage gets and returns), ``runner`` (plan, skip by fingerprint, execute, lock),
``hashing``, ``lockfile``, ``workspace`` (paths, the run lock), ``snapshot`` (the table each data stage keeps
for the stages after it) and ``stages/`` with one module per stage kind. Heavy libraries (pandas,
scikit-learn, Great Expectations) are imported only inside the stage modules, so a fully cached run never pays
for them.
"""
