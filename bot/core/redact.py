"""Redaction: anything that looks like a secret becomes ***.

Used on every log line and on everything posted from probes (log tails, bodies).
"""

from __future__ import annotations

import re

_KEYWORD = r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|routing_key|auth)"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # PEM private keys, whole block
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
                re.DOTALL), "***"),
    # Slack tokens
    (re.compile(r"\b(?:xox[abposr]|xapp)-[A-Za-z0-9-]+"), "***"),
    # Authorization: Bearer/Basic <credential>
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 ***"),
    # user:password@ in URLs and DSNs
    (re.compile(r"(?<=://)([^/\s:@]*):[^@/\s]+@"), r"\1:***@"),
    # AWS access key ids and secret keys
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "***"),
    (re.compile(rf"(?i)\b({_KEYWORD}\w*)(\s*[=:]\s*|\"\s*:\s*\")([^\s&,;\"']+)"), r"\1\2***"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
