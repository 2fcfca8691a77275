"""In-memory state of one local Slack workspace.

Pure state and bookkeeping: no HTTP here. The Web API (web_api.py) and the
delivering side (platform.py) read and change it; a UI can follow changes
with :meth:`Workspace.subscribe`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any, Callable, Literal

from pydantic import BaseModel, Field

from .blockkit import fill_ids

TEAM_ID = "T0WARROOM"
TEAM_NAME = "warroom sandbox"
TEAM_DOMAIN = "warroom-sandbox"
APP_ID = "A0WARROOM"
BOT_USER_ID = "U0WARBOT"
BOT_ID = "B0WARBOT"
BOT_NAME = "warroom"
ENTERPRISE_ID = None

#: Seconds a trigger_id stays valid (Slack: 3 s).
TRIGGER_TTL = 3.0
#: How often and how long one response_url may be used (Slack: 5 times in 30 minutes).
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60.0
#: Slack keeps at most this many views on one modal stack.
VIEW_STACK_LIMIT = 3


def now() -> float:
    """Wall-clock seconds (one place to patch in a UI replay)."""
    return time.time()


# ---------------------------------------------------------------- models


class User(BaseModel):
    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False
    bot_id: str | None = None
    deleted: bool = False
    tz: str = "Europe/London"

    def to_api(self) -> dict[str, Any]:
        """The `user` object of users.info."""
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "team": TEAM_ID,
        }
        if self.bot_id:
            profile["bot_id"] = self.bot_id
            profile["api_app_id"] = APP_ID
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile,
        }


class UserGroup(BaseModel):
    id: str
    handle: str
    name: str = ""
    users: list[str] = Field(default_factory=list)


class Topic(BaseModel):
    value: str = ""
    creator: str = ""
    last_set: int = 0


class Channel(BaseModel):
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    created: int = Field(default_factory=lambda: int(now()))
    creator: str = ""
    members: list[str] = Field(default_factory=list)
    is_archived: bool = False
    is_general: bool = False
    topic: Topic = Field(default_factory=Topic)
    purpose: Topic = Field(default_factory=Topic)

    @property
    def kind(self) -> Literal["public", "private", "im"]:
        if self.is_im:
            return "im"
        return "private" if self.is_private else "public"

    def to_api(self, *, viewer: str = BOT_USER_ID) -> dict[str, Any]:
        """The `channel` object of conversations.info / create."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "created": self.created,
            "creator": self.creator,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "is_member": viewer in self.members,
            "topic": self.topic.model_dump(),
            "purpose": self.purpose.model_dump(),
            "previous_names": [],
            "num_members": len(self.members),
        }


class Reaction(BaseModel):
    name: str
    users: list[str] = Field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {"name": self.name, "users": list(self.users), "count": len(self.users)}


class Message(BaseModel):
    ts: str
    channel: str
    user: str
    bot_id: str | None = None
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    reply_count: int = 0
    edited: dict[str, str] | None = None
    subtype: str | None = None
    files: list[str] = Field(default_factory=list)
    reactions: list[Reaction] = Field(default_factory=list)
    deleted: bool = False

    def to_api(self, workspace: Workspace | None = None) -> dict[str, Any]:
        """The `message` object Slack returns (history, postMessage...)."""
        data: dict[str, Any] = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        if self.subtype:
            data["subtype"] = self.subtype
        if self.bot_id:
            data["bot_id"] = self.bot_id
            data["app_id"] = APP_ID
            data["bot_profile"] = {"id": self.bot_id, "app_id": APP_ID, "name": BOT_NAME, "deleted": False, "team_id": TEAM_ID}
        data["team"] = TEAM_ID
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
            if self.thread_ts == self.ts:
                data["reply_count"] = self.reply_count
        if self.edited:
            data["edited"] = dict(self.edited)
        if self.reactions:
            data["reactions"] = [r.to_api() for r in self.reactions]
        if self.files and workspace is not None:
            data["files"] = [workspace.files[f].to_api() for f in self.files if f in workspace.files]
            data["upload"] = True
        return data


class Ephemeral(BaseModel):
    """A message only one user sees ("Only visible to you")."""

    message_ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    source: Literal["chat.postEphemeral", "ack", "response_url", "platform"] = "chat.postEphemeral"
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": self.text, "ts": self.message_ts}
        if self.blocks is not None:
            data["blocks"] = self.blocks
        return data


class Pin(BaseModel):
    channel: str
    message_ts: str
    created: int
    created_by: str


class Trigger(BaseModel):
    id: str
    user: str
    issued_at: float
    used: bool = False


