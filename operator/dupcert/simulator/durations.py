"""Parse the short duration strings used by seed files and admin settings."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """Convert `90s`, `10m`, `2h`, `397d`, `1w`, a number of seconds or a timedelta."""
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, bool):
        raise ValueError("a duration must be a string like '90s' or '397d', not a boolean")
    elif isinstance(value, int | float):
        result = timedelta(seconds=value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"invalid duration {value!r}: use a number and a unit s, m, h, d or w, e.g. '397d'"
            )
        result = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    else:
        raise ValueError(f"invalid duration {value!r}: expected a string like '90s' or '397d'")
    if result <= timedelta(0):
        raise ValueError(f"invalid duration {value!r}: it must be longer than zero")
    return result


def format_duration(value: timedelta) -> str:
    """Render a timedelta in the largest unit that divides it, e.g. `397d` or `90s`."""
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"
