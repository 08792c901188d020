"""The run history: every `mlspec run` recorded (see :mod:`mlspec.runs.record`)."""
