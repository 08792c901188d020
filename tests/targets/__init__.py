"""Tests of the compile targets registry (the generated files themselves: tests/test_compile.py)."""
