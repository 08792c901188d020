"""Hyperparameter search inside the ``train:<model>`` stage (``training.models.<m>.search``).

The trials are planned (:mod:`.space`, :mod:`.tpe`), each one looked up in the trial cache by its own
fingerprint (:mod:`.cache`) and, when missing, scored by cross-validation on the training rows with the
model's whole Pipeline (:mod:`.cv`), one fold per task, in-process, in ``parallel`` processes or on a Dask
cluster (:mod:`.executors`). :mod:`.driver` puts those together and picks the best trial, which the train
stage refits on every training row (:mod:`.stage`); ``mlspec trials --shard I/N`` runs one share of the
trials for a CI matrix job and keeps their results for the train job (:mod:`.shard`).
"""
