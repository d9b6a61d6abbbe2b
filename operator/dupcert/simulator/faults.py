"""Injected faults: make matching Services API requests fail or wait."""

from __future__ import annotations

import fnmatch
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SERVICES_PREFIX = "/services/v2"


class FaultRule(BaseModel):
    """A fault that applies to requests whose method and path match.

    `path` is a shell-style glob (`*` also matches `/`). It is matched against the path below
    `/services/v2` (e.g. `/order/certificate/*/duplicate`), or against the full path when it
    starts with `/services/v2`. With `status` unset the request only waits `delay_seconds` and
    then runs normally. `times` limits how many requests the rule applies to; unset means all.
    With `after_processing`, the request is carried out first and the delay and status apply
    to its response: the client sees a slow or failed call whose effect already happened, as
    after a lost response.
    """

    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    path: str = "*"
    status: int | None = Field(default=None, ge=400, le=599)
    code: str = "internal_error"
    message: str = "Injected fault."
    times: int | None = Field(default=None, ge=1)
    delay_seconds: float = Field(default=0.0, ge=0.0, le=600.0)
    body: str | None = None
    content_type: str = "application/json"
    after_processing: bool = False

    @model_validator(mode="after")
    def _check_effect(self) -> Self:
        if self.status is None and self.delay_seconds == 0.0:
            raise ValueError("a fault needs a status, a delay_seconds, or both")
        return self

    def matches(self, method: str, path: str) -> bool:
        """Return True when the rule applies to a request with this method and path."""
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if self.path.startswith(SERVICES_PREFIX):
            return fnmatch.fnmatchcase(path, self.path)
        relative = path[len(SERVICES_PREFIX) :] if path.startswith(SERVICES_PREFIX) else path
        return fnmatch.fnmatchcase(relative, self.path)


class ActiveFault:
    """A fault rule and how many more requests it applies to."""

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.remaining = rule.times

    def take(self, method: str, path: str) -> bool:
        """Consume one use if the rule matches and has uses left."""
        if self.remaining == 0 or not self.rule.matches(method, path):
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True
