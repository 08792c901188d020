"""`mlspec deploy` and `mlspec registry`: gate → register → promote, refusals, export, and the CI job that holds
nothing but the earlier jobs' artifacts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlspec.cli import main
from mlspec.registry import FileRegistry
from mlspec.runtime import bundle
from tests.runtime.gatekit import edit, go
from tests.support import run_mlspec

REGISTRY = Path(".mlspec/registry")
RECEIPT = Path(".mlspec/stages/deploy/staging/deploy.json")
GITLAB_JOB = {
    "CI": "true", "GITLAB_CI": "true", "GITLAB_USER_LOGIN": "alice", "CI_COMMIT_SHA": "a" * 40,
    "CI_COMMIT_REF_NAME": "main", "CI_JOB_URL": "https://gitlab.example.com/g/p/-/jobs/7",
}


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_deploy_registers_the_gated_champion_and_moves_the_alias(project: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "deploy", "staging")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["registered 'ridge' as version 1 of 'diabetes' in registry .mlspec/registry",
                                "moved alias 'staging' of 'diabetes' from nothing to version 1"]
    registry = FileRegistry(REGISTRY)
    (version,) = registry.versions("diabetes")
    verdict = json.loads(Path(".mlspec/stages/gate/verdict.json").read_text())
    assert (version.digest, version.verdict, version.trained_model) == (verdict["model_digest"], "pass", "ridge")
    assert registry.aliases("diabetes") == {"staging": 1}
    assert registry.verify("diabetes") == []
    receipt = json.loads(RECEIPT.read_text())
    assert {k: receipt[k] for k in ("target", "kind", "version", "alias", "moved", "previous", "registered")} == {
        "target": "staging", "kind": "registry", "version": 1, "alias": "staging", "moved": True, "previous": None,
        "registered": True}
    # A retried job: nothing new, nothing moved, nothing recorded.
    code, out, _ = _cli(capsys, "deploy", "staging")
    assert code == 0
    assert out.splitlines() == ["version 1 of 'diabetes' already holds this bundle (registry .mlspec/registry)",
                                "alias 'staging' already names version 1; nothing to move"]
    assert len(registry.history("diabetes")) == 2


def test_provenance_and_model_card_of_a_version(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "staging"]) == 0
    capsys.readouterr()
    folder = REGISTRY / "diabetes/versions/1"
    prov = json.loads((folder / "provenance.json").read_text())
    train_meta = json.loads(Path(".mlspec/stages/train/ridge/metadata.json").read_text())
    metrics = json.loads(Path(".mlspec/stages/evaluate/metrics.json").read_text())
    assert prov["spec"]["path"] == "mlspec.yaml"
    assert prov["spec"]["file_digest"].startswith("sha256:")
    assert prov["data"] == {"training": train_meta["data"], "evaluation": metrics["data"]}
    assert prov["libraries"] == train_meta["versions"]
    assert prov["metrics"] == metrics["models"]["ridge"]
    assert prov["gate"]["verdict"] == "pass" and prov["gate"]["gates"][0]["metric"] == "root_mean_squared_error"
    assert prov["code"] == {"commit": None, "ref": None, "dirty": None}  # not a git checkout
    assert prov["bundle_digest"] == json.loads((folder / "version.json").read_text())["digest"]
    card = (folder / "MODEL_CARD.md").read_text()
    for text in ("# Model card: diabetes, version 1", "| `sex` | categorical | int64 |", "Predicts `progression`",
                 "| **ridge** | 55.71 | 44.68 | 0.3915 |", "Verdict **pass**", prov["spec"]["file_digest"]):
        assert text in card
    code, out, _ = _cli(capsys, "registry", "show", "staging", "--card")
    assert (code, out) == (0, card)


def test_deploy_is_refused_after_a_failed_gate(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit("{max: 65,", "{max: 40,")
    assert not go()[0].ok
    capsys.readouterr()
    code, out, err = _cli(capsys, "deploy", "staging")
    assert (code, out) == (1, "")
    assert err == ("error: the gate failed for model 'ridge' (root_mean_squared_error: 55.71 > max 40); not "
                   "deploying\n")
    assert not REGISTRY.exists() and not RECEIPT.exists()


def test_deploy_is_refused_for_a_model_the_gate_did_not_judge(project: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    edit("alias: staging", "alias: staging\n    model: forest")
    code, _, err = _cli(capsys, "deploy", "staging")
    assert code == 1
    assert err.startswith("error: the gate judged model 'ridge', not 'forest'")
    assert not REGISTRY.exists()


def test_unknown_target(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "deploy", "stagign")
    assert (code, err) == (1, "error: mlspec.yaml: no deploy target 'stagign' (targets: staging); did you mean "
                              "'staging'?\n")


def test_export_writes_a_loadable_bundle_and_replaces_it_whole(project: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    edit("deploy:\n", "deploy:\n  bundle:\n    kind: export\n    path: dist/model\n")
    code, out, _ = _cli(capsys, "deploy", "bundle")
    assert code == 0 and out.startswith("exported 'ridge' (sha256:")
    dist = Path("dist/model")
    bundle_files = [p.name for p in Path(".mlspec/stages/train/ridge").iterdir() if p.is_file()]
    assert {"model.skops", "metadata.json"} <= set(bundle_files)
    assert sorted(p.name for p in dist.iterdir()) == sorted([*bundle_files, "MODEL_CARD.md", "export.json",
                                                             "metrics.json", "provenance.json", "verdict.json"])
    loaded = bundle.load(dist)  # the export is itself a bundle
    assert loaded.features[:2] == ["age", "bmi"]
    (dist / "stray.txt").write_text("from before")
    assert main(["deploy", "bundle"]) == 0
    assert not (dist / "stray.txt").exists()  # replaced whole, not merged
    assert sorted(p.name for p in Path("dist").iterdir()) == [".model.mlspec-lock", "model"]  # only the lock beside it


def test_export_never_replaces_a_directory_it_did_not_write(project: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    edit("deploy:\n", "deploy:\n  bundle:\n    kind: export\n    path: docs\n")
    Path("docs").mkdir()
    Path("docs/index.md").write_text("mine")
    code, _, err = _cli(capsys, "deploy", "bundle")
    assert code == 1
    assert err == ("error: refusing to replace docs: it exists and is not an mlspec export (no export.json); "
                   "choose an empty or new directory as the export path\n")
    assert Path("docs/index.md").read_text() == "mine"


def test_registry_commands(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "staging"]) == 0
    capsys.readouterr()
    code, out, _ = _cli(capsys, "registry", "promote", "staging", "production", "--note", "release 1.0")
    assert (code, out) == (0, "moved alias 'production' of 'diabetes' from nothing to version 1\n")
    code, out, _ = _cli(capsys, "registry", "list")
    header, row = out.splitlines()[1:]
    assert header.split() == ["VERSION", "GATE", "MODEL", "REGISTERED", "(UTC)", "BY", "COMMIT", "ALIASES"]
    assert row.split()[:3] == ["1", "pass", "ridge"] and row.endswith("production, staging")
    code, out, _ = _cli(capsys, "registry", "history", "--json")
    events = json.loads(out)
    assert [(e["event"], e.get("alias"), e.get("note")) for e in events] == [
        ("register", None, None), ("promote", "staging", "deploy target staging"),
        ("promote", "production", "release 1.0")]
    code, out, _ = _cli(capsys, "registry", "history", "--alias", "production")
    assert len(out.splitlines()) == 2 and "production: - -> 1" in out and "release 1.0" in out
    code, _, err = _cli(capsys, "registry", "rollback", "production")
    assert (code, err) == (1, "error: alias 'production' of 'diabetes' has named only version 1; there is no "
                              "earlier version to roll back to\n")
    code, _, err = _cli(capsys, "registry", "show", "canary")
    assert code == 1 and "has no alias 'canary'" in err and "(aliases: production -> 1, staging -> 1)" in err
    code, out, _ = _cli(capsys, "registry", "list", "--registry", str(REGISTRY), "--model", "diabetes", "--json")
    assert [v["aliases"] for v in json.loads(out)] == [["production", "staging"]]


def _job_checkout(project: Path, into: Path) -> Path:
    """What a CI deploy job has: the repository's files and the earlier jobs' artifacts, nothing else."""
    job = into / "job"
    job.mkdir(parents=True)
    shutil.copy(project / "mlspec.yaml", job)
    shutil.copytree(project / "data", job / "data")
    for part in ("stages", "records"):  # the artifact paths of the generated jobs
        shutil.copytree(project / ".mlspec" / part, job / ".mlspec" / part)
    return job


def test_deploy_in_a_ci_job_with_only_the_artifacts(project: Path, tmp_path: Path) -> None:
    job = _job_checkout(project, tmp_path)
    shared = tmp_path / "mounted" / "registry"
    done = run_mlspec("deploy", "staging", cwd=job, env={**GITLAB_JOB, "MLSPEC_REGISTRY": str(shared)})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines()[1] == "moved alias 'staging' of 'diabetes' from nothing to version 1"
    registry = FileRegistry(shared)
    (event,) = [e for e in registry.history("diabetes") if e.kind == "promote"]
    assert (event.actor.user, event.actor.system, event.actor.commit, event.actor.ref, event.actor.run_url) == (
        "alice", "gitlab", "a" * 40, "main", "https://gitlab.example.com/g/p/-/jobs/7")
    prov = json.loads((shared / "diabetes/versions/1/provenance.json").read_text())
    assert prov["code"] == {"commit": "a" * 40, "ref": "main", "dirty": None}
    # A later pipeline (another throwaway checkout) finds the same registry and the same bundle: no new version.
    again = run_mlspec("deploy", "staging", cwd=_job_checkout(project, tmp_path / "later"),
                       env={**GITLAB_JOB, "MLSPEC_REGISTRY": str(shared)})
    assert again.returncode == 0 and "already holds this bundle" in again.stdout


def test_a_ci_job_warns_when_the_registry_would_be_thrown_away(project: Path, tmp_path: Path) -> None:
    job = _job_checkout(project, tmp_path)
    done = run_mlspec("deploy", "staging", cwd=job, env={**GITLAB_JOB, "MLSPEC_REGISTRY": ""})
    assert done.returncode == 0
    assert done.stderr.startswith("warning: the file registry ")
    assert "is inside this CI job's checkout, which is deleted when the job ends; point MLSPEC_REGISTRY" in done.stderr


def test_a_ci_job_without_the_gate_artifacts_is_refused(project: Path, tmp_path: Path) -> None:
    job = _job_checkout(project, tmp_path)
    shutil.rmtree(job / ".mlspec/stages/gate")
    done = run_mlspec("deploy", "staging", cwd=job, env={**GITLAB_JOB, "MLSPEC_REGISTRY": str(tmp_path / "r")})
    assert done.returncode == 1
    assert done.stderr == "error: no gate verdict in .mlspec/stages/gate: run `mlspec gate` before deploying\n"
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("how", ["spec", "env"])
def test_a_registry_at_the_project_is_refused(project: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "env":
        monkeypatch.setenv("MLSPEC_REGISTRY", ".")
    else:
        edit("deploy:\n", "registry: {path: .}\ndeploy:\n")
    Path("tmp").mkdir()
    Path("tmp/keep.txt").write_text("mine")
    code, _, err = _cli(capsys, "deploy", "staging")
    assert code == 1 and "refusing to use " in err and "as the file registry" in err, err
    assert Path("tmp/keep.txt").read_text() == "mine" and not Path(".lock").exists()


def test_a_users_tmp_sibling_of_an_export_survives(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit("deploy:\n", "deploy:\n  bundle:\n    kind: export\n    path: dist/model\n")
    Path("dist/.model.foo.tmp").mkdir(parents=True)
    Path("dist/.model.foo.tmp/mine.txt").write_text("mine")
    assert main(["deploy", "bundle"]) == 0 and main(["deploy", "bundle"]) == 0
    assert Path("dist/.model.foo.tmp/mine.txt").read_text() == "mine"


def test_concurrent_export_deploys_all_succeed(project: Path) -> None:
    import subprocess
    import sys
    edit("deploy:\n", "deploy:\n  bundle:\n    kind: export\n    path: dist/model\n")
    procs = [subprocess.Popen([sys.executable, "-m", "mlspec", "deploy", "bundle"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(p.wait(300), p.stderr.read() if p.stderr else "") for p in procs]
    assert all(code == 0 for code, _ in results), results
    assert bundle.load(Path("dist/model")).features[:2] == ["age", "bmi"]
    assert sorted(p.name for p in Path("dist").iterdir()) == [".model.mlspec-lock", "model"]


_KILL_BETWEEN_RENAMES = """
import os, runpy, signal, sys
def hook(event, args):
    # The second rename of a swap moves the staged export into place: die just before it.
    if event == "os.rename" and os.path.basename(str(args[0])) == "new":
        os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(hook)
