"""Slack's Web API (`/api/<method>`) served by aiohttp against a Workspace."""

from __future__ import annotations

import base64
import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

from aiohttp import web

from . import blockkit, scopes
from . import errors as E
from .errors import ApiError, missing_field
from .workspace import (
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    VIEW_STACK_LIMIT,
    Channel,
    Message,
    Pin,
    Reaction,
    StoredFile,
    View,
    Workspace,
    now,
)

API_PATH = "/api/"
UPLOAD_PATH = "/upload/v1/"
MAX_CHANNEL_NAME = 80
CHANNEL_NAME_RE = re.compile(r"^[a-z0-9_\-]+$")

Handler = Callable[["WebApi", "Call"], Awaitable[dict[str, Any]]]
_METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a Web API method implementation."""

    def register(fn: Handler) -> Handler:
        _METHODS[name] = fn
        return fn

    return register


@dataclass
class TokenInfo:
    kind: str  # "bot" or "app"
    scopes: set[str]


@dataclass
class CallRecord:
    """One Web API call as the server saw it."""

    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float
    token_kind: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class Fault:
    error: str
    times: int
    retry_after: int
    status: int | None


@dataclass
class TokenBucket:
    """Slack-style per-channel posting limit: `burst` at once, then `per_second`."""

    burst: float
    per_second: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """0 when a message may go now, else seconds until it may."""
        t = time.monotonic()
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (t - self.stamp) * self.per_second)
        self.stamp = t
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


@dataclass
class Call:
    """The arguments and caller of one Web API request."""

    method: str
    args: dict[str, Any]
    token: TokenInfo
    request: web.Request

    def get(self, key: str) -> str | None:
        value = self.args.get(key)
        if value is None:
            return None
        return value if isinstance(value, str) else (json.dumps(value) if isinstance(value, (dict, list)) else str(value))

    def flag(self, key: str) -> bool:
        return str(self.args.get(key, "")).lower() in ("1", "true")

    def json(self, key: str) -> Any:
        value = self.args.get(key)
        if value is None or value == "":
            return None
        try:
            return blockkit.parse_json_arg(value)
        except blockkit.BlockKitError:
            raise ApiError(E.INVALID_ARGUMENTS, response_metadata={"messages": [f"[ERROR] failed to parse {key} as JSON"]})

    def int(self, key: str, default: int) -> int:
        try:
            return int(self.args.get(key, default))
        except (TypeError, ValueError):
            return default


def _encode_cursor(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.b64decode(cursor.encode()).decode()
    except ValueError:
        raise ApiError("invalid_cursor")


class WebApi:
    """The Web API server side: auth, scopes, faults, rate limits, methods."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        bot_token: str,
        app_token: str,
        bot_scopes: Iterable[str],
        connection_url: Callable[[web.Request], str] | None = None,
    ) -> None:
        self.workspace = workspace
        self.bot_token = bot_token
        self.app_token = app_token
        self.tokens: dict[str, TokenInfo] = {
            bot_token: TokenInfo("bot", set(bot_scopes)),
            app_token: TokenInfo("app", {"connections:write"}),
        }
        self.connection_url = connection_url
        self.faults: dict[str, list[Fault]] = {}
        self.records: list[CallRecord] = []
        self.post_rate: tuple[float, float] | None = None
        self._buckets: dict[str, TokenBucket] = {}

    # ---- configuration for tests and the UI

    @property
    def bot_scopes(self) -> set[str]:
        return self.tokens[self.bot_token].scopes

    def set_scopes(self, granted: Iterable[str]) -> None:
        """Replace the bot token's granted scopes."""
        self.tokens[self.bot_token].scopes = set(granted)

    def fail_next(self, method: str, error: str = E.RATELIMITED, *, times: int = 1, retry_after: int = 1, status: int | None = None) -> None:
        """Make the next `times` calls of `method` fail with `error` (429 + Retry-After for ratelimited)."""
        self.faults.setdefault(method, []).append(Fault(error, times, retry_after, status))

    def set_post_rate(self, *, burst: float = 5, per_second: float = 1.0) -> None:
        """Limit chat.postMessage per channel like Slack (answers 429 ratelimited)."""
        self.post_rate = (burst, per_second)
        self._buckets.clear()

    def clear_post_rate(self) -> None:
        self.post_rate = None
        self._buckets.clear()

    def calls(self, method: str | None = None) -> list[CallRecord]:
        """Every recorded call, or those of one method."""
        return [r for r in self.records if method is None or r.method == method]

    # ---- HTTP

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", API_PATH + "{method}", self.handle)
        app.router.add_post(UPLOAD_PATH + "{file_id}", self.handle_upload)

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        args: dict[str, Any] = {}
        token_kind: str | None = None
        headers: dict[str, str] = {}
        try:
            args = await self._read_args(request)
            token = self._token(request, args)
            token_kind = token.kind if token else None
            if name not in _METHODS:
                raise ApiError(E.UNKNOWN_METHOD, req_method=name)
            if token is None:
                raise ApiError(E.NOT_AUTHED)
            if (name == "apps.connections.open") != (token.kind == "app"):
                raise ApiError(E.NOT_ALLOWED_TOKEN_TYPE)
            headers["X-OAuth-Scopes"] = ",".join(sorted(token.scopes))
            self._apply_fault(name)
            self._check_scope(name, args, token, headers)
            call = Call(method=name, args=args, token=token, request=request)
            body = {"ok": True, **await _METHODS[name](self, call)}
            status = 200
        except ApiError as err:
            body, status = err.body(), err.status
            headers.update(err.headers)
        self.records.append(CallRecord(method=name, args=args, status=status, response=body, at=now(), token_kind=token_kind))
        return web.json_response(body, status=status, headers=headers)

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return args
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(E.INVALID_JSON)
            if isinstance(body, dict):
                args.update(body)
        else:
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
        return args

    def _token(self, request: web.Request, args: dict[str, Any]) -> TokenInfo | None:
        raw = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            raw = auth[7:].strip()
        if not raw:
            return None
        info = self.tokens.get(str(raw))
        if info is None:
            raise ApiError(E.INVALID_AUTH)
        return info

    def _apply_fault(self, name: str) -> None:
        queue = self.faults.get(name)
        if not queue:
            return
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        if fault.error == E.RATELIMITED:
            raise ApiError(E.RATELIMITED, status=fault.status or 429, headers={"Retry-After": str(fault.retry_after)})
        raise ApiError(fault.error, status=fault.status or 200)

    def _check_scope(self, name: str, args: dict[str, Any], token: TokenInfo, headers: dict[str, str]) -> None:
        kind: scopes.Kind = "public"
        ref = args.get("channel") or args.get("channel_id")
        if isinstance(ref, str) and (ch := self.workspace.resolve_channel(ref)) is not None:
            kind = ch.kind
        elif name == "conversations.create" and str(args.get("is_private", "")).lower() in ("1", "true"):
            kind = "private"
        headers["X-Accepted-OAuth-Scopes"] = ",".join(scopes.required(name, kind))
        needed = scopes.missing(name, token.scopes, kind)
        if needed:
            raise ApiError(E.MISSING_SCOPE, needed=needed, provided=",".join(sorted(token.scopes)))

    async def handle_upload(self, request: web.Request) -> web.Response:
        stored = self.workspace.files.get(request.match_info["file_id"])
        if stored is None:
            return web.Response(status=404, text=E.FILE_NOT_FOUND, content_type="text/plain")
        if request.content_type.startswith("multipart/"):
            content = b""
            async for part in await request.multipart():
                content = await part.read()  # type: ignore[union-attr]
                break
        else:
            content = await request.read()
        stored.content = content
        self.workspace.emit("file.uploaded", {"id": stored.id, "name": stored.name, "size": len(content)})
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    # ---- shared checks

    def visible_channel(self, ref: str | None, *, allow_user: bool = False) -> Channel:
        """The channel the bot can see, else channel_not_found (private ones need membership)."""
        if not ref:
            raise ApiError(E.CHANNEL_NOT_FOUND)
        ch = self.workspace.resolve_channel(ref)
        if ch is None and allow_user and ref in self.workspace.users:
            ch = self.workspace.open_im(ref)
        if ch is None or (ch.kind != "public" and BOT_USER_ID not in ch.members):
            raise ApiError(E.CHANNEL_NOT_FOUND)
        return ch

    def postable_channel(self, ref: str | None, token: TokenInfo) -> Channel:
        ch = self.visible_channel(ref, allow_user=True)
        if ch.is_archived:
            raise ApiError(E.IS_ARCHIVED)
        if BOT_USER_ID not in ch.members and not (ch.kind == "public" and "chat:write.public" in token.scopes):
            raise ApiError(E.NOT_IN_CHANNEL)
        return ch

    def member_channel(self, ref: str | None) -> Channel:
        ch = self.visible_channel(ref)
        if BOT_USER_ID not in ch.members:
            raise ApiError(E.NOT_IN_CHANNEL)
        return ch

    def find_message(self, ch: Channel, ts: str | None) -> Message:
        msg = self.workspace.message(ch.id, ts or "")
        if msg is None:
            raise ApiError(E.MESSAGE_NOT_FOUND)
        return msg

    def content(self, call: Call) -> tuple[str, list[dict[str, Any]] | None]:
        """Validated (text, blocks) of a chat.* call."""
        text = call.get("text") or ""
        try:
            blocks = blockkit.parse_json_arg(call.args["blocks"]) if call.args.get("blocks") not in (None, "") else None
        except blockkit.BlockKitError:
            raise ApiError(blockkit.ERR_INVALID_BLOCKS_FORMAT)
        if blocks is not None and not isinstance(blocks, list):
            raise ApiError(blockkit.ERR_INVALID_BLOCKS_FORMAT)
        if not text and not blocks and not call.args.get("attachments"):
            raise ApiError(E.NO_TEXT)
        if len(text) > blockkit.MAX_MESSAGE_TEXT:
            raise ApiError(E.MSG_TOO_LONG)
        if blocks:
            problems = blockkit.block_errors(blocks)
            if problems:
                body = blockkit.invalid_blocks_response(problems)
                raise ApiError(body.pop("error"), **{k: v for k, v in body.items() if k != "ok"})
        return text, blocks

    def rate_limit_post(self, channel_id: str) -> None:
        if self.post_rate is None:
            return
        bucket = self._buckets.setdefault(channel_id, TokenBucket(*self.post_rate))
        wait = bucket.take()
        if wait > 0:
            raise ApiError(E.RATELIMITED, status=429, headers={"Retry-After": str(max(1, math.ceil(wait)))})

    def permalink(self, channel: str, ts: str) -> str:
        return f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    def view_payload(self, call: Call) -> dict[str, Any]:
        view = call.json("view")
        if view is None:
            raise missing_field("view")
        problems = blockkit.view_errors(view)
        if problems:
            body = blockkit.invalid_view_response(problems)
            raise ApiError(body["error"], response_metadata=body["response_metadata"])
        return view

    def take_trigger(self, call: Call) -> str:
        """Validate and consume the trigger_id; returns the triggering user."""
        trigger_id = call.get("trigger_id") or call.get("interactivity_pointer")
        if not trigger_id:
            raise missing_field("trigger_id")
        trigger = self.workspace.triggers.get(trigger_id)
        if trigger is None:
            raise ApiError(E.INVALID_TRIGGER_ID)
        if trigger.used:
            raise ApiError(E.EXCHANGED_TRIGGER_ID)
        if now() - trigger.issued_at > self.workspace.trigger_ttl:
            raise ApiError(E.EXPIRED_TRIGGER_ID)
        trigger.used = True
        return trigger.user

    def check_external_id(self, payload: dict[str, Any], *, except_view: str | None = None) -> None:
        ext = payload.get("external_id")
        if ext and any(v.external_id == ext and v.id != except_view for v in self.workspace.views.values()):
            raise ApiError(E.DUPLICATE_EXTERNAL_ID)


