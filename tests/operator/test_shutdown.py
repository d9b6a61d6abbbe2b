"""The operator stops cleanly on SIGTERM, as a pod stop or an upgrade sends it."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.plugins.operator import Scenario

pytestmark = [pytest.mark.slow]


def test_sigterm_stops_operator(scenario: Scenario) -> None:
    scenario.create_issuer()
    scenario.create_duplicate_certificate(
        "web",
        {
            "commonName": "demo.example.com",
            "dnsNames": ["demo.example.com", "www.demo.example.com"],
            "secretName": "web-tls",
            "privateKey": {"algorithm": "ECDSA", "size": 256},
        },
    )
    operator = scenario.start_operator()
    scenario.wait_for_condition("web")
    scenario.wait_for_condition("certcentral", getter=scenario.get_issuer)
    time.sleep(5)  # the issuer timers have started by now

    assert operator.process is not None
    operator.process.send_signal(signal.SIGTERM)
    try:
        operator.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the operator ignored SIGTERM for 15 s:\n{operator.logs[-3000:]}")
    assert operator.process.returncode is not None
