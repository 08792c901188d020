"""Tests of the registry of CI platform compilers (the generated files themselves: tests/test_compile.py)."""
