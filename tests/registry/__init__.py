"""Tests of the model registry, deployment and provenance."""
