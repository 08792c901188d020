"""Finding the baseline: paths, git revisions, pull request targets, the default branch, and every way to
have none, in real git repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlspec.baseline import Baseline, NoBaseline, RegistryVersion, registry_alias, resolve
from mlspec.baseline import origin as baseline_origin
from mlspec.errors import MlspecError
from mlspec.load import Loaded, load
from mlspec.runtime.hashing import file_digest
from mlspec.spec import EvaluationBaseline, ExportTarget, RegistryTarget, Spec, Store
from tests.gitkit import BASELINE_VARS, baseline_from_registry, commit_all, git, init_repo, write_lock
from tests.runtime import fakestages
from tests.support import EXAMPLES

MAIN = {"champion": "m1", "accuracy": 0.9}
ON_MAIN = ("HEAD is on the default branch 'main', so there is no base branch to compare with; pass --baseline REV "
           "to compare with another revision")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (*BASELINE_VARS, "MLSPEC_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose main branch has a lock with an evaluate entry, checked out on branch `feature`."""
    root = tmp_path / "repo"
    init_repo(root)
    fakestages.write_project(root)
    write_lock(root, MAIN)
    commit_all(root, "main")
    git(root, "checkout", "-q", "-b", "feature")
    write_lock(root, {"champion": "m2", "accuracy": 0.8})  # the feature's own results, never a baseline
    monkeypatch.chdir(root)
    return root


def loaded_at(root: Path) -> Loaded:
    return load(root / "mlspec.yaml")


def found(root: Path, request: str | None = None, env: dict[str, str] | None = None,
          predictions: bool = False) -> Baseline | NoBaseline:
    return resolve(loaded_at(root), request, env or {}, predictions)


def test_default_is_the_default_branch(repo: Path) -> None:
    assert found(repo) == Baseline("main:mlspec.lock", "m1", {"accuracy": 0.9})


def test_origin_comes_before_the_local_branch(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))  # origin/main is the repo's main
    git(clone, "checkout", "-q", "main")
    write_lock(clone, {"champion": "m1", "accuracy": 0.5})  # local main moved on; CI has origin/main
    commit_all(clone, "local main")
    git(clone, "checkout", "-q", "-b", "topic")
    assert found(clone) == Baseline("origin/main:mlspec.lock", "m1", {"accuracy": 0.9})


