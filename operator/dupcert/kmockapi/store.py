"""The emulator's objects and the rules the API server applies on each write.

All methods are synchronous and run on the emulator's event loop, so each write is atomic.
Writes never change a stored object in place. Each write stores a new dict, so list
responses and watch events can share the stored dicts without copying them.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import secrets
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dupcert.kmockapi import errors
from dupcert.kmockapi.patches import apply_patch
from dupcert.kmockapi.resources import (
    BUILTIN_RESOURCES,
    CUSTOM_RESOURCE_DEFINITIONS,
    INITIAL_NAMESPACES,
    NAMESPACES,
    SECRETS,
    ResourceSpec,
    apply_root_schema,
    crd_status,
    spec_from_crd,
)
from dupcert.kmockapi.selectors import Selection

# group, plural, namespace (None for cluster-scoped objects), name
ObjectKey = tuple[str, str, str | None, str]

# Metadata that only the server sets. Writes cannot change it.
_SERVER_MANAGED_METADATA = (
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "generation",
    "resourceVersion",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
# Characters the API server appends to metadata.generateName.
_GENERATED_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class WatchEvent:
    """A change as a watch reports it: ADDED, MODIFIED or DELETED, with the new state."""

    resource_version: int
    group: str
    plural: str
    type: str
    object: dict[str, Any]


def present(obj: dict[str, Any], spec: ResourceSpec, version: str) -> dict[str, Any]:
    """Return the object as read through ``version`` of its resource (no conversion)."""
    api_version = spec.api_version(version)
    return obj if obj.get("apiVersion") == api_version else {**obj, "apiVersion": api_version}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _generation_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Return the fields whose change increments metadata.generation."""
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}


