"""Golden files of `mlspec compile` for every example: regenerate with `make golden` after a deliberate change.

    python -m tests.golden
"""

from __future__ import annotations

from pathlib import Path

from mlspec.compile import compile_spec
from mlspec.load import load
from tests.support import EXAMPLE_NAMES, EXAMPLES

GOLDEN = Path(__file__).resolve().parent / "golden"
# A fixed version, so the goldens do not change with every release of mlspec.
VERSION = "1.2.3"


def compiled(example: str) -> dict[str, str]:
    return compile_spec(load(EXAMPLES / example / "mlspec.yaml").spec, "mlspec.yaml", version=VERSION)


def regenerate() -> None:
    for name in EXAMPLE_NAMES:
        for rel, text in compiled(name).items():
            path = GOLDEN / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(GOLDEN.parent.parent)}")


if __name__ == "__main__":
    regenerate()
