"""No spec value can change a generated CI file's structure or reach a GitHub/GitLab expression.

Every string field of the Spec model (found by walking the pydantic models, so a new field cannot be missed)
gets a corpus of hostile payloads: each is rejected when the spec is loaded (a located message), or the
compiled files parse and have the structure of the benign spec's; a field that does not reach the CI files
must leave them byte-identical. The accepted variants then go through actionlint, zizmor and the official
schemas. The reproducers of findings 3 and 4 of the security issue are regression tests at the end.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import subprocess
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from mlspec.compile import compile_spec
from mlspec.errors import SpecError
from mlspec.load import load_text
from mlspec.spec import Spec
from tests.support import EXAMPLES, run_mlspec, tool

# --- the walk ---------------------------------------------------------------------------------------------


def _slots(tp: Any, at: str) -> list[str]:
    """Where ``tp`` can hold a string: ``.field``, ``[]`` (list item), ``{key}`` / ``{}`` (dict key / value),
    ``<Class>`` (member of a union of models)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return _slots(args[0], at)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
        out: list[str] = []
        for a in members:
            out += _slots(a, f"{at}<{a.__name__}>" if len(models) > 1 and a in models else at)
        return list(dict.fromkeys(out))
    if origin is typing.Literal or tp in (int, float, bool, type(None)):
        return []
    if tp is str or tp is Any:
        return [at]
    if origin is list:
        return _slots(args[0], at + "[]")
    if origin is dict:
        return _slots(args[0], at + "{key}") + _slots(args[1], at + "{}")
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        out = []
        for name, field in tp.model_fields.items():
            out += _slots(field.annotation, f"{at}.{name}" if at else name)
        return out
    raise AssertionError(f"the walk does not know {tp!r} at {at}")


OIDC_FIELDS = {"aws": ("role", "region"), "azure": ("client_id", "tenant_id", "subscription_id"),
               "gcp": ("workload_identity_provider", "service_account")}
"""The fields of each cloud's sign-in that take a literal, {secret: NAME} or {var: NAME}; each also has audience."""
# Audiences other than the defaults, so that the files hold every input a payload could set.
OIDC = {"aws": {"role": "arn:aws:iam::123456789012:role/ci", "region": "eu-west-1", "audience": "sts.example"},
        "azure": {"client_id": "c", "tenant_id": "t", "subscription_id": "s", "audience": "api://example"},
        "gcp": {"workload_identity_provider": "projects/1/locations/global/workloadIdentityPools/p/providers/q",
                "service_account": "ci@project.iam.gserviceaccount.com", "audience": "https://example/"}}

