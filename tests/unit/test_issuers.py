"""Issuer spec checks that need no CertCentral call."""

from __future__ import annotations

import pytest

from dupcert.issuers import plain_http_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://www.digicert.com/services/v2",
        "http://127.0.0.1:8443/services/v2",
        "http://localhost:8443/services/v2",
        "http://dupcert-simulator.dupcert-system.svc:8443/services/v2",
        "http://sim.sandbox.svc.cluster.local/services/v2",
    ],
)
def test_https_and_local_http_accepted(url: str) -> None:
    assert plain_http_problem(url) is None


def test_remote_plain_http_rejected() -> None:
    problem = plain_http_problem("http://certcentral.example.com/services/v2")
    assert problem is not None
    assert "spec.url" in problem
    assert "use https" in problem
