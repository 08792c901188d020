"""`mlspec comment` outside any CI platform; on GitHub and GitLab see tests/platforms/test_github.py and
test_gitlab.py, which run the same command against a fake of each API.
"""

from __future__ import annotations

from pathlib import Path

from tests.platforms.kit import comment


def test_outside_ci_there_is_nothing_to_comment_on(tmp_path: Path) -> None:
    result = comment(tmp_path, {})
    assert (result.returncode, result.stdout) == (
        0, "notice: not running in GitHub Actions or GitLab CI: no pull or merge request to comment on\n")
