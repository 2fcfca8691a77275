"""Parse the text of `/incident …` into a request. Pure: no Slack, no I/O."""

from __future__ import annotations

import re

from pydantic import BaseModel

from bot import messages
from bot.core import errors
from bot.core.naming import is_incident_id
from bot.core.policy import Policy

_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")

UPDATE_STATUSES = ("investigating", "identified", "monitoring")
NEEDS_INCIDENT = {"status", "update", "ack", "sev", "assign", "note", "timeline", "resolve",
                  "escalate", "probe", "action", "report", "close", "customer", "recover"}
_DATE = re.compile(r"^(?:due[:=])?(\d{4}-\d{2}-\d{2})$", re.IGNORECASE)
CUSTOMER_KINDS = ("initial", "update", "resolution")
SUBCOMMANDS = ["declare", *sorted(NEEDS_INCIDENT), "list", "help"]


class Request(BaseModel):
    """One parsed `/incident` request."""

    sub: str
    incident_id: str | None = None
    severity: str | None = None  # canonical name
    title: str | None = None
    text: str = ""
    role: str | None = None
    user: str | None = None
    status: str | None = None
    services: list[str] = []
    force: bool = False
    drill: bool = False
    due: str | None = None


def parse_user(word: str) -> str | None:
    match = _USER.match(word.strip())
    if not match:
        return None
    return match.group(1) or match.group(2)


def parse(text: str, *, policy: Policy) -> Request:
    """Raise a UsageError subclass for anything warroom cannot act on."""
    words = text.strip().split()
    if not words or words[0].lower() in {"help", "-h", "--help", "?"}:
        return Request(sub="help")
    sub = words[0].lower()
    rest = words[1:]
    if sub in {"declare", "drill"}:
        req = _declare(rest, policy=policy, usage=messages.USAGE[sub])
        return req.model_copy(update={"drill": sub == "drill"})
    if sub == "list":
        return Request(sub="list")
    if sub not in NEEDS_INCIDENT:
        raise errors.UnknownSubcommand(words[0])
    incident_id = None
    if rest and is_incident_id(rest[0]):
        incident_id, rest = rest[0].upper(), rest[1:]
    body = " ".join(rest)
    usage = messages.USAGE[sub]
    if sub in {"update", "note"} and not body:
        raise errors.MissingArgument("text", usage=usage)
    if sub == "sev":
        if not rest:
            raise errors.MissingArgument("severity", usage=usage)
        severity = policy.find_severity(rest[0])
        if severity is None:
            raise errors.UnknownSeverity(rest[0], known=_known(policy), usage=usage)
        return Request(sub=sub, incident_id=incident_id, severity=severity.name)
    if sub == "assign":
        if len(rest) < 2:
            raise errors.MissingArgument("role and user", usage=usage)
        role = rest[0].lower().replace("-", "_")
        if role not in policy.roles:
            raise errors.UnknownRole(rest[0], known=list(policy.roles), usage=usage)
        user = parse_user(rest[1])
        if user is None:
            raise errors.InvalidUser(rest[1], usage=usage)
        return Request(sub=sub, incident_id=incident_id, role=role, user=user)
    if sub == "action":
        return _action(rest, incident_id=incident_id, usage=usage)
    if sub == "customer":
        kind = rest[0].lower() if rest else None
        if kind is not None and kind not in CUSTOMER_KINDS:
            raise errors.MissingArgument("initial, update or resolution", usage=usage)
        return Request(sub=sub, incident_id=incident_id, text=kind or "")
    if sub in {"probe", "recover"}:
        return Request(sub=sub, incident_id=incident_id,
                       services=[w.strip(",").lower() for w in rest if w.strip(",")])
    if sub == "resolve" and rest and rest[0].lower() in {"--force", "-f", "force"}:
        return Request(sub=sub, incident_id=incident_id, text=" ".join(rest[1:]), force=True)
    if sub == "update" and rest[0].lower().rstrip(":") in UPDATE_STATUSES:
        status, body = rest[0].lower().rstrip(":"), " ".join(rest[1:])
        if not body:
            raise errors.MissingArgument("text", usage=usage)
        return Request(sub=sub, incident_id=incident_id, text=body, status=status)
    return Request(sub=sub, incident_id=incident_id, text=body)


def _known(policy: Policy) -> list[str]:
    return [", ".join(s.names()) for s in policy.severities]


def _action(rest: list[str], *, incident_id: str | None, usage: str) -> Request:
    words, owner, due = [], None, None
    for word in rest:
        if (user := parse_user(word)) is not None:
            owner = user
        elif (date := _DATE.match(word)) is not None:
            due = date.group(1)
        elif word.lower() == "due" and not due:
            continue
        else:
            words.append(word)
    text = " ".join(words).strip()
    if not text:
        raise errors.MissingArgument("the action item's text", usage=usage)
    return Request(sub="action", incident_id=incident_id, text=text, user=owner, due=due)


def _declare(rest: list[str], *, policy: Policy, usage: str | None = None) -> Request:
    severity = None
    if rest and policy.looks_like_severity(rest[0]):
        found = policy.find_severity(rest[0])
        if found is None:
            raise errors.UnknownSeverity(rest[0], known=_known(policy),
                                         usage=usage or messages.USAGE["declare"])
        severity, rest = found.name, rest[1:]
    title = " ".join(rest).strip() or None
    if title and len(title) > messages.TITLE_MAX:
        raise errors.TitleTooLong(len(title), limit=messages.TITLE_MAX,
                                  usage=messages.USAGE["declare"])
    return Request(sub="declare", severity=severity, title=title)
