"""Resources the emulator serves: the built-in ones dupcert and Kopf use, and those of CRDs."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dupcert.kmockapi import errors

# Verbs listed in discovery for every resource: the ones the emulator implements.
VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceSpec:
    """A served resource: its names and the API server behaviour the emulator applies to it."""

    group: str
    versions: tuple[str, ...]
    plural: str
    kind: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    has_status_subresource: bool = False
    # The server increments metadata.generation when anything but metadata and status changes.
    tracks_generation: bool = False
    # A PUT without metadata.resourceVersion is rejected (422) instead of overwriting blindly.
    requires_resource_version: bool = False
    # openAPIV3Schema by version, used for defaulting and pruning (custom resources only).
    schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def qualified_plural(self) -> str:
        """The name used in API messages: ``secrets`` or ``leases.coordination.k8s.io``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    def discovery_entries(self) -> list[dict[str, Any]]:
        """Return the APIResourceList entries of this resource, as a real server lists them."""
        entries: list[dict[str, Any]] = [
            {
                "name": self.plural,
                "singularName": self.singular,
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": list(VERBS),
                "shortNames": list(self.short_names),
                "categories": list(self.categories),
            }
        ]
        if self.has_status_subresource:
            entries.append(
                {
                    "name": f"{self.plural}/status",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind,
                    "verbs": list(STATUS_VERBS),
                }
            )
        return entries


NAMESPACES = ResourceSpec(
    group="",
    versions=("v1",),
    plural="namespaces",
    kind="Namespace",
    singular="namespace",
    namespaced=False,
    short_names=("ns",),
    has_status_subresource=True,
)
SECRETS = ResourceSpec(
    group="", versions=("v1",), plural="secrets", kind="Secret", singular="secret", namespaced=True
)
CUSTOM_RESOURCE_DEFINITIONS = ResourceSpec(
    group="apiextensions.k8s.io",
    versions=("v1",),
    plural="customresourcedefinitions",
    kind="CustomResourceDefinition",
    singular="customresourcedefinition",
    namespaced=False,
    short_names=("crd", "crds"),
    categories=("api-extensions",),
    has_status_subresource=True,
    tracks_generation=True,
    requires_resource_version=True,
)
BUILTIN_RESOURCES = (
    NAMESPACES,
    SECRETS,
    # Kopf and the operator post core v1 Events. events.k8s.io is served as a separate store for
    # clients that use it, but a real server shows one set of Events through both groups.
    ResourceSpec(
        group="",
        versions=("v1",),
        plural="events",
        kind="Event",
        singular="event",
        namespaced=True,
        short_names=("ev",),
    ),
    ResourceSpec(
        group="events.k8s.io",
        versions=("v1",),
        plural="events",
        kind="Event",
        singular="event",
        namespaced=True,
        short_names=("ev",),
    ),
    ResourceSpec(
        group="coordination.k8s.io",
        versions=("v1",),
        plural="leases",
        kind="Lease",
        singular="lease",
        namespaced=True,
    ),
    CUSTOM_RESOURCE_DEFINITIONS,
)
# Namespaces a fresh cluster has.
INITIAL_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def _require(mapping: Mapping[str, Any], key: str, crd_name: str, path: str) -> Any:
    value = mapping.get(key)
    if value in (None, "", [], {}):
        raise errors.invalid(
            CUSTOM_RESOURCE_DEFINITIONS.qualified_plural, crd_name, f"{path}: Required value"
        )
    return value


