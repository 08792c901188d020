"""`mlspec compile`: golden files, structure read back, determinism, --check, and the real CI checkers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlspec.compile import compile_spec
from mlspec.load import load, load_text
from mlspec.project import init_project
from mlspec.schema import render as render_schema
from mlspec.targets import actions
from tests.golden import GOLDEN, NAMES, VERSION, compiled
from tests.support import EXAMPLE_NAMES, EXAMPLES, REPO, run_mlspec, tool

SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


@pytest.mark.parametrize("name", NAMES)
def test_golden_files(name: str) -> None:
    files = compiled(name)
    on_disk = sorted(str(p.relative_to(GOLDEN / name)) for p in (GOLDEN / name).rglob("*") if p.is_file())
    assert sorted(files) == on_disk, "run `make golden` to regenerate the golden files"
    for rel, text in files.items():
        assert (GOLDEN / name / rel).read_text() == text, f"{name}/{rel} changed; if intended, run `make golden`"


def _workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load(compiled(name)[".github/workflows/mlspec.yml"])


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_github_structure_follows_the_spec(name: str) -> None:
    spec = load(EXAMPLES / name / "mlspec.yaml").spec
    wf = _workflow(name)
    jobs = wf["jobs"]
    assert wf["permissions"] == {"contents": "read"}
    assert all(job["permissions"] == {"contents": "read"} for job_id, job in jobs.items() if job_id != "report")
    assert jobs["train"]["strategy"]["matrix"] == {"model": list(spec.training.models)}
    if spec.validation:
        assert jobs["validate"]["strategy"]["matrix"] == {"suite": list(spec.validation)}
        # A prepare step's job comes first: the tables it builds reach the train job as its artifact.
        assert jobs["train"]["needs"] == [*(f"prepare-{step}" for step in spec.prepare), "validate"]
    assert jobs["gate"]["needs"][-1] == "evaluate"
    deploy_jobs = {k: v for k, v in jobs.items() if k.startswith("deploy-")}
    assert sorted(deploy_jobs) == sorted(f"deploy-{t}" for t in spec.deploy)
    for job_id, job in deploy_jobs.items():
        assert "gate" in job["needs"]
        assert "needs.gate.result == 'success'" in job["if"]
        assert "pull_request" not in job["if"]
        assert job["environment"] == (spec.deploy[job_id[7:]].environment or job_id[7:])
    # The spec's (or compiler's) version is a plain value; the one expression reads the repository variable.
    assert wf["env"]["MLSPEC_INSTALL"] == "${{ vars.MLSPEC_INSTALL }}"
    assert wf["env"]["MLSPEC_INSTALL_DEFAULT"] == f"mlspec-ci[run]=={VERSION}"
    assert wf["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


@pytest.mark.parametrize("name", [*EXAMPLE_NAMES, "wine+search"])
def test_github_security_rules(name: str) -> None:
    for rel, text in compiled(name).items():
        if not rel.startswith(".github/"):
            continue
        wf = yaml.safe_load(text)
        for step in _steps(wf):
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), step["uses"]
            if "run" in step:
                assert "${{" not in step["run"], f"expression inside run: {step['run']!r}"
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
        for line in text.splitlines():
            if "uses: " in line:
                action = next(a for a in actions.ALL if a.uses in line)
                assert line.endswith(f"@{action.sha} # {action.version}")
        assert "pull_request_target" not in wf["on"]
        # The one secret: the comment step's token, in its env (never in a script), on the report job only; and
        # in the monitoring workflow of on_drift: issue, the issue job's (see tests/test_compile_monitor.py).
        issue_job = rel.endswith("/mlspec-monitor.yml") and "monitor-issue" in wf["jobs"]
        assert text.count("secrets.") == (1 if rel.endswith("/mlspec.yml") or issue_job else 0)
        if rel.endswith("/mlspec.yml"):
            (step,) = [s for s in wf["jobs"]["report"]["steps"] if "GITHUB_TOKEN" in s.get("env", {})]
            assert step["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_github_report_job_alone_writes_to_pull_requests(name: str) -> None:
    spec = load(EXAMPLES / name / "mlspec.yaml").spec
    jobs = _workflow(name)["jobs"]
    report = jobs["report"]
    assert report["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert [j for j, job in jobs.items() if "pull-requests" in job["permissions"]] == ["report"]
    # Every job of the training pipeline, not the deploy jobs; and after a failed gate too.
    assert report["needs"] == [j for j in jobs if j not in ("report",) and not j.startswith("deploy-")]
    assert report["needs"][-1] == "gate"
    assert report["if"] == "${{ !cancelled() }}"
    steps = {step["name"]: step for step in report["steps"]}
    assert steps["Check out"]["with"] == {"persist-credentials": False, "fetch-depth": 0}
    assert steps["mlspec report (also the job summary)"]["run"] == 'mlspec report -f "$MLSPEC_SPEC"'
    keep = steps["Keep the report (HTML with plots, JUnit XML, Markdown)"]
    assert keep["with"]["name"] == "report" and not keep["with"]["name"].startswith("mlspec-")
    assert keep["with"]["path"] == ".mlspec/report"
    comment = steps["Comment on the pull request"]
    assert comment["if"] == ("${{ github.event_name == 'pull_request' && "
                             "github.event.pull_request.head.repo.full_name == github.repository }}")
    assert comment["run"] == 'mlspec comment -f "$MLSPEC_SPEC"'
    assert list(steps)[-1] == "Comment on the pull request"
    assert all("GITHUB_TOKEN" not in step.get("env", {}) for step in report["steps"] if step is not comment)
    assert spec.ci.github.runs_on == report["runs-on"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_gitlab_report_job(name: str) -> None:
    ci = yaml.safe_load(compiled(name)[".gitlab-ci.yml"])
    report = ci["report"]
    assert ci["stages"].index("report") == ci["stages"].index("gate") + 1
    prepare = [j for j in ci if j.startswith("prepare-")]
    assert report["needs"] == [j for j in (*prepare, "validate", "train", "evaluate", "gate") if j in ci]
    assert report["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}, {"when": "always"}]
    assert report["script"] == ['mlspec report -f "$MLSPEC_SPEC"', 'mlspec comment -f "$MLSPEC_SPEC"']
    assert report["variables"] == {"GIT_DEPTH": "0"}
    assert report["artifacts"] == {
        "when": "always", "expire_in": "2 weeks", "expose_as": "mlspec report", "paths": [".mlspec/report/"],
        "reports": {"junit": ".mlspec/report/junit.xml", "metrics": ".mlspec/report/metrics.txt"}}
    # No job but the report publishes reports (the monitor job's dotenv is a flag for later jobs, not a report);
    # the token is a CI/CD variable, never in the file.
    assert [j for j, job in ci.items() if isinstance(job, dict)
            and set(job.get("artifacts", {}).get("reports", {})) - {"dotenv"}] == ["report"]
    assert "MLSPEC_GITLAB_TOKEN" not in compiled(name)[".gitlab-ci.yml"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_gitlab_structure_follows_the_spec(name: str) -> None:
    spec = load(EXAMPLES / name / "mlspec.yaml").spec
    ci = yaml.safe_load(compiled(name)[".gitlab-ci.yml"])
    assert ci["train"]["parallel"]["matrix"] == [{"MODEL": list(spec.training.models)}]
    assert ci["default"]["image"] == f"python:{spec.ci.python}"
    assert ci["variables"]["MLSPEC_INSTALL"] == f"mlspec-ci[run]=={VERSION}"
    assert ci["gate"]["variables"]["GIT_DEPTH"] == "0"
    for target in spec.deploy:
        job = ci[f"deploy-{target}"]
        assert job["interruptible"] is False
        # Scheduled pipelines deploy only what they retrained (on_drift: retrain), after the gate.
        retrain = spec.monitoring is not None and spec.monitoring.on_drift == "retrain"
        assert job["rules"][0] == {
            "if": '$CI_PIPELINE_SOURCE == "merge_request_event"' + (
                "" if retrain else ' || $CI_PIPELINE_SOURCE == "schedule"'),
            "when": "never",
        }
        manual = {r.get("when") for r in job["rules"][1:]} == {"manual"}
        assert manual == spec.deploy[target].when.manual
    for job in ("train", "evaluate", "gate"):
        assert ci[job]["artifacts"]["expire_in"] == "2 weeks"
    if spec.monitoring:
        assert ci["monitor"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]


def _steps_by_name(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in job["steps"]}


def test_github_shard_jobs_pass_trial_results_to_the_train_job() -> None:
    jobs = _workflow("wine+search")["jobs"]
    assert list(jobs)[:4] == ["validate", "trials-logreg", "trials-boosting", "train"]
    assert jobs["train"]["needs"] == ["validate", "trials-logreg", "trials-boosting"]
    for model, shards in (("logreg", 2), ("boosting", 3)):
        job = jobs[f"trials-{model}"]
        assert job["needs"] == ["validate"]
        assert job["permissions"] == {"contents": "read"}
        assert job["strategy"] == {"fail-fast": False, "matrix": {"shard": [str(i) for i in range(1, shards + 1)]}}
        steps = _steps_by_name(job)
        run = steps[f"mlspec trials-{model}"]
        assert run["run"] == 'mlspec trials -f "$MLSPEC_SPEC" "train:$MODEL" --shard "$SHARD/$SHARDS"'
        assert run["env"] == {"SHARD": "${{ matrix.shard }}", "MODEL": model, "SHARDS": str(shards)}
        # The upstream outputs come from the earlier jobs' artifacts, as in the train job.
        assert steps["Download the outputs of earlier jobs"]["with"]["pattern"] == "mlspec-*"
        keep = steps["Keep the trial results for the train job and for people"]["with"]
        # One artifact per leg (names must be unique in a run), not matching mlspec-*: only the train job takes them.
        assert keep["name"] == f"trials-{model}-${{{{ matrix.shard }}}}"
        assert keep["path"] == ".mlspec/trials\n"
        restore = steps["Restore earlier trial results of this model"]["with"]
        assert restore["path"] == f".mlspec/trials/{model}\n"
        assert restore["restore-keys"] == f"mlspec-trials-{model}-${{{{ matrix.shard }}}}-"
    take = _steps_by_name(jobs["train"])["Download the trial results of the shard jobs"]["with"]
    # Each artifact holds <model>/<fingerprint>.json: merged into trials/ of the workspace, where train looks.
    assert take == {"pattern": "trials-*", "merge-multiple": True, "path": ".mlspec/trials"}
    assert all("Download the trial results of the shard jobs" not in _steps_by_name(job)
               for job_id, job in jobs.items() if job_id != "train")


def test_github_shard_jobs_with_a_store_sign_in_and_download_nothing() -> None:
    workflows = {name: yaml.safe_load(text) for name, text in compiled("breast-cancer+store+search").items()}
    jobs = workflows[".github/workflows/mlspec.yml"]["jobs"]
    shard = jobs["trials-forest"]
    assert shard["permissions"] == {"contents": "read", "id-token": "write"}
    assert "trials-logreg" not in jobs  # searched inside its train job (shards: 1)
    steps = _steps_by_name(shard)
    assert "Download the outputs of earlier jobs" not in steps
    assert "Restore earlier trial results of this model" not in steps
    assert steps["mlspec trials-forest"]["env"]["MLSPEC_STORE_ENDPOINT_URL"] == "${{ vars.MLSPEC_STORE_ENDPOINT_URL }}"
    assert "Keep the trial results for people (the train job reads them from the store)" in steps
    assert "Download the trial results of the shard jobs" not in _steps_by_name(jobs["train"])
    # The scheduled workflow that retrains on drift runs the shard job too, on drift only.
    retrain = workflows[".github/workflows/mlspec-monitor.yml"]["jobs"]
    assert retrain["trials-forest"]["needs"] == ["monitor", "validate"]
    assert retrain["trials-forest"]["if"] == "${{ needs.monitor.outputs.drift == 'true' }}"
    assert retrain["train"]["needs"] == ["monitor", "validate", "trials-forest"]


def test_gitlab_shard_jobs_pass_trial_results_to_the_train_job() -> None:
    ci = yaml.safe_load(compiled("wine+search")[".gitlab-ci.yml"])
    assert ci["stages"] == ["monitor", "validate", "trials", "train", "evaluate", "gate", "report", "deploy"]
    assert ci["train"]["needs"] == ["validate", "trials-logreg", "trials-boosting"]
    for model, shards in (("logreg", 2), ("boosting", 3)):
        job = ci[f"trials-{model}"]
        assert job["stage"] == "trials"
        assert job["needs"] == ["validate"]
        assert job["parallel"] == {"matrix": [{"SHARD": [str(i) for i in range(1, shards + 1)]}]}
        assert job["variables"] == {"MODEL": model, "SHARDS": str(shards)}
        assert job["script"] == ['mlspec trials -f "$MLSPEC_SPEC" "train:$MODEL" --shard "$SHARD/$SHARDS"']
        assert job["artifacts"]["paths"] == [f".mlspec/trials/{model}/"]
        assert job["cache"][0] == {"key": f"mlspec-trials-{model}-$SHARD", "paths": [f".mlspec/trials/{model}/"]}
    ci = yaml.safe_load(compiled("breast-cancer+store+search")[".gitlab-ci.yml"])
    # With a store the results travel through it: no artifacts downloaded, no cache of them.
    assert {"job": "trials-forest", "artifacts": False} in ci["train"]["needs"]
    assert [c["key"] for c in ci["trials-forest"]["cache"]] == ["pip-py3.11"]
    assert "MLSPEC_AWS_ID_TOKEN" in ci["trials-forest"]["id_tokens"]


def test_deploy_conditions_for_branches_tags_and_after() -> None:
    wf = _workflow("breast-cancer")
    assert wf["jobs"]["deploy-staging"]["if"] == (
        "${{ !cancelled() && needs.gate.result == 'success' && (github.event_name == 'push' || "
        "github.event_name == 'workflow_dispatch') && (github.ref == 'refs/heads/main') }}")
    assert wf["jobs"]["deploy-production"]["if"] == (
        "${{ !cancelled() && needs.gate.result == 'success' && needs.deploy-staging.result != 'failure' && "
        "(github.event_name == 'push' || github.event_name == 'workflow_dispatch') && "
        "(startsWith(github.ref, 'refs/tags/v')) }}")
    ci = yaml.safe_load(compiled("breast-cancer")[".gitlab-ci.yml"])
    assert ci["deploy-production"]["needs"][-1] == {"job": "deploy-staging", "optional": True}
    assert ci["deploy-production"]["rules"][1] == {"if": "$CI_COMMIT_TAG =~ /^v/", "when": "manual"}


def test_branch_prefix_patterns_escape_for_both_platforms() -> None:
    text = (EXAMPLES / "diabetes" / "mlspec.yaml").read_text().replace(
        "    kind: registry\n    alias: staging\n",
        "    kind: registry\n    alias: staging\n    when: {branches: [release/1.x*]}\n")
    spec = load_text(text).spec
    files = compile_spec(spec, version=VERSION)
    gh = yaml.safe_load(files[".github/workflows/mlspec.yml"])
    assert "startsWith(github.ref, 'refs/heads/release/1.x')" in gh["jobs"]["deploy-staging"]["if"]
    assert gh["on"]["push"]["branches"] == ["main", "release/1.x*"]
    gl = yaml.safe_load(files[".gitlab-ci.yml"])
    assert gl["deploy-staging"]["rules"][1]["if"] == r"$CI_COMMIT_BRANCH =~ /^release\/1\.x/"


def test_spec_values_reach_scripts_only_through_variables() -> None:
    text = (EXAMPLES / "diabetes" / "mlspec.yaml").read_text().replace(
        "  github:\n", '  requirements: ["xgboost==2.1.0", "lightgbm"]\n  github:\n')
    files = compile_spec(load_text(text).spec, version=VERSION)
    gh = yaml.safe_load(files[".github/workflows/mlspec.yml"])
    assert gh["env"]["MLSPEC_EXTRA_REQUIREMENTS"] == "xgboost==2.1.0 lightgbm"
    install = next(s for s in gh["jobs"]["train"]["steps"] if s["name"] == "Install mlspec")
    assert "xgboost" not in install["run"]
    gl = yaml.safe_load(files[".gitlab-ci.yml"])
    assert gl["variables"]["MLSPEC_EXTRA_REQUIREMENTS"] == "xgboost==2.1.0 lightgbm"


def test_output_is_byte_identical_across_processes() -> None:
    code = ("import sys, json; from mlspec.compile import compile_spec; from mlspec.load import load; "
            f"sys.stdout.write(json.dumps(compile_spec(load({str(EXAMPLES / 'wine' / 'mlspec.yaml')!r}).spec)))")
    outs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outs) == 1


def test_compile_imports_no_heavy_library() -> None:
    code = (
        "import sys\nfrom mlspec.cli import main\n"
        f"rc = main(['compile', '--check', '-f', {str(EXAMPLES / 'wine' / 'mlspec.yaml')!r}, '--out', "
        f"{str(EXAMPLES / 'wine')!r}])\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'sklearn', 'great_expectations', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "[]"


def test_cli_writes_then_checks(tmp_path: Path) -> None:
    init_project(tmp_path / "ml", "wine")
    spec = str(tmp_path / "ml" / "mlspec.yaml")
    result = run_mlspec("compile", "-f", spec, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {tmp_path}/.github/workflows/mlspec-monitor.yml",
        f"wrote {tmp_path}/.github/workflows/mlspec.yml",
        f"wrote {tmp_path}/.gitlab-ci.yml",
    ]
    assert yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())["variables"]["MLSPEC_SPEC"] == "ml/mlspec.yaml"
    check = run_mlspec("compile", "--check", "-f", spec, "--out", str(tmp_path))
    assert (check.returncode, check.stdout) == (0, "mlspec compile --check: 3 generated files are up to date\n")
    again = run_mlspec("compile", "-f", spec, "--out", str(tmp_path))
    assert again.stdout.splitlines()[0] == f"unchanged {tmp_path}/.github/workflows/mlspec-monitor.yml"


def test_check_reports_stale_files_with_a_diff_and_writes_nothing(tmp_path: Path) -> None:
    init_project(tmp_path, "wine")
    assert run_mlspec("compile", "-f", str(tmp_path / "mlspec.yaml"), "--out", str(tmp_path)).returncode == 0
    gitlab = tmp_path / ".gitlab-ci.yml"
    gitlab.write_text(gitlab.read_text().replace("expire_in: 2 weeks", "expire_in: 1 day", 1))
    spec = tmp_path / "mlspec.yaml"
    spec.write_text(spec.read_text().replace("seed: 7", "seed: 8"))  # training settings are not in the CI files
    (tmp_path / ".github/workflows/mlspec-monitor.yml").unlink()
    result = run_mlspec("compile", "--check", "-f", str(spec), "--out", str(tmp_path))
    assert result.returncode == 1
    assert "--- /dev/null\n+++ b/.github/workflows/mlspec-monitor.yml\n" in result.stdout
    assert "-    expire_in: 1 day\n+    expire_in: 2 weeks\n" in result.stdout
    assert result.stderr == ("mlspec compile --check: 2 of 3 generated files are stale; run `mlspec compile` "
                             "and commit the result\n")
    assert not (tmp_path / ".github/workflows/mlspec-monitor.yml").exists()


def test_spec_outside_out_dir_is_a_user_error(tmp_path: Path) -> None:
    result = run_mlspec("compile", "-f", str(EXAMPLES / "wine" / "mlspec.yaml"), "--out", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {EXAMPLES / 'wine' / 'mlspec.yaml'} is not inside {tmp_path};")


def test_disabled_platform_and_single_target() -> None:
    text = (EXAMPLES / "wine" / "mlspec.yaml").read_text() + "ci:\n  gitlab: {enabled: false}\n"
    assert sorted(compile_spec(load_text(text).spec)) == [
        ".github/workflows/mlspec-monitor.yml", ".github/workflows/mlspec.yml"]
    assert sorted(compile_spec(load(EXAMPLES / "wine" / "mlspec.yaml").spec, platforms=["gitlab"])) == [
        ".gitlab-ci.yml"]


# --- real third-party checkers (versions pinned in pyproject.toml and .ci/node/package.json) -------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("compiled")
    paths = []
    for name in NAMES:  # with the variants: a store, ci.env by reference, OIDC for each cloud
        for rel, text in compiled(name).items():
            path = root / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            paths.append(path)
    return paths


def _check(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def test_actionlint_with_shellcheck_finds_nothing(generated: list[Path]) -> None:
    workflows = [str(p) for p in generated if ".github" in p.parts]
    result = _check([tool("actionlint"), f"-shellcheck={tool('shellcheck')}", *workflows])
    assert (result.returncode, result.stdout) == (0, "")


def test_zizmor_finds_nothing(generated: list[Path]) -> None:
    workflows = [str(p) for p in generated if ".github" in p.parts]
    result = _check([tool("zizmor"), "--offline", "--no-progress", *workflows])
    assert result.returncode == 0, result.stdout
    assert "No findings to report" in result.stdout


def test_zizmor_pedantic_finds_nothing(generated: list[Path]) -> None:
    workflows = [str(p) for p in generated if ".github" in p.parts]
    result = _check([tool("zizmor"), "--offline", "--no-progress", "--persona", "pedantic", *workflows])
    assert result.returncode == 0, result.stdout


def test_official_schemas_accept_the_files(generated: list[Path]) -> None:
    workflows = [str(p) for p in generated if ".github" in p.parts]
    gitlab = [str(p) for p in generated if p.name == ".gitlab-ci.yml"]
    gh = _check([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows])
    assert gh.returncode == 0, gh.stdout
    gl = _check([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *gitlab])
    assert gl.returncode == 0, gl.stdout


def test_action_validator_accepts_the_workflows(generated: list[Path]) -> None:
    validator = REPO / ".ci" / "node" / "node_modules" / ".bin" / "action-validator"
    assert validator.exists(), "run `make test`, which installs the CI tools under .ci/node"
    for path in (p for p in generated if ".github" in p.parts):
        result = _check([str(validator), str(path)])
        assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_hooks_manifest_is_valid() -> None:
    result = _check([tool("pre-commit"), "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")])
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["mlspec-compile-check"]["entry"] == "mlspec compile --check"
    assert re.search(hooks["mlspec-compile-check"]["files"], ".github/workflows/mlspec-monitor.yml")
    assert re.search(hooks["mlspec-compile-check"]["files"], "ml/mlspec.yaml")


def test_report_paths_follow_a_spec_in_a_subdirectory() -> None:
    files = compile_spec(load(EXAMPLES / "wine" / "mlspec.yaml").spec, "ml/mlspec.yaml", version=VERSION)
    gh = yaml.safe_load(files[".github/workflows/mlspec.yml"])
    keep = next(s for s in gh["jobs"]["report"]["steps"] if s.get("with", {}).get("name") == "report")
    assert keep["with"]["path"] == "ml/.mlspec/report"
    gl = yaml.safe_load(files[".gitlab-ci.yml"])["report"]["artifacts"]
    assert gl["paths"] == ["ml/.mlspec/report/"]
    assert gl["reports"] == {"junit": "ml/.mlspec/report/junit.xml", "metrics": "ml/.mlspec/report/metrics.txt"}


def test_the_gitlab_image_default_is_the_one_the_schema_and_readme_document() -> None:
    spec = load(EXAMPLES / "wine" / "mlspec.yaml").spec
    generated = yaml.safe_load(compiled("wine")[".gitlab-ci.yml"])["default"]["image"]
    described = json.loads(render_schema())["$defs"]["GitLabCI"]["properties"]["image"]["description"]
    assert generated == f"python:{spec.ci.python}"
    assert described.startswith("Docker image of every job; defaults to python:<ci.python>, the full image")
    readme = (REPO / "README.md").read_text("utf-8").splitlines()
    assert "-slim" not in " ".join(line for line in readme if "image:" in line)


def test_compiling_below_the_top_of_a_repository_warns(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    project = tmp_path / "ml"
    init_project(project, "wine")
    below = run_mlspec("compile", cwd=project)
    assert below.returncode == 0
    assert below.stderr == ("warning: . is not the top of its git repository: GitHub and GitLab read CI files only "
                            "from the top; run `mlspec compile --out ..` (the jobs then name the spec by its path "
                            "from there)\n")
    top = run_mlspec("compile", "--out", "..", cwd=project)
    assert (top.returncode, top.stderr) == (0, "")
    assert (tmp_path / ".gitlab-ci.yml").is_file()
    assert "ml/mlspec.yaml" in (tmp_path / ".gitlab-ci.yml").read_text()


def test_compiling_outside_a_repository_does_not_warn(tmp_path: Path) -> None:
    init_project(tmp_path, "wine")
    done = run_mlspec("compile", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
