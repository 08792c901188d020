"""`python -m mlspec` is the `mlspec` command."""

from mlspec.cli import main

raise SystemExit(main())
