"""An in-process Kubernetes API emulator for fast tests and the demo, built on kmock 0.8.

``KmockKubernetes`` serves it on 127.0.0.1 over plain HTTP without authentication. A
kubeconfig from ``write_kubeconfig()`` lets Kopf, the ``kubernetes`` client and the operator
process use it.

What it does, like the API server:

- Serves Namespaces, Secrets, core v1 and events.k8s.io Events, coordination.k8s.io Leases
  and CustomResourceDefinitions, plus the resources of every CRD it stores (from
  ``apply_crds()`` or a create through the API). Discovery lists each with its kind, scope,
  verbs and ``status`` subresource.
- Assigns ``uid``, ``creationTimestamp`` and a ``resourceVersion`` from one cluster-wide
  counter. It increments ``generation`` of custom resources and CRDs when anything but
  metadata and status changes. A write that changes nothing keeps the resourceVersion and
  sends no event.
- Returns 409 on a create of an existing object and on a write with a stale
  ``metadata.resourceVersion``; 422 on a PUT of a custom resource without one; 404 on a
  create in a missing Namespace.
- PATCH takes JSON merge patch, strategic merge patch (applied as a merge patch) and JSON
  patch, with 422 when a JSON patch ``test`` fails. PUT and PATCH on ``/status`` change only
  the status; on the object itself they leave the status alone when the resource has the
  status subresource.
- Deletes honour finalizers through ``deletionTimestamp``; removing the last finalizer
  deletes the object. Deleting a Namespace deletes its objects at once.
- Applies a CRD's schema defaults and prunes unknown fields; merges Secret ``stringData``.
- List and watch filter by namespace, name, label selector and the ``metadata.name`` and
  ``metadata.namespace`` field selectors. Watches resume from a resourceVersion (410 when the
  event history no longer reaches back), send BOOKMARK events and honour ``timeoutSeconds``
  and ``sendInitialEvents``.

What it does not do:

- No authentication, authorization or RBAC; no admission, no OpenAPI validation of types,
  enums, patterns or required fields, and no CEL (``x-kubernetes-validations``) rules.
- No server-side apply, dry run, ``deletecollection``, list pagination (``limit`` returns
  everything), garbage collection through ownerReferences, or conversion between versions
  of a CRD.
- No ``managedFields``, no Namespace ``Terminating`` phase, no controllers: a Namespace is
  deleted at once and Events never expire. Core v1 and events.k8s.io Events are separate
  stores.
- Every object lives in memory and is lost when the emulator stops.
"""

from dupcert.kmockapi.emulator import KubernetesApiEmulator
from dupcert.kmockapi.server import KmockKubernetes

__all__ = ["KmockKubernetes", "KubernetesApiEmulator"]
