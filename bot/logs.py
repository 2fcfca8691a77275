"""Structured logs (structlog) with secrets scrubbed from every line."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_SECRET = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|"        # Slack tokens
    r"(?<=://)[^/\s:@]*:[^@/\s]+(?=@)|"                        # user:password@ in URLs/DSNs
    r"(?i:(?:password|passwd|secret|token|api[_-]?key|routing_key)\s*[=:]\s*)[^\s&,;]+)"
)


def scrub(text: str) -> str:
    """Replace anything that looks like a token, key or DSN password with ***."""
    def repl(match: re.Match[str]) -> str:
        found = match.group(0)
        for sep in ("=", ":"):
            head, s, _ = found.partition(sep)
            if s and re.match(r"(?i)\s*(password|passwd|secret|token|api[_-]?key|routing_key)\s*$",
                              head):
                return f"{head}{sep}***"
        return "***"
    return _SECRET.sub(repl, text)


def _scrub_event(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return {k: scrub(v) if isinstance(v, str) else v for k, v in event.items()}


class _ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


def configure(level: str = "info", *, json: bool = False) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ScrubFilter())
    logging.basicConfig(level=numeric, handlers=[handler], force=True,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("aiohttp.access", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(
        colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _scrub_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
