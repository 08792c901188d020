"""Every mistake a user can make in mlspec.yaml, with the exact message, line and column it gets.

Each case edits one line of a small valid spec (BASE) and states the full first line of the error.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mlspec.errors import SpecError
from mlspec.load import load_text

BASE = """\
version: 1
project: demo
task: binary
data:
  target: label
  sources:
    train: {path: train.csv}
    holdout: {path: holdout.csv}
validation:
  checks:
    data: train
    expectations:
      - expect_column_values_to_not_be_null: {column: label}
training:
  models:
    forest:
      estimator: sklearn.ensemble.RandomForestClassifier
      data: train
evaluation:
  data: holdout
  metrics: [accuracy, roc_auc]
  gates:
    roc_auc: {min: 0.9}
deploy:
  staging: {kind: registry, alias: staging}
"""


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"test setup: {old!r} must occur once in BASE"
    return BASE.replace(old, new)


CASES: list[tuple[str, str, str]] = [
    # --- YAML level ---------------------------------------------------------------------------------------
    ("empty file", "", "mlspec.yaml:1:1: the file is empty; run `mlspec init` to start from a working example"),
    ("only comments", "# nothing yet\n",
     "mlspec.yaml:1:1: the file is empty; run `mlspec init` to start from a working example"),
    ("syntax: unclosed flow mapping", edit("{path: train.csv}", "{path: train.csv"),
     "mlspec.yaml:8:12: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 7)"),
    ("syntax: tab indentation", edit("  target: label", "\ttarget: label"),
     "mlspec.yaml:5:1: invalid YAML: tab character; indent with spaces, YAML does not allow tabs"),
    ("syntax: bad indentation", edit("  task: binary".strip(), "task: binary\n  oops: 1"),
     "mlspec.yaml:4:7: invalid YAML: mapping values are not allowed in this context"),
    ("two documents", BASE + "---\nversion: 1\n",
     "mlspec.yaml:26:1: invalid YAML: the file holds more than one document; keep a single document (no `---`)"),
    ("duplicate top-level key", BASE + "project: again\n",
     "mlspec.yaml:26:1: project: duplicate key 'project' (first defined at line 2); remove one of them, "
     "YAML would silently keep only the last"),
    ("duplicate nested key", edit("      data: train\n", "      data: train\n      data: holdout\n"),
     "mlspec.yaml:19:7: training.models.forest.data: duplicate key 'data' (first defined at line 18); "
     "remove one of them, YAML would silently keep only the last"),
    ("non-mapping document: list", "- version: 1\n",
     "mlspec.yaml:1:1: the file must be a mapping of sections (version, project, data, ...), got a list"),
    ("non-mapping document: scalar", "hello\n",
     "mlspec.yaml:1:1: the file must be a mapping of sections (version, project, data, ...), got the string 'hello'"),
    ("non-string key", edit("project: demo", "project: demo\n? [a, b]\n: 1"),
     "mlspec.yaml:3:3: keys must be plain strings, not lists or mappings"),
    ("alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
     "mlspec.yaml:5:1: e: document expands to more than 100000 values (too many aliases?); "
     "a spec should be far smaller"),
    # --- version ------------------------------------------------------------------------------------------
    ("missing version", edit("version: 1\n", ""),
     "mlspec.yaml:1:1: missing required key 'version'; add `version: 1` at the top"),
    ("future version", edit("version: 1", "version: 2"),
     "mlspec.yaml:1:10: version: unsupported spec version 2; this mlspec reads version 1 "
     "(upgrade mlspec for newer specs)"),
    # --- structure (pydantic) -----------------------------------------------------------------------------
    ("unknown top-level key", edit("task: binary", "task: binary\nprojet: x"),
     "mlspec.yaml:4:1: unknown key 'projet'; did you mean 'project'?"),
    ("misspelt key suggests the missing one", edit("      estimator:", "      estimatr:"),
     "mlspec.yaml:17:7: training.models.forest: unknown key 'estimatr'; did you mean 'estimator'?"),
    ("missing required section", edit("task: binary\n", ""),
     "mlspec.yaml:1:1: missing required key 'task'; add `task:`"),
    ("missing required nested key", edit("      data: train\n", ""),
     "mlspec.yaml:16:5: training.models.forest: missing required key 'data'; add `data:`"),
    ("wrong type: mapping expected", edit("  sources:\n    train: {path: train.csv}\n    holdout: {path: holdout.csv}",
                                          "  sources: [train.csv]"),
     "mlspec.yaml:6:12: data.sources: expected a mapping, got a list"),
    ("wrong type: string expected", edit("project: demo", "project: 42"),
     "mlspec.yaml:2:10: project: expected a string, got the number 42"),
    ("wrong type: list expected", edit("metrics: [accuracy, roc_auc]", "metrics: accuracy"),
     "mlspec.yaml:21:12: evaluation.metrics: expected a list, got the string 'accuracy'"),
    ("wrong type: number expected", edit("{min: 0.9}", "{min: high}"),
     "mlspec.yaml:23:20: evaluation.gates.roc_auc.min: expected a number, got the string 'high'"),
    ("wrong type: boolean expected", edit("{min: 0.9}", "{min: 0.9, warn_only: maybe}"),
     "mlspec.yaml:23:36: evaluation.gates.roc_auc.warn_only: expected true or false, got the string 'maybe'"),
    ("literal with suggestion", edit("task: binary", "task: binar"),
     "mlspec.yaml:3:7: task: the string 'binar' is not allowed; did you mean 'binary'?"),
    ("invalid name", edit("  checks:", "  Bad Name:"),
     "mlspec.yaml:10:3: validation['Bad Name']: 'Bad Name' is not a valid name; use 1-40 lowercase letters, digits, "
     "'_' or '-', starting with a letter"),
    ("invalid import path", edit("sklearn.ensemble.RandomForestClassifier", "RandomForestClassifier"),
     "mlspec.yaml:17:18: training.models.forest.estimator: 'RandomForestClassifier' is not an import path; "
     "write it like sklearn.ensemble.RandomForestClassifier"),
    ("unknown deploy kind", edit("{kind: registry, alias: staging}", "{kind: registy, alias: staging}"),
     "mlspec.yaml:25:19: deploy.staging.kind: unknown kind 'registy'; did you mean 'registry'?"),
    ("missing deploy kind", edit("{kind: registry, alias: staging}", "{alias: staging}"),
     "mlspec.yaml:25:3: deploy.staging: missing required key 'kind'; add `kind:` with one of: registry, export"),
    ("unquoted python version", BASE + "ci:\n  python: 3.10\n",
     "mlspec.yaml:27:11: ci.python: must be a quoted string such as \"3.11\"; YAML read 3.1 as a number"),
    ("bad cron", BASE + "monitoring:\n  current: holdout\n  schedule: weekly\n",
     "mlspec.yaml:28:13: monitoring.schedule: 'weekly' is not a five-field cron expression; "
     "write it like '0 6 * * 1' (minute hour day month weekday)"),
    ("negative max_drop", edit("{min: 0.9}", "{max_drop: -1}"),
     "mlspec.yaml:23:25: evaluation.gates.roc_auc.max_drop: must not be negative, got -1"),
    ("bad percent", edit("{min: 0.9}", "{max_drop: 2 percent}"),
     "mlspec.yaml:23:25: evaluation.gates.roc_auc.max_drop: must be a number such as 0.01 or a percentage "
     "such as \"2%\", got '2 percent'"),
    ("gate without bounds", edit("{min: 0.9}", "{warn_only: true}"),
     "mlspec.yaml:23:14: evaluation.gates.roc_auc: a gate needs at least one of `min`, `max` or `max_drop`"),
    ("gate min above max", edit("{min: 0.9}", "{min: 0.9, max: 0.5}"),
     "mlspec.yaml:23:14: evaluation.gates.roc_auc: `min` (0.9) is greater than `max` (0.5)"),
    ("suite with both kinds", edit("    data: train\n    expectations:", "    data: train\n    suite_file: s.json\n"
                                   "    expectations:"),
     "mlspec.yaml:11:5: validation.checks: give exactly one of `expectations` (inline) or `suite_file` "
     "(GX suite JSON)"),
    ("two expectations in one item", edit("{column: label}", "{column: label}\n        expect_column_to_exist: {}"),
     "mlspec.yaml:13:9: validation.checks.expectations[0]: write one expectation per list item; "
     "this item has 2 keys"),
    ("empty models", edit("  models:\n    forest:\n      estimator: sklearn.ensemble.RandomForestClassifier\n"
                          "      data: train\n", "  models: {}\n"),
     "mlspec.yaml:15:11: training.models: must not be empty"),
    ("timeout out of range", BASE + "ci:\n  github:\n    timeout_minutes: 0\n",
     "mlspec.yaml:28:22: ci.github.timeout_minutes: must be >= 1, got 0"),
    ("unknown ci stage", BASE + "ci:\n  gitlab:\n    stages:\n      trian: {tags: [gpu]}\n",
     "mlspec.yaml:29:7: ci.gitlab.stages.trian: the string 'trian' is not allowed; did you mean 'train'?"),
    ("unknown file format", edit("{path: train.csv}", "{path: train.xlsx}"),
     "mlspec.yaml:7:12: data.sources.train: cannot tell the format of 'train.xlsx' from its suffix; "
     "add `format: csv` or `format: parquet`"),
    # A source's kind picks its adapter; without one it is a file, as before kinds existed.
    ("unknown source kind", edit("{path: train.csv}", "{path: train.csv, kind: s3}"),
     "mlspec.yaml:7:36: data.sources.train.kind: unknown kind 's3'; expected one of: file, url"),
    # A url source: nothing secret in the committed spec, and one object it can tell the format of.
    ("url with a query string", edit("{path: train.csv}", "{kind: url, url: 's3://bkt/t.csv?X-Amz-Signature=abc'}"),
     "mlspec.yaml:7:29: data.sources.train.url: 's3://bkt/t.csv?***': a source URL takes no query or fragment "
     "(a signed URL carries its token there, and the spec is committed); credentials come from the environment"),
    ("url with a password", edit("{path: train.csv}", "{kind: url, url: 'https://me:secret@example.com/t.csv'}"),
     "mlspec.yaml:7:29: data.sources.train.url: 'https://me:***@example.com/t.csv': never put a password in the "
     "spec; credentials come from the environment (see the README's url sources)"),
    ("url of a bucket", edit("{path: train.csv}", "{kind: url, url: 's3://bkt/'}"),
     "mlspec.yaml:7:29: data.sources.train.url: 's3://bkt/': name one object (a file), not a bucket or a "
     "directory; write s3://bucket/key"),
    ("url of unknown format", edit("{path: train.csv}", "{kind: url, url: 'https://example.com/t.xlsx'}"),
     "mlspec.yaml:7:29: data.sources.train.url: cannot tell the format of 'https://example.com/t.xlsx' from its "
     "suffix; add `format: csv` or `format: parquet`"),
    ("endpoint of a web url", edit("{path: train.csv}", "{kind: url, url: 'https://h/t.csv', endpoint_url: 'http://x'}"),
     "mlspec.yaml:7:29: data.sources.train.url: `endpoint_url` is for s3:// objects on S3-compatible services, "
     "not https://"),
    ("token over plain http", edit("{path: train.csv}", "{kind: url, url: 'http://example.com/t.csv', token_env: T}"),
     "mlspec.yaml:7:29: data.sources.train.url: a token is sent only over https:// (plain http:// shows it to "
     "everyone on the way)"),
    ("misspelt source kind", edit("{path: train.csv}", "{path: train.csv, kind: fiel}"),
     "mlspec.yaml:7:36: data.sources.train.kind: unknown kind 'fiel'; did you mean 'file'?"),
    ("source kind not a string", edit("{path: train.csv}", "{path: train.csv, kind: [file]}"),
     "mlspec.yaml:7:36: data.sources.train.kind: unknown kind \"['file']\"; did you mean 'file'?"),
    ("misspelt source key", edit("{path: train.csv}", "{paht: train.csv}"),
     "mlspec.yaml:7:13: data.sources.train: unknown key 'paht'; did you mean 'path'?"),
    ("source not a mapping", edit("{path: train.csv}", "train.csv"),
     "mlspec.yaml:7:12: data.sources.train: expected a mapping, got the string 'train.csv'"),
    # --- meaningless values: accepted by their type, but no CI platform or estimator can use them -------
    ("cron minute out of range", BASE + "monitoring:\n  current: holdout\n  schedule: \"99 99 99 99 99\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '99 99 99 99 99': minute 99 is out of range 0-59; write it "
     "like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron hour out of range", BASE + "monitoring:\n  current: holdout\n  schedule: \"0 24 * * *\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '0 24 * * *': hour 24 is out of range 0-23; write it like "
     "'0 6 * * 1' (minute hour day month weekday)"),
    ("cron day zero", BASE + "monitoring:\n  current: holdout\n  schedule: \"0 6 0 * *\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '0 6 0 * *': day of month 0 is out of range 1-31; write it "
     "like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron month name", BASE + "monitoring:\n  current: holdout\n  schedule: \"0 6 1 13 *\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '0 6 1 13 *': month 13 is out of range 1-12 or JAN-DEC; "
     "write it like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron weekday out of range", BASE + "monitoring:\n  current: holdout\n  schedule: \"0 6 * * 8\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '0 6 * * 8': day of week 8 is out of range 0-7 or SUN-SAT; "
     "write it like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron lowercase name", BASE + "monitoring:\n  current: holdout\n  schedule: \"0 6 * * mon\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '0 6 * * mon': day of week 'mon' is not a number or a name "
     "(SUN, MON, TUE, WED, THU, FRI, SAT); write it like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron extension L", BASE + "monitoring:\n  current: holdout\n  schedule: \"0 6 L * *\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '0 6 L * *': day of month 'L' is not a number; write it "
     "like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron extension #", BASE + "monitoring:\n  current: holdout\n  schedule: \"0 6 * * 1#2\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '0 6 * * 1#2': day of week '1#2' is not a number or a name "
     "(SUN, MON, TUE, WED, THU, FRI, SAT); write it like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron zero step", BASE + "monitoring:\n  current: holdout\n  schedule: \"*/0 6 * * *\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '*/0 6 * * *': minute step '0' must be a number from 1 to "
     "59; write it like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron step on a value", BASE + "monitoring:\n  current: holdout\n  schedule: \"5/15 6 * * *\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '5/15 6 * * *': minute '5/15': a step needs `*` or a range "
     "before it, such as */15 or 0-30/5; write it like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron backwards range", BASE + "monitoring:\n  current: holdout\n  schedule: \"0 6 * * FRI-MON\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '0 6 * * FRI-MON': day of week range 'FRI-MON' runs "
     "backwards: the lower value comes first; write it like '0 6 * * 1' (minute hour day month weekday)"),
    ("cron macro", BASE + "monitoring:\n  current: holdout\n  schedule: \"@daily\"\n",
     "mlspec.yaml:28:13: monitoring.schedule: '@daily' is not a five-field cron expression; write it like "
     "'0 6 * * 1' (minute hour day month weekday)"),
    ("unsupported python", BASE + "ci:\n  python: \"3.99\"\n",
     "mlspec.yaml:27:11: ci.python: '3.99' is not a CPython version mlspec supports; use one of 3.11, "
     "3.12, 3.13, 3.14"),
    ("python older than mlspec supports", BASE + "ci:\n  python: \"3.9\"\n",
     "mlspec.yaml:27:11: ci.python: '3.9' is not a CPython version mlspec supports; use one of 3.11, "
     "3.12, 3.13, 3.14"),
    ("boolean timeout", BASE + "ci:\n  github:\n    timeout_minutes: true\n",
     'mlspec.yaml:28:22: ci.github.timeout_minutes: expected a whole number, got the boolean true'),
    ("boolean stage timeout", BASE + "ci:\n  gitlab:\n    stages:\n      train: {timeout_minutes: true}\n",
     'mlspec.yaml:29:32: ci.gitlab.stages.train.timeout_minutes: expected a whole number, got the boolean true'),
    ("boolean seed", edit("training:\n", "training:\n  seed: true\n"),
     'mlspec.yaml:15:9: training.seed: expected a whole number, got the boolean true'),
    ("negative seed", edit("training:\n", "training:\n  seed: -1\n"),
     'mlspec.yaml:15:9: training.seed: must be >= 0, got -1'),
    ("huge seed", edit("training:\n", "training:\n  seed: 1234567890123456789012345\n"),
     'mlspec.yaml:15:9: training.seed: integer out of range; a spec integer lies between -2**63 and 2**63'),
    ("fractional seed", edit("training:\n", "training:\n  seed: 1.5\n"),
     'mlspec.yaml:15:9: training.seed: expected a whole number, got the number 1.5'),
    ("quoted number as a bound", edit("{min: 0.9}", "{min: \"0.9\"}"),
     "mlspec.yaml:23:20: evaluation.gates.roc_auc.min: expected a number, got the string '0.9'"),
    ("boolean gate bound", edit("{min: 0.9}", "{min: true}"),
     'mlspec.yaml:23:20: evaluation.gates.roc_auc.min: expected a number, got the boolean true'),
    ("nan gate bound", edit("{min: 0.9}", "{min: .nan}"),
     'mlspec.yaml:23:20: evaluation.gates.roc_auc.min: must be a finite number, got .nan'),
    ("infinite gate bound", edit("{min: 0.9}", "{max: .inf}"),
     'mlspec.yaml:23:20: evaluation.gates.roc_auc.max: must be a finite number, got .inf'),
    ("huge gate bound", edit("{min: 0.9}", "{min: 1.0e+21}"),
     'mlspec.yaml:23:20: evaluation.gates.roc_auc.min: must be <= 1e+18, got 1e+21'),
    ("huge integer gate bound", edit("{min: 0.9}", "{min: 1000000000000000000000}"),
     'mlspec.yaml:23:20: evaluation.gates.roc_auc.min: integer out of range; a spec integer lies between -2**63 and 2**63'),
    ("nan max_drop", edit("{min: 0.9}", "{max_drop: .nan}"),
     'mlspec.yaml:23:25: evaluation.gates.roc_auc.max_drop: must be a finite number, got .nan'),
    ("infinite max_drop", edit("{min: 0.9}", "{max_drop: .inf}"),
     'mlspec.yaml:23:25: evaluation.gates.roc_auc.max_drop: must be a finite number, got .inf'),
    ("boolean resamples", edit("{min: 0.9}", "{max_drop: 0.01, significance: {resamples: true}}"),
     'mlspec.yaml:23:57: evaluation.gates.roc_auc.significance.resamples: expected a whole number, got '
     'the boolean true'),
    ("boolean confidence", edit("{min: 0.9}", "{max_drop: 0.01, significance: {confidence: true}}"),
     'mlspec.yaml:23:58: evaluation.gates.roc_auc.significance.confidence: expected a number, got the boolean true'),
    ("infinite psi threshold", BASE + "monitoring:\n  current: holdout\n  drift: {psi_threshold: .inf}\n",
     'mlspec.yaml:28:26: monitoring.drift.psi_threshold: must be a finite number, got .inf'),
    ("estimator from an undeclared package", edit("sklearn.ensemble.RandomForestClassifier", "antigravity.X"),
     "mlspec.yaml:17:18: training.models.forest.estimator: 'antigravity.X' would be imported from package "
     "'antigravity', which the spec does not declare; add `packages: [antigravity]` under `training` "
     "(only sklearn is allowed without it)"),
    ("estimator from the this module", edit("sklearn.ensemble.RandomForestClassifier", "this.X"),
     "mlspec.yaml:17:18: training.models.forest.estimator: 'this.X' would be imported from package "
     "'this', which the spec does not declare; add `packages: [this]` under `training` (only sklearn is "
     "allowed without it)"),
    ("invalid package name", edit("training:\n", "training:\n  packages: [xg-boost]\n"),
     "mlspec.yaml:15:14: training.packages[0]: 'xg-boost' is not a top-level package name; write it like xgboost"),
    ("absolute source path", edit("{path: train.csv}", "{path: /nonexistent-mlspec-dir/train.csv}"),
     "mlspec.yaml:7:19: data.sources.train.path: '/nonexistent-mlspec-dir/train.csv' resolves outside the "
     "project (to /nonexistent-mlspec-dir/train.csv); move the file into the project or set "
     "`outside_project: true` on this source"),
    # --- cross references (checks) ------------------------------------------------------------------------
    ("suite on unknown source", edit("    data: train\n    expectations", "    data: trian\n    expectations"),
     "mlspec.yaml:11:11: validation.checks.data: unknown data source 'trian'; did you mean 'train'?"),
    ("model on unknown source", edit("      data: train\n", "      data: test\n"),
     "mlspec.yaml:18:13: training.models.forest.data: unknown data source 'test'; "
     "expected one of: holdout, train"),
    ("evaluation on unknown source", edit("  data: holdout", "  data: holdot"),
     "mlspec.yaml:20:9: evaluation.data: unknown data source 'holdot'; did you mean 'holdout'?"),
    ("gate on a metric not computed", edit("    roc_auc: {min: 0.9}", "    f1: {min: 0.9}"),
     "mlspec.yaml:23:5: evaluation.gates: gate on metric 'f1', which is not computed (computed: accuracy, "
     "roc_auc); fix the name or add it to evaluation.metrics"),
    ("gate on a misspelt metric", edit("    roc_auc: {min: 0.9}", "    rocauc: {min: 0.9}"),
     "mlspec.yaml:23:5: evaluation.gates: gate on metric 'rocauc', which is not computed; did you mean "
     "'roc_auc'? Otherwise add it to evaluation.metrics"),
    ("unknown metric", edit("[accuracy, roc_auc]", "[accuracy, roc_auc, acuracy]"),
     "mlspec.yaml:21:32: evaluation.metrics[2]: unknown metric 'acuracy'; did you mean 'accuracy'?"),
    ("metric for another task", edit("[accuracy, roc_auc]", "[accuracy, roc_auc, r2]"),
     "mlspec.yaml:21:32: evaluation.metrics[2]: metric 'r2' does not apply to task 'binary'; use one of: "
     "accuracy, balanced_accuracy, f1, f1_micro, f1_macro, f1_weighted, precision, precision_micro, "
     "precision_macro, precision_weighted, recall, recall_micro, recall_macro, recall_weighted, jaccard, "
     "jaccard_micro, jaccard_macro, jaccard_weighted, matthews_corrcoef, roc_auc, roc_auc_ovr, roc_auc_ovo, "
     "roc_auc_ovr_weighted, average_precision, log_loss, brier_score"),
    ("champion metric not computed", edit("  gates:", "  champion: {metric: f1}\n  gates:"),
     "mlspec.yaml:22:22: evaluation.champion.metric: champion metric 'f1' is not computed (computed: "
     "accuracy, roc_auc); fix the name or add it to evaluation.metrics"),
    ("baseline alias with from: lock", edit("    roc_auc: {min: 0.9}\n", "    roc_auc: {min: 0.9}\n"
                                              "  baseline: {from: lock, alias: production}\n"),
     "mlspec.yaml:24:13: evaluation.baseline: `alias` names a registry version, but `from` is lock; remove "
     "`alias` or use `from: registry`"),
    ("baseline from unknown", edit("    roc_auc: {min: 0.9}\n", "    roc_auc: {min: 0.9}\n  baseline: {from: registr}\n"),
     "mlspec.yaml:24:20: evaluation.baseline.from: the string 'registr' is not allowed; did you mean 'registry'?"),
    ("baseline key misspelt", edit("    roc_auc: {min: 0.9}\n", "    roc_auc: {min: 0.9}\n  baseline: {frm: lock}\n"),
     "mlspec.yaml:24:14: evaluation.baseline: unknown key 'frm'; did you mean 'from'?"),
    ("baseline from a registry no target names",
     edit("    roc_auc: {min: 0.9}\ndeploy:\n  staging: {kind: registry, alias: staging}\n",
          "    roc_auc: {min: 0.9}\n  baseline: {from: registry}\n"),
     "mlspec.yaml:24:20: evaluation.baseline.from: the baseline is from the registry, but no registry deploy target "
     "names the alias to take it from; add `alias:` (e.g. alias: production)"),
    ("deploy unknown model", edit("{kind: registry, alias: staging}", "{kind: registry, alias: staging, model: tree}"),
     "mlspec.yaml:25:52: deploy.staging.model: unknown model 'tree'; expected one of: forest"),
    ("deploy after unknown target", edit("{kind: registry, alias: staging}",
                                         "{kind: registry, alias: staging, after: [prod]}"),
     "mlspec.yaml:25:53: deploy.staging.after[0]: unknown deploy target 'prod'; expected one of: staging"),
    ("deploy cycle", edit("  staging: {kind: registry, alias: staging}",
                          "  staging: {kind: registry, alias: staging, after: [prod]}\n"
                          "  prod: {kind: registry, alias: production, after: [staging]}"),
     "mlspec.yaml:25:52: deploy.staging.after: deploy targets form a cycle: staging -> prod -> staging; "
     "remove one of these `after` entries"),
    ("unsupported branch glob", edit("{kind: registry, alias: staging}",
                                     "{kind: registry, alias: staging, when: {branches: [rel*/x]}}"),
     "mlspec.yaml:25:63: deploy.staging.when.branches[0]: pattern 'rel*/x' is not supported; use an exact name or a name ending in one '*' (such as release/*), which both CI platforms can match"),
    ("unknown expectation", edit("expect_column_values_to_not_be_null", "expect_column_values_to_not_be_nul"),
     "mlspec.yaml:13:9: validation.checks.expectations[0]: unknown Great Expectations expectation "
     "'expect_column_values_to_not_be_nul'; did you mean 'expect_column_values_to_not_be_null'?"),
    ("expectation missing argument", edit("{column: label}", "{mostly: 0.9}"),
     "mlspec.yaml:13:46: validation.checks.expectations[0].expect_column_values_to_not_be_null: "
     "expect_column_values_to_not_be_null needs 'column'; write "
     "`expect_column_values_to_not_be_null: {column: ...}`"),
    ("expectation unknown argument", edit("{column: label}", "{column: label, mostli: 0.9}"),
     "mlspec.yaml:13:62: validation.checks.expectations[0].expect_column_values_to_not_be_null: unknown argument "
     "'mostli' of expect_column_values_to_not_be_null; did you mean 'mostly'?"),
    ("target listed as feature", edit("  target: label", "  target: label\n  features: {numeric: [label, x]}"),
     "mlspec.yaml:6:24: data.features.numeric[0]: 'label' is the target; it cannot also be a feature"),
    ("feature both numeric and categorical", edit("  target: label",
                                                  "  target: label\n  features: {numeric: [x], categorical: [x]}"),
     "mlspec.yaml:6:42: data.features.categorical[0]: feature 'x' is also listed as numeric"),
    # --- the positive class and the decision threshold -------------------------------------------------------
    ("positive class of a multiclass task",
     edit("task: binary", "task: multiclass").replace("  target: label", '  target: label\n  positive_class: "yes"')
     .replace("metrics: [accuracy, roc_auc]", "metrics: [accuracy]").replace("roc_auc: {min", "accuracy: {min"),
     "mlspec.yaml:6:3: data: positive_class is only for task binary, and the task is multiclass; remove it"),
    ("threshold of a regressor",
     edit("task: binary", "task: regression").replace("      data: train\n", "      data: train\n      threshold: 0.4\n")
     .replace("RandomForestClassifier", "RandomForestRegressor").replace("metrics: [accuracy, roc_auc]", "metrics: [r2]")
     .replace("roc_auc: {min", "r2: {min"),
     "mlspec.yaml:19:7: training.models.forest: a decision threshold is only for task binary (the positive class's "
     "probability), and the task is regression; remove it"),
    ("threshold not a probability", edit("      data: train\n", "      data: train\n      threshold: 1.5\n"),
     "mlspec.yaml:19:18: training.models.forest.threshold: must be < 1.0, got 1.5"),
    ("positive class a list", edit("  target: label", "  target: label\n  positive_class: [a]"),
     "mlspec.yaml:6:19: data.positive_class: expected a string, got a list"),
    # --- data.derived -------------------------------------------------------------------------------------
    ("derived: expression calls an unknown function", edit("  target: label", "  target: label\n  derived:\n"
                                                          "    r: {expr: \"eval(x)\"}"),
     "mlspec.yaml:7:15: data.derived.r.expr: derived feature 'r': unknown function 'eval'; the "
     "functions are log, log1p, exp, sqrt, abs, clip, min, max"),
    ("derived: expression with attribute access", edit("  target: label", "  target: label\n  derived:\n"
                                                      "    r: {expr: \"x.__class__\"}"),
     "mlspec.yaml:7:15: data.derived.r.expr: derived feature 'r': attribute access is not supported; "
     "an expression is arithmetic (+ - * / **) of columns and numbers, with the functions log, "
     "log1p, exp, sqrt, abs, clip, min, max"),
    ("derived: reads a later derived feature", edit("  target: label", "  target: label\n  derived:\n"
                                                   "    a: {expr: \"b + 1\"}\n    b: {log: x}"),
     "mlspec.yaml:7:15: data.derived.a.expr: derived feature 'a' reads 'b', which is derived after "
     "it (or is itself); derived features may read only the ones before them"),
    ("derived: user transformer outside training.packages and trust",
     edit("  target: label", "  target: label\n  derived:\n    r: {transformer: feats.Ratio, columns: [a, b]}"),
     "mlspec.yaml:7:22: data.derived.r.transformer: 'feats.Ratio' is in package 'feats'; add it to "
     "training.packages (packages: [feats]) so it may be imported"),
    ("derived: user transformer in training.packages but not trusted",
     edit("  target: label", "  target: label\n  derived:\n    r: {transformer: feats.Ratio, columns: [a, b]}")
     .replace("training:\n", "training:\n  packages: [feats]\n"),
     "mlspec.yaml:7:22: data.derived.r.transformer: 'feats.Ratio' must be in training.trust (trust: "
     "[feats.Ratio]) so the models that hold it can be loaded"),
    ("derived: two kinds in one entry", edit("  target: label", "  target: label\n  derived:\n"
                                            "    r: {log: x, clip: x}"),
     "mlspec.yaml:7:17: data.derived.r: unknown key 'clip'; expected one of: log"),
    ("derived: clip without bounds", edit("  target: label", "  target: label\n  derived:\n    r: {clip: x}"),
     "mlspec.yaml:7:8: data.derived.r: give `min`, `max` or both"),
    ("derived: bucket edges not increasing", edit("  target: label", "  target: label\n  derived:\n"
                                                 "    r: {bucket: x, edges: [3, 1]}"),
     "mlspec.yaml:7:27: data.derived.r.edges: edges must be strictly increasing"),
    ("derived: unknown date part", edit("  target: label", "  target: label\n  derived:\n"
                                       "    r: {date_part: d, part: week}"),
     "mlspec.yaml:7:29: data.derived.r.part: the string 'week' is not allowed; did you mean "
     "'dayofweek'?"),
    ("derived: named like the target", edit("  target: label", "  target: label\n  derived:\n"
                                           "    label: {log: x}"),
     "mlspec.yaml:7:5: data.derived: derived feature 'label' has the name of the target; rename it"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec_message(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        load_text(text, "mlspec.yaml")
    assert str(info.value.problems[0]) == expected


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 30


def test_base_is_valid() -> None:
    spec = load_text(BASE, "mlspec.yaml").spec
    assert spec.project == "demo"


def test_all_problems_are_reported_in_file_order() -> None:
    text = edit("task: binary", "task: binar").replace("project: demo", "project: 42")
    with pytest.raises(SpecError) as info:
        load_text(text, "mlspec.yaml")
    assert [str(p) for p in info.value.problems] == [
        "mlspec.yaml:2:10: project: expected a string, got the number 42",
        "mlspec.yaml:3:7: task: the string 'binar' is not allowed; did you mean 'binary'?",
    ]


def test_render_shows_source_line_and_caret() -> None:
    with pytest.raises(SpecError) as info:
        load_text(edit("task: binary", "task: binar"), "mlspec.yaml")
    assert info.value.render(context=True) == (
        "mlspec.yaml:3:7: task: the string 'binar' is not allowed; did you mean 'binary'?\n"
        "     3 | task: binar\n"
        "       |       ^"
    )


def test_training_on_evaluation_data_is_a_warning() -> None:
    loaded = load_text(edit("      data: train\n", "      data: holdout\n"), "mlspec.yaml")
    assert [str(w) for w in loaded.warnings if "optimistic" in w.message] == [
        "mlspec.yaml:18:13: training.models.forest.data: model trains on 'holdout', the evaluation data; its "
        "metrics will be optimistic and gates meaningless: evaluate on a holdout source"
    ]


@pytest.mark.parametrize("module", ["this", "antigravity"])
def test_an_undeclared_estimator_package_is_never_imported(module: str) -> None:
    # `this` prints the Zen of Python on import, `antigravity` opens a browser: validating must run neither.
    code = ("import sys\nfrom mlspec.errors import SpecError\nfrom mlspec.load import load_text\n"
            "from tests.test_load_errors import edit\n"
            f"text = edit('sklearn.ensemble.RandomForestClassifier', '{module}.X')\n"
            "try:\n    load_text(text, 'mlspec.yaml')\nexcept SpecError as exc:\n    print(exc)\n"
            f"print({module!r} in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "BROWSER": "false"})
    assert result.stdout.splitlines()[-1] == "False"
    assert f"would be imported from package {module!r}" in result.stdout
    assert "Beautiful is better than ugly" not in result.stdout


def test_a_declared_package_that_is_not_installed_is_a_warning() -> None:
    text = edit("training:\n", "training:\n  packages: [notinstalledpkg]\n").replace(
        "sklearn.ensemble.RandomForestClassifier", "notinstalledpkg.Model")
    loaded = load_text(text, "mlspec.yaml")
    assert [str(w) for w in loaded.warnings if "installed" in w.message] == [
        "mlspec.yaml:18:18: training.models.forest.estimator: package 'notinstalledpkg' is not installed here; "
        "`mlspec run` needs it (list it in ci.requirements for CI)"
    ]


@pytest.mark.parametrize("schedule", ["0 6 * * 1", "*/15 * * * *", "0 0 1 JAN,JUL *", "30 2 * * MON-FRI",
                                      "0 8-18/2 * * 1-5", "59 23 31 12 7", "05 06 01 01 00"])
def test_cron_schedules_both_platforms_run_are_accepted(schedule: str) -> None:
    spec = load_text(BASE + f"monitoring:\n  current: holdout\n  schedule: \"{schedule}\"\n", "mlspec.yaml").spec
    assert spec.monitoring is not None and spec.monitoring.schedule == schedule