FULL: dict[str, Any] = {
    "version": 1, "project": "demo", "task": "binary",
    "data": {
        "target": "label", "positive_class": "yes",
        "features": {"numeric": ["age"], "categorical": ["city"], "datetime": ["signed"]},
        "exclude": ["id"],
        "derived": {"half": {"expr": "age / 2"}, "log_age": {"log": "age"}, "low": {"clip": "age", "min": 0},
                    "band": {"bucket": "age", "edges": [30]}, "month": {"date_part": "signed", "part": "month"},
                    "ratio": {"transformer": "feats.Ratio", "columns": ["age"], "params": {"scale": "x"}}},
        "sources": {"train": {"path": "data/train.csv", "format": "csv", "description": "training rows"},
                    "holdout": {"path": "data/holdout.csv"}, "current": {"path": "data/current.csv"},
                    "web": {"kind": "url", "url": "https://data.example/rows.csv", "token_env": "DATA_TOKEN"},
                    "bucket": {"kind": "url", "url": "s3://data/rows.parquet", "endpoint_url": "http://127.0.0.1:9"}},
    },
    "prepare": {"build": {"cmd": ["python", "prep.py"], "inputs": ["prep.py", "raw"], "outputs": ["data/train.csv"],
                          "env": {"SEED": "1"}, "description": "the training table"}},
    "validation": {
        "checks": {"data": "train", "expectations": [{"expect_column_values_to_not_be_null": {"column": "label"}}]},
        "filed": {"data": "holdout", "suite_file": "gx/suite.json"},
    },
    "training": {"seed": 1, "packages": ["xgboost", "feats"], "trust": ["feats.Ratio"], "models": {"forest": {
        "estimator": "sklearn.ensemble.RandomForestClassifier", "params": {"criterion": "gini"}, "data": "train",
        "fit": {"verbose": "quiet"},
        # In shards, so the model's name is also the id of its shard job (trials-forest).
        "search": {"space": {"max_depth": ["a", 4]}, "metric": "roc_auc", "shards": 2}}}},
    "evaluation": {"data": "holdout", "metrics": ["accuracy", "roc_auc"], "champion": {"metric": "roc_auc"},
                   "gates": {"roc_auc": {"min": 0.5, "max_drop": "2%"}}},
    "deploy": {
        "staging": {"kind": "registry", "alias": "staging", "model": "forest", "environment": "stage",
                    "when": {"branches": ["stable", "release/*"], "tags": ["v*"]}},
        "bundle": {"kind": "export", "path": "dist/model", "after": ["staging"], "model": "forest",
                   "environment": "files", "when": {"branches": ["hotfix"], "tags": ["r*"]}},
    },
    "registry": {"path": ".mlspec/registry"},
    "store": {"url": "s3://bucket/prefix", "endpoint_url": "http://127.0.0.1:5000"},
    "tracking": {"backend": "mlflow", "uri": "https://mlflow.example.com/ml", "experiment": "demo-runs"},
    "monitoring": {"current": "current", "reference": "train", "schedule": "0 6 * * 1",
                   "drift": {"features": {"age": {"method": "psi"}}}, "on_drift": "retrain"},
    "ci": {"python": "3.11", "mlspec_version": "1.0.0", "default_branch": "main", "requirements": ["xgboost==2.1.0"],
           "requirements_file": "requirements.txt",
           "env": {"MLSPEC_STORE": {"var": "STORE"}, "TOKEN": {"secret": "TOKEN"}, "LITERAL": "https://x.example/"},
           "github": {"runs_on": ["ubuntu-latest"], "stages": {"train": {"runs_on": ["self-hosted"]}},
                      "oidc": copy.deepcopy(OIDC)},
           "gitlab": {"image": "python:3.11", "tags": ["docker"], "stages": {"train": {"tags": ["gpu"]}},
                      "oidc": copy.deepcopy(OIDC)}},
}

KEY = object()
"""Last element of a document path: rename the key of the mapping before it."""

