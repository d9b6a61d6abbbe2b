"""Operator startup and shutdown: Kopf settings and the shared clients in ``memo``."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from dupcert.issuers import ClientCache
from dupcert.settings import OperatorSettings
from dupcert.storage.kube import Kube, load_configuration


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """Log in with the pod's service account, or with the kubeconfig in ``KUBECONFIG``.

    Kopf's default goes through the kubernetes package, which reads ``KUBECONFIG`` only when
    it is first imported; ``dupcert run --kubeconfig`` sets it later than that.
    """
    info = kopf.login_with_service_account(**kwargs)
    return info if info is not None else kopf.login_with_kubeconfig(**kwargs)


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Set Kopf's storage and timeouts to our own domain, and build the shared clients."""
    settings.persistence.finalizer = "dupcert.io/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="dupcert.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="dupcert.io", key="last-handled-configuration"
    )
    # Only Events the handlers post on purpose; log lines stay in the log.
    settings.posting.loggers = False
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 310
    settings.watching.connect_timeout = 30
    settings.networking.request_timeout = 60

    # No request or response bodies at INFO: they can carry Secret data.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)

    memo.settings = OperatorSettings.from_environment()
    memo.kube = Kube(load_configuration())
    memo.clients = ClientCache()
    memo.wakeups = {}


@kopf.on.cleanup()
async def close_clients(memo: kopf.Memo, **_: Any) -> None:
    clients: ClientCache | None = getattr(memo, "clients", None)
    if clients is not None:
        await clients.close()
    kube: Kube | None = getattr(memo, "kube", None)
    if kube is not None:
        kube.close()