class ResponseHook(BaseModel):
    """A response_url handed out with a command or click."""

    id: str
    user: str
    channel: str | None
    message_ts: str | None = None
    message_is_ephemeral: bool = False
    created: float
    uses: int = 0


class View(BaseModel):
    """A modal as Slack keeps it; `payload` is what the app sent."""

    id: str
    user: str
    payload: dict[str, Any]
    hash: str
    external_id: str = ""
    root_view_id: str
    previous_view_id: str | None = None
    trigger_id: str | None = None
    state_values: dict[str, dict[str, Any]] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)
    client_error: str | None = None
    is_open: bool = True

    @property
    def callback_id(self) -> str:
        return self.payload.get("callback_id", "")

    @property
    def private_metadata(self) -> str:
        return self.payload.get("private_metadata", "")

    @property
    def title(self) -> str:
        return (self.payload.get("title") or {}).get("text", "")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.payload.get("blocks") or []

    def to_api(self) -> dict[str, Any]:
        """The `view` object of views.open / view_submission."""
        p = self.payload
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "type": p.get("type", "modal"),
            "blocks": p.get("blocks", []),
            "private_metadata": p.get("private_metadata", ""),
            "callback_id": p.get("callback_id", ""),
            "state": {"values": self.state_values},
            "hash": self.hash,
            "title": p.get("title"),
            "clear_on_close": bool(p.get("clear_on_close", False)),
            "notify_on_close": bool(p.get("notify_on_close", False)),
            "close": p.get("close"),
            "submit": p.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": APP_ID,
            "external_id": self.external_id,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }


class StoredFile(BaseModel):
    id: str
    name: str
    title: str = ""
    length: int
    user: str = BOT_USER_ID
    content: bytes | None = None
    created: int = Field(default_factory=lambda: int(now()))
    channels: list[str] = Field(default_factory=list)
    completed: bool = False

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": "text/plain",
            "filetype": "text",
            "user": self.user,
            "size": len(self.content or b""),
            "is_public": True,
            "channels": list(self.channels),
            "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{self.id}/{self.name}",
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{self.user}/{self.id}/{self.name}",
        }


class WorkspaceEvent(BaseModel):
    """One change, for a live UI: kind like "message.posted", data is a JSON-able dict."""

    seq: int
    kind: str
    at: float
    data: dict[str, Any]


Listener = Callable[[WorkspaceEvent], Any]


# ---------------------------------------------------------------- workspace