def test_on_the_default_branch_there_is_none(repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    assert found(repo) == NoBaseline(ON_MAIN)


@pytest.mark.parametrize("env", [{"CI_COMMIT_BRANCH": "main"},
                                 {"GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main"}])
def test_a_detached_ci_checkout_of_the_default_branch_has_none(repo: Path, env: dict[str, str]) -> None:
    git(repo, "checkout", "-q", "--detach", "main")
    assert found(repo, env=env) == NoBaseline(ON_MAIN)
    assert found(repo) == Baseline("main:mlspec.lock", "m1", {"accuracy": 0.9})  # detached, branch unknown


@pytest.mark.parametrize("var", ["GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"])
def test_pull_request_target_branch(repo: Path, var: str) -> None:
    git(repo, "checkout", "-q", "-b", "release", "main")
    write_lock(repo, {"champion": "m2", "accuracy": 0.7})
    commit_all(repo, "release")
    git(repo, "checkout", "-q", "main")  # even on the default branch, the PR's target is the baseline
    assert found(repo, env={var: "release"}) == Baseline("release:mlspec.lock", "m2", {"accuracy": 0.7})


def test_target_branch_not_fetched(repo: Path) -> None:
    assert found(repo, env={"GITHUB_BASE_REF": "develop"}) == NoBaseline(
        "neither origin/develop nor develop is in this clone; fetch the base branch (`git fetch origin develop`, "
        "or fetch-depth: 0 in actions/checkout)")


def test_a_repository_without_commits(tmp_path: Path) -> None:
    (tmp_path / "fresh").mkdir()
    git(tmp_path / "fresh", "init", "-q", "-b", "master")  # git's own default; the spec's is main
    fakestages.write_project(tmp_path / "fresh")
    assert found(tmp_path / "fresh") == NoBaseline(
        "the repository has no commits yet; once main has a committed mlspec.lock, the gate compares with it")


def test_not_a_git_repository(tmp_path: Path) -> None:
    fakestages.write_project(tmp_path / "plain")
    assert found(tmp_path / "plain") == NoBaseline("not a git repository")


def test_no_lock_on_the_base_branch(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    init_repo(root)
    fakestages.write_project(root)
    commit_all(root, "no lock yet")
    git(root, "checkout", "-q", "-b", "feature")
    assert found(root) == NoBaseline("main has no mlspec.lock; run the pipeline there and commit mlspec.lock")


def test_no_evaluate_entry_on_the_base_branch(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    init_repo(root)
    fakestages.write_project(root)
    write_lock(root, None)
    commit_all(root, "a lock without evaluate")
    git(root, "checkout", "-q", "-b", "feature")
    assert found(root) == NoBaseline(
        "main:mlspec.lock records no evaluate stage (its last run did not get that far)")


def test_corrupt_lock_on_the_base_branch(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    init_repo(root)
    fakestages.write_project(root)
    (root / "mlspec.lock").write_text("{")
    commit_all(root, "broken")
    git(root, "checkout", "-q", "-b", "feature")
    assert found(root) == NoBaseline(
        "main:mlspec.lock:1:2: not valid JSON: Expecting property name enclosed in double quotes; delete it to "
        "rerun every stage")


def test_spec_in_a_subdirectory(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    init_repo(root)
    fakestages.write_project(root / "ml" / "churn")
    write_lock(root / "ml" / "churn", MAIN)
    commit_all(root, "main")
    git(root, "checkout", "-q", "-b", "feature")
    assert found(root / "ml" / "churn") == Baseline("main:ml/churn/mlspec.lock", "m1", {"accuracy": 0.9})


def test_explicit_revision(repo: Path) -> None:
    commit_all(repo, "feature results")
    write_lock(repo, {"champion": "m1", "accuracy": 0.1})
    assert found(repo, "HEAD") == Baseline("HEAD:mlspec.lock", "m2", {"accuracy": 0.8})
    assert found(repo, "HEAD~1") == Baseline("HEAD~1:mlspec.lock", "m1", {"accuracy": 0.9})


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ("mian", "baseline 'mian' is neither a file nor a git revision; name an mlspec.lock, a metrics.json, or a "
                 "branch, tag or commit"),
        ("--all", "baseline '--all' is neither a file nor a git revision; name an mlspec.lock, a metrics.json, or "
                  "a branch, tag or commit"),
        ("missing.lock", "baseline 'missing.lock' is neither a file nor a git revision; name an mlspec.lock, a "
                         "metrics.json, or a branch, tag or commit"),
    ],
)
def test_explicit_request_that_names_nothing_is_an_error(repo: Path, request_: str, message: str) -> None:
    with pytest.raises(MlspecError) as caught:
        found(repo, request_)
    assert str(caught.value) == message


def test_explicit_revision_outside_git_is_an_error(tmp_path: Path) -> None:
    fakestages.write_project(tmp_path / "plain")
    with pytest.raises(MlspecError) as caught:
        found(tmp_path / "plain", "main")
    assert str(caught.value) == "baseline 'main' is not a file, and not a git revision (not a git repository)"


# --- paths ---------------------------------------------------------------------------------------------------


def test_explicit_lock_path_and_directory(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    lock = write_lock(other, {"champion": "m2", "accuracy": 0.75, "f1": None, "log_loss": "nan"})
    expected = {"accuracy": 0.75, "f1": None, "log_loss": pytest.approx(float("nan"), nan_ok=True)}
    by_file, by_dir = found(repo, str(lock)), found(repo, str(other))
    assert isinstance(by_file, Baseline) and isinstance(by_dir, Baseline)
    assert (by_file.source, by_file.model, by_file.metrics) == (str(lock), "m2", expected)
    assert by_dir.source == str(lock)


def test_explicit_metrics_json(repo: Path) -> None:
    out = repo / "base-eval"
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps({"champion": "m1", "champion_metrics": {"accuracy": 0.93}}))
    assert found(repo, "base-eval/metrics.json") == Baseline("base-eval/metrics.json", "m1", {"accuracy": 0.93})
    assert found(repo, "base-eval") == Baseline("base-eval/metrics.json", "m1", {"accuracy": 0.93})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "baseline notes.txt:1:1: not valid JSON: Expecting value"),
        ("[" * 100_000 + "]" * 100_000, "baseline notes.txt: nested deeper than 64 levels"),
        ('{"champion_metrics": {"auc": ' + "9" * 5000 + "}}",
         "baseline notes.txt:1:30: integer of 5,000 digits; at most 20 are expected here"),
        ('{"a": 1}', "baseline notes.txt: neither an mlspec.lock nor an evaluate stage's metrics.json"),
        # An evaluate stage's metrics.json, read as every other reader does (mlspec.runtime.stages.evaluate).
        ('{"champion_metrics": {"auc": 0.9}}',
         "notes.txt: champion: missing or not a string; run `mlspec run evaluate --force`"),
        ('{"champion": "m", "champion_metrics": {"auc": "high"}}',
         "notes.txt: champion_metrics.auc: 'high' is not a number or null; run `mlspec run evaluate --force`"),
    ],
)
def test_explicit_file_that_is_neither(repo: Path, content: str, message: str) -> None:
    (repo / "notes.txt").write_text(content)
    with pytest.raises(MlspecError) as caught:
        found(repo, "notes.txt")
    assert str(caught.value) == message


