"""The spec strings that `mlspec compile` writes into CI files, and what each place can hold.

A value in a generated file is read several times over: as YAML (a newline or ``: `` can start a key), by
GitHub as an expression (``${{ }}`` anywhere in a value, ``'`` ends a string inside one), by GitLab as a
variable (``$VAR``, ``$[[ ]]``) or a rule string (``"`` ends it; ``\\"`` is no escape there), by a shell as words
and globs. Quoting in the templates keeps the YAML structure; these allowlists keep the other readings inert,
and are checked when the spec is loaded, so a mistake is reported at its line. None of them admits a control
character, a line break, ``$``, a brace, a quote or a backslash (:func:`mlspec.targets.common.inert` asserts so
again when compiling).

Each type is a pydantic annotation: a validator with a message that says what is allowed, and the same rule,
where a regular expression can say it, as the ``pattern`` of the JSON Schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, WithJsonSchema


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _chars(value: str, allowed: str) -> str:
    """The characters of ``value`` outside the regex class body ``allowed``, for a message."""
    bad = sorted(set(re.sub(f"[{allowed}]", "", value)))
    return ", ".join(repr(c) for c in bad)


def _checked(check: Callable[[str], str | None], max_length: int) -> AfterValidator:
    """A validator: ``check`` returns the message for a value it rejects, None for one it accepts."""

    def validate(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"{_shown(value)} is longer than {max_length} characters")
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


def _matching(pattern: str, what: str) -> Callable[[str], str | None]:
    """A check that accepts the values matching ``pattern`` and says ``what`` of the others."""

    def check(value: str) -> str | None:
        # fullmatch: in Python's re, `$` also matches before a final newline.
        return None if re.fullmatch(pattern, value) else f"{_shown(value)} {what}"

    return check


def _schema(pattern: str, max_length: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_length, "pattern": pattern})


_NON_EMPTY = StringConstraints(min_length=1)


# --- branch and tag names ---------------------------------------------------------------------------------
# git check-ref-format's rules within a charset that means the same to GitHub's branch filters (where + and !
# are glob operators) and needs no quoting in either platform's job conditions.

REF_CHARS = "A-Za-z0-9._/-"
_REF_RULES = r"^(?![-/.])(?!.*(?:\.\.|//|/\.))"
REF_PATTERN_PATTERN = _REF_RULES + rf"[{REF_CHARS}]*\*?$"
BRANCH_PATTERN = _REF_RULES + rf"[{REF_CHARS}]*[A-Za-z0-9_-]$"
_REF_HELP = "use letters, digits, '.', '_', '-' and '/'"


def _git_ref(value: str, glob: bool) -> str | None:
    prefix = glob and value.endswith("*")
    literal = value[:-1] if prefix else value
    if glob and any(c in literal for c in "*?[]"):
        return (f"pattern {_shown(value)} is not supported; use an exact name or a name ending in one '*' "
                "(such as release/*), which both CI platforms can match")
    noun = "branch or tag pattern" if glob else "branch name"
    bad = _chars(literal, REF_CHARS)
    if bad:
        return f"{_shown(value)} is not a {noun} mlspec can match: it holds {bad}; {_REF_HELP}" + (
            ", and end it in one '*' to match a prefix" if glob else "")
    parts = literal.split("/")
    rules = [
        (literal.startswith(("-", "/")), "must not start with '-' or '/'"),
        (".." in literal, "must not contain '..'"),
        ("//" in literal, "must not contain '//'"),
        (any(p.startswith(".") for p in parts), "must not have a part (between '/') that starts with '.'"),
        (any(p.endswith(".lock") for p in (parts if not prefix else parts[:-1])),
         "must not have a part (between '/') that ends in '.lock'"),
        (not prefix and literal.endswith(("/", ".")), "must not end in '/' or '.'"),
    ]
    broken = next((why for bad_rule, why in rules if bad_rule), None)
    return f"{_shown(value)} is not a valid git {noun}: it {broken} (git check-ref-format)" if broken else None


def _ref_pattern(value: str) -> str | None:
    return _git_ref(value, glob=True)


def _branch(value: str) -> str | None:
    return _git_ref(value, glob=False)


RefPattern = Annotated[str, _NON_EMPTY, _checked(_ref_pattern, 255), _schema(REF_PATTERN_PATTERN, 255)]
"""A branch or tag pattern of a deploy target: an exact name, or a prefix followed by one ``*``."""
BranchName = Annotated[str, _NON_EMPTY, _checked(_branch, 255), _schema(BRANCH_PATTERN, 255)]


# --- what pip installs ------------------------------------------------------------------------------------

VERSION_PATTERN = (r"^([0-9]+!)?[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?"
                   r"(\+[a-z0-9]+(\.[a-z0-9]+)*)?$")
Version = Annotated[str, _NON_EMPTY, _checked(_matching(
    VERSION_PATTERN, "is not a version of mlspec the jobs can install (as mlspec-ci[run]==VERSION); write a PEP 440 "
    "version such as 1.4.0, 1.5.0rc1 or 1.4.0.post1"), 64), _schema(VERSION_PATTERN, 64)]

_NAME = r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"
_CLAUSE = r"(===|~=|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+"
_URL = r"@(https?|file|git\+(https?|ssh|file))://[A-Za-z0-9._~:/?#@!&+,;=%-]+"
REQUIREMENT_PATTERN = rf"^{_NAME}(\[{_NAME}(,{_NAME})*\])?({_CLAUSE}(,{_CLAUSE})*|{_URL})?$"
Requirement = Annotated[str, _NON_EMPTY, _checked(_matching(
    REQUIREMENT_PATTERN, "is not a requirement mlspec can pass to pip: write a PEP 508 name with optional "
    "[extras] and version clauses, without spaces or markers, such as xgboost==2.1.0, scikit-learn>=1.4,<2 or "
    "name@https://host/path/name.whl"), 500), _schema(REQUIREMENT_PATTERN, 500)]


# --- where jobs run ---------------------------------------------------------------------------------------

LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
RunnerLabel = Annotated[str, _NON_EMPTY, _checked(_matching(
    LABEL_PATTERN, "is not a runner label mlspec can write: use letters, digits, '.', '_' and '-', starting "
    "with a letter or digit"), 100), _schema(LABEL_PATTERN, 100)]
"""A GitHub runner label or a GitLab runner tag."""

# The reference grammar of the Docker distribution project: [domain[:port]/]path[:tag][@digest].
_DOMAIN_PART = r"([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_PATH_PART = r"[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*"
IMAGE_PATTERN = (rf"^({_DOMAIN_PART}(\.{_DOMAIN_PART})*(:[0-9]+)?/)?{_PATH_PART}(/{_PATH_PART})*"
                 r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:"
                 r"[0-9a-fA-F]{32,})?$")
DockerImage = Annotated[str, _NON_EMPTY, _checked(_matching(
    IMAGE_PATTERN, "is not a Docker image reference; write it like python:3.11-slim, "
    "my-registry:5000/team/image:1.0 or image@sha256:<digest> (no CI/CD variables)"), 512),
    _schema(IMAGE_PATTERN, 512)]


# --- files ------------------------------------------------------------------------------------------------
# Data and suite files are hashed for GitHub's cache keys, as hashFiles('path'): a quote would end the string,
# a glob character would widen the match, ${{ would open an expression.

PATH_CHARS = "A-Za-z0-9_./+@=,-"
PATH_PATTERN = rf"^(?!-)[{PATH_CHARS}]+( +[{PATH_CHARS}]+)*$"


def path_problem(value: str) -> str | None:
    """Why ``value`` cannot be a path the CI files name, or None (also used for the spec's own path)."""
    bad = _chars(value, " " + PATH_CHARS)
    if bad:
        return (f"{_shown(value)} holds {bad}, which the CI files cannot carry safely; a path here may use "
                "letters, digits, spaces and . _ / + @ = , -")
    return _matching(PATH_PATTERN, "must not start with '-', nor start or end with a space")(value)


CIPath = Annotated[str, _NON_EMPTY, _checked(path_problem, 1024), _schema(PATH_PATTERN, 1024)]
"""A file path, relative to mlspec.yaml, that the CI files name (in cache keys or variables)."""


# --- environment of the jobs (ci.env, ci.<platform>.oidc) ---------------------------------------------------
# Names become `env:`/`variables:` keys and the names inside ${{ secrets.NAME }} / ${{ vars.NAME }} and $NAME:
# an identifier cannot end an expression or start another variable. Values that are written as they are
# (literals) hold no $ (a GitLab variable), no braces (a GitHub expression), no quote and no backslash.

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Set by GitHub, GitLab or the runner for every job, or by mlspec's own jobs: a spec value there would be
# ignored, or would change what mlspec's jobs run.
RESERVED_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "CI_", "GITLAB_", "FF_", "ARTIFACT_", "CACHE_")
RESERVED_NAMES = frozenset({
    "CI", "HOME", "PATH", "SHELL", "PWD", "LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV", "PYTHONPATH",
    "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUNBUFFERED", "PIP_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK",
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "GIT_DEPTH", "GIT_STRATEGY",
    "MLSPEC_SPEC", "MLSPEC_INSTALL", "MLSPEC_INSTALL_DEFAULT", "MLSPEC_EXTRA_REQUIREMENTS",
    "MLSPEC_REQUIREMENTS_FILE", "MLSPEC_DRIFT", "MLSPEC_TARGET", "MLSPEC_PREPARE", "MODEL", "SUITE", "SHARD", "SHARDS",
})
"""Names a spec cannot set; the variables mlspec's generated jobs set themselves are all here (a test of the
compilers checks it)."""