# Every string slot, the document path in FULL where a payload goes, and whether it reaches the CI files.
SLOTS: dict[str, tuple[tuple[Any, ...], bool]] = {
    "project": (("project",), True),
    "data.sources{key}": (("data", "sources", "current", KEY), False),
    "data.sources{}.path": (("data", "sources", "train", "path"), True),
    "data.sources{}.description": (("data", "sources", "train", "description"), False),
    # Where a url source's bytes come from is read by the data stage, never written into a CI file.
    "data.sources{}.url": (("data", "sources", "web", "url"), False),
    "data.sources{}.token_env": (("data", "sources", "web", "token_env"), False),
    "data.sources{}.endpoint_url": (("data", "sources", "bucket", "endpoint_url"), False),
    "data.target": (("data", "target"), False),
    "data.positive_class": (("data", "positive_class"), False),
    "data.features.numeric[]": (("data", "features", "numeric", 0), False),
    "data.features.categorical[]": (("data", "features", "categorical", 0), False),
    "data.features.datetime[]": (("data", "features", "datetime", 0), False),
    "data.exclude[]": (("data", "exclude", 0), False),
    # A step's name is its job's id and variable; its inputs are in the stage cache key; the rest is run by
    # `mlspec run` in the job, never written into a CI file.
    "prepare{key}": (("prepare", "build", KEY), True),
    "prepare{}.cmd[]": (("prepare", "build", "cmd", 0), False),
    "prepare{}.inputs[]": (("prepare", "build", "inputs", 0), True),
    "prepare{}.outputs[]": (("prepare", "build", "outputs", 0), False),
    "prepare{}.env{key}": (("prepare", "build", "env", "SEED", KEY), False),
    "prepare{}.env{}": (("prepare", "build", "env", "SEED"), False),
    "prepare{}.description": (("prepare", "build", "description"), False),
    # Derived features are computed inside the model's Pipeline; no CI file names them.
    "data.derived{key}": (("data", "derived", "half", KEY), False),
    **{f"data.derived{{}}.{kind}": (("data", "derived", name, kind), False) for kind, name in (
        ("expr", "half"), ("log", "log_age"), ("clip", "low"), ("bucket", "band"), ("date_part", "month"),
        ("transformer", "ratio"))},
    "data.derived{}.columns[]": (("data", "derived", "ratio", "columns", 0), False),
    "data.derived{}.params{key}": (("data", "derived", "ratio", "params", "scale", KEY), False),
    "data.derived{}.params{}": (("data", "derived", "ratio", "params", "scale"), False),
    "validation{key}": (("validation", "checks", KEY), True),
    "validation{}.data": (("validation", "checks", "data"), False),
    "validation{}.expectations[]{key}": (
        ("validation", "checks", "expectations", 0, "expect_column_values_to_not_be_null", KEY), False),
    "validation{}.expectations[]{}{key}": (
        ("validation", "checks", "expectations", 0, "expect_column_values_to_not_be_null", "column", KEY), False),
    "validation{}.expectations[]{}{}": (
        ("validation", "checks", "expectations", 0, "expect_column_values_to_not_be_null", "column"), False),
    "validation{}.suite_file": (("validation", "filed", "suite_file"), True),
    "training.packages[]": (("training", "packages", 0), False),
    "training.trust[]": (("training", "trust", 0), False),
    "training.models{key}": (("training", "models", "forest", KEY), True),
    "training.models{}.estimator": (("training", "models", "forest", "estimator"), False),
    "training.models{}.params{key}": (("training", "models", "forest", "params", "criterion", KEY), False),
    "training.models{}.params{}": (("training", "models", "forest", "params", "criterion"), False),
    "training.models{}.fit{key}": (("training", "models", "forest", "fit", "verbose", KEY), False),
    "training.models{}.fit{}": (("training", "models", "forest", "fit", "verbose"), False),
    "training.models{}.data": (("training", "models", "forest", "data"), False),
    # A search is run by `mlspec run`/`mlspec trials` in the jobs; only its shard count shapes them (an int).
    "training.models{}.search.metric": (("training", "models", "forest", "search", "metric"), False),
    "training.models{}.search.space{key}": (("training", "models", "forest", "search", "space", "max_depth", KEY),
                                            False),
    "training.models{}.search.space{}[]": (("training", "models", "forest", "search", "space", "max_depth", 0),
                                           False),
    "evaluation.data": (("evaluation", "data"), False),
    "evaluation.metrics[]": (("evaluation", "metrics", 0), False),
    "evaluation.baseline.alias": (("evaluation", "baseline", "alias"), False),
    "evaluation.champion.metric": (("evaluation", "champion", "metric"), False),
    "evaluation.champion.model": (("evaluation", "champion", "model"), False),
    "evaluation.gates{key}": (("evaluation", "gates", "roc_auc", KEY), False),
    "evaluation.gates{}.max_drop": (("evaluation", "gates", "roc_auc", "max_drop"), False),
    "deploy{key}": (("deploy", "staging", KEY), True),
    **{f"deploy{{}}<{kind}>.{field}": (("deploy", name, field), field in ("environment",))
       for kind, name in (("RegistryTarget", "staging"), ("ExportTarget", "bundle"))
       for field in ("model", "environment", *(("alias",) if kind == "RegistryTarget" else ("path",)))},
    **{f"deploy{{}}<{kind}>.{field}[]": (("deploy", name, *field.split("."), 0), True)
       for kind, name in (("RegistryTarget", "staging"), ("ExportTarget", "bundle"))
       for field in ("when.branches", "when.tags", "after")},
    "registry.path": (("registry", "path"), False),
    # Whether there is a store changes the jobs (mlspec.targets.common.has_store); its location never reaches them.
    "store.url": (("store", "url"), False),
    "store.endpoint_url": (("store", "endpoint_url"), False),
    # Where runs are tracked is read by `mlspec run` when it sends a record, never written into a CI file.
    "tracking.uri": (("tracking", "uri"), False),
    "tracking.experiment": (("tracking", "experiment"), False),
    "monitoring.current": (("monitoring", "current"), False),
    "monitoring.reference": (("monitoring", "reference"), False),
    "monitoring.schedule": (("monitoring", "schedule"), True),
    "monitoring.drift.features{key}": (("monitoring", "drift", "features", "age", KEY), False),
    "ci.python": (("ci", "python"), True),
    "ci.mlspec_version": (("ci", "mlspec_version"), True),
    "ci.default_branch": (("ci", "default_branch"), True),
    "ci.requirements[]": (("ci", "requirements", 0), True),
    "ci.requirements_file": (("ci", "requirements_file"), True),
    "ci.github.runs_on[]": (("ci", "github", "runs_on", 0), True),
    "ci.github.stages{}.runs_on[]": (("ci", "github", "stages", "train", "runs_on", 0), True),
    "ci.gitlab.image": (("ci", "gitlab", "image"), True),
    "ci.gitlab.tags[]": (("ci", "gitlab", "tags", 0), True),
    "ci.gitlab.stages{}.tags[]": (("ci", "gitlab", "stages", "train", "tags", 0), True),
    "ci.env{key}": (("ci", "env", "LITERAL", KEY), True),
    "ci.env{}": (("ci", "env", "LITERAL"), True),
    "ci.env{}.secret": (("ci", "env", "TOKEN", "secret"), True),
    "ci.env{}.var": (("ci", "env", "MLSPEC_STORE", "var"), True),
    **{f"ci.{platform}.oidc.{cloud}.{field}{ref}": (("ci", platform, "oidc", cloud, field, *([ref[1:]] if ref else [])),
                                                   True)
       for platform in ("github", "gitlab") for cloud, fields in OIDC_FIELDS.items() for field in fields
       for ref in ("", ".secret", ".var")},
    **{f"ci.{platform}.oidc.{cloud}.audience": (("ci", platform, "oidc", cloud, "audience"), True)
       for platform in ("github", "gitlab") for cloud in OIDC_FIELDS},
}

