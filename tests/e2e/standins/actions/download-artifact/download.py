"""The download-artifact test stand-in: copy artifacts of this run from $MLSPEC_E2E_ARTIFACTS into the job.

The choice follows actions/download-artifact v4+: ``name`` picks one artifact (an error if there is none by
that name) and extracts it into ``path`` itself; without it, every artifact whose name matches ``pattern``
(all of them without one) goes into ``path/<artifact name>/``, or straight into ``path`` with
``merge-multiple``, later artifacts overwriting files of earlier ones. ``path`` defaults to the workspace.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import sys
from pathlib import Path


def main() -> int:
    store = Path(os.environ["MLSPEC_E2E_ARTIFACTS"])
    workspace = Path(os.environ.get("GITHUB_WORKSPACE", "."))
    dest = workspace / os.path.expanduser(os.environ.get("INPUT_PATH") or ".")
    name = os.environ.get("INPUT_NAME", "")
    available = sorted(p.name for p in store.iterdir()) if store.is_dir() else []
    if name:
        if name not in available:
            print(f"::error::artifact {name!r} not found; this run has {available or 'no artifacts'}")
            return 1
        chosen, merge = [name], True
    else:
        pattern = os.environ.get("INPUT_PATTERN", "")
        chosen = [a for a in available if not pattern or fnmatch.fnmatchcase(a, pattern)]
        merge = os.environ.get("INPUT_MERGE_MULTIPLE", "false") == "true"
    for artifact in chosen:
        shutil.copytree(store / artifact, dest if merge else dest / artifact, dirs_exist_ok=True)
    print(f"e2e test stand-in for actions/download-artifact: {len(chosen)} artifacts into "
          f"{dest.relative_to(workspace) if dest.is_relative_to(workspace) else dest}: {', '.join(chosen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
