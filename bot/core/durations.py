"""Durations written like `90s`, `15m`, `1h`, `1h30m`, `2d`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([dhms])")
_WHOLE = re.compile(r"^(?:\d+[dhms])+$")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """Parse `1h30m`; raise ValueError for anything else (the caller words the error)."""
    cleaned = text.strip().lower()
    if not cleaned or not _WHOLE.match(cleaned):
        raise ValueError(text)
    seconds = sum(int(n) * _UNIT[u] for n, u in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(text)
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """`timedelta(seconds=5400)` -> `1h30m`; under a minute -> `45s`."""
    total = int(delta.total_seconds())
    if total < 0:
        total = 0
    if total < 60:
        return f"{total}s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = ""
    if days:
        out += f"{days}d"
    if hours:
        out += f"{hours}h"
    if minutes:
        out += f"{minutes}m"
    if seconds and not days and not hours:
        out += f"{seconds}s"
    return out