def _env_name(value: str) -> str | None:
    if not re.fullmatch(IDENTIFIER_PATTERN, value):
        return (f"{_shown(value)} is not an environment variable name mlspec can write: use letters, digits and "
                "'_', not starting with a digit")
    upper = value.upper()
    if upper in RESERVED_NAMES or upper.startswith(RESERVED_PREFIXES):
        return (f"{_shown(value)} is set by the CI platform or by mlspec's own jobs; pick another name (names "
                "starting with " + ", ".join(RESERVED_PREFIXES) + " are reserved too)")
    return None


def _ci_variable(value: str) -> str | None:
    if not re.fullmatch(IDENTIFIER_PATTERN, value):
        return (f"{_shown(value)} is not a CI secret or variable name: use letters, digits and '_', not starting "
                "with a digit (GitHub and GitLab allow no other)")
    if value.upper().startswith("GITHUB_"):
        return f"{_shown(value)} starts with GITHUB_, which GitHub keeps for itself as a secret or variable name"
    return None


EnvName = Annotated[str, _NON_EMPTY, _checked(_env_name, 100), _schema(IDENTIFIER_PATTERN, 100)]
"""The name of an environment variable the spec gives the jobs."""
CIVariable = Annotated[str, _NON_EMPTY, _checked(_ci_variable, 100), _schema(IDENTIFIER_PATTERN, 100)]
"""The name of a GitHub secret or variable, or a GitLab CI/CD variable."""

# The characters of a URL (RFC 3986) but the quote and $: URLs, ARNs, regions, e-mail addresses, ids.
ENV_LITERAL_CHARS = r"A-Za-z0-9._~:/?#\[\]@!&()*+,;=%<>-"
ENV_LITERAL_PATTERN = rf"^[{ENV_LITERAL_CHARS}]+$"


def _env_literal(value: str) -> str | None:
    bad = _chars(value, ENV_LITERAL_CHARS)
    if bad:
        return (f"{_shown(value)} holds {bad}, which mlspec does not write into a CI file as it is: a literal value "
                "here may use the characters of a URL but ' and $ (no spaces); keep any other value in a CI "
                "variable and write {var: NAME}")
    return None


EnvLiteral = Annotated[str, _NON_EMPTY, _checked(_env_literal, 1000), _schema(ENV_LITERAL_PATTERN, 1000)]
"""A value written as it is (never inside ``${{ }}``): not a secret, since the CI file is public."""