def spec_from_crd(crd: Mapping[str, Any]) -> ResourceSpec:
    """Build the served resource of a CustomResourceDefinition; raise 422 when it is unusable."""
    name = str(crd.get("metadata", {}).get("name", ""))
    spec = _require(crd, "spec", name, "spec")
    group = str(_require(spec, "group", name, "spec.group"))
    names = _require(spec, "names", name, "spec.names")
    plural = str(_require(names, "plural", name, "spec.names.plural"))
    kind = str(_require(names, "kind", name, "spec.names.kind"))
    scope = _require(spec, "scope", name, "spec.scope")
    versions = _require(spec, "versions", name, "spec.versions")
    if name != f"{plural}.{group}":
        raise errors.invalid(
            CUSTOM_RESOURCE_DEFINITIONS.qualified_plural,
            name,
            f'metadata.name: Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
        )
    if scope not in ("Namespaced", "Cluster"):
        raise errors.invalid(
            CUSTOM_RESOURCE_DEFINITIONS.qualified_plural,
            name,
            f'spec.scope: Unsupported value: "{scope}": supported values: "Cluster", "Namespaced"',
        )

    served = [version for version in versions if version.get("served", True)]
    # NOTE: every version gets the status subresource when any version has it. A real server
    # decides per version.
    has_status = any("status" in (version.get("subresources") or {}) for version in served)
    schemas = {
        str(version["name"]): (version.get("schema") or {}).get("openAPIV3Schema") or {}
        for version in served
    }
    return ResourceSpec(
        group=group,
        versions=tuple(str(version["name"]) for version in served),
        plural=plural,
        kind=kind,
        singular=str(names.get("singular") or kind.lower()),
        namespaced=scope == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        has_status_subresource=has_status,
        tracks_generation=True,
        requires_resource_version=True,
        schemas=schemas,
    )


def crd_status(
    crd: Mapping[str, Any], old_status: Mapping[str, Any] | None, now: str
) -> dict[str, Any]:
    """Return the status the CRD controllers would set: names accepted and Established."""
    spec = crd["spec"]
    names = dict(spec["names"])
    names.setdefault("singular", str(names["kind"]).lower())
    names.setdefault("listKind", f"{names['kind']}List")
    stored = [version["name"] for version in spec["versions"] if version.get("storage")]
    conditions = (old_status or {}).get("conditions") or [
        {
            "type": "NamesAccepted",
            "status": "True",
            "reason": "NoConflicts",
            "message": "no conflicts found",
            "lastTransitionTime": now,
        },
        {
            "type": "Established",
            "status": "True",
            "reason": "InitialNamesAccepted",
            "message": "the initial names have been accepted",
            "lastTransitionTime": now,
        },
    ]
    old_stored = list((old_status or {}).get("storedVersions") or [])
    return {
        "acceptedNames": names,
        "conditions": copy.deepcopy(conditions),
        "storedVersions": old_stored + [v for v in stored if v not in old_stored],
    }


def apply_schema(value: Any, schema: Mapping[str, Any]) -> Any:
    """Return ``value`` with schema defaults set and unknown fields pruned, as the server stores it.

    Covers ``properties``, ``additionalProperties``, ``items``, ``default`` and
    ``x-kubernetes-preserve-unknown-fields``. Types, formats, enums, patterns, required fields
    and CEL rules are not checked.
    """
    if isinstance(value, dict) and (schema.get("type") == "object" or "properties" in schema):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        keeps_unknown = schema.get("x-kubernetes-preserve-unknown-fields") is True
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key in properties:
                result[key] = apply_schema(item, properties[key])
            elif isinstance(additional, Mapping):
                result[key] = apply_schema(item, additional)
            elif additional is True or keeps_unknown:
                result[key] = item
        for key, property_schema in properties.items():
            if key not in result and "default" in property_schema:
                result[key] = apply_schema(
                    copy.deepcopy(property_schema["default"]), property_schema
                )
        return result
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        return [apply_schema(item, items) for item in value]
    return value


def apply_root_schema(obj: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a CRD's openAPIV3Schema to a whole object, leaving apiVersion, kind and metadata."""
    if not schema:
        return obj
    envelope = {key: obj[key] for key in ("apiVersion", "kind", "metadata") if key in obj}
    body = {key: value for key, value in obj.items() if key not in envelope}
    shaped = apply_schema(body, schema)
    return {**envelope, **shaped}