sys.argv = ["mlspec", "deploy", "bundle"]
runpy.run_module("mlspec", run_name="__main__")
"""


def test_a_deploy_killed_between_the_renames_is_repaired_by_the_next(project: Path) -> None:
    import signal
    import subprocess
    import sys
    edit("deploy:\n", "deploy:\n  bundle:\n    kind: export\n    path: dist/model\n")
    assert subprocess.run([sys.executable, "-m", "mlspec", "deploy", "bundle"], capture_output=True).returncode == 0
    (Path("dist/model") / "stale-marker").write_text("from the first export")  # tells old from new below
    killed = subprocess.run([sys.executable, "-c", _KILL_BETWEEN_RENAMES], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not Path("dist/model").exists()  # the window the next writer must close
    again = subprocess.run([sys.executable, "-m", "mlspec", "deploy", "bundle"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert bundle.load(Path("dist/model")).features[:2] == ["age", "bmi"]
    assert not (Path("dist/model") / "stale-marker").exists()
    assert sorted(p.name for p in Path("dist").iterdir()) == [".model.mlspec-lock", "model"]


def test_the_champion_to_deploy_comes_from_the_evaluation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlspec.deploy import champion
    from mlspec.errors import MlspecError
    from mlspec.runtime.workspace import Workspace

    monkeypatch.chdir(tmp_path)
    workspace = Workspace(Path(".mlspec"))
    with pytest.raises(MlspecError) as caught:
        champion(workspace)
    assert str(caught.value) == ("no evaluation in .mlspec/stages/evaluate: run `mlspec run` and `mlspec gate` "
                                 "before deploying (in CI: the deploy job needs the artifacts of the jobs before it)")
    metrics = workspace.stage_dir("evaluate") / "metrics.json"
    metrics.parent.mkdir(parents=True)
    metrics.write_text(json.dumps({"champion": ["ridge"], "champion_metrics": {}}))
    with pytest.raises(MlspecError) as caught:
        champion(workspace)
    assert str(caught.value) == (".mlspec/stages/evaluate/metrics.json: champion: missing or not a string; run "
                                 "`mlspec run evaluate --force`")
    metrics.write_text(json.dumps({"champion": "ridge", "champion_metrics": {}}))
    assert champion(workspace) == "ridge"


def test_a_ci_job_deploys_into_the_registry_in_the_store(project: Path, tmp_path: Path) -> None:
    """With a store, the registry lives there: nothing is lost with the checkout, and no warning says it would."""
    bucket = tmp_path / "bucket"
    edit("deploy:\n", f"store: {{url: '{bucket}'}}\ndeploy:\n")
    # The earlier jobs ran with the store: the gate's baseline is now the registry's version (none yet), and
    # what they ran is in the store too.
    ran = run_mlspec("run", cwd=project, env={"MLSPEC_STORE": "", "MLSPEC_REGISTRY": ""})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    job = _job_checkout(project, tmp_path)
    done = run_mlspec("deploy", "staging", cwd=job, env={**GITLAB_JOB, "MLSPEC_REGISTRY": "", "MLSPEC_STORE": ""})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        f"registered 'ridge' as version 1 of 'diabetes' in registry {bucket}/registry",
        "moved alias 'staging' of 'diabetes' from nothing to version 1"]
    assert not (job / ".mlspec" / "registry").exists()
    # A later job in another checkout, and a serving host with no spec, find it in the store.
    again = run_mlspec("deploy", "staging", cwd=_job_checkout(project, tmp_path / "later"), env=GITLAB_JOB)
    assert again.returncode == 0 and "already holds this bundle" in again.stdout
    listed = run_mlspec("registry", "list", "--registry", f"file://{bucket}", "--model", "diabetes", "-f", "none.yaml",
                        cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0] == f"diabetes in file://{bucket}/registry"
    assert "staging" in listed.stdout.splitlines()[2]
    card = run_mlspec("registry", "show", "staging", "--card", "--registry", f"file://{bucket}", "--model",
                      "diabetes", "-f", "none.yaml", cwd=tmp_path)
    assert card.returncode == 0 and card.stdout.startswith("# Model card: diabetes, version 1")
