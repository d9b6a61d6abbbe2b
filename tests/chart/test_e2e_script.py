"""The kind end-to-end script: shellcheck, and the steps it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.chart.support import REPO_ROOT

SCRIPT = REPO_ROOT / "hack" / "e2e-kind.sh"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def test_e2e_script_passes_shellcheck() -> None:
    result = subprocess.run(
        [str(SHELLCHECK), "--severity=style", str(SCRIPT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_e2e_script_is_executable() -> None:
    assert os.access(SCRIPT, os.X_OK)


def test_e2e_script_cleans_up_on_exit() -> None:
    text = SCRIPT.read_text()
    assert "set -euo pipefail" in text
    assert "trap cleanup EXIT" in text
    assert "kind delete cluster" in text
    # The trap is set before the cluster exists, so a failed create is cleaned up too.
    assert text.index("trap cleanup EXIT") < text.index("kind create cluster --name")


def test_e2e_script_runs_every_step() -> None:
    text = SCRIPT.read_text()
    steps = [
        "kind create cluster",
        "docker build",
        "kind load docker-image",
        "helm install",
        "simulator.enabled=true",
        "examples/20-duplicatecertificate.yaml",
        "--for=condition=Ready",
        "get secret web-tls",
    ]
    for step in steps:
        assert step in text, f"hack/e2e-kind.sh lacks the step {step!r}"
