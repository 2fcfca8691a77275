"""The sandbox page and its API: what one person sees of the local workspace, live.

    GET  /                      the page (static files from bot/sandbox/page/)
    GET  /api/state?user=U..    everything that person sees, as JSON
    GET  /api/events?user=U..   Server-Sent Events: a "snapshot", then one change per event
    POST /api/command           {user, channel, text, thread_ts?}: `/incident ...` or a message
    POST /api/click             {user, action_id, block_id?, value?, channel+message_ts | view_id}
    POST /api/submit            {user, view_id, values: {block_id: {action_id: value}}}
    POST /api/close             {user, view_id}
    POST /api/react             {user, channel, ts, name}
    POST /api/join              {user, channel}

Every action goes through the local Slack's `platform`, so the bot receives what Slack
would send: signed `slash_commands`, `block_actions`, `view_submission` and events.
What a person sees follows Slack's rules: public channels and their own DMs, their own
ephemeral messages and their own modals only.

POSTs must be JSON (a cross-site form cannot send that without a preflight this server
never answers) and the Host must be loopback, so no other web page can drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot.core.clock import Clock

from .local import LocalSlack
from .platform import Delivery
from .workspace import BOT_USER_ID, Channel, Ephemeral, Message, View, Workspace, WorkspaceEvent

PAGE_PACKAGE = "bot.sandbox"
PAGE_DIR = "page"
PAGE_FILES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
HEARTBEAT_SECONDS = 15.0
#: Slash commands the sandbox app has (manifest.yml features.slash_commands).
COMMANDS = ("/incident",)

NOT_A_COMMAND = ("`{command}` is not a valid command. In Slack, messages that start with "
                 "\"/\" are interpreted as commands. Try `/incident help`.")
JSON_ONLY = "send JSON (Content-Type: application/json)"
BAD_HOST = "the sandbox answers loopback hosts only"
NOT_A_MEMBER = "{user} is not in #{channel}: join it first"

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass
class PageInfo:
    """What the page shows besides the workspace: speed, clock, config, the ladder."""

    speed: float = 1.0
    announce: str | None = None
    prefix: str = "inc"
    config_source: str = "demo"
    ladder: list[dict[str, Any]] = field(default_factory=list)
    services: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- what a person sees


def _visible(ch: Channel, user: str) -> bool:
    return (ch.im_user == user) if ch.is_im else True


def channel_view(ch: Channel, *, info: PageInfo, user: str) -> dict[str, Any]:
    if ch.is_im:
        kind = "dm"
    elif ch.id == info.announce:
        kind = "announce"
    elif ch.name.startswith(f"{info.prefix}-"):
        kind = "incident"
    else:
        kind = "channel"
    return {
        "id": ch.id, "name": ch.name, "kind": kind, "is_im": ch.is_im, "im_user": ch.im_user,
        "is_private": ch.is_private, "is_archived": ch.is_archived, "members": list(ch.members),
        "is_member": user in ch.members, "topic": ch.topic.value, "purpose": ch.purpose.value,
        "created": ch.created,
    }


def message_view(ws: Workspace, msg: Message) -> dict[str, Any]:
    pinned = any(p.channel == msg.channel and p.message_ts == msg.ts for p in ws.pinned)
    return {
        "channel": msg.channel, "ts": msg.ts, "user": msg.user, "is_bot": bool(msg.bot_id),
        "text": msg.text, "blocks": msg.blocks, "thread_ts": msg.thread_ts,
        "edited": bool(msg.edited), "pinned": pinned, "subtype": msg.subtype,
        "reactions": [r.to_api() for r in msg.reactions],
        "files": [ws.files[f].name for f in msg.files if f in ws.files],
    }


def ephemeral_view(eph: Ephemeral) -> dict[str, Any]:
    return {"channel": eph.channel, "ts": eph.message_ts, "user": BOT_USER_ID, "is_bot": True,
            "text": eph.text, "blocks": eph.blocks, "ephemeral": True, "to": eph.user,
            "pinned": False, "reactions": [], "files": [], "edited": False, "thread_ts": None}


def modal_view(view: View) -> dict[str, Any]:
    p = view.payload
    return {
        "id": view.id, "hash": view.hash, "callback_id": view.callback_id,
        "title": (p.get("title") or {}).get("text", ""),
        "submit": (p.get("submit") or {}).get("text", "") if p.get("submit") else "",
        "close": (p.get("close") or {}).get("text", "Cancel") if p.get("close") else "Cancel",
        "blocks": view.blocks, "errors": dict(view.errors), "client_error": view.client_error,
        "is_open": view.is_open,
    }


def snapshot(ws: Workspace, *, user: str, info: PageInfo, clock: Clock) -> dict[str, Any]:
    """Everything `user` sees now (the page's starting state)."""
    channels = [c for c in ws.channels.values() if _visible(c, user)]
    ids = {c.id for c in channels}
    messages = [message_view(ws, m) for cid in ids for m in ws.messages(cid)]
    ephemerals = [ephemeral_view(e) for e in ws.ephemerals(user=user) if e.channel in ids]
    stack = ws.view_stack(user)
    return {
        "type": "snapshot",
        "me": user,
        "users": [{"id": u.id, "name": u.name, "real_name": u.real_name, "is_bot": u.is_bot}
                  for u in ws.users.values() if not u.deleted],
        "usergroups": [{"id": g.id, "handle": g.handle, "name": g.name, "users": list(g.users)}
                       for g in ws.usergroups.values()],
        "channels": [channel_view(c, info=info, user=user) for c in channels],
        "messages": sorted(messages + ephemerals, key=lambda m: float(m["ts"])),
        "view": modal_view(stack[-1]) if stack else None,
        "sandbox": {
            "speed": info.speed, "clock": clock.now().timestamp(), "real": time.time(),
            "announce": info.announce, "config": info.config_source, "ladder": info.ladder,
            "services": info.services,
        },
    }


def change_for(ws: Workspace, event: WorkspaceEvent, *, user: str, info: PageInfo) -> dict[str, Any] | None:
    """The page update `event` means for `user` (None: nothing they can see)."""
    kind, data = event.kind, event.data
    if kind in ("message.posted", "message.updated", "reaction.added", "pin.added"):
        channel = data.get("channel", "")
        ts = data.get("ts") or data.get("message_ts") or ""
        ch = ws.channels.get(channel)
        msg = ws.message(channel, ts)
        if ch is None or msg is None or not _visible(ch, user):
            return None
        return {"type": "message", "message": message_view(ws, msg)}
    if kind == "message.deleted":
        ch = ws.channels.get(data.get("channel", ""))
        if ch is None or not _visible(ch, user):
            return None
        return {"type": "message_deleted", "channel": ch.id, "ts": data.get("ts")}
    if kind in ("ephemeral.posted", "ephemeral.updated"):
        eph = ws.find_ephemeral(data.get("message_ts", ""))
        if eph is None or eph.user != user:
            return None
        return {"type": "message", "message": ephemeral_view(eph)}
    if kind == "ephemeral.deleted":
        if data.get("user") != user:
            return None
        return {"type": "message_deleted", "channel": None, "ts": data.get("message_ts")}
    if kind in ("channel.created", "channel.members_added", "channel.archived"):
        ch = ws.channels.get(data.get("id") or data.get("channel") or "")
        if ch is None or not _visible(ch, user):
            return None
        return {"type": "channel", "channel": channel_view(ch, info=info, user=user)}
    if kind.startswith("view."):
        view = ws.views.get(data.get("id", ""))
        if view is None or view.user != user:
            return None
        stack = ws.view_stack(user)
        return {"type": "view", "view": modal_view(stack[-1]) if stack else None,
                "closed": None if stack else view.id}
    if kind in ("user.added", "usergroup.added"):
        return {"type": "directory"}
    return None


# ---------------------------------------------------------------- the server


def _delivery(d: Delivery | None) -> dict[str, Any]:
    if d is None:
        return {"ok": True, "delivered": False}
    return {"ok": d.ok, "delivered": d.delivered, "status": d.status, "timed_out": d.timed_out,
            "error": d.error, "ack": d.ack}


class PageApi:
    """The page's HTTP + SSE API over one LocalSlack."""

    def __init__(self, slack: LocalSlack, *, clock: Clock, info: PageInfo) -> None:
        self.slack = slack
        self.ws = slack.workspace
        self.platform = slack.platform
        self.clock = clock
        self.info = info
        self._closing = asyncio.Event()
        self._streams: set[web.StreamResponse] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- app

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=1024 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/events", self._events)
        post: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            "command": self.command, "click": self.click, "submit": self.submit,
            "close": self.close, "react": self.react, "join": self.join,
        }
        for name, handler in post.items():
            app.router.add_post(f"/api/{name}", self._post(handler))
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def start(self, *, host: str = "127.0.0.1", port: int = 0) -> int:
        self._runner = web.AppRunner(self.application(), handle_signals=False, access_log=None,
                                     shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # noqa: SLF001
        return self.port

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_shutdown(self, _: web.Application) -> None:
        self._closing.set()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if _host_name(request.host or "") not in LOOPBACK_HOSTS:
            return web.json_response({"ok": False, "error": BAD_HOST}, status=403)
        if request.method == "POST" and request.content_type != "application/json":
            return web.json_response({"ok": False, "error": JSON_ONLY}, status=415)
        response = await handler(request)
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        return response

    # ---- pages

    def _file(self, name: str) -> bytes:
        return resources.files(PAGE_PACKAGE).joinpath(PAGE_DIR, name).read_bytes()

    async def _index(self, _: web.Request) -> web.Response:
        return web.Response(body=self._file("index.html"), content_type="text/html", charset="utf-8")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in PAGE_FILES:
            raise web.HTTPNotFound()
        return web.Response(body=self._file(name), content_type=PAGE_FILES[name], charset="utf-8")

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    def _user_of(self, request: web.Request) -> str:
        ref = request.query.get("user") or "U0ALICE"
        user = self.ws.users.get(ref) or self.ws.user_by_name(ref)
        if user is None or user.is_bot:
            raise web.HTTPBadRequest(text=json.dumps({"ok": False, "error": f"no person {ref}"}),
                                     content_type="application/json")
        return user.id

    async def _state(self, request: web.Request) -> web.Response:
        user = self._user_of(request)
        return web.json_response(snapshot(self.ws, user=user, info=self.info, clock=self.clock))

    async def _events(self, request: web.Request) -> web.StreamResponse:
        user = self._user_of(request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "X-Accel-Buffering": "no", **SECURITY_HEADERS})
        queue: asyncio.Queue[WorkspaceEvent] = asyncio.Queue()
        unsubscribe = self.ws.subscribe(queue.put_nowait)
        first = snapshot(self.ws, user=user, info=self.info, clock=self.clock)  # same tick
        self._streams.add(response)
        try:
            await response.prepare(request)
            await _send(response, first)
            closing = asyncio.ensure_future(self._closing.wait())
            getter: asyncio.Future[WorkspaceEvent] | None = None
            try:
                while not self._closing.is_set():
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getter, closing}, timeout=HEARTBEAT_SECONDS,
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if getter not in done:
                        if not self._closing.is_set():
                            await response.write(b": heartbeat\n\n")  # finds a gone client
                        continue
                    change = change_for(self.ws, getter.result(), user=user, info=self.info)
                    if change is not None:
                        if change["type"] == "directory":
                            change = snapshot(self.ws, user=user, info=self.info, clock=self.clock)
                        await _send(response, change)
            finally:
                closing.cancel()
                if getter is not None:
                    getter.cancel()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            unsubscribe()
            self._streams.discard(response)
        with contextlib.suppress(Exception):
            await response.write_eof()
        return response

    # ---- actions

    def _post(self, handler: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> Any:
        async def handle(request: web.Request) -> web.Response:
            try:
                body = await request.json()
            except ValueError:
                return web.json_response({"ok": False, "error": "invalid JSON"}, status=400)
            if not isinstance(body, dict):
                return web.json_response({"ok": False, "error": "send a JSON object"}, status=400)
            try:
                return web.json_response(await handler(body))
            except (LookupError, ValueError, TypeError) as exc:
                message = exc.args[0] if exc.args else type(exc).__name__
                return web.json_response({"ok": False, "error": str(message)}, status=400)
        return handle

    def _person(self, body: dict[str, Any]) -> str:
        ref = str(body.get("user") or "")
        user = self.ws.users.get(ref) or self.ws.user_by_name(ref)
        if user is None or user.is_bot:
            raise LookupError(f"no person {ref!r}")
        return user.id

    def _channel(self, body: dict[str, Any], user: str) -> Channel:
        ref = str(body.get("channel") or "")
        ch = self.ws.resolve_channel(ref)
        if ch is None or not _visible(ch, user):
            raise LookupError(f"no channel {ref!r}")
        return ch

    async def command(self, body: dict[str, Any]) -> dict[str, Any]:
        """What a person types in the message box: a slash command or a message."""
        user = self._person(body)
        ch = self._channel(body, user)
        text = str(body.get("text") or "").strip()
        if not text:
            raise ValueError("type something")
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command not in COMMANDS:
                self.ws.post_ephemeral(channel=ch.id, user=user, source="platform",
                                       text=NOT_A_COMMAND.format(command=command))
                return {"ok": False, "delivered": False, "error": "not_a_command"}
            return _delivery(await self.platform.slash_command(
                user=user, channel=ch.id, text=rest.strip(), command=command))
        if user not in ch.members:
            raise ValueError(NOT_A_MEMBER.format(user=self.ws.users[user].name, channel=ch.name))
        thread_ts = str(body["thread_ts"]) if body.get("thread_ts") else None
        return _delivery(await self.platform.message(user, ch.id, text=text, thread_ts=thread_ts))

    async def join(self, body: dict[str, Any]) -> dict[str, Any]:
        """The "Join channel" button of a public channel."""
        user = self._person(body)
        ch = self._channel(body, user)
        if ch.is_im or ch.is_private:
            raise ValueError("only public channels can be joined")
        if user not in ch.members:
            ch.members.append(user)
            self.ws.emit("channel.members_added", {"channel": ch.id, "users": [user]})
        return {"ok": True}

    async def click(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        action_id = str(body.get("action_id") or "")
        block_id = str(body["block_id"]) if body.get("block_id") else None
        value = body.get("value")
        if body.get("view_id"):
            delivery = await self.platform.click(user=user, action_id=action_id, block_id=block_id,
                                                 view_id=str(body["view_id"]), value=value)
        else:
            ch = self._channel(body, user)
            delivery = await self.platform.click(user=user, action_id=action_id, block_id=block_id,
                                                 channel=ch.id, message_ts=str(body.get("message_ts") or ""),
                                                 value=value)
        return _delivery(delivery)

    async def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        view_id = str(body.get("view_id") or "")
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise ValueError("values must be an object")
        delivery = await self.platform.submit_view(user=user, view_id=view_id, values=values)
        view = self.ws.views.get(view_id)
        stack = self.ws.view_stack(user)
        out = _delivery(delivery)
        out["view"] = modal_view(stack[-1]) if stack else None
        out["errors"] = dict(view.errors) if view is not None and view.is_open else {}
        return out

    async def close(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        return _delivery(await self.platform.close_view(user=user, view_id=str(body.get("view_id") or "") or None))

    async def react(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self._person(body)
        ch = self._channel(body, user)
        name = str(body.get("name") or "").strip(":")
        if not name:
            raise ValueError("name a reaction")
        return _delivery(await self.platform.react(user, ch.id, ts=str(body.get("ts") or ""), name=name))


def _host_name(host: str) -> str:
    """`127.0.0.1:8080` -> `127.0.0.1`, `[::1]:8080` -> `[::1]`."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


async def _send(response: web.StreamResponse, data: dict[str, Any]) -> None:
    payload = json.dumps(data, separators=(",", ":"), default=str)
    await response.write(f"data: {payload}\n\n".encode())
