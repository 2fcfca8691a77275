"""Incident ids and war-room channel names."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

INCIDENT_ID = re.compile(r"^INC-(\d{4})-(\d{2})-(\d{2})-(\d{3,})$", re.IGNORECASE)
CHANNEL_NAME_MAX = 80


def incident_id(day: date, seq: int) -> str:
    return f"INC-{day:%Y-%m-%d}-{seq:03d}"


def is_incident_id(text: str) -> bool:
    return bool(INCIDENT_ID.match(text.strip()))


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by '-', only [a-z0-9-_]."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_text.lower()).strip("-_")
    return re.sub(r"-{2,}", "-", slug)


def channel_name(*, prefix: str, day: date, seq: int, title: str, attempt: int = 0) -> str:
    """`inc-20261201-001-checkout-is-failing`, at most 80 chars; attempt>0 adds `-2`, `-3`…"""
    head = f"{slugify(prefix)[:30] or 'inc'}-{day:%Y%m%d}-{seq:03d}"
    suffix = f"-{attempt + 1}" if attempt else ""
    room = CHANNEL_NAME_MAX - len(head) - len(suffix) - 1
    slug = slugify(title)[: max(room, 0)].rstrip("-_")
    name = f"{head}-{slug}" if slug else head
    return f"{name}{suffix}"[:CHANNEL_NAME_MAX]
