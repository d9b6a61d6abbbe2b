"""The wheel the image's build stage makes, built here from the same filtered context."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.image.test_dockerfile import REPO_ROOT, dockerignore_patterns, is_ignored


def copy_build_context(target: Path) -> int:
    """Copy the files that .dockerignore keeps in the build context and return their count."""
    patterns = dockerignore_patterns()
    copied = 0
    for path in sorted(REPO_ROOT.rglob("*")):
        relative = path.relative_to(REPO_ROOT).as_posix()
        if path.is_dir() or is_ignored(relative, patterns):
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
        copied += 1
    return copied


def test_build_context_makes_wheel(tmp_path: Path) -> None:
    context = tmp_path / "context"
    assert copy_build_context(context) > 0

    wheels = tmp_path / "wheels"
    # The same command as the build stage, without dependencies: they come from PyPI as
    # published wheels, and only dupcert's own wheel is built from source.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(wheels),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr

    [wheel] = list(wheels.glob("dupcert-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()

    assert "dupcert = dupcert.cli:main" in scripts
    assert "dupcert/simulator/default-seed.yaml" in names
    assert "dupcert/handlers/__init__.py" in names
    assert not [name for name in names if name.startswith("tests/")]
