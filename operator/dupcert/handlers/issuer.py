"""Kopf handlers of CertCentralIssuer and ClusterCertCentralIssuer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf

from dupcert.issuer_check import check_issuer
from dupcert.resources import CLUSTER_ISSUER_PLURAL, GROUP, ISSUER_PLURAL, VERSION, IssuerKind
from dupcert.storage.kube import Kube

# How often a Ready issuer is checked again, in seconds.
RECHECK_INTERVAL = 600.0


async def _check(kind: IssuerKind, body: kopf.Body, memo: kopf.Memo, logger: Any) -> None:
    kube: Kube = memo.kube
    result = await check_issuer(
        kube, kind, dict(body), memo.settings, memo.clients, datetime.now(UTC)
    )
    metadata = body.metadata
    plural = ISSUER_PLURAL if kind is IssuerKind.ISSUER else CLUSTER_ISSUER_PLURAL
    namespace = metadata.namespace if kind is IssuerKind.ISSUER else None
    current = (body.get("status") or {}).get("conditions")
    if current != result.status["conditions"]:
        await kube.patch_status(plural, namespace, metadata.name, result.status)
    if result.ready:
        logger.debug("Issuer is ready")
        return
    kopf.event(body, type="Warning", reason=result.reason, message=result.message)
    logger.warning("%s: %s", result.reason, result.message)
    raise kopf.TemporaryError(result.message, delay=memo.settings.retry_base_seconds)


@kopf.on.resume(GROUP, VERSION, ISSUER_PLURAL)
@kopf.on.create(GROUP, VERSION, ISSUER_PLURAL)
@kopf.on.update(GROUP, VERSION, ISSUER_PLURAL, field="spec")
async def check_certcentral_issuer(body: kopf.Body, memo: kopf.Memo, logger: Any, **_: Any) -> None:
    await _check(IssuerKind.ISSUER, body, memo, logger)


@kopf.on.resume(GROUP, VERSION, CLUSTER_ISSUER_PLURAL)
@kopf.on.create(GROUP, VERSION, CLUSTER_ISSUER_PLURAL)
@kopf.on.update(GROUP, VERSION, CLUSTER_ISSUER_PLURAL, field="spec")
async def check_cluster_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    await _check(IssuerKind.CLUSTER_ISSUER, body, memo, logger)


@kopf.timer(
    GROUP, VERSION, ISSUER_PLURAL, interval=RECHECK_INTERVAL, initial_delay=RECHECK_INTERVAL
)
async def recheck_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    await _check(IssuerKind.ISSUER, body, memo, logger)


@kopf.timer(
    GROUP, VERSION, CLUSTER_ISSUER_PLURAL, interval=RECHECK_INTERVAL, initial_delay=RECHECK_INTERVAL
)
async def recheck_cluster_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    await _check(IssuerKind.CLUSTER_ISSUER, body, memo, logger)
