"""Thin async wrapper over the ``kubernetes`` client; converts its exceptions in one place.

The ``kubernetes`` client is synchronous, so every call runs in a worker thread and the
operator's event loop never blocks on the API server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes
from kubernetes.client.exceptions import ApiException

from dupcert.resources import GROUP, VERSION

T = TypeVar("T")


class KubeError(Exception):
    """A Kubernetes API call failed."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFoundError(KubeError):
    """The object does not exist (HTTP 404)."""


class ConflictError(KubeError):
    """The object changed or already exists (HTTP 409)."""


def _status_message(error: ApiException) -> str | None:
    """Return the message of a 422 Status body, which names the invalid field."""
    try:
        body = json.loads(error.body or "")
    except (TypeError, ValueError):
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:300] if message else None


def _convert(error: ApiException, what: str) -> KubeError:
    status = int(error.status) if error.status else None
    # Only a 422's Status message is kept: it names the field. Other bodies may echo the
    # object, including Secret data.
    message = f"{what}: HTTP {status} {error.reason}"
    detail = _status_message(error) if status == 422 else None
    if detail:
        message = f"{message}: {detail}"
    if status == 404:
        return NotFoundError(message, status)
    if status == 409:
        return ConflictError(message, status)
    return KubeError(message, status)


def load_configuration(kubeconfig: str | None = None) -> kubernetes.client.Configuration:
    """Load the in-cluster configuration, or a kubeconfig (``KUBECONFIG`` or the given path)."""
    configuration = kubernetes.client.Configuration()
    # The kubernetes package reads KUBECONFIG only at import time; read it now.
    kubeconfig = kubeconfig or os.environ.get("KUBECONFIG") or None
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    else:
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=configuration
        )
    return configuration


class Kube:
    """The few API calls the operator makes, as async methods returning plain dicts."""

    def __init__(self, configuration: kubernetes.client.Configuration) -> None:
        self._api_client = kubernetes.client.ApiClient(configuration)
        self._core = kubernetes.client.CoreV1Api(self._api_client)
        self._custom = kubernetes.client.CustomObjectsApi(self._api_client)
        self._coordination = kubernetes.client.CoordinationV1Api(self._api_client)

    def close(self) -> None:
        self._api_client.close()  # type: ignore[no-untyped-call]

    async def _call(self, what: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except ApiException as error:
            raise _convert(error, what) from None

    def _to_dict(self, obj: object) -> dict[str, Any]:
        result = self._api_client.sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
        assert isinstance(result, dict)
        return result

    # Secrets

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            secret = await self._call(
                f"read Secret {namespace}/{name}",
                self._core.read_namespaced_secret,
                name,
                namespace,
            )
        except NotFoundError:
            return None
        return self._to_dict(secret)

    async def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        secret = await self._call(
            f"create Secret {namespace}/{name}",
            self._core.create_namespaced_secret,
            namespace,
            body,
        )
        return self._to_dict(secret)

    async def replace_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace a Secret; ``metadata.resourceVersion`` in the body makes it conditional."""
        name = body["metadata"]["name"]
        secret = await self._call(
            f"replace Secret {namespace}/{name}",
            self._core.replace_namespaced_secret,
            name,
            namespace,
            body,
        )
        return self._to_dict(secret)

    async def delete_secret(self, namespace: str, name: str) -> None:
        with contextlib.suppress(NotFoundError):
            await self._call(
                f"delete Secret {namespace}/{name}",
                self._core.delete_namespaced_secret,
                name,
                namespace,
            )

    # Custom resources

    async def get_custom(self, plural: str, namespace: str | None, name: str) -> dict[str, Any]:
        if namespace is None:
            result = await self._call(
                f"read {plural}/{name}",
                self._custom.get_cluster_custom_object,
                GROUP,
                VERSION,
                plural,
                name,
            )
        else:
            result = await self._call(
                f"read {plural} {namespace}/{name}",
                self._custom.get_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                plural,
                name,
            )
        assert isinstance(result, dict)
        return result

    async def list_custom(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        result = await self._call(
            f"list {plural} in {namespace}",
            self._custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            plural,
        )
        assert isinstance(result, dict)
        return list(result.get("items") or [])

    async def patch_status(
        self, plural: str, namespace: str | None, name: str, status: dict[str, Any]
    ) -> dict[str, Any]:
        """Merge-patch the status subresource; a key set to None is removed."""
        body = {"status": status}
        if namespace is None:
            result = await self._call(
                f"patch status of {plural}/{name}",
                self._custom.patch_cluster_custom_object_status,
                GROUP,
                VERSION,
                plural,
                name,
                body,
            )
        else:
            result = await self._call(
                f"patch status of {plural} {namespace}/{name}",
                self._custom.patch_namespaced_custom_object_status,
                GROUP,
                VERSION,
                namespace,
                plural,
                name,
                body,
            )
        assert isinstance(result, dict)
        return result

    # Leases

    async def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            lease = await self._call(
                f"read Lease {namespace}/{name}",
                self._coordination.read_namespaced_lease,
                name,
                namespace,
            )
        except NotFoundError:
            return None
        return self._to_dict(lease)

    async def create_lease(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        lease = await self._call(
            f"create Lease {namespace}/{name}",
            self._coordination.create_namespaced_lease,
            namespace,
            body,
        )
        return self._to_dict(lease)

    async def replace_lease(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        lease = await self._call(
            f"replace Lease {namespace}/{name}",
            self._coordination.replace_namespaced_lease,
            name,
            namespace,
            body,
        )
        return self._to_dict(lease)
