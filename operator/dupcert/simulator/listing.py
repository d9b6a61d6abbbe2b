"""Query handling of the list endpoints: `filters[...]`, `sort`, `offset` and `limit`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from dupcert.simulator.errors import invalid_request

# Largest page the simulator returns. CertCentral does not document its maximum; clients ask for
# 1000 and a published response shows `"limit": 1000`.
MAX_LIMIT = 1000
DEFAULT_LIMIT = 1000

_FILTER_KEY = re.compile(r"^filters\[([a-z_]+)\]$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d+%H:%M:%S")

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Page:
    """Offset and limit of a list request."""

    offset: int
    limit: int


def parse_filters(query: Mapping[str, str], allowed: Iterable[str]) -> dict[str, str]:
    """Collect `filters[name]=value` parameters, rejecting names the endpoint does not support."""
    allowed_names = set(allowed)
    filters: dict[str, str] = {}
    for key, value in query.items():
        if not key.startswith("filters["):
            continue
        match = _FILTER_KEY.match(key)
        if match is None or match.group(1) not in allowed_names:
            supported = ", ".join(sorted(allowed_names))
            raise invalid_request(
                "invalid_filter", f"The filter {key} is not supported; supported: {supported}."
            )
        filters[match.group(1)] = value
    return filters


def parse_page(query: Mapping[str, str]) -> Page:
    """Read `offset` and `limit`; a limit above MAX_LIMIT is lowered to it."""
    offset = _non_negative_int(query, "offset", 0)
    limit = _non_negative_int(query, "limit", DEFAULT_LIMIT)
    if limit == 0:
        limit = DEFAULT_LIMIT
    return Page(offset=offset, limit=min(limit, MAX_LIMIT))


def _non_negative_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_request(
            "invalid_param", f"The parameter {name} must be an integer."
        ) from None
    if value < 0:
        raise invalid_request("invalid_param", f"The parameter {name} must not be negative.")
    return value


def split_values(value: str) -> list[str]:
    """Split a comma-separated filter value."""
    return [part.strip() for part in value.split(",") if part.strip()]


def text_matcher(value: str) -> Callable[[str], bool]:
    """Match exact text (case-insensitive), or text containing the rest after a leading `%`."""
    if value.startswith("%"):
        needle = value[1:].lower()
        return lambda text: needle in text.lower()
    options = {part.lower() for part in split_values(value)}
    return lambda text: text.lower() in options


def _parse_instant(raw: str) -> tuple[datetime, timedelta]:
    """Parse a date or date-time bound and return its start and the length it covers."""
    text = raw.strip()
    for date_format in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, date_format).replace(tzinfo=UTC)
        except ValueError:
            continue
        span = timedelta(days=1) if date_format == "%Y-%m-%d" else timedelta(seconds=1)
        return parsed, span
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid_request(
            "invalid_filter",
            f"The date {raw!r} is invalid; use yyyy-MM-dd or yyyy-MM-dd HH:mm:ss.",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed, timedelta(seconds=1)


def date_matcher(value: str) -> Callable[[datetime | None], bool]:
    """Match `a...b` (inclusive), `>x`, `<x` or a single day or second; naive dates are UTC."""
    if "..." in value:
        start_text, _, end_text = value.partition("...")
        start, _ = _parse_instant(start_text)
        end, end_span = _parse_instant(end_text)
        return lambda moment: moment is not None and start <= moment < end + end_span
    if value.startswith(">"):
        bound, span = _parse_instant(value[1:])
        return lambda moment: moment is not None and moment >= bound + span
    if value.startswith("<"):
        bound, _ = _parse_instant(value[1:])
        return lambda moment: moment is not None and moment < bound
    bound, span = _parse_instant(value)
    return lambda moment: moment is not None and bound <= moment < bound + span


def flag_value(name: str, value: str) -> bool:
    """Parse a `1`/`0` (or true/false) filter value."""
    lowered = value.strip().lower()
    if lowered in ("1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise invalid_request("invalid_filter", f"The filter {name} takes 1 or 0, not {value!r}.")


def int_values(name: str, value: str) -> set[int]:
    """Parse a comma-separated list of integers."""
    try:
        return {int(part) for part in split_values(value)}
    except ValueError:
        raise invalid_request(
            "invalid_filter", f"The filter {name} takes integers, not {value!r}."
        ) from None


def sort_items(
    items: list[ItemT],
    sort: str | None,
    keys: Mapping[str, Callable[[ItemT], Any]],
    default: str,
) -> list[ItemT]:
    """Sort by a comma list of properties; a `-` prefix sorts that property descending."""
    fields = split_values(sort or default)
    result = list(items)
    # Python's sort is stable, so sorting by the last key first yields a multi-key sort.
    for field in reversed(fields):
        descending = field.startswith("-")
        name = field.lstrip("+-")
        if name not in keys:
            raise invalid_request(
                "invalid_sort",
                f"Cannot sort by {name!r}; sortable: {', '.join(sorted(keys))}.",
            )
        key = keys[name]
        present = [item for item in result if key(item) is not None]
        missing = [item for item in result if key(item) is None]
        present.sort(key=key, reverse=descending)
        result = present + missing
    return result


def page_envelope(
    name: str, items: list[Any], total: int, page: Page, omit_empty: bool
) -> dict[str, Any]:
    """Build `{name: [...], "page": {"total", "limit", "offset"}}`."""
    body: dict[str, Any] = {}
    if items or not omit_empty:
        body[name] = items
    body["page"] = {"total": total, "limit": page.limit, "offset": page.offset}
    return body
