"""Operator settings, read from ``DUPCERT_*`` environment variables."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


class OperatorSettings(BaseModel):
    """Tunables of the running operator; each maps to ``DUPCERT_<FIELD NAME IN CAPITALS>``."""

    model_config = ConfigDict(frozen=True)

    # Namespace the operator runs in: ClusterCertCentralIssuer API key Secrets and renewal
    # Leases live here.
    operator_namespace: str = "dupcert-system"
    # First retry delay after a failed issuance, in seconds; it doubles per failure.
    retry_base_seconds: float = Field(default=30.0, gt=0)
    # Cap of the retry delay, in seconds.
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    # How often a duplicate request waiting for approval is checked, in seconds.
    approval_poll_seconds: float = Field(default=30.0, gt=0)
    # With autoRenew false, how often CertCentral is checked for a renewal made by hand.
    renewal_recheck_seconds: float = Field(default=3600.0, gt=0)
    # How long an idle resource is left alone before its state is checked again, in seconds.
    # Renewal never depends on this: each resource also wakes at its own renewal time.
    resync_seconds: float = Field(default=3600.0, gt=0)
    # How long a renewal Lease is held before another replica may take it over, in seconds.
    renewal_lease_seconds: float = Field(default=300.0, gt=0)
    # Timeout of one CertCentral HTTP request, in seconds.
    certcentral_timeout_seconds: float = Field(default=30.0, gt=0)

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> OperatorSettings:
        source = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for name in cls.model_fields:
            variable = f"DUPCERT_{name.upper()}"
            if variable in source:
                values[name] = source[variable]
        return cls.model_validate(values)