def test_explicit_directory_with_neither(repo: Path) -> None:
    (repo / "empty").mkdir()
    with pytest.raises(MlspecError) as caught:
        found(repo, "empty")
    assert str(caught.value) == "baseline empty: the directory has no mlspec.lock or metrics.json"


# --- the baseline's predictions (for the significance test) ---------------------------------------------------


def _lock_with_predictions(root: Path, data: bytes) -> str:
    (root / "p.bin").write_bytes(data)
    digest = file_digest(root / "p.bin")
    write_lock(root, MAIN, {"metrics.json": "sha256:1", "predictions.parquet": digest})
    (root / "p.bin").unlink()
    return digest


def test_predictions_are_used_only_with_the_recorded_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    init_repo(root)
    fakestages.write_project(root)
    digest = _lock_with_predictions(root, b"the base branch's predictions")
    commit_all(root, "main")
    git(root, "checkout", "-q", "-b", "feature")
    monkeypatch.chdir(root)
    place = root / ".mlspec" / "baseline" / "evaluate"
    place.mkdir(parents=True)
    (place / "predictions.parquet").write_bytes(b"some other run's predictions")
    missing = found(root, predictions=True)
    assert isinstance(missing, Baseline) and missing.predictions is None
    assert missing.no_predictions == (f"the baseline's predictions.parquet ({digest[:15]}...) is not in "
                                      ".mlspec/baseline/evaluate; restore the base branch's evaluate outputs there")
    (place / "predictions.parquet").write_bytes(b"the base branch's predictions")
    present = found(root, predictions=True)
    assert isinstance(present, Baseline) and present.predictions == place / "predictions.parquet"
    assert present.identity != missing.identity
    assert found(root, predictions=False).predictions is None  # type: ignore[union-attr]


def test_a_lock_given_by_path_brings_its_own_workspace(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "main-checkout"
    other.mkdir()
    _lock_with_predictions(other, b"predictions of main")
    outputs = other / ".mlspec" / "stages" / "evaluate"
    outputs.mkdir(parents=True)
    (outputs / "predictions.parquet").write_bytes(b"predictions of main")
    base = found(repo, str(other / "mlspec.lock"), predictions=True)
    assert isinstance(base, Baseline) and base.predictions == outputs / "predictions.parquet"


def test_a_metrics_json_brings_the_predictions_beside_it(repo: Path) -> None:
    out = repo / "base-eval"
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps({"champion": "m1", "champion_metrics": {"accuracy": 0.93}}))
    without = found(repo, "base-eval", predictions=True)
    assert isinstance(without, Baseline)
    assert without.no_predictions == "there is no predictions.parquet beside base-eval/metrics.json"
    (out / "predictions.parquet").write_bytes(b"x")
    with_file = found(repo, "base-eval", predictions=True)
    assert isinstance(with_file, Baseline) and with_file.predictions == Path("base-eval/predictions.parquet")


def test_identity_follows_the_numbers_not_the_commit(repo: Path) -> None:
    commit_all(repo, "feature results")
    first = found(repo).identity
    git(repo, "checkout", "-q", "main")
    (repo / "README").write_text("unrelated change on main\n")
    commit_all(repo, "docs")
    git(repo, "checkout", "-q", "feature")
    assert found(repo).identity == first
    git(repo, "checkout", "-q", "main")
    write_lock(repo, {"champion": "m1", "accuracy": 0.91})
    commit_all(repo, "new results on main")
    git(repo, "checkout", "-q", "feature")
    assert found(repo).identity != first
    assert NoBaseline("a").identity != NoBaseline("b").identity


# --- the registry's version ---------------------------------------------------------------------------------


def _spec_with(deploy: dict[str, tuple[str, str]], baseline: dict[str, str] | None = None, store: bool = True
               ) -> Spec:
    """The diabetes example with these deploy targets (name → (kind, alias or path)) and evaluation.baseline,
    with a store (so its registry outlives a CI job) unless ``store`` is false."""
    spec = load(EXAMPLES / "diabetes" / "mlspec.yaml").spec
    if store:
        spec = spec.model_copy(update={"store": Store(url="s3://bucket/mlspec")})
    targets = {name: RegistryTarget(kind="registry", alias=value) if kind == "registry"
               else ExportTarget(kind="export", path=value) for name, (kind, value) in deploy.items()}
    evaluation = spec.evaluation.model_copy(
        update={"baseline": EvaluationBaseline.model_validate(baseline or {})})
    return spec.model_copy(update={"deploy": targets, "evaluation": evaluation})


