"""Kopf handlers of CertCentralIssuer and ClusterCertCentralIssuer.

The create, resume and update handlers check an issuer until it is Ready, backing off
exponentially while it fails. The recheck timers check Ready issuers again every
RECHECK_INTERVAL seconds, and a timer that finds a Ready issuer failing retries it with the
same backoff. The spec-change timers check a failing issuer at once after its spec changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf

from dupcert.conditions import READY, find_condition
from dupcert.issuer_check import IssuerCheck, check_issuer, readiness_changed, retry_delay
from dupcert.resources import CLUSTER_ISSUER_PLURAL, GROUP, ISSUER_PLURAL, VERSION, IssuerKind
from dupcert.storage.kube import Kube

# How often a Ready issuer is checked again, in seconds.
RECHECK_INTERVAL = 600.0
# How long an issuer must stay unchanged before a changed spec is checked, in seconds.
SPEC_CHANGE_IDLE = 2.0
# How often the spec-change timers look, in seconds. An interval is required: Kopf 1.45's
# idle-only timers never see the stop flag and spin at shutdown, so SIGTERM would hang.
SPEC_CHANGE_POLL = 5.0


def _ready_condition(body: kopf.Body) -> dict[str, Any] | None:
    return find_condition((body.get("status") or {}).get("conditions") or [], READY)


async def _check_and_report(
    kind: IssuerKind, body: kopf.Body, memo: kopf.Memo, logger: Any
) -> IssuerCheck:
    """Check the issuer and write its Ready condition.

    An Event is posted only when the Ready condition's status or reason changes: a Warning
    for a failure, and a Normal one when a failing issuer becomes Ready. A retry that fails
    the same way adds no Event.
    """
    kube: Kube = memo.kube
    result = await check_issuer(
        kube, kind, dict(body), memo.settings, memo.clients, datetime.now(UTC)
    )
    metadata = body.metadata
    plural = ISSUER_PLURAL if kind is IssuerKind.ISSUER else CLUSTER_ISSUER_PLURAL
    namespace = metadata.namespace if kind is IssuerKind.ISSUER else None
    previous = _ready_condition(body)
    current = (body.get("status") or {}).get("conditions")
    if current != result.status["conditions"]:
        await kube.patch_status(plural, namespace, metadata.name, result.status)

    changed = readiness_changed(previous, result)
    if result.ready:
        if changed and previous is not None and previous.get("status") == "False":
            kopf.event(body, type="Normal", reason=result.reason, message=result.message)
            logger.info("Issuer is ready again: %s", result.message)
        else:
            logger.debug("Issuer is ready")
    elif changed:
        kopf.event(body, type="Warning", reason=result.reason, message=result.message)
        logger.warning("%s: %s", result.reason, result.message)
    else:
        logger.debug("Issuer is still not ready: %s", result.reason)
    return result


async def _check(
    kind: IssuerKind, body: kopf.Body, memo: kopf.Memo, logger: Any, retry: int
) -> None:
    """Check the issuer, and while it fails, ask Kopf to retry after an exponential delay."""
    result = await _check_and_report(kind, body, memo, logger)
    if result.ready:
        return
    delay = retry_delay(memo.settings, retry)
    logger.debug("Checking the issuer again in %.0f s", delay)
    raise kopf.TemporaryError(result.message, delay=delay)


async def _recheck(
    kind: IssuerKind, body: kopf.Body, memo: kopf.Memo, logger: Any, retry: int
) -> None:
    """Check a Ready issuer again, or continue the timer's own retries of a failing one.

    An issuer that is not Ready when the timer starts a fresh round (``retry`` 0) is left to
    the create, resume or update handler, which is still retrying it. Checking it here too
    would double its CertCentral calls.
    """
    previous = _ready_condition(body)
    if retry == 0 and previous is not None and previous.get("status") != "True":
        logger.debug("Issuer is not ready, so its create, resume or update handler retries it")
        return
    await _check(kind, body, memo, logger, retry)


async def _check_changed_spec(
    kind: IssuerKind, body: kopf.Body, memo: kopf.Memo, logger: Any
) -> None:
    """Check a failing issuer once when its spec is newer than its Ready condition.

    Kopf does not run a failing handler again before its delay ends, even when the spec
    changes meanwhile, so a fixed spec would otherwise wait up to retry_max_seconds. The
    handler that owns the retries keeps its schedule; this check neither raises nor retries.
    """
    previous = _ready_condition(body)
    if previous is None or previous.get("status") == "True":
        return
    if previous.get("observedGeneration") == body.metadata.get("generation"):
        return
    logger.debug("Checking the issuer now because its spec changed while it was failing")
    await _check_and_report(kind, body, memo, logger)


@kopf.on.resume(GROUP, VERSION, ISSUER_PLURAL)
@kopf.on.create(GROUP, VERSION, ISSUER_PLURAL)
@kopf.on.update(GROUP, VERSION, ISSUER_PLURAL, field="spec")
async def check_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, retry: int, **_: Any
) -> None:
    await _check(IssuerKind.ISSUER, body, memo, logger, retry)


@kopf.on.resume(GROUP, VERSION, CLUSTER_ISSUER_PLURAL)
@kopf.on.create(GROUP, VERSION, CLUSTER_ISSUER_PLURAL)
@kopf.on.update(GROUP, VERSION, CLUSTER_ISSUER_PLURAL, field="spec")
async def check_cluster_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, retry: int, **_: Any
) -> None:
    await _check(IssuerKind.CLUSTER_ISSUER, body, memo, logger, retry)


@kopf.timer(
    GROUP, VERSION, ISSUER_PLURAL, interval=RECHECK_INTERVAL, initial_delay=RECHECK_INTERVAL
)
async def recheck_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, retry: int = 0, **_: Any
) -> None:
    await _recheck(IssuerKind.ISSUER, body, memo, logger, retry)


@kopf.timer(
    GROUP, VERSION, CLUSTER_ISSUER_PLURAL, interval=RECHECK_INTERVAL, initial_delay=RECHECK_INTERVAL
)
async def recheck_cluster_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, retry: int = 0, **_: Any
) -> None:
    await _recheck(IssuerKind.CLUSTER_ISSUER, body, memo, logger, retry)


# A timer with only `idle` runs once each time the object has stayed unchanged that long.
@kopf.timer(GROUP, VERSION, ISSUER_PLURAL, idle=SPEC_CHANGE_IDLE, interval=SPEC_CHANGE_POLL)
async def check_changed_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    await _check_changed_spec(IssuerKind.ISSUER, body, memo, logger)


@kopf.timer(GROUP, VERSION, CLUSTER_ISSUER_PLURAL, idle=SPEC_CHANGE_IDLE, interval=SPEC_CHANGE_POLL)
async def check_changed_cluster_certcentral_issuer(
    body: kopf.Body, memo: kopf.Memo, logger: Any, **_: Any
) -> None:
    await _check_changed_spec(IssuerKind.CLUSTER_ISSUER, body, memo, logger)