PAYLOADS = [
    '"\n  before_script:\n    - touch pwned\n  after_script: |\n   #',
    "\nbefore_script: [id]", "${{ github.event.pull_request.title }}", "' && github.event.pull_request.title || '",
    "'", '"', '\\"', ": x", " #", "\x00", "\x1b[31m", "\t", "\r", "\x7f", "$[[ inputs.x ]]", "${VAR}",
    "$CI_JOB_TOKEN", "\u2028x: y", "\u0085x", "\u2029", "`id`", "{", "}}", "*", "?", "[a]", "../..", "-rf",
    "a" * 5000,
]


SAFE_CHARS = r"[A-Za-z0-9._/*+@=,:<>!~-]+"
URL_CHARS = r"[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%<>-]+"


def _env_literal(slot: str) -> bool:
    return slot == "ci.env{}" or (".oidc." in slot and not slot.endswith((".secret", ".var")))


def test_every_string_field_is_covered() -> None:
    """A new string field must be added to SLOTS, saying whether it reaches the CI files."""
    assert sorted(_slots(Spec, "")) == sorted(SLOTS)


def _put(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set ``path`` in ``doc`` to ``value``, creating what is missing (a list for an index)."""
    if path == ("evaluation", "champion", "model"):
        doc["evaluation"]["champion"] = {"model": value}
        return
    if path[0] == "ci" and path[-1] in ("secret", "var"):
        _put(doc, path[:-1], {path[-1]: value})  # a value by reference, in place of the literal or other kind
        return
    node: Any = doc
    key_slot = path[-1] is KEY
    steps = path[:-2] if key_slot else path[:-1]
    for p, nxt in zip(steps, path[1:], strict=False):
        if isinstance(node, list) and p == len(node):
            node.append([] if isinstance(nxt, int) else {})
        elif isinstance(node, dict) and p not in node:
            node[p] = [] if isinstance(nxt, int) else {}
        node = node[p]
    if key_slot:
        node[value] = node.pop(path[-2])
    elif isinstance(node, list) and path[-1] == len(node):
        node.append(value)
    else:
        node[path[-1]] = value


def _get(doc: dict[str, Any], path: tuple[Any, ...]) -> Any:
    """The benign value at ``path`` (a key's name), or None where FULL has none."""
    if path[-1] is KEY:
        return path[-2]
    node: Any = doc
    for p in path:
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):  # TypeError: a literal where the slot is a reference
            return None
    return node


def variant(slot: str, value: str) -> str:
    doc = copy.deepcopy(FULL)
    _put(doc, SLOTS[slot][0], value)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, width=10_000)


