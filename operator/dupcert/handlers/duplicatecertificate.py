"""Kopf handlers of DuplicateCertificate: one daemon per resource runs the passes.

The daemon sleeps until the time the last pass asked for (renewal, retry, approval poll),
or until the spec or the renew annotation changes. So an idle operator uses no CPU, and
each resource is requeued for its own renewal time.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import kopf

from dupcert.keys import delete_next_key
from dupcert.reconcile import ANNOTATION_RENEW_REQUESTED_AT, Dependencies, Reconciler
from dupcert.resources import DUPLICATE_CERTIFICATE_PLURAL, GROUP, VERSION
from dupcert.storage.kube import KubeError, NotFoundError

# Delay after an unexpected error in a pass (the API server or a bug), in seconds.
UNEXPECTED_ERROR_DELAY = 10.0


def _wakeup(memo: kopf.Memo, uid: str) -> asyncio.Event:
    wakeups: dict[str, asyncio.Event] = memo.wakeups
    return wakeups.setdefault(uid, asyncio.Event())


def _trigger_state(body: kopf.Body) -> tuple[Any, Any]:
    annotations = body.metadata.annotations or {}
    return body.metadata.get("generation"), annotations.get(ANNOTATION_RENEW_REQUESTED_AT)


@kopf.on.event(GROUP, VERSION, DUPLICATE_CERTIFICATE_PLURAL)
async def wake_on_change(body: kopf.Body, memo: kopf.Memo, uid: str, **_: Any) -> None:
    """Wake the resource's daemon when its spec or renew annotation changed."""
    seen: dict[str, tuple[Any, Any]] = memo.setdefault("trigger_states", {})
    state = _trigger_state(body)
    if seen.get(uid) != state:
        seen[uid] = state
        _wakeup(memo, uid).set()


@kopf.daemon(GROUP, VERSION, DUPLICATE_CERTIFICATE_PLURAL, id="reconcile", cancellation_timeout=10)
async def reconcile_duplicate_certificate(
    *,
    body: kopf.Body,
    name: str,
    namespace: str | None,
    uid: str,
    memo: Any,
    logger: Any,
    stopped: kopf.DaemonStopped,
    **_: Any,
) -> None:
    assert namespace is not None  # DuplicateCertificate is namespaced.
    deps = Dependencies(kube=memo.kube, settings=memo.settings, clients=memo.clients)
    wakeup = _wakeup(memo, uid)

    def record_event(event_type: str, reason: str, message: str) -> None:
        kopf.event(body, type=event_type, reason=reason, message=message)

    while not stopped:
        wakeup.clear()
        try:
            latest = await deps.kube.get_custom(DUPLICATE_CERTIFICATE_PLURAL, namespace, name)
        except NotFoundError:
            return
        if latest.get("metadata", {}).get("deletionTimestamp"):
            return
        try:
            delay = await Reconciler(deps, latest, record_event, logger).reconcile()
        except KubeError as error:
            logger.warning("Kubernetes API call failed: %s; retrying", error)
            delay = UNEXPECTED_ERROR_DELAY
        except Exception:
            logger.exception("Unexpected error in a pass; retrying")
            delay = UNEXPECTED_ERROR_DELAY
        if delay is None:
            logger.debug("Waiting for a change of the spec")
        else:
            logger.debug("Next pass in %.0f s", delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_wait_for(wakeup, stopped), timeout=delay)


async def _wait_for(wakeup: asyncio.Event, stopped: kopf.DaemonStopped) -> None:
    """Return when the resource changed or the daemon is stopping."""

    async def wait_stopped() -> None:
        await stopped.wait()

    stop_task = asyncio.create_task(wait_stopped())
    wake_task = asyncio.create_task(wakeup.wait())
    try:
        await asyncio.wait({stop_task, wake_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop_task.cancel()
        wake_task.cancel()


@kopf.on.delete(GROUP, VERSION, DUPLICATE_CERTIFICATE_PLURAL, optional=True)
async def forget_duplicate_certificate(
    name: str, namespace: str | None, uid: str, memo: kopf.Memo, **_: Any
) -> None:
    """Delete the next private key and the wake-up state.

    The TLS Secret outlives the resource on purpose, as cert-manager's does.
    """
    memo.wakeups.pop(uid, None)
    memo.setdefault("trigger_states", {}).pop(uid, None)
    if namespace is not None:
        await delete_next_key(memo.kube, namespace, name)