# ---------------------------------------------------------------- methods


@method("auth.test")
async def auth_test(api: WebApi, call: Call) -> dict[str, Any]:
    return {
        "url": f"https://{TEAM_DOMAIN}.slack.com/",
        "team": TEAM_NAME,
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


@method("apps.connections.open")
async def apps_connections_open(api: WebApi, call: Call) -> dict[str, Any]:
    if api.connection_url is None:
        raise ApiError(E.INVALID_ARGUMENTS)
    return {"url": api.connection_url(call.request)}


@method("conversations.create")
async def conversations_create(api: WebApi, call: Call) -> dict[str, Any]:
    name = call.get("name") or ""
    if not name:
        raise ApiError(E.INVALID_NAME_REQUIRED)
    if len(name) > MAX_CHANNEL_NAME:
        raise ApiError(E.INVALID_NAME_MAXLENGTH)
    if not CHANNEL_NAME_RE.match(name):
        raise ApiError(E.INVALID_NAME_SPECIALS)
    if any(c.name == name and not c.is_im for c in api.workspace.channels.values()):
        raise ApiError(E.NAME_TAKEN)
    ch = api.workspace.add_channel(name=name, is_private=call.flag("is_private"), members=[BOT_USER_ID], creator=BOT_USER_ID)
    return {"channel": ch.to_api()}


@method("conversations.invite")
async def conversations_invite(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    if ch.is_im:
        raise ApiError(E.METHOD_NOT_SUPPORTED_FOR_CHANNEL_TYPE)
    if ch.is_archived:
        raise ApiError(E.IS_ARCHIVED)
    if BOT_USER_ID not in ch.members:
        raise ApiError(E.NOT_IN_CHANNEL)
    ids = [u.strip() for u in (call.get("users") or "").split(",") if u.strip()]
    if not ids:
        raise ApiError(E.NO_USER)
    failures: list[dict[str, Any]] = []
    valid: list[str] = []
    for uid in dict.fromkeys(ids):
        error = None
        if uid not in api.workspace.users or api.workspace.users[uid].deleted:
            error = E.USER_NOT_FOUND
        elif uid == BOT_USER_ID:
            error = E.CANT_INVITE_SELF
        elif uid in ch.members:
            error = E.ALREADY_IN_CHANNEL
        if error:
            failures.append({"user": uid, "ok": False, "error": error})
        else:
            valid.append(uid)
    if failures and not call.flag("force"):
        raise ApiError(failures[0]["error"], errors=failures)
    ch.members.extend(valid)
    api.workspace.emit("channel.members_added", {"channel": ch.id, "users": valid})
    out: dict[str, Any] = {"channel": ch.to_api()}
    if failures:
        out["errors"] = failures
    return out


@method("conversations.join")
async def conversations_join(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    if ch.kind != "public":
        raise ApiError(E.METHOD_NOT_SUPPORTED_FOR_CHANNEL_TYPE)
    if ch.is_archived:
        raise ApiError(E.IS_ARCHIVED)
    if BOT_USER_ID in ch.members:
        return {"channel": ch.to_api(), "warning": E.ALREADY_IN_CHANNEL, "response_metadata": {"warnings": [E.ALREADY_IN_CHANNEL]}}
    ch.members.append(BOT_USER_ID)
    api.workspace.emit("channel.members_added", {"channel": ch.id, "users": [BOT_USER_ID]})
    return {"channel": ch.to_api()}


@method("conversations.info")
async def conversations_info(api: WebApi, call: Call) -> dict[str, Any]:
    return {"channel": api.visible_channel(call.get("channel")).to_api()}


@method("conversations.archive")
async def conversations_archive(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    if ch.is_im:
        raise ApiError(E.METHOD_NOT_SUPPORTED_FOR_CHANNEL_TYPE)
    if ch.is_archived:
        raise ApiError(E.ALREADY_ARCHIVED)
    if ch.is_general:
        raise ApiError(E.CANT_ARCHIVE_GENERAL)
    if BOT_USER_ID not in ch.members:
        raise ApiError(E.NOT_IN_CHANNEL)
    ch.is_archived = True
    api.workspace.emit("channel.archived", {"channel": ch.id})
    return {}


@method("conversations.history")
async def conversations_history(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.member_channel(call.get("channel"))
    limit = max(1, min(call.int("limit", 100), 999))
    latest, oldest = call.get("latest"), call.get("oldest")
    inclusive = call.flag("inclusive")
    cursor = _decode_cursor(call.get("cursor"))
    msgs = [m for m in reversed(api.workspace.messages(ch.id)) if not m.thread_ts or m.thread_ts == m.ts]
    if latest:
        msgs = [m for m in msgs if float(m.ts) < float(latest) or (inclusive and m.ts == latest)]
    if oldest:
        msgs = [m for m in msgs if float(m.ts) > float(oldest) or (inclusive and m.ts == oldest)]
    if cursor and cursor.startswith("next_ts:"):
        edge = cursor.split(":", 1)[1]
        msgs = [m for m in msgs if float(m.ts) <= float(edge)]
    page, rest = msgs[:limit], msgs[limit:]
    out: dict[str, Any] = {
        "messages": [m.to_api(api.workspace) for m in page],
        "has_more": bool(rest),
        "pin_count": len(api.workspace.pins(ch.id)),
        "channel_actions_ts": None,
        "channel_actions_count": 0,
    }
    if rest:
        out["response_metadata"] = {"next_cursor": _encode_cursor(f"next_ts:{rest[0].ts}")}
    return out


@method("conversations.members")
async def conversations_members(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    return {"members": list(ch.members), "response_metadata": {"next_cursor": ""}}


@method("conversations.list")
async def conversations_list(api: WebApi, call: Call) -> dict[str, Any]:
    types = {t.strip() for t in (call.get("types") or "public_channel").split(",")}
    exclude_archived = call.flag("exclude_archived")
    limit = max(1, min(call.int("limit", 100), 1000))
    start = int((_decode_cursor(call.get("cursor")) or "offset:0").split(":", 1)[1])
    found = []
    for ch in api.workspace.channels.values():
        if exclude_archived and ch.is_archived:
            continue
        if ch.kind == "public" and "public_channel" in types:
            found.append(ch)
        elif ch.kind == "private" and "private_channel" in types and BOT_USER_ID in ch.members:
            found.append(ch)
        elif ch.kind == "im" and "im" in types:
            found.append(ch)
    page = found[start : start + limit]
    nxt = _encode_cursor(f"offset:{start + limit}") if start + limit < len(found) else ""
    return {"channels": [c.to_api() for c in page], "response_metadata": {"next_cursor": nxt}}


@method("conversations.open")
async def conversations_open(api: WebApi, call: Call) -> dict[str, Any]:
    if call.get("channel"):
        ch = api.visible_channel(call.get("channel"))
        return {"channel": ch.to_api() if call.flag("return_im") else {"id": ch.id}, "no_op": True, "already_open": True}
    ids = [u.strip() for u in (call.get("users") or "").split(",") if u.strip()]
    if not ids:
        raise ApiError(E.USERS_LIST_NOT_SUPPLIED)
    for uid in ids:
        if uid not in api.workspace.users:
            raise ApiError(E.USER_NOT_FOUND)
    if len(ids) > 1:
        raise ApiError(E.METHOD_NOT_SUPPORTED_FOR_CHANNEL_TYPE)  # group DMs are not modelled
    existed = any(c.is_im and c.im_user == ids[0] for c in api.workspace.channels.values())
    ch = api.workspace.open_im(ids[0])
    out: dict[str, Any] = {"channel": ch.to_api() if call.flag("return_im") else {"id": ch.id}}
    if existed:
        out.update(no_op=True, already_open=True)
    return out


@method("chat.postMessage")
async def chat_post_message(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.postable_channel(call.get("channel"), call.token)
    text, blocks = api.content(call)
    api.rate_limit_post(ch.id)
    thread_ts = call.get("thread_ts") or None
    msg = api.workspace.post(channel=ch.id, user=BOT_USER_ID, text=text, blocks=blocks, thread_ts=thread_ts)
    return {"channel": ch.id, "ts": msg.ts, "message": msg.to_api(api.workspace)}


@method("chat.update")
async def chat_update(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    msg = api.find_message(ch, call.get("ts"))
    if msg.user != BOT_USER_ID:
        raise ApiError(E.CANT_UPDATE_MESSAGE)
    if ch.is_archived:
        raise ApiError(E.IS_ARCHIVED)
    text, blocks = api.content(call)
    api.workspace.update_message(msg, text=text, blocks=blocks, editor=BOT_USER_ID)
    return {"channel": ch.id, "ts": msg.ts, "text": msg.text, "message": msg.to_api(api.workspace)}


@method("chat.postEphemeral")
async def chat_post_ephemeral(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.postable_channel(call.get("channel"), call.token)
    user = call.get("user")
    if not user or user not in api.workspace.users:
        raise ApiError(E.USER_NOT_FOUND)
    if user not in ch.members:
        raise ApiError(E.USER_NOT_IN_CHANNEL)
    text, blocks = api.content(call)
    eph = api.workspace.post_ephemeral(channel=ch.id, user=user, text=text, blocks=blocks)
    return {"message_ts": eph.message_ts}


@method("chat.getPermalink")
async def chat_get_permalink(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    msg = api.find_message(ch, call.get("message_ts"))
    return {"channel": ch.id, "permalink": api.permalink(ch.id, msg.ts)}


@method("pins.add")
async def pins_add(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    ts = call.get("timestamp")
    if not ts:
        raise ApiError(E.NO_ITEM_SPECIFIED)
    if BOT_USER_ID not in ch.members:
        raise ApiError(E.NOT_IN_CHANNEL)
    msg = api.find_message(ch, ts)
    if any(p.channel == ch.id and p.message_ts == msg.ts for p in api.workspace.pinned):
        raise ApiError(E.ALREADY_PINNED)
    pin = Pin(channel=ch.id, message_ts=msg.ts, created=int(now()), created_by=BOT_USER_ID)
    api.workspace.pinned.append(pin)
    api.workspace.emit("pin.added", pin.model_dump())
    return {}


@method("pins.list")
async def pins_list(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    items = []
    for pin in reversed(api.workspace.pinned):
        msg = api.workspace.message(ch.id, pin.message_ts) if pin.channel == ch.id else None
        if msg is None:
            continue
        data = msg.to_api(api.workspace) | {"permalink": api.permalink(ch.id, msg.ts), "pinned_to": [ch.id]}
        items.append({"type": "message", "created": pin.created, "created_by": pin.created_by, "channel": ch.id, "message": data})
    return {"items": items}


@method("reactions.add")
async def reactions_add(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    name = (call.get("name") or "").strip(":")
    if not call.get("timestamp"):
        raise ApiError(E.NO_ITEM_SPECIFIED)
    if not name:
        raise ApiError(E.INVALID_NAME)
    msg = api.find_message(ch, call.get("timestamp"))
    add_reaction(api.workspace, msg, user=BOT_USER_ID, name=name)
    return {}


def add_reaction(workspace: Workspace, msg: Message, *, user: str, name: str) -> None:
    """Record `user` reacting with :name: (already_reacted when repeated)."""
    reaction = next((r for r in msg.reactions if r.name == name), None)
    if reaction is None:
        reaction = Reaction(name=name)
        msg.reactions.append(reaction)
    if user in reaction.users:
        raise ApiError(E.ALREADY_REACTED)
    reaction.users.append(user)
    workspace.emit("reaction.added", {"channel": msg.channel, "ts": msg.ts, "name": name, "user": user})


@method("reactions.get")
async def reactions_get(api: WebApi, call: Call) -> dict[str, Any]:
    ch = api.visible_channel(call.get("channel"))
    if not call.get("timestamp"):
        raise ApiError(E.NO_ITEM_SPECIFIED)
    msg = api.find_message(ch, call.get("timestamp"))
    return {"type": "message", "channel": ch.id, "message": msg.to_api(api.workspace)}


@method("users.info")
async def users_info(api: WebApi, call: Call) -> dict[str, Any]:
    user = api.workspace.users.get(call.get("user") or "")
    if user is None:
        raise ApiError(E.USER_NOT_FOUND)
    return {"user": user.to_api()}


@method("usergroups.users.list")
async def usergroups_users_list(api: WebApi, call: Call) -> dict[str, Any]:
    group = api.workspace.usergroups.get(call.get("usergroup") or "")
    if group is None:
        raise ApiError(E.NO_SUCH_SUBTEAM)
    return {"users": list(group.users)}


@method("views.open")
async def views_open(api: WebApi, call: Call) -> dict[str, Any]:
    payload = api.view_payload(call)
    api.check_external_id(payload)
    user = api.take_trigger(call)
    for old in api.workspace.view_stack(user):
        api.workspace.close_view(old)
    view = api.workspace.open_view(user=user, payload=payload, trigger_id=call.get("trigger_id"))
    return {"view": view.to_api()}


@method("views.push")
async def views_push(api: WebApi, call: Call) -> dict[str, Any]:
    payload = api.view_payload(call)
    api.check_external_id(payload)
    user = api.take_trigger(call)
    stack = api.workspace.view_stack(user)
    if not stack:
        raise ApiError(E.NOT_FOUND)
    if len(stack) >= VIEW_STACK_LIMIT:
        raise ApiError(E.PUSH_LIMIT_REACHED)
    view = api.workspace.open_view(user=user, payload=payload, trigger_id=call.get("trigger_id"), previous=stack[-1])
    return {"view": view.to_api()}


@method("views.update")
async def views_update(api: WebApi, call: Call) -> dict[str, Any]:
    view_id, external_id = call.get("view_id"), call.get("external_id")
    if not view_id and not external_id:
        raise missing_field("view_id")
    payload = api.view_payload(call)
    view: View | None
    if view_id:
        view = api.workspace.views.get(view_id)
    else:
        view = next((v for v in api.workspace.views.values() if v.external_id == external_id), None)
    if view is None or not view.is_open:
        raise ApiError(E.NOT_FOUND)
    api.check_external_id(payload, except_view=view.id)
    if call.get("hash") and call.get("hash") != view.hash:
        raise ApiError(E.HASH_CONFLICT)
    api.workspace.replace_view(view, payload)
    return {"view": view.to_api()}


@method("files.getUploadURLExternal")
async def files_get_upload_url_external(api: WebApi, call: Call) -> dict[str, Any]:
    filename = call.get("filename")
    if not filename:
        raise missing_field("filename")
    if call.get("length") is None:
        raise missing_field("length")
    stored = StoredFile(id=api.workspace.new_id("F"), name=filename, length=call.int("length", 0), title=call.get("alt_txt") or "")
    api.workspace.files[stored.id] = stored
    origin = f"{call.request.scheme}://{call.request.host}"
    return {"upload_url": f"{origin}{UPLOAD_PATH}{stored.id}", "file_id": stored.id}


@method("files.completeUploadExternal")
async def files_complete_upload_external(api: WebApi, call: Call) -> dict[str, Any]:
    files = call.json("files")
    if not isinstance(files, list) or not files:
        raise missing_field("files")
    chosen: list[StoredFile] = []
    for item in files:
        stored = api.workspace.files.get(str(item.get("id", "")))
        if stored is None or stored.content is None:
            raise ApiError(E.FILE_NOT_FOUND)
        stored.title = item.get("title") or stored.name
        chosen.append(stored)
    channel_ref = call.get("channel_id") or call.get("channels")
    channel_ids: list[str] = []
    if channel_ref:
        for ref in channel_ref.split(","):
            channel_ids.append(api.postable_channel(ref.strip(), call.token).id)
    for stored in chosen:
        stored.completed = True
        stored.channels.extend(channel_ids)
    for cid in channel_ids:
        api.workspace.post(
            channel=cid,
            user=BOT_USER_ID,
            text=call.get("initial_comment") or "",
            thread_ts=call.get("thread_ts"),
            files=[f.id for f in chosen],
        )
    return {"files": [{"id": f.id, "title": f.title} for f in chosen]}


def method_names() -> list[str]:
    """All implemented Web API methods."""
    return sorted(_METHODS)


__all__ = ["WebApi", "CallRecord", "TokenBucket", "method_names", "add_reaction"]
