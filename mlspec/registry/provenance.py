"""Who is acting (CI facts, or git and the local user) and the provenance record of a registered version.

The provenance record answers "where did this model come from?" without the CI logs: the spec (file digest
and a fingerprint of its parsed content, which ignores comments and formatting), the data the model was
trained and evaluated on (by digest), the code commit, the library versions it was trained with, its
metrics, and the gate verdict that let it through. It is written once, when the version is registered.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlspec import __version__, gitio, platforms
from mlspec.gitio import GitError, commit_of, current_branch
from mlspec.load import Loaded
from mlspec.registry.base import Actor
from mlspec.runtime.hashing import file_digest, fingerprint

FORMAT = 1


def actor(root: Path, environ: Mapping[str, str] = os.environ) -> Actor:
    """The CI job's user, commit, ref and run page on a CI platform (:mod:`mlspec.platforms`); else git and
    $USER."""
    env = {k: v for k, v in environ.items() if v}  # a variable set to "" is as good as unset
    platform = platforms.detect(env)
    if platform is not None:
        job = platform.job(env)
        return Actor(job.user, platform.name, job.commit, job.ref, job.run)
    commit, ref = _git_facts(root)
    return Actor(local_user(root, env), "local", commit, ref)


def record(loaded: Loaded, trained_model: str, bundle_dir: Path, bundle_metadata: Mapping[str, Any],
           evaluation: Mapping[str, Any], verdict: Mapping[str, Any], by: Actor) -> dict[str, Any]:
    """The provenance of the bundle in ``bundle_dir`` (``train:<trained_model>``), judged by ``verdict``."""
    spec = loaded.spec
    return {
        "format": FORMAT,
        "model": spec.project,
        "task": spec.task,
        "trained_model": trained_model,
        "estimator": bundle_metadata.get("estimator"),
        "params": bundle_metadata.get("params", {}),
        "bundle_digest": verdict.get("model_digest"),
        "spec": {
            "path": loaded.path.name,
            "file_digest": file_digest(loaded.path),
            "fingerprint": fingerprint(spec.model_dump(mode="json")),
        },
        "data": {
            "training": bundle_metadata.get("data"),
            "evaluation": evaluation.get("data"),
        },
        "code": {"commit": by.commit, "ref": by.ref, "dirty": _dirty(loaded.root) if by.system == "local" else None},
        "libraries": bundle_metadata.get("versions", {}),
        "registered_with": {"mlspec": __version__, "python": platform.python_version()},
        "input": bundle_metadata.get("input"),
        # A binary model's positive class and decision threshold, as it predicts labels (absent otherwise).
        **({"decision": bundle_metadata["decision"]} if bundle_metadata.get("decision") else {}),
        # How a searched model's params were chosen (method, trials, best trial, CV score; absent otherwise).
        **({"search": bundle_metadata["search"]} if bundle_metadata.get("search") else {}),
        "metrics": dict((evaluation.get("models") or {}).get(trained_model) or {}),
        "evaluation": {
            "metrics": list(evaluation.get("metrics") or []),
            "directions": evaluation.get("directions"),
            "champion": evaluation.get("champion"),
            "champion_rule": evaluation.get("champion_rule"),
            "models": evaluation.get("models"),
            **({"per_class": evaluation["per_class"].get(trained_model)} if evaluation.get("per_class") else {}),
        },
        "gate": {k: verdict.get(k) for k in ("verdict", "model", "spec_fingerprint", "evaluation_digest",
                                               "baseline", "notices", "gates")},
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "recorded_by": by.as_json(),
    }


def _git_facts(root: Path) -> tuple[str | None, str | None]:
    try:
        return commit_of(root, "HEAD"), current_branch(root)
    except GitError:
        return None, None


def local_user(root: Path, env: Mapping[str, str]) -> str:
    """Who acts outside CI: git's user.email (else user.name), else the login name."""
    name = gitio.user(root)
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER: a bare container
        return env.get("USER") or "unknown"


def _dirty(root: Path) -> bool | None:
    """Whether tracked files differ from the commit (None outside git): a commit alone would not say it."""
    tree = gitio.worktree(root)
    return None if tree is None else tree[2]
