"""What the per-kind executors share: their outcome, and small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.messages import actions as w
from bot.actions.models import ActionRefused
from bot.core.redact import redact

MAX_LINE = 300  # characters per summary / detail line


@dataclass
class Outcome:
    ok: bool
    summary: str
    detail: list[str] = field(default_factory=list)


def brief(exc: BaseException) -> str:
    """An exception as one short redacted line."""
    text = " ".join(str(getattr(exc, "explanation", None) or exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return clip(redact(line))


def clip(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"


def whole_number(name: str, value: Any) -> int:
    """A parameter that must be an int: 4, "4" (from a Slack form); anything else refused."""
    if isinstance(value, bool):
        raise ActionRefused(w.not_a_number(name, value), code=ActionRefused.BAD_PARAMS)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    raise ActionRefused(w.not_a_number(name, clip(redact(str(value)))),
                        code=ActionRefused.BAD_PARAMS)
