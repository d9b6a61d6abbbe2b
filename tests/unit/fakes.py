"""In-memory stand-ins for the Kubernetes API and the CertCentral client."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from dupcert.certcentral.errors import NotFoundError as CertCentralNotFoundError
from dupcert.certcentral.models import DuplicateCertificate, DuplicateCreated
from dupcert.storage.kube import ConflictError


class FakeKube:
    """The Secret calls of ``storage.kube.Kube``, on a dict keyed by (namespace, name)."""

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[str] = []
        # Runs before a create is stored, to simulate another writer racing this one.
        self.before_create: Callable[[str, dict[str, Any]], None] | None = None

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append(f"get {name}")
        secret = self.secrets.get((namespace, name))
        return copy.deepcopy(secret) if secret is not None else None

    async def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body["metadata"]["name"]
        self.calls.append(f"create {name}")
        if self.before_create is not None:
            self.before_create(namespace, body)
        if (namespace, name) in self.secrets:
            raise ConflictError(f"create Secret {namespace}/{name}: HTTP 409 Conflict", 409)
        self.secrets[(namespace, name)] = copy.deepcopy(body)
        return copy.deepcopy(body)

    async def delete_secret(self, namespace: str, name: str) -> None:
        self.calls.append(f"delete {name}")
        self.secrets.pop((namespace, name), None)


class FakeCertCentral:
    """The duplicate calls of ``CertCentralClient``, returning scripted data.

    ``listings`` are returned by successive ``list_duplicates`` calls (the last one repeats).
    ``downloads`` maps certificate ids to PEM chains; a missing id raises NotFoundError.
    """

    def __init__(
        self,
        listings: list[list[DuplicateCertificate]] | None = None,
        created: DuplicateCreated | None = None,
        downloads: dict[int, str] | None = None,
    ) -> None:
        self.listings = listings or [[]]
        self.created = created or DuplicateCreated.model_validate({"id": 1, "requests": []})
        self.downloads = downloads or {}
        self.calls: list[str] = []
        self.list_count = 0
        self.posted: list[dict[str, Any]] = []

    async def list_duplicates(self, order_id: int) -> list[DuplicateCertificate]:
        self.calls.append(f"list {order_id}")
        self.list_count += 1
        index = min(self.list_count, len(self.listings)) - 1
        return list(self.listings[index])

    async def request_duplicate(
        self,
        order_id: int,
        *,
        common_name: str,
        dns_names: list[str],
        csr_pem: str,
        signature_hash: str,
        server_platform_id: int | None = None,
    ) -> DuplicateCreated:
        self.calls.append(f"post {order_id}")
        self.posted.append(
            {
                "order_id": order_id,
                "common_name": common_name,
                "dns_names": dns_names,
                "csr_pem": csr_pem,
                "signature_hash": signature_hash,
                "server_platform_id": server_platform_id,
            }
        )
        return self.created

    async def download_certificate(self, certificate_id: int, fmt: str = "pem_all") -> str:
        self.calls.append(f"download {certificate_id} {fmt}")
        if certificate_id not in self.downloads:
            raise CertCentralNotFoundError(
                f"certificate {certificate_id} not found", status_code=404
            )
        return self.downloads[certificate_id]