def _normalize_secret(obj: dict[str, Any]) -> None:
    """Merge ``stringData`` into ``data`` and default ``type``, as the API server does."""
    string_data = obj.pop("stringData", None) or {}
    if string_data:
        data = dict(obj.get("data") or {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data
    if not obj.get("type"):
        obj["type"] = "Opaque"


class ObjectStore:
    """Objects by resource, namespace and name, with resourceVersions and a watch event log."""

    def __init__(self, event_history: int = 10_000) -> None:
        self._specs: dict[tuple[str, str], ResourceSpec] = {
            (spec.group, spec.plural): spec for spec in BUILTIN_RESOURCES
        }
        self._objects: dict[ObjectKey, dict[str, Any]] = {}
        self._resource_version = 0
        self._events: deque[WatchEvent] = deque()
        self._event_history = event_history
        # A watch can resume from this resourceVersion or a newer one. Older events are gone.
        self._oldest_resumable = 0
        self._changed = asyncio.Event()
        for name in INITIAL_NAMESPACES:
            self.create(NAMESPACES, "v1", None, {"metadata": {"name": name}})

    @property
    def resource_version(self) -> int:
        """The resourceVersion of the latest write."""
        return self._resource_version

    @property
    def oldest_resumable(self) -> int:
        return self._oldest_resumable

    @property
    def changed(self) -> asyncio.Event:
        """An Event set by the next write. Take it before reading, then wait on it."""
        return self._changed

    def specs(self) -> list[ResourceSpec]:
        return list(self._specs.values())

    def resolve(self, group: str, version: str, plural: str) -> ResourceSpec:
        """Return the served resource; raise 404 for an unknown resource or version."""
        spec = self._specs.get((group, plural))
        if spec is None or version not in spec.versions:
            raise errors.resource_not_found()
        return spec

    def get(self, spec: ResourceSpec, namespace: str | None, name: str) -> dict[str, Any]:
        return self._existing(spec, (spec.group, spec.plural, namespace, name))

    def list_objects(self, spec: ResourceSpec, selection: Selection) -> list[dict[str, Any]]:
        """Return the selected objects, sorted by namespace and name like the API server."""
        items = [
            obj
            for (group, plural, _, _), obj in self._objects.items()
            if (group, plural) == (spec.group, spec.plural) and selection.matches(obj)
        ]
        items.sort(
            key=lambda obj: (obj["metadata"].get("namespace") or "", obj["metadata"]["name"])
        )
        return items

    def events_after(self, resource_version: int) -> list[WatchEvent] | None:
        """Return the events newer than ``resource_version``, or None when some are gone."""
        if resource_version < self._oldest_resumable:
            return None
        newer = []
        for event in reversed(self._events):
            if event.resource_version <= resource_version:
                break
            newer.append(event)
        newer.reverse()
        return newer

    # Writes

    def create(
        self, spec: ResourceSpec, version: str, namespace: str | None, body: Any
    ) -> dict[str, Any]:
        """Create an object; raise 409 if it exists and 404 if its namespace does not."""
        obj = self._new_body(body)
        metadata = obj["metadata"]
        if spec.namespaced:
            assert namespace is not None  # The emulator rejects namespaced creates without one.
            if metadata.get("namespace") not in (None, "", namespace):
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent"
                    " on the request"
                )
            metadata["namespace"] = namespace
            self._require_namespace(namespace)
        else:
            metadata.pop("namespace", None)
        if metadata.get("resourceVersion"):
            raise errors.ApiError(
                500, "InternalError", "resourceVersion should not be set on objects to be created"
            )

        name = metadata.get("name") or self._generate_name(spec, namespace, metadata)
        metadata["name"] = name
        key = (spec.group, spec.plural, namespace, name)
        if key in self._objects:
            raise errors.already_exists(spec.qualified_plural, name)
        for field in ("deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            metadata.pop(field, None)
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = _now()
        if spec.tracks_generation:
            metadata["generation"] = 1
        if spec.has_status_subresource:
            obj.pop("status", None)

        obj = self._normalize(spec, version, obj, old=None)
        obj["metadata"]["resourceVersion"] = self._next_resource_version()
        self._objects[key] = obj
        self._record("ADDED", spec, obj)
        if spec is CUSTOM_RESOURCE_DEFINITIONS:
            self._register(obj)
        return obj

    def replace(
        self,
        spec: ResourceSpec,
        version: str,
        namespace: str | None,
        name: str,
        body: Any,
        subresource: str | None,
    ) -> dict[str, Any]:
        """Replace an object (PUT). A stale metadata.resourceVersion raises 409."""
        key = (spec.group, spec.plural, namespace, name)
        old = self._existing(spec, key)
        new = self._new_body(body)
        metadata = new["metadata"]
        if metadata.get("name") not in (None, name):
            raise errors.bad_request(
                f"the name of the object ({metadata['name']}) does not match the name on the URL"
                f" ({name})"
            )
        if spec.namespaced and metadata.get("namespace") not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the"
                " request"
            )
        self._check_resource_version(
            spec, old, metadata.get("resourceVersion"), required=spec.requires_resource_version
        )
        if subresource == "status":
            new = self._with_status(old, new)
        elif spec.has_status_subresource:
            new = self._with_status(new, old)
        return self._update(spec, version, key, old, new)

    def patch(
        self,
        spec: ResourceSpec,
        version: str,
        namespace: str | None,
        name: str,
        patch: Any,
        content_type: str,
        subresource: str | None,
    ) -> dict[str, Any]:
        """Patch an object.

        A patch through the status subresource changes only the status. A patch of the object
        itself leaves the status alone when the resource has the status subresource.
        """
        key = (spec.group, spec.plural, namespace, name)
        old = self._existing(spec, key)
        if isinstance(patch, dict) and isinstance(patch.get("metadata"), dict):
            self._check_resource_version(
                spec, old, patch["metadata"].get("resourceVersion"), required=False
            )
        patched = apply_patch(old, patch, content_type, spec.qualified_plural, name)
        if subresource == "status":
            new = self._with_status(old, patched)
        elif spec.has_status_subresource:
            new = self._with_status(patched, old)
        else:
            new = copy.deepcopy(patched)
        return self._update(spec, version, key, old, new)

    def delete(
        self, spec: ResourceSpec, namespace: str | None, name: str, options: Any
    ) -> tuple[dict[str, Any], bool]:
        """Delete an object, or mark it for deletion while it has finalizers.

        Return the last state and whether the object is gone.
        """
        key = (spec.group, spec.plural, namespace, name)
        old = self._existing(spec, key)
        preconditions = (options or {}).get("preconditions") if isinstance(options, dict) else None
        if preconditions:
            metadata = old["metadata"]
            uid = preconditions.get("uid")
            if uid and uid != metadata["uid"]:
                raise errors.conflict(
                    spec.qualified_plural,
                    name,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta:"
                    f" {metadata['uid']}",
                )
            resource_version = preconditions.get("resourceVersion")
            if resource_version and resource_version != metadata["resourceVersion"]:
                raise errors.conflict(
                    spec.qualified_plural,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: {resource_version},"
                    f" ResourceVersion in object meta: {metadata['resourceVersion']}",
                )
        return self._delete_object(spec, key, old)

    def apply(
        self, spec: ResourceSpec, version: str, namespace: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Create the object, or replace the existing one with it."""
        name = body.get("metadata", {}).get("name")
        existing = self._objects.get((spec.group, spec.plural, namespace, str(name)))
        if existing is None:
            return self.create(spec, version, namespace, body)
        body = copy.deepcopy(body)
        body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
        return self.replace(spec, version, namespace, str(name), body, None)

    # Helpers

    def _next_resource_version(self) -> str:
        self._resource_version += 1
        return str(self._resource_version)

    def _record(self, event_type: str, spec: ResourceSpec, obj: dict[str, Any]) -> None:
        resource_version = int(obj["metadata"]["resourceVersion"])
        self._events.append(WatchEvent(resource_version, spec.group, spec.plural, event_type, obj))
        while len(self._events) > self._event_history:
            self._oldest_resumable = self._events.popleft().resource_version
        self._changed.set()
        self._changed = asyncio.Event()

    def _existing(self, spec: ResourceSpec, key: ObjectKey) -> dict[str, Any]:
        obj = self._objects.get(key)
        if obj is None:
            raise errors.not_found(spec.qualified_plural, key[3])
        return obj

    def _new_body(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be a JSON object")
        obj = copy.deepcopy(body)
        if not isinstance(obj.setdefault("metadata", {}), dict):
            raise errors.bad_request("metadata must be a JSON object")
        return obj

    def _require_namespace(self, namespace: str) -> None:
        obj = self._objects.get(("", "namespaces", None, namespace))
        if obj is None:
            raise errors.not_found(NAMESPACES.qualified_plural, namespace)
        if obj["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(
                403,
                "Forbidden",
                f"unable to create new content in namespace {namespace} because it is being"
                " terminated",
            )

    def _generate_name(
        self, spec: ResourceSpec, namespace: str | None, metadata: dict[str, Any]
    ) -> str:
        prefix = metadata.get("generateName")
        if not prefix:
            raise errors.invalid(
                spec.qualified_plural,
                None,
                "metadata.name: Required value: name or generateName is required",
            )
        while True:
            suffix = "".join(secrets.choice(_GENERATED_NAME_ALPHABET) for _ in range(5))
            if (spec.group, spec.plural, namespace, prefix + suffix) not in self._objects:
                return str(prefix + suffix)

    def _check_resource_version(
        self, spec: ResourceSpec, old: dict[str, Any], resource_version: Any, *, required: bool
    ) -> None:
        name = old["metadata"]["name"]
        if resource_version in (None, ""):
            if required:
                raise errors.invalid(
                    spec.qualified_plural,
                    name,
                    "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
                )
            return
        if str(resource_version) != old["metadata"]["resourceVersion"]:
            raise errors.stale_resource_version(spec.qualified_plural, name)

    @staticmethod
    def _with_status(base: dict[str, Any], status_source: dict[str, Any]) -> dict[str, Any]:
        """Return a copy of ``base`` with the status of ``status_source``."""
        result = copy.deepcopy(base)
        if "status" in status_source:
            result["status"] = copy.deepcopy(status_source["status"])
        else:
            result.pop("status", None)
        return result

    def _normalize(
        self,
        spec: ResourceSpec,
        version: str,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Apply what the server adds or removes on every write of the resource."""
        obj["apiVersion"] = spec.api_version(version)
        obj["kind"] = spec.kind
        if spec.schemas:
            obj = apply_root_schema(obj, spec.schemas.get(version) or {})
        if spec is SECRETS:
            _normalize_secret(obj)
        elif spec is NAMESPACES:
            obj.setdefault("status", {"phase": "Active"})
        elif spec is CUSTOM_RESOURCE_DEFINITIONS:
            spec_from_crd(obj)  # Raises 422 before an unusable CRD is stored.
            obj["status"] = crd_status(obj, (old or {}).get("status"), _now())
        return obj

    def _update(
        self,
        spec: ResourceSpec,
        version: str,
        key: ObjectKey,
        old: dict[str, Any],
        new: dict[str, Any],
    ) -> dict[str, Any]:
        """Store ``new`` in place of ``old`` with the server-managed metadata of ``old``."""
        if not isinstance(new.get("metadata"), dict):
            new["metadata"] = {}
        metadata = new["metadata"]
        old_metadata = old["metadata"]
        for field in _SERVER_MANAGED_METADATA:
            if field in old_metadata:
                metadata[field] = old_metadata[field]
            else:
                metadata.pop(field, None)
        new = self._normalize(spec, version, new, old)
        metadata = new["metadata"]

        if old_metadata.get("deletionTimestamp"):
            added = set(metadata.get("finalizers") or []) - set(
                old_metadata.get("finalizers") or []
            )
            if added:
                raise errors.invalid(
                    spec.qualified_plural,
                    key[3],
                    "metadata.finalizers: Forbidden: no new finalizers can be added if the object"
                    " is being deleted",
                )
        if spec.tracks_generation and _generation_fields(new) != _generation_fields(old):
            metadata["generation"] = int(old_metadata.get("generation") or 0) + 1
        if new == old:
            return old  # A no-op write keeps the resourceVersion and sends no event.
        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            return self._remove(spec, key, new)

        metadata["resourceVersion"] = self._next_resource_version()
        self._objects[key] = new
        self._record("MODIFIED", spec, new)
        if spec is CUSTOM_RESOURCE_DEFINITIONS:
            self._register(new)
        return new

    def _delete_object(
        self, spec: ResourceSpec, key: ObjectKey, old: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        metadata = old["metadata"]
        if not metadata.get("finalizers"):
            return self._remove(spec, key, old), True
        if metadata.get("deletionTimestamp"):
            return old, False
        new = copy.deepcopy(old)
        new["metadata"]["deletionTimestamp"] = _now()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        new["metadata"]["resourceVersion"] = self._next_resource_version()
        self._objects[key] = new
        self._record("MODIFIED", spec, new)
        return new, False

    def _remove(self, spec: ResourceSpec, key: ObjectKey, obj: dict[str, Any]) -> dict[str, Any]:
        del self._objects[key]
        final = copy.deepcopy(obj)
        final["metadata"]["resourceVersion"] = self._next_resource_version()
        self._record("DELETED", spec, final)
        if spec is NAMESPACES:
            self._delete_namespace_contents(key[3])
        elif spec is CUSTOM_RESOURCE_DEFINITIONS:
            self._unregister(final)
        return final

    def _delete_namespace_contents(self, namespace: str) -> None:
        """Delete the objects in the namespace, as the namespace controller does after a delete."""
        for key, obj in list(self._objects.items()):
            spec = self._specs.get((key[0], key[1]))
            if key[2] == namespace and spec is not None:
                self._delete_object(spec, key, obj)

    def _register(self, crd: dict[str, Any]) -> None:
        spec = spec_from_crd(crd)
        self._specs[(spec.group, spec.plural)] = spec

    def _unregister(self, crd: dict[str, Any]) -> None:
        """Stop serving a CRD's resource and drop its objects.

        NOTE: the objects go at once, even those with finalizers. A real server deletes them one
        by one and waits for their finalizers.
        """
        spec = spec_from_crd(crd)
        self._specs.pop((spec.group, spec.plural), None)
        for key in [k for k in self._objects if (k[0], k[1]) == (spec.group, spec.plural)]:
            obj = self._objects.pop(key)
            final = copy.deepcopy(obj)
            final["metadata"]["resourceVersion"] = self._next_resource_version()
            self._record("DELETED", spec, final)
