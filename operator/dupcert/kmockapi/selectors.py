"""Object selection for list and watch requests: namespace, name, label and field selectors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dupcert.kmockapi import errors

# Commas separate requirements, except inside the parentheses of `in (a, b)`.
_REQUIREMENT_SEPARATOR = re.compile(r",(?![^(]*\))")
_SET_BASED = re.compile(r"(?P<key>[^\s!=(),]+)\s+(?P<operator>in|notin)\s*\((?P<values>[^()]*)\)")
_EQUALITY_BASED = re.compile(
    r"(?P<key>[^\s!=(),]+)\s*(?P<operator>==|=|!=)\s*(?P<value>[^\s!=(),]*)"
)
_EXISTENCE = re.compile(r"(?P<negation>!?)\s*(?P<key>[^\s!=(),]+)")
# Field selectors every resource supports on a real server.
_SELECTABLE_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class Requirement:
    """One selector requirement: ``key``, operator (``=``, ``!=``, ``in``, ``notin``,
    ``exists``, ``!exists``) and the values it compares with."""

    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, values: Mapping[str, str]) -> bool:
        present = self.key in values
        value = values.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values  # "!=" and "notin"


def _parse_requirement(text: str) -> Requirement | None:
    if match := _SET_BASED.fullmatch(text):
        values = frozenset(v.strip() for v in match["values"].split(",") if v.strip())
        return Requirement(match["key"], match["operator"], values)
    if match := _EQUALITY_BASED.fullmatch(text):
        operator = "!=" if match["operator"] == "!=" else "="
        return Requirement(match["key"], operator, frozenset({match["value"]}))
    if match := _EXISTENCE.fullmatch(text):
        return Requirement(match["key"], "!exists" if match["negation"] else "exists")
    return None


def parse_label_selector(selector: str) -> tuple[Requirement, ...]:
    """Parse a label selector such as ``app=web,tier notin (db),!canary``, or raise 400."""
    requirements = []
    for part in _REQUIREMENT_SEPARATOR.split(selector):
        text = part.strip()
        if not text:
            continue
        requirement = _parse_requirement(text)
        if requirement is None:
            raise errors.bad_request(f"unable to parse requirement: {text!r} in labelSelector")
        requirements.append(requirement)
    return tuple(requirements)


def parse_field_selector(selector: str) -> tuple[Requirement, ...]:
    """Parse a field selector on ``metadata.name`` or ``metadata.namespace``, or raise 400."""
    requirements = []
    for part in selector.split(","):
        text = part.strip()
        if not text:
            continue
        match = _EQUALITY_BASED.fullmatch(text)
        if match is None:
            raise errors.bad_request(f"invalid selector: {text!r} in fieldSelector")
        if match["key"] not in _SELECTABLE_FIELDS:
            raise errors.bad_request(
                f'field label not supported: "{match["key"]}". The emulator supports '
                f"{' and '.join(_SELECTABLE_FIELDS)}"
            )
        operator = "!=" if match["operator"] == "!=" else "="
        requirements.append(Requirement(match["key"], operator, frozenset({match["value"]})))
    return tuple(requirements)


@dataclass(frozen=True)
class Selection:
    """The objects a request selects. None selects any namespace or name."""

    namespace: str | None = None
    name: str | None = None
    labels: tuple[Requirement, ...] = ()
    fields: tuple[Requirement, ...] = ()

    @classmethod
    def from_query(
        cls, namespace: str | None, name: str | None, params: Mapping[str, str]
    ) -> Selection:
        return cls(
            namespace=namespace,
            name=name,
            labels=parse_label_selector(params.get("labelSelector", "")),
            fields=parse_field_selector(params.get("fieldSelector", "")),
        )

    def matches(self, obj: Mapping[str, Any]) -> bool:
        metadata = obj.get("metadata") or {}
        if self.namespace is not None and metadata.get("namespace") != self.namespace:
            return False
        if self.name is not None and metadata.get("name") != self.name:
            return False
        labels = metadata.get("labels") or {}
        if not all(requirement.matches(labels) for requirement in self.labels):
            return False
        fields = {
            "metadata.name": metadata.get("name") or "",
            "metadata.namespace": metadata.get("namespace") or "",
        }
        return all(requirement.matches(fields) for requirement in self.fields)