def skeleton(node: Any) -> Any:
    """The shape of a parsed file: keys and list lengths, scalars by type."""
    if isinstance(node, dict):
        return {k: skeleton(v) for k, v in node.items()}
    if isinstance(node, list):
        return [skeleton(v) for v in node]
    return type(node).__name__


def _fixed_parts(rel: str, parsed: dict[str, Any]) -> Any:
    """What no spec value may change: job ids, needs, every script line, rule outcomes."""
    if rel.startswith(".github/"):
        return {job_id: (job.get("needs"), [s.get("run") for s in job["steps"]], list(job))
                for job_id, job in parsed["jobs"].items()}
    return {key: (job.get("needs"), job.get("script"), job.get("before_script"),
                  [r.get("when") for r in job.get("rules", [])])
            for key, job in parsed.items() if isinstance(job, dict)}


def _compile(text: str) -> dict[str, str] | SpecError:
    try:
        spec = load_text(text, "mlspec.yaml").spec
    except SpecError as exc:
        return exc
    return compile_spec(spec, version="1.2.3")


@functools.cache
def base_files() -> dict[str, str]:
    out = _compile(yaml.safe_dump(FULL, sort_keys=False))
    assert isinstance(out, dict), str(out)
    return out


@functools.cache
def outcomes(slot: str) -> list[tuple[str, dict[str, str] | SpecError]]:
    benign = _get(FULL, SLOTS[slot][0])
    values = list(dict.fromkeys([*PAYLOADS, *(f"{benign}{p}" for p in PAYLOADS if isinstance(benign, str))]))
    return [(value, _compile(variant(slot, value))) for value in values]


NAMES_JOBS = {"prepare{key}", "training.models{key}"}
"""Slots whose value names a job (``prepare-<name>``, ``trials-<model>``), so an accepted value changes a job id
and nothing else."""


