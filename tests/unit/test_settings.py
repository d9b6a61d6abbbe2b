"""Tests of operator settings read from DUPCERT_* environment variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dupcert.settings import OperatorSettings


def test_defaults_without_environment() -> None:
    settings = OperatorSettings.from_environment({})

    assert settings == OperatorSettings()
    assert settings.operator_namespace == "dupcert-system"
    assert settings.retry_base_seconds == 30.0


def test_environment_values_read() -> None:
    settings = OperatorSettings.from_environment(
        {
            "DUPCERT_OPERATOR_NAMESPACE": "certs",
            "DUPCERT_RETRY_BASE_SECONDS": "2.5",
            "DUPCERT_RESYNC_SECONDS": "60",
        }
    )

    assert settings.operator_namespace == "certs"
    assert settings.retry_base_seconds == 2.5
    assert settings.resync_seconds == 60.0


def test_unrelated_variables_ignored() -> None:
    settings = OperatorSettings.from_environment(
        {"RETRY_BASE_SECONDS": "1", "DUPCERT_UNKNOWN": "x", "dupcert_resync_seconds": "5"}
    )

    assert settings == OperatorSettings()


@pytest.mark.parametrize("value", ["0", "-1", "soon", ""])
def test_invalid_seconds_rejected(value: str) -> None:
    with pytest.raises(ValidationError, match="approval_poll_seconds"):
        OperatorSettings.from_environment({"DUPCERT_APPROVAL_POLL_SECONDS": value})


def test_process_environment_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUPCERT_RENEWAL_LEASE_SECONDS", "120")

    assert OperatorSettings.from_environment().renewal_lease_seconds == 120.0
