"""Where the bundled examples, schemas and templates are.

In a wheel they sit inside the package (``mlspec/_data/``, see pyproject.toml); in a source checkout or an
editable install they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The directory ``examples``, ``schemas`` or ``templates``."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mlspec installation is missing its {name!r} directory")


def example_names() -> list[str]:
    root = resource_dir("examples")
    return sorted(p.name for p in root.iterdir() if (p / "mlspec.yaml").is_file())