@pytest.mark.parametrize("slot", sorted(SLOTS))
def test_hostile_value_is_rejected_or_inert(slot: str) -> None:
    base = base_files()
    reaches_ci = SLOTS[slot][1]
    for value, out in outcomes(slot):
        if isinstance(out, SpecError):
            assert str(out.problems[0]).startswith("mlspec.yaml:"), (value, str(out))
            continue
        if not reaches_ci:
            assert out == base, f"{slot} = {value!r} changed the CI files; does it reach them? (SLOTS)"
            continue
        assert sorted(out) == sorted(base)
        for rel, text in out.items():
            if slot in NAMES_JOBS:  # the value is a job's id: put the benign name back, then nothing else differs
                text = text.replace(str(value), str(_get(FULL, SLOTS[slot][0])))
            parsed, benign = yaml.safe_load(text), yaml.safe_load(base[rel])
            assert skeleton(parsed) == skeleton(benign), (slot, value, rel)
            assert _fixed_parts(rel, parsed) == _fixed_parts(rel, benign), (slot, value, rel)
            assert text.count("${{") == base[rel].count("${{"), (slot, value, rel)
            assert text.count("$") == base[rel].count("$"), (slot, value, rel)


def test_what_reaches_ci_holds_no_hostile_character() -> None:
    """Of the corpus, a CI-reaching field accepts only what its allowlist admits (``main-rf``, ``main*``):
    never a quote, ``$``, a brace, whitespace or a control character. The schedule is the exception: any
    whitespace separates its fields, and it compiles to one line of single spaces. Literal environment values
    may be URLs (query, fragment, escapes, no quote or $): they are written only as quoted values of
    `env:`/`variables:`/`with:`, never into a script, a condition or an expression."""
    for slot, (_, reaches) in SLOTS.items():
        for value, out in outcomes(slot) if reaches and slot != "monitoring.schedule" else []:
            if not isinstance(out, SpecError):
                assert re.fullmatch(URL_CHARS if _env_literal(slot) else SAFE_CHARS, value), (slot, value)


def _accepted_files(root: Path) -> list[Path]:
    paths = []
    for i, slot in enumerate(sorted(s for s, (_, reaches) in SLOTS.items() if reaches)):
        for j, (_, out) in enumerate(outcomes(slot)):
            if isinstance(out, SpecError):
                continue
            for rel, text in out.items():
                path = root / f"{i}-{j}" / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                paths.append(path)
    return paths


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def test_accepted_variants_pass_the_real_checkers(tmp_path: Path) -> None:
    paths = _accepted_files(tmp_path)
    workflows = [str(p) for p in paths if ".github" in p.parts]
    gitlab = [str(p) for p in paths if p.name == ".gitlab-ci.yml"]
    assert workflows and gitlab
    # Accepted runner labels are custom ones (a self-hosted runner's), which actionlint cannot know: that one
    # check is off, every other (expressions, shellcheck of each run:, structure) stays on.
    lint = _run([tool("actionlint"), f"-shellcheck={tool('shellcheck')}", "-ignore", 'label ".+" is unknown',
                 *workflows])
    assert (lint.returncode, lint.stdout) == (0, "")
    for persona in ("regular", "pedantic"):
        # cache-poisoning is off here: the benign spec deploys from `release/*` pushes, which zizmor reads as a
        # release workflow restoring caches (mlspec skips restores only on tag builds). That is a finding about
        # the cache design, kept open in the issue tracker, not about any payload; every other audit stays on.
        zizmor = _run([tool("zizmor"), "--offline", "--no-progress", "--persona", persona, "--format", "plain",
                       *workflows])
        findings = [line for line in zizmor.stdout.splitlines()
                    if line.startswith(("error[", "warning[", "help[", "info[", "note["))
                    and not line.startswith("error[cache-poisoning]")]
        assert findings == [], zizmor.stdout
    gh = _run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows])
    assert gh.returncode == 0, gh.stdout
    gl = _run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *gitlab])
    assert gl.returncode == 0, gl.stdout


# --- findings 3 and 4 -------------------------------------------------------------------------------------

DIABETES = (EXAMPLES / "diabetes" / "mlspec.yaml").read_text()
FINDING_3 = DIABETES.replace("    alias: staging\n", "    alias: staging\n    when:\n      branches: "
                             '["main\\"\\n  before_script:\\n    - touch pwned\\n  after_script: |\\n   #"]\n')