@pytest.mark.parametrize(("deploy", "baseline", "origin", "alias"), [
    ({"staging": ("registry", "staging")}, None, "registry", "staging"),
    ({"prod": ("registry", "production"), "canary": ("registry", "canary")}, None, "registry", "production"),
    ({"staging": ("registry", "staging"), "next": ("registry", "next")}, None, "registry", "next"),
    # A file registry without a store is thrown away with each CI job: the base branch's lock is the default.
    ({"staging": ("registry", "staging")}, {"store": False}, "lock", "staging"),
    ({}, None, "lock", None),
    ({"bundle": ("export", "dist/model")}, None, "lock", None),
    ({}, {"alias": "production"}, "registry", "production"),
    ({"staging": ("registry", "staging")}, {"from": "lock"}, "lock", "staging"),
    ({"staging": ("registry", "staging")}, {"from": "registry", "alias": "production"}, "registry", "production"),
])
def test_where_the_baseline_comes_from(deploy: dict[str, tuple[str, str]], baseline: dict[str, str] | None,
                                       origin: str, alias: str | None) -> None:
    chosen = dict(baseline or {})
    store = chosen.pop("store", True)
    spec = _spec_with(deploy, chosen, store=bool(store))
    assert (baseline_origin(spec), registry_alias(spec)) == (origin, alias)


@pytest.fixture
def registry_project(project: Path) -> Path:
    """The run diabetes project (tests/conftest.py), asking for the registry's version as its baseline."""
    baseline_from_registry(project / "mlspec.yaml")
    return project


@pytest.fixture
def deployed(registry_project: Path) -> Loaded:
    """The registry project with its champion deployed to `staging` as version 1."""
    from mlspec.deploy import deploy

    loaded = load(registry_project / "mlspec.yaml")
    deploy(loaded, "staging", environ={})
    return loaded


def test_nothing_deployed_is_no_baseline(registry_project: Path) -> None:
    project = registry_project
    found = resolve(load(project / "mlspec.yaml"), None, {})
    assert found == NoBaseline("the registry has no version of 'diabetes' with the alias 'staging' (nothing "
                               "deployed there yet)")
    assert isinstance(found, NoBaseline) and found.detail == f"the registry is {project / '.mlspec/registry'}"


def test_the_alias_names_the_version(deployed: Loaded) -> None:
    from mlspec.registry import FileRegistry

    found = resolve(deployed, None, {})
    assert isinstance(found, RegistryVersion)
    (v1,) = FileRegistry(Path(".mlspec/registry")).versions("diabetes")
    assert found.source == "registry staging = ridge v1"
    assert found.describe() == {"alias": "staging", "model": "diabetes", "version": 1, "digest": v1.digest}
    # Explicitly asked for: any alias, whatever the spec says; one that names nothing is no baseline.
    assert resolve(deployed, "registry:staging", {}) == found
    assert resolve(deployed, "registry:production", {}) == NoBaseline(
        "the registry has no version of 'diabetes' with the alias 'production' (nothing deployed there yet)")


def test_a_lock_baseline_wins_when_asked_for(deployed: Loaded, tmp_path: Path) -> None:
    write_lock(tmp_path, MAIN)
    assert resolve(deployed, str(tmp_path / "mlspec.lock"), {}) == Baseline(str(tmp_path / "mlspec.lock"), "m1",
                                                                              {"accuracy": 0.9})


def test_the_identity_is_the_version_not_where_the_registry_is(deployed: Loaded, tmp_path: Path) -> None:
    import shutil

    from mlspec.registry import FileRegistry
    from mlspec.registry.base import Actor

    here = resolve(deployed, None, {})
    shutil.copytree(".mlspec/registry", tmp_path / "elsewhere")
    there = resolve(deployed, None, {"MLSPEC_REGISTRY": str(tmp_path / "elsewhere")})
    assert isinstance(here, RegistryVersion) and isinstance(there, RegistryVersion)
    assert here.registry.location != there.registry.location
    assert here.identity == there.identity
    registry = FileRegistry(tmp_path / "elsewhere")
    registry.promote("diabetes", "production", 1, Actor("test", "local"))
    other_alias = resolve(deployed, "registry:production", {"MLSPEC_REGISTRY": str(tmp_path / "elsewhere")})
    assert isinstance(other_alias, RegistryVersion) and other_alias.identity != here.identity


@pytest.mark.parametrize("request_", ["registry:", "registry:Production", "registry:prod/x"])
def test_a_registry_request_must_name_an_alias(project: Path, request_: str) -> None:
    with pytest.raises(MlspecError) as caught:
        resolve(load(project / "mlspec.yaml"), request_, {})
    assert str(caught.value) == (f"baseline {request_!r}: name a registry alias after 'registry:', e.g. "
                                 "registry:production")
