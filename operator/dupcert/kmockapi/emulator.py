"""KubernetesApiEmulator: kmock's KubernetesEmulator with the API server rules dupcert needs.

kmock 0.8 serves discovery and the HTTP side. This subclass parses requests itself, because
kmock 0.8 cannot parse ``/api/v1/namespaces``. It keeps objects in an ``ObjectStore`` that
applies the API server's write rules, and streams watch events with resourceVersions,
bookmarks and timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp.web
import attrs
import kmock

from dupcert.kmockapi import errors
from dupcert.kmockapi.resources import ResourceSpec
from dupcert.kmockapi.selectors import Selection
from dupcert.kmockapi.store import ObjectStore, present

logger = logging.getLogger(__name__)

_TRUE = ("true", "1")
# Subresources of a Namespace object, which share the URL shape of /namespaces/{ns}/{plural}.
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class ApiPath:
    """The parts of an API URL. ``version`` is None for ``/apis/{group}``."""

    group: str
    version: str | None
    plural: str | None
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_api_path(path: str) -> ApiPath | None:
    """Split an ``/api/...`` or ``/apis/...`` path, or return None for other paths."""
    parts = [part for part in path.split("/") if part]
    version: str | None
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 2 and parts[0] == "apis":
        group, version, rest = parts[1], (parts[2] if len(parts) >= 3 else None), parts[3:]
    else:
        return None

    namespace = None
    is_namespace_subresource = group == "" and len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES
    if len(rest) >= 3 and rest[0] == "namespaces" and not is_namespace_subresource:
        namespace, rest = rest[1], rest[2:]
    return ApiPath(
        group=group,
        version=version,
        plural=rest[0] if rest else None,
        namespace=namespace,
        name=rest[1] if len(rest) >= 2 else None,
        subresource="/".join(rest[2:]) or None,
    )


def _guess_action(
    method: str, path: ApiPath | None, params: Mapping[str, str]
) -> kmock.action | None:
    if path is None:
        return None
    method = method.upper()
    if method == "GET" and params.get("watch") in _TRUE:
        return kmock.action.WATCH
    if path.name is None:
        return {"GET": kmock.action.LIST, "POST": kmock.action.CREATE}.get(method)
    return {
        "GET": kmock.action.FETCH,
        "PATCH": kmock.action.UPDATE,
        "DELETE": kmock.action.DELETE,
    }.get(method)


async def _parse_request(raw_request: aiohttp.web.BaseRequest) -> kmock.Request:
    body = await raw_request.read()
    data: Any = None
    if body:
        with contextlib.suppress(ValueError):
            data = json.loads(body)  # The handlers reject bodies that are not JSON.
    path = parse_api_path(raw_request.path)
    params = dict(raw_request.query)
    return kmock.Request(
        method=raw_request.method,
        url=raw_request.url,
        params=params,
        headers=raw_request.headers,
        cookies=dict(raw_request.cookies),
        body=body,
        text=body.decode("utf-8", errors="replace"),
        data=data,
        action=_guess_action(raw_request.method, path, params),
        resource=None
        if path is None
        else kmock.resource(group=path.group, version=path.version, plural=path.plural),
        namespace=None if path is None else path.namespace,
        name=None if path is None else path.name,
        subresource=None if path is None else path.subresource,
        raw_request=raw_request,
    )


def _parse_timeout(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise errors.bad_request(f"invalid timeoutSeconds {value!r}: not a number") from None
    return seconds if seconds > 0 else None


@attrs.define(kw_only=True)
class KubernetesApiEmulator(kmock.KubernetesEmulator):
    """An in-memory Kubernetes API server for one event loop.

    Reactions a test adds with ``emulator[...] << ...`` take precedence over the handlers here,
    which take precedence over kmock's own fallback handlers.
    """

    # Seconds between BOOKMARK events on watches that allow them. Kopf reconnects a watch that
    # is quiet for 70 s (settings.watching.inactivity_timeout in Kopf 1.45).
    bookmark_interval: float = 30.0
    # Watch events kept for watches that resume from a resourceVersion. A watch from an older
    # resourceVersion gets 410 Expired.
    event_history: int = 10_000
    _store: ObjectStore = attrs.field(init=False)
    _stopping: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._store = ObjectStore(self.event_history)
        handlers = self.fallback**1
        handlers[kmock.action.FETCH] << self._serve_object
        handlers[kmock.action.LIST] << self._serve_list
        handlers[kmock.action.WATCH] << self._serve_watch_events
        handlers[kmock.action.CREATE] << self._create_object
        handlers[kmock.method.PUT] << self._replace_object
        handlers[kmock.action.UPDATE] << self._patch_object
        handlers[kmock.action.DELETE] << self._delete_object

    @property
    def store(self) -> ObjectStore:
        """The objects, for use from the emulator's event loop only."""
        return self._store

    def stop_watches(self) -> None:
        """End every watch stream, so that the HTTP server can shut down at once."""
        self._stopping = True
        self._store.changed.set()

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        try:
            request = await _parse_request(raw_request)
            # kmock matches reactions by looking the request up in its list of requests. The
            # list contains each request only while it is served, because matching scans the
            # whole list and a growing history would slow every request of a long run.
            self._requests.append(request)
            try:
                return await self._handle(request)
            finally:
                self._requests.remove(request)
        except errors.ApiError as error:
            logger.debug(
                "%s %s: %s %s", raw_request.method, raw_request.path, error.code, error.reason
            )
            return aiohttp.web.json_response(error.to_status(), status=error.code)
        except kmock.KubernetesError as error:  # From kmock's discovery or a test's reaction.
            return await self._render_error(error)
        except Exception as error:
            logger.exception("Failed to serve %s %s", raw_request.method, raw_request.path)
            return await self._render_error(error)

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        # KubernetesEmulator._handle writes to kmock's own object store before routing. The
        # objects live in ObjectStore here, so route the request directly.
        return await kmock.RawHandler._handle(self, request)

    # Discovery

    def _get_resources(self) -> list[kmock.resource]:
        return [
            kmock.resource(group=spec.group, version=version, plural=spec.plural)
            for spec in self._store.specs()
            for version in spec.versions
        ]

    async def _serve_version(self, request: kmock.Request) -> kmock.Payload:
        assert request.resource is not None  # Routed here for /api/{v} and /apis/{g}/{v} only.
        group, version = request.resource.group, request.resource.version
        specs = [s for s in self._store.specs() if s.group == group and version in s.versions]
        if not specs:
            raise errors.resource_not_found()
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": [entry for spec in specs for entry in spec.discovery_entries()],
        }

    # Objects

    def _locate(self, request: kmock.Request) -> tuple[ResourceSpec, str]:
        resource = request.resource
        if resource is None or not resource.plural or not resource.version:
            raise errors.resource_not_found()
        spec = self._store.resolve(resource.group or "", resource.version, resource.plural)
        if request.namespace is not None and not spec.namespaced:
            raise errors.resource_not_found()
        return spec, resource.version

    def _locate_object(self, request: kmock.Request) -> tuple[ResourceSpec, str, str]:
        """Return the resource, version and name of a request on one object."""
        spec, version = self._locate(request)
        if request.name is None:
            raise errors.method_not_allowed()
        if spec.namespaced and request.namespace is None:
            raise errors.resource_not_found()
        subresource = request.subresource
        if subresource is not None and not (
            subresource == "status" and spec.has_status_subresource
        ):
            raise errors.resource_not_found()
        return spec, version, request.name

    async def _serve_object(self, request: kmock.Request) -> kmock.Payload:
        spec, version, name = self._locate_object(request)
        return present(self._store.get(spec, request.namespace, name), spec, version)

    async def _serve_list(self, request: kmock.Request) -> kmock.Payload:
        if request.resource is not None and request.resource.plural is None:
            # /apis/{group} and /apis/{group}/{version} parse as lists without a plural.
            if request.resource.version is None:
                return await self._serve_group(request)
            return await self._serve_version(request)
        spec, version = self._locate(request)
        selection = Selection.from_query(request.namespace, None, request.params)
        return {
            "kind": f"{spec.kind}List",
            "apiVersion": spec.api_version(version),
            "metadata": {"resourceVersion": str(self._store.resource_version)},
            "items": [
                present(obj, spec, version) for obj in self._store.list_objects(spec, selection)
            ],
        }

    async def _create_object(self, request: kmock.Request) -> kmock.Payload:
        spec, version = self._locate(request)
        if spec.namespaced and request.namespace is None:
            raise errors.method_not_allowed()
        obj = self._store.create(spec, version, request.namespace, request.data)
        # kmock 0.8 exports Response at runtime but leaves it out of __all__.
        return kmock.Response(status=201, payload=obj)  # type: ignore[attr-defined]

    async def _replace_object(self, request: kmock.Request) -> kmock.Payload:
        spec, version, name = self._locate_object(request)
        return self._store.replace(
            spec, version, request.namespace, name, request.data, request.subresource
        )

    async def _patch_object(self, request: kmock.Request) -> kmock.Payload:
        spec, version, name = self._locate_object(request)
        content_type = request.headers.get("Content-Type", "")
        return self._store.patch(
            spec, version, request.namespace, name, request.data, content_type, request.subresource
        )

    async def _delete_object(self, request: kmock.Request) -> kmock.Payload:
        spec, version, name = self._locate_object(request)
        obj, removed = self._store.delete(spec, request.namespace, name, request.data)
        if not removed:
            return present(obj, spec, version)  # Finalizers keep it, marked for deletion.
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": spec.group,
                "kind": spec.plural,
                "uid": obj["metadata"]["uid"],
            },
        }

    # Watches

    async def _serve_watch_events(self, request: kmock.Request) -> kmock.Payload:
        """Validate a watch request and return its event stream."""
        spec, version = self._locate(request)
        params = request.params
        selection = Selection.from_query(request.namespace, request.name, params)
        timeout = _parse_timeout(params.get("timeoutSeconds"))
        sends_initial_events = params.get("sendInitialEvents") in _TRUE
        since_text = params.get("resourceVersion", "")

        # Without a resourceVersion (or with "0") a watch starts with the current objects as
        # ADDED events. The snapshot and its resourceVersion come from one synchronous read.
        initial: list[dict[str, Any]] = []
        if since_text in ("", "0") or sends_initial_events:
            initial = self._store.list_objects(spec, selection)
            since = self._store.resource_version
        else:
            try:
                since = int(since_text)
            except ValueError:
                raise errors.bad_request(f"invalid resourceVersion {since_text!r}") from None
        return self._stream_events(
            spec,
            version,
            selection,
            since=since,
            initial=initial,
            stream_seconds=timeout,
            sends_bookmarks=params.get("allowWatchBookmarks") in _TRUE,
            ends_initial_events=sends_initial_events,
        )

    async def _stream_events(
        self,
        spec: ResourceSpec,
        version: str,
        selection: Selection,
        *,
        since: int,
        initial: list[dict[str, Any]],
        stream_seconds: float | None,
        sends_bookmarks: bool,
        ends_initial_events: bool,
    ) -> AsyncIterator[kmock.Payload]:
        loop = asyncio.get_running_loop()
        deadline = None if stream_seconds is None else loop.time() + stream_seconds
        next_bookmark = loop.time() + self.bookmark_interval

        # An empty chunk sends the response headers now. Without it a quiet watch would keep
        # the client waiting for them.
        yield b""
        for obj in initial:
            yield {"type": "ADDED", "object": present(obj, spec, version)}
        if ends_initial_events:
            yield self._bookmark(spec, version, since, ends_initial_events=True)

        last_seen = since
        try:
            while not self._stopping:
                changed = self._store.changed  # Taken before reading, so no write is missed.
                events = self._store.events_after(last_seen)
                if events is None:
                    error = errors.expired(last_seen, self._store.oldest_resumable)
                    yield {"type": "ERROR", "object": error.to_status()}
                    return
                for event in events:
                    last_seen = event.resource_version
                    if (event.group, event.plural) != (spec.group, spec.plural):
                        continue
                    if selection.matches(event.object):
                        yield {"type": event.type, "object": present(event.object, spec, version)}

                now = loop.time()
                if deadline is not None and now >= deadline:
                    return
                if sends_bookmarks and now >= next_bookmark:
                    yield self._bookmark(spec, version, last_seen)
                    next_bookmark = now + self.bookmark_interval
                wake_times = [
                    t for t in (deadline, next_bookmark if sends_bookmarks else None) if t
                ]
                wait = max(0.0, min(wake_times) - now) if wake_times else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=wait)
        except Exception:
            # The headers are sent, so the error goes into the stream as the server does.
            logger.exception("Watch of %s failed", spec.qualified_plural)
            error = errors.ApiError(500, "InternalError", "the watch failed in the emulator")
            yield {"type": "ERROR", "object": error.to_status()}

    @staticmethod
    def _bookmark(
        spec: ResourceSpec, version: str, resource_version: int, ends_initial_events: bool = False
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {"resourceVersion": str(resource_version)}
        if ends_initial_events:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {
            "type": "BOOKMARK",
            "object": {
                "kind": spec.kind,
                "apiVersion": spec.api_version(version),
                "metadata": metadata,
            },
        }