FINDING_4 = DIABETES.replace("ci:\n", "ci:\n  mlspec_version: \"0.1.0' && github.event.pull_request.title || '\"\n")
REPRODUCERS = {
    "finding 3: gitlab rule injection through a branch":
        (FINDING_3, "mlspec.yaml:54:18: deploy.staging.when.branches[0]: 'main\"\\n  before_script:\\n    - touch "
         "pwned\\n  after_script: ...' is not a branch or tag pattern mlspec can match: it holds '\\n', ' ', '\"', "
         "'#', ':', '|'; use letters, digits, '.', '_', '-' and '/', and end it in one '*' to match a prefix"),
    "finding 4: github expression through mlspec_version":
        (FINDING_4, "mlspec.yaml:63:19: ci.mlspec_version: \"0.1.0' && github.event.pull_request.title || '\" is "
         "not a version of mlspec the jobs can install (as mlspec-ci[run]==VERSION); write a PEP 440 version such "
         "as 1.4.0, 1.5.0rc1 or 1.4.0.post1"),
    "finding 3: default branch": (DIABETES.replace("ci:\n", 'ci:\n  default_branch: "main\\n  x: y"\n'),
                                  "mlspec.yaml:63:19: ci.default_branch: 'main\\n  x: y' is not a branch name "
                                  "mlspec can match: it holds '\\n', ' ', ':'; use letters, digits, '.', '_', '-' "
                                  "and '/'"),
    "hashFiles breakout through a source path": (
        DIABETES.replace("{path: data/train.csv}", "{path: \"data/train.csv') }}${{ github.token }}\"}"),
        "mlspec.yaml:13:19: data.sources.train.path: \"data/train.csv') }}${{ github.token }}\" holds '$', "
        "\"'\", ')', '{', '}', which the CI files cannot carry safely; a path here may use letters, "
        "digits, spaces and . _ / + @ = , -"),
}


@pytest.mark.parametrize(("text", "expected"), list(REPRODUCERS.values()), ids=list(REPRODUCERS))
def test_finding_reproducer_is_rejected_at_load(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        load_text(text, "mlspec.yaml")
    assert str(info.value.problems[0]) == expected


@pytest.mark.parametrize("name", ["finding 3: gitlab rule injection through a branch",
                                  "finding 4: github expression through mlspec_version"])
def test_cli_rejects_the_reproducers_without_a_traceback(name: str, tmp_path: Path) -> None:
    spec = tmp_path / "mlspec.yaml"
    spec.write_text(REPRODUCERS[name][0])
    for command in (["validate", "-f", str(spec)], ["compile", "-f", str(spec), "--out", str(tmp_path)]):
        result = run_mlspec(*command)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert f"{spec}:" in result.stderr
    assert not (tmp_path / ".gitlab-ci.yml").exists()


def test_github_install_keeps_spec_values_out_of_expressions() -> None:
    wf = yaml.safe_load(base_files()[".github/workflows/mlspec.yml"])
    assert wf["env"]["MLSPEC_INSTALL"] == "${{ vars.MLSPEC_INSTALL }}"
    assert wf["env"]["MLSPEC_INSTALL_DEFAULT"] == "mlspec-ci[run,store,mlflow]==1.0.0"
    install = next(s for s in wf["jobs"]["train"]["steps"] if s["name"] == "Install mlspec")
    assert '"${MLSPEC_INSTALL:-$MLSPEC_INSTALL_DEFAULT}"' in install["run"]


def test_gitlab_rules_are_quoted_scalars() -> None:
    text = base_files()[".gitlab-ci.yml"]
    rules = [line.strip() for line in text.splitlines() if line.strip().startswith("- if: $CI_COMMIT")]
    assert rules == ["- if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "- if: $CI_COMMIT_BRANCH",
                     "- if: $CI_COMMIT_TAG"]  # the workflow's own constant rules; every job rule is quoted
    assert '- if: "$CI_COMMIT_BRANCH == \\"stable\\""' in text