class Workspace:
    """All state of one workspace plus inspection helpers for tests and the UI."""

    def __init__(self, *, trigger_ttl: float = TRIGGER_TTL) -> None:
        self.trigger_ttl = trigger_ttl
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.channels: dict[str, Channel] = {}
        self.history: dict[str, list[Message]] = {}
        self.ephemeral: list[Ephemeral] = []
        self.pinned: list[Pin] = []
        self.views: dict[str, View] = {}
        self.triggers: dict[str, Trigger] = {}
        self.hooks: dict[str, ResponseHook] = {}
        self.files: dict[str, StoredFile] = {}
        self.events: list[WorkspaceEvent] = []
        self._listeners: list[Listener] = []
        self._last_ts_us = 0
        self._ids: set[str] = set()

    # ---- seeding

    @classmethod
    def seeded(cls, *, trigger_ttl: float = TRIGGER_TTL) -> Workspace:
        """A workspace with the warroom bot, four people, #general and #incidents."""
        ws = cls(trigger_ttl=trigger_ttl)
        ws.add_user(id=BOT_USER_ID, name=BOT_NAME, real_name="warroom", is_bot=True, bot_id=BOT_ID)
        people = [
            ("U0ALICE", "alice", "Alice Adams"),
            ("U0BOB", "bob", "Bob Brown"),
            ("U0CAROL", "carol", "Carol Chen"),
            ("U0DAN", "dan", "Dan Diaz"),
        ]
        for uid, name, real in people:
            ws.add_user(id=uid, name=name, real_name=real)
        humans = [p[0] for p in people]
        ws.add_channel(name="general", id="C0GENERAL", members=humans, is_general=True, creator="U0ALICE")
        ws.add_channel(name="incidents", id="C0INCIDENTS", members=humans, creator="U0ALICE")
        ws.add_usergroup(id="S0ONCALL", handle="oncall", name="On-call", users=["U0ALICE", "U0BOB"])
        ws.add_usergroup(id="S0SRE", handle="sre", name="SRE", users=["U0BOB", "U0CAROL"])
        return ws

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id such as C08F3K2JQ1A."""
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        while True:
            candidate = prefix + "0" + "".join(secrets.choice(alphabet) for _ in range(9))
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def add_user(self, *, id: str | None = None, name: str, real_name: str = "", is_bot: bool = False, bot_id: str | None = None) -> User:
        user = User(id=id or self.new_id("U"), name=name, real_name=real_name or name, is_bot=is_bot, bot_id=bot_id)
        self._ids.add(user.id)
        self.users[user.id] = user
        self.emit("user.added", user.model_dump())
        return user

    def add_usergroup(self, *, id: str | None = None, handle: str, name: str = "", users: list[str] | None = None) -> UserGroup:
        group = UserGroup(id=id or self.new_id("S"), handle=handle, name=name or handle, users=list(users or []))
        self._ids.add(group.id)
        self.usergroups[group.id] = group
        self.emit("usergroup.added", group.model_dump())
        return group

    def add_channel(
        self,
        *,
        name: str,
        id: str | None = None,
        is_private: bool = False,
        members: list[str] | None = None,
        creator: str = "",
        is_general: bool = False,
    ) -> Channel:
        channel = Channel(
            id=id or self.new_id("C"),
            name=name,
            is_private=is_private,
            members=list(dict.fromkeys(members or [])),
            creator=creator,
            is_general=is_general,
        )
        self._ids.add(channel.id)
        self.channels[channel.id] = channel
        self.history[channel.id] = []
        self.emit("channel.created", channel.model_dump())
        return channel

    def open_im(self, user: str) -> Channel:
        """The DM channel between the bot and `user` (created once)."""
        for ch in self.channels.values():
            if ch.is_im and ch.im_user == user:
                return ch
        channel = Channel(id=self.new_id("D"), name=user, is_im=True, im_user=user, members=[BOT_USER_ID, user])
        self.channels[channel.id] = channel
        self.history[channel.id] = []
        self.emit("channel.created", channel.model_dump())
        return channel

    # ---- events for a UI

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` on every change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def queue(self) -> asyncio.Queue[WorkspaceEvent]:
        """An asyncio.Queue that receives every future change."""
        q: asyncio.Queue[WorkspaceEvent] = asyncio.Queue()
        self.subscribe(q.put_nowait)
        return q

    def emit(self, kind: str, data: dict[str, Any]) -> WorkspaceEvent:
        event = WorkspaceEvent(seq=len(self.events) + 1, kind=kind, at=now(), data=data)
        self.events.append(event)
        for listener in list(self._listeners):
            listener(event)
        return event

    # ---- messages

    def next_ts(self) -> str:
        """A unique, strictly increasing message ts like "1733000000.000100"."""
        us = max(self._last_ts_us + 1, int(now() * 1_000_000))
        self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def post(
        self,
        *,
        channel: str,
        user: str,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        subtype: str | None = None,
        files: list[str] | None = None,
    ) -> Message:
        """Store a new message in `channel` (no permission checks)."""
        author = self.users.get(user)
        msg = Message(
            ts=self.next_ts(),
            channel=channel,
            user=user,
            bot_id=author.bot_id if author else None,
            text=text,
            blocks=fill_ids(blocks),
            thread_ts=thread_ts,
            subtype=subtype,
            files=list(files or []),
        )
        if thread_ts:
            parent = self.message(channel, thread_ts)
            if parent is not None:
                parent.thread_ts = parent.ts
                parent.reply_count += 1
        self.history.setdefault(channel, []).append(msg)
        self.emit("message.posted", msg.model_dump())
        return msg

    def message(self, channel: str, ts: str) -> Message | None:
        for msg in self.history.get(channel, []):
            if msg.ts == ts and not msg.deleted:
                return msg
        return None

    def update_message(self, msg: Message, *, text: str | None, blocks: list[dict[str, Any]] | None, editor: str) -> Message:
        if text is not None:
            msg.text = text
        if blocks is not None:
            msg.blocks = fill_ids(blocks)
        msg.edited = {"user": editor, "ts": self.next_ts()}
        self.emit("message.updated", msg.model_dump())
        return msg

    def delete_message(self, msg: Message) -> None:
        msg.deleted = True
        self.emit("message.deleted", {"channel": msg.channel, "ts": msg.ts})

    def post_ephemeral(
        self, *, channel: str, user: str, text: str = "", blocks: list[dict[str, Any]] | None = None, source: str = "chat.postEphemeral"
    ) -> Ephemeral:
        eph = Ephemeral(message_ts=self.next_ts(), channel=channel, user=user, text=text, blocks=fill_ids(blocks), source=source)  # type: ignore[arg-type]
        self.ephemeral.append(eph)
        self.emit("ephemeral.posted", eph.model_dump())
        return eph

    def find_ephemeral(self, message_ts: str) -> Ephemeral | None:
        return next((e for e in self.ephemeral if e.message_ts == message_ts and not e.deleted), None)

    # ---- triggers and response urls

    def issue_trigger(self, user: str) -> Trigger:
        """A fresh trigger_id, as Slack sends with a command or click."""
        issued = now()
        trigger = Trigger(id=f"{int(issued)}.{secrets.randbelow(10**12):012d}.{secrets.token_hex(16)}", user=user, issued_at=issued)
        self.triggers[trigger.id] = trigger
        return trigger

    def issue_hook(self, *, user: str, channel: str | None, message_ts: str | None = None, message_is_ephemeral: bool = False) -> ResponseHook:
        hook = ResponseHook(
            id=f"{TEAM_ID}/{secrets.randbelow(10**13)}/{secrets.token_urlsafe(18)}",
            user=user,
            channel=channel,
            message_ts=message_ts,
            message_is_ephemeral=message_is_ephemeral,
            created=now(),
        )
        self.hooks[hook.id] = hook
        return hook

    # ---- views

    def open_view(self, *, user: str, payload: dict[str, Any], trigger_id: str | None, previous: View | None = None) -> View:
        payload = {**payload, "blocks": fill_ids(payload.get("blocks") or [])}
        view_id = self.new_id("V")
        view = View(
            id=view_id,
            user=user,
            payload=payload,
            hash=self.new_view_hash(),
            external_id=payload.get("external_id", "") or "",
            root_view_id=previous.root_view_id if previous else view_id,
            previous_view_id=previous.id if previous else None,
            trigger_id=trigger_id,
        )
        self.views[view.id] = view
        self.emit("view.opened", view.model_dump())
        return view

    def new_view_hash(self) -> str:
        return f"{int(now())}.{secrets.token_hex(4)}"

    def replace_view(self, view: View, payload: dict[str, Any]) -> View:
        view.payload = {**payload, "blocks": fill_ids(payload.get("blocks") or [])}
        view.hash = self.new_view_hash()
        view.errors = {}
        view.client_error = None
        if payload.get("external_id"):
            view.external_id = payload["external_id"]
        self.emit("view.updated", view.model_dump())
        return view

    def close_view(self, view: View) -> None:
        view.is_open = False
        self.emit("view.closed", {"id": view.id, "user": view.user})

    def view_stack(self, user: str) -> list[View]:
        """The user's open modal stack, root first."""
        return [v for v in self.views.values() if v.user == user and v.is_open]

    # ---- inspection helpers

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.lstrip("#")
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def user_by_name(self, name: str) -> User | None:
        return next((u for u in self.users.values() if u.name == name.lstrip("@")), None)

    def resolve_channel(self, ref: str) -> Channel | None:
        """A channel by id, by name ("incidents" / "#incidents")."""
        return self.channels.get(ref) or self.channel_by_name(ref)

    def messages(self, channel: str) -> list[Message]:
        """Messages in a channel (id or name), oldest first, thread replies included."""
        ch = self.resolve_channel(channel)
        return [m for m in self.history.get(ch.id if ch else channel, []) if not m.deleted]

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[Ephemeral]:
        ch = self.resolve_channel(channel) if channel else None
        cid = ch.id if ch else channel
        return [e for e in self.ephemeral if not e.deleted and (user is None or e.user == user) and (cid is None or e.channel == cid)]

    def pins(self, channel: str) -> list[Message]:
        ch = self.resolve_channel(channel)
        cid = ch.id if ch else channel
        out = []
        for pin in self.pinned:
            if pin.channel == cid and (msg := self.message(cid, pin.message_ts)) is not None:
                out.append(msg)
        return out

    def members(self, channel: str) -> list[str]:
        ch = self.resolve_channel(channel)
        return list(ch.members) if ch else []

    def open_views(self, user: str | None = None) -> list[View]:
        return [v for v in self.views.values() if v.is_open and (user is None or v.user == user)]

    def latest_view(self, user: str | None = None) -> View | None:
        """The top of the user's modal stack (or the last view opened at all)."""
        stack = self.open_views(user)
        if stack:
            return stack[-1]
        views = [v for v in self.views.values() if user is None or v.user == user]
        return views[-1] if views else None

    def file_content(self, file_id: str) -> bytes | None:
        stored = self.files.get(file_id)
        return stored.content if stored else None

    def files_in(self, channel: str) -> list[StoredFile]:
        ch = self.resolve_channel(channel)
        cid = ch.id if ch else channel
        return [f for f in self.files.values() if cid in f.channels]
