"""Run log lines: plain, folded in GitHub Actions groups, or in GitLab CI sections."""

from __future__ import annotations

import io

import pytest

from mlspec.runtime.cilog import Log


def _log(environ: dict[str, str]) -> tuple[Log, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Log(out, err, environ, clock=lambda: 1700000000.5), out, err


def _stage(log: Log) -> None:
    with log.group("train:forest", "run train:forest: no lock entry"):
        log.line("  fitting")
    log.line("ok train:forest in 0.10 s")


def test_plain() -> None:
    log, out, _ = _log({})
    _stage(log)
    assert out.getvalue() == "run train:forest: no lock entry\n  fitting\nok train:forest in 0.10 s\n"


def test_github_groups() -> None:
    log, out, _ = _log({"GITHUB_ACTIONS": "true"})
    _stage(log)
    assert out.getvalue() == (
        "::group::run train:forest: no lock entry\n  fitting\n::endgroup::\nok train:forest in 0.10 s\n"
    )


def test_gitlab_sections() -> None:
    log, out, _ = _log({"GITLAB_CI": "true"})
    _stage(log)
    assert out.getvalue() == (
        "\x1b[0Ksection_start:1700000000:train_forest[collapsed=true]\r\x1b[0Krun train:forest: no lock entry\n"
        "  fitting\n"
        "\x1b[0Ksection_end:1700000000:train_forest\r\x1b[0K\n"
        "ok train:forest in 0.10 s\n"
    )


def test_group_closes_when_the_stage_raises() -> None:
    log, out, _ = _log({"GITHUB_ACTIONS": "true"})
    with pytest.raises(RuntimeError), log.group("evaluate", "run evaluate"):
        raise RuntimeError("bug")
    assert out.getvalue() == "::group::run evaluate\n::endgroup::\n"


def test_errors_go_to_stderr_and_become_github_annotations() -> None:
    log, out, err = _log({})
    log.error("mlspec.yaml:3:5: stage train:m: bad", "mlspec.yaml", 3, 5)
    assert (out.getvalue(), err.getvalue()) == ("", "mlspec.yaml:3:5: stage train:m: bad\n")

    log, out, err = _log({"GITHUB_ACTIONS": "true"})
    log.error("p,q/mlspec.yaml:3:5: stage train:m: 100% bad\nsecond line", "p,q/mlspec.yaml", 3, 5)
    assert err.getvalue() == (
        "::error file=p%2Cq/mlspec.yaml,line=3,col=5::p,q/mlspec.yaml:3:5: stage train:m: 100%25 bad%0Asecond line\n"
    )
