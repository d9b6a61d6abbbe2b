"""The Dockerfile and .dockerignore, checked without a Docker engine: hadolint and parsing."""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
HADOLINT = Path(sys.executable).parent / "hadolint"
BASE_IMAGE = re.compile(r"^python:3\.11(\.\d+)?-slim-bookworm$")


@dataclass
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]


def parse_dockerfile(text: str) -> list[Stage]:
    """Split a Dockerfile into stages of instructions, joining continued lines."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"

    stages: list[Stage] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = arguments.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(base=parts[0], name=name, instructions=[]))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return stages


def environment(stage: Stage) -> dict[str, str]:
    values: dict[str, str] = {}
    for arguments in stage.all("ENV"):
        for pair in arguments.split():
            key, _, value = pair.partition("=")
            values[key] = value
    return values


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_stages_on_pinned_slim_python(stages: list[Stage]) -> None:
    assert len(stages) == 2
    for stage in stages:
        assert BASE_IMAGE.match(stage.base), f"{stage.base} is not a pinned slim Python 3.11"
    assert stages[0].name == "build"


def test_build_stage_makes_wheels(stages: list[Stage]) -> None:
    build = stages[0]
    assert any("pip wheel" in run and "--wheel-dir /wheels" in run for run in build.all("RUN"))
    copied = " ".join(build.all("COPY"))
    assert "pyproject.toml" in copied
    assert "operator" in copied


def test_final_stage_installs_built_wheel(stages: list[Stage]) -> None:
    final = stages[-1]
    runs = final.all("RUN")
    assert len(runs) == 1
    install = runs[0]
    assert "--mount=type=bind,from=build,source=/wheels" in install
    assert "pip install" in install
    assert "--no-index" in install
    assert "--no-cache-dir" in install
    assert "/wheels/dupcert-*.whl" in install
    # Nothing is copied in from the build stage, so no wheel or build tool stays behind.
    assert final.all("COPY") == []
    assert final.all("ADD") == []


def test_final_stage_has_no_compilers(stages: list[Stage]) -> None:
    final_runs = " ".join(stages[-1].all("RUN"))
    for tool in ("apt-get", "gcc", "build-essential", "apk add"):
        assert tool not in final_runs


def test_final_stage_runs_as_numeric_user(stages: list[Stage]) -> None:
    user = stages[-1].last("USER")
    assert re.fullmatch(r"\d+(:\d+)?", user), f"USER {user} is not numeric"
    assert int(user.split(":")[0]) == 65532
    # USER comes after the install, so pip runs as root and the program does not.
    keywords = [i.keyword for i in stages[-1].instructions]
    assert keywords.index("USER") > keywords.index("RUN")


def test_python_environment_flags(stages: list[Stage]) -> None:
    env = environment(stages[-1])
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    # With a read-only root filesystem only the /tmp emptyDir is writable.
    assert env["HOME"] == "/tmp"


def test_entrypoint_runs_operator(stages: list[Stage]) -> None:
    final = stages[-1]
    assert json.loads(final.last("ENTRYPOINT")) == ["dupcert"]
    command = json.loads(final.last("CMD"))
    assert command[0] == "run"
    assert command[1:] == ["--liveness", "http://0.0.0.0:8080/healthz"]
    assert final.last("EXPOSE") == "8080"


def test_console_script_is_dupcert() -> None:
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["dupcert"] == "dupcert.cli:main"


def is_ignored(path: str, patterns: list[str]) -> bool:
    """Apply .dockerignore rules to a context path: the last matching pattern wins, and a
    pattern that matches a folder also matches everything below it."""
    ignored = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        body = body.rstrip("/")
        if body.startswith("**/"):
            matched = any(fnmatch.fnmatch(part, body[3:]) for part in parts)
        else:
            matched = any(fnmatch.fnmatch(prefix, body) for prefix in prefixes)
        if matched:
            ignored = not negated
    return ignored


def dockerignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        "tests/chart/test_render.py",
        ".venv/bin/python",
        ".bin/helm",
        ".git/HEAD",
        ".pytest_cache/v/cache",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/content",
        "operator/dupcert/__pycache__/cli.cpython-311.pyc",
        "charts/dupcert/values.yaml",
        "hack/e2e-kind.sh",
    ],
)
def test_dockerignore_excludes(path: str) -> None:
    assert is_ignored(path, dockerignore_patterns())


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "operator/dupcert/cli.py",
        "operator/dupcert/simulator/default-seed.yaml",
    ],
)
def test_dockerignore_keeps_build_inputs(path: str) -> None:
    assert not is_ignored(path, dockerignore_patterns())


def test_build_inputs_exist_in_repository(stages: list[Stage]) -> None:
    """Every file the build stage copies exists, so the first COPY cannot fail."""
    for arguments in stages[0].all("COPY"):
        sources = arguments.split()[:-1]
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"COPY source {source} is missing"
