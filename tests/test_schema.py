"""The published JSON Schema: in sync with the models, and agreeing with them on good and bad specs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from mlspec.errors import SpecError
from mlspec.load import load_text
from mlspec.schema import json_schema, render
from tests.support import REPO, tool
from tests.test_load_errors import BASE, CASES

SCHEMA_FILE = REPO / "schemas" / "mlspec.schema.json"


def test_checked_in_schema_matches_the_models() -> None:
    assert SCHEMA_FILE.read_text() == render(), (
        "schemas/mlspec.schema.json is out of date; regenerate it with `make schema`"
    )


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_examples_declare_the_schema_for_editors(example: Path) -> None:
    first = example.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/mlspec.schema.json"
    assert (example.parent / first.split("=", 1)[1]).resolve() == SCHEMA_FILE


def test_examples_pass_the_schema(example: Path) -> None:
    jsonschema.validate(yaml.safe_load(example.read_text()), json_schema())


# Mistakes the schema alone can see (structure and types); cross-references need mlspec's own checks.
STRUCTURAL = [
    "unknown top-level key", "misspelt key suggests the missing one", "missing required section",
    "missing required nested key", "wrong type: mapping expected", "wrong type: string expected",
    "wrong type: list expected", "wrong type: number expected", "wrong type: boolean expected",
    "literal with suggestion", "invalid name", "invalid import path", "unknown deploy kind",
    "missing deploy kind", "unquoted python version", "bad cron", "negative max_drop", "bad percent",
    "empty models", "timeout out of range", "unknown ci stage", "future version",
    "cron minute out of range", "cron hour out of range", "cron day zero", "cron month name",
    "cron weekday out of range", "cron lowercase name", "cron extension L", "cron extension #", "cron zero step",
    "cron step on a value", "cron macro", "unsupported python", "python older than mlspec supports",
    "boolean timeout", "boolean stage timeout", "boolean seed", "negative seed", "huge seed", "fractional seed",
    "quoted number as a bound", "boolean gate bound", "huge gate bound", "boolean resamples",
    "boolean confidence", "invalid package name", "unknown source kind", "misspelt source key", "source not a mapping",
]


@pytest.mark.parametrize("name", STRUCTURAL)
def test_schema_rejects_what_the_models_reject(name: str) -> None:
    text = next(c[1] for c in CASES if c[0] == name)
    with pytest.raises(SpecError):
        load_text(text)
    assert list(jsonschema.Draft202012Validator(json_schema()).iter_errors(yaml.safe_load(text)))


def test_check_jsonschema_accepts_examples_and_rejects_a_typo(tmp_path: Path) -> None:
    check_jsonschema = tool("check-jsonschema")
    examples = sorted(str(p) for p in (REPO / "examples").glob("*/mlspec.yaml"))
    ok = subprocess.run([check_jsonschema, "--schemafile", str(SCHEMA_FILE), *examples],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / "mlspec.yaml"
    bad.write_text((REPO / "examples" / "wine" / "mlspec.yaml").read_text().replace("task: multiclass", "task: multi"))
    failed = subprocess.run([check_jsonschema, "--schemafile", str(SCHEMA_FILE), str(bad)],
                            capture_output=True, text=True)
    assert failed.returncode == 1
    assert "'multi' is not one of ['binary', 'multiclass', 'regression']" in failed.stdout


def test_schema_documents_fields() -> None:
    defs = json_schema()["$defs"]
    assert defs["Gate"]["properties"]["max_drop"]["description"].startswith("Largest allowed worsening")
    assert json.dumps(json_schema()).count('"additionalProperties": false') >= 20


@pytest.mark.parametrize("schedule", ["0 6 * * 1", "*/15 * * * *", "0 0 1 JAN,JUL *", "30 2 * * MON-FRI",
                                      "0 8-18/2 * * 1-5", "59 23 31 12 7", "05 06 01 01 00"])
def test_schema_accepts_the_schedules_the_models_accept(schedule: str) -> None:
    text = BASE + f"monitoring:\n  current: holdout\n  schedule: \"{schedule}\"\n"
    load_text(text)
    assert not list(jsonschema.Draft202012Validator(json_schema()).iter_errors(yaml.safe_load(text)))
