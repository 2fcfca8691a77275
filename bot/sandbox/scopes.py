"""Which bot scope each Web API method needs, as Slack enforces it.

A method maps either to a tuple of scopes (any one is enough) or to a
mapping by conversation kind ("public" / "private" / "im").
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Literal, Mapping, Union

import yaml

Kind = Literal["public", "private", "im"]
Requirement = Union[tuple[str, ...], Mapping[str, tuple[str, ...]]]

#: Scopes an app-level token (xapp-) may carry.
APP_TOKEN_SCOPES = frozenset({"connections:write", "authorizations:read", "app_configurations:write"})

_MANAGE = {"public": ("channels:manage",), "private": ("groups:write",), "im": ("im:write",)}
_READ = {"public": ("channels:read",), "private": ("groups:read",), "im": ("im:read",)}
_HISTORY = {"public": ("channels:history",), "private": ("groups:history",), "im": ("im:history",)}

METHOD_SCOPES: dict[str, Requirement] = {
    "auth.test": (),
    "apps.connections.open": ("connections:write",),
    "conversations.create": _MANAGE,
    "conversations.invite": {"public": ("channels:manage", "channels:write.invites"), "private": ("groups:write", "groups:write.invites")},
    "conversations.join": ("channels:join",),
    "conversations.info": _READ,
    "conversations.archive": _MANAGE,
    "conversations.history": _HISTORY,
    "conversations.members": _READ,
    "conversations.list": _READ,
    "conversations.open": ("im:write", "mpim:write"),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.getPermalink": (),
    "pins.add": ("pins:write",),
    "pins.list": ("pins:read",),
    "views.open": (),
    "views.update": (),
    "views.push": (),
    "users.info": ("users:read",),
    "usergroups.users.list": ("usergroups:read",),
    "reactions.add": ("reactions:write",),
    "reactions.get": ("reactions:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}

#: Every bot scope named in the table (handy default: "grant everything").
ALL_BOT_SCOPES = frozenset(
    s
    for req in METHOD_SCOPES.values()
    for group in (req.values() if isinstance(req, Mapping) else [req])
    for s in group
    if s not in APP_TOKEN_SCOPES
) | {"chat:write.public", "commands"}


def required(method: str, kind: Kind = "public") -> tuple[str, ...]:
    """Scopes of which one is needed to call `method` on a conversation of `kind`."""
    req = METHOD_SCOPES.get(method, ())
    if isinstance(req, Mapping):
        return tuple(req.get(kind, req.get("public", ())))
    return tuple(req)


def missing(method: str, granted: Iterable[str], kind: Kind = "public") -> str | None:
    """The `needed` value of Slack's missing_scope error, or None when allowed."""
    need = required(method, kind)
    if not need or set(need) & set(granted):
        return None
    return ",".join(need)


def scopes_from_manifest(path: str | Path) -> set[str]:
    """`oauth_config.scopes.bot` of a Slack app manifest (YAML or JSON)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    bot = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    return {str(s).strip() for s in bot if str(s).strip()}
