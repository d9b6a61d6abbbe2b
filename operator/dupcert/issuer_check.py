"""Issuer readiness: one cheap authenticated CertCentral call per check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dupcert.certcentral.errors import CertCentralError, CredentialsInvalidError
from dupcert.conditions import READY, Reason, set_condition
from dupcert.issuers import ClientCache, IssuerNotReadyError, build_issuer
from dupcert.resources import IssuerKind
from dupcert.settings import OperatorSettings
from dupcert.storage.kube import Kube


@dataclass(frozen=True)
class IssuerCheck:
    """Result of a check: the status to write and the Ready condition's parts."""

    status: dict[str, Any]
    ready: bool
    reason: str
    message: str


async def check_issuer(
    kube: Kube,
    kind: IssuerKind,
    body: dict[str, Any],
    settings: OperatorSettings,
    clients: ClientCache,
    now: datetime,
) -> IssuerCheck:
    """Load the issuer's Secrets and call CertCentral's account endpoint with its key."""
    metadata = body.get("metadata") or {}
    name = metadata["name"]
    namespace = metadata.get("namespace") if kind is IssuerKind.ISSUER else None
    account_id = None
    try:
        issuer = await build_issuer(
            kube, kind, name, namespace, body.get("spec") or {}, settings, clients
        )
        account = await issuer.client.get_account()
        account_id = account.id
        ready, reason = True, Reason.CREDENTIALS_VALID
        message = f"Authenticated to CertCentral at {issuer.spec.url} (account {account.id})"
    except IssuerNotReadyError as error:
        ready, reason, message = False, Reason.ISSUER_NOT_READY, str(error)
    except CredentialsInvalidError:
        ready, reason = False, Reason.CREDENTIALS_INVALID
        message = (
            "CertCentral rejected the API key; store a valid key in the Secret named by "
            "spec.apiKeySecretRef"
        )
    except CertCentralError as error:
        ready, reason = False, Reason.CERTCENTRAL_UNAVAILABLE
        message = f"CertCentral call failed: {error}"

    conditions = set_condition(
        (body.get("status") or {}).get("conditions"),
        READY,
        ready,
        reason,
        message,
        metadata.get("generation"),
        now,
    )
    status: dict[str, Any] = {"conditions": conditions}
    if account_id is not None:
        status["accountId"] = account_id
    return IssuerCheck(status, ready, reason, message)
