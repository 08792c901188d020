"""Tests of `mlspec serve`: request validation and the HTTP service."""
