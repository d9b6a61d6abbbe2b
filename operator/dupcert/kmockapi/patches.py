"""PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch and JSON patch (RFC 6902)."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer

from dupcert.kmockapi import errors

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
ACCEPTED_PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH]


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply a JSON merge patch: objects merge key by key, ``null`` deletes, the rest replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def apply_patch(
    obj: dict[str, Any], patch: Any, content_type: str, qualified_plural: str, name: str
) -> dict[str, Any]:
    """Return a patched copy of ``obj``, or raise 400, 415 or 422 like the API server.

    NOTE: a strategic merge patch is applied as a JSON merge patch, so lists are replaced
    whole and ``$patch`` directives are not understood.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in (MERGE_PATCH, STRATEGIC_MERGE_PATCH):
        if not isinstance(patch, dict):
            raise errors.bad_request(f"a {media_type} body must be a JSON object")
        patched = merge_patch(obj, patch)
        assert isinstance(patched, dict)
        return patched
    if media_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.bad_request(f"a {media_type} body must be a JSON array of operations")
        try:
            result = jsonpatch.apply_patch(obj, patch, in_place=False)
        except jsonpatch.JsonPatchTestFailed as error:
            # The server returns 422 for a failed "test" operation. Kopf relies on it to
            # detect that the object changed under its patch.
            raise errors.invalid(qualified_plural, name, f"the test failed: {error}") from None
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
            raise errors.invalid(qualified_plural, name, f"the patch failed: {error}") from None
        if not isinstance(result, dict):
            raise errors.invalid(qualified_plural, name, "the patch replaced the whole object")
        return result
    raise errors.unsupported_media_type(content_type, ACCEPTED_PATCH_TYPES)
