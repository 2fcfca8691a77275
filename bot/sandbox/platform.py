"""The side of Slack that delivers to the app: commands, clicks, submissions, events.

Delivers over HTTP (signed like Slack) or over Socket Mode, waits for the
app's ack, and shows the result in the workspace the way Slack would.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, TypedDict, Unpack
from urllib.parse import urlencode

import aiohttp

from . import blockkit
from . import errors as E
from .errors import ApiError
from .responses import HOOK_PATH, show_reply
from .socket_mode import EnvelopeType, SocketModeServer
from .web_api import add_reaction
from .workspace import (
    APP_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    VIEW_STACK_LIMIT,
    Channel,
    ResponseHook,
    User,
    View,
    Workspace,
    now,
)

#: Slack waits this long for an ack before giving up.
ACK_TIMEOUT = 3.0
VERIFICATION_TOKEN = "sandboxverificationtoken"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
RETRY_REASON = "http_timeout"

Transport = Literal["http", "socket"]


class NetworkOptions(TypedDict, total=False):
    """Ways a delivery can misbehave like the network."""

    retry_num: int
    retry_reason: str
    replay: bool
    timestamp: int
    signature: str
    timeout: float


@dataclass
class Delivery:
    """One delivery to the app and what it answered."""

    kind: EnvelopeType
    transport: Transport
    payload: dict[str, Any]
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    request_body: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)
    envelope_id: str | None = None
    delivered: bool = True
    timed_out: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.delivered and not self.timed_out and self.status == 200

    def json(self) -> Any:
        """The ack body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body.strip() else None

    @property
    def ack(self) -> dict[str, Any] | None:
        """The ack as Slack reads it: JSON object, or {"text": body} for plain text."""
        if not self.body.strip():
            return None
        try:
            data = json.loads(self.body)
        except ValueError:
            return {"text": self.body}
        return data if isinstance(data, dict) else {"text": self.body}


def sign(secret: str, timestamp: int | str, body: str) -> str:
    """Slack's X-Slack-Signature for `body`."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class Platform:
    """Delivers what people do in the workspace to the app."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        signing_secret: str,
        socket: SocketModeServer,
        hook_base: Callable[[], str],
        ack_timeout: float = ACK_TIMEOUT,
    ) -> None:
        self.workspace = workspace
        self.signing_secret = signing_secret
        self.socket = socket
        self.hook_base = hook_base
        self.ack_timeout = ack_timeout
        self.request_url: str | None = None
        self.mode: Transport = "http"
        self.deliveries: list[Delivery] = []
        self._session: aiohttp.ClientSession | None = None
        self._last: Delivery | None = None

    # ---- configuration

    def set_request_url(self, url: str) -> None:
        """Deliver over HTTP to the app's `/slack/events` URL."""
        self.request_url = url
        self.mode = "http"

    def use_socket_mode(self) -> None:
        """Deliver over the app's Socket Mode connection."""
        self.mode = "socket"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- what a person does

    async def slash_command(
        self, *, user: str, channel: str, text: str = "", command: str = "/incident", **net: Unpack[NetworkOptions]
    ) -> Delivery:
        """A person types `command text` in `channel`."""
        person, ch = self._user(user), self._channel(channel)
        trigger = self.workspace.issue_trigger(person.id)
        hook = self.workspace.issue_hook(user=person.id, channel=ch.id)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": ch.id,
            "channel_name": "directmessage" if ch.is_im else ch.name,
            "user_id": person.id,
            "user_name": person.name,
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._hook_url(hook),
            "trigger_id": trigger.id,
        }
        delivery = await self._deliver("slash_commands", form, **net)
        self._show_command_ack(delivery, hook=hook, command=command)
        return delivery

    async def click(
        self,
        *,
        user: str,
        action_id: str,
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        value: Any = None,
        block_id: str | None = None,
        **net: Unpack[NetworkOptions],
    ) -> Delivery:
        """A person clicks a button (or picks an option) in a message or an open modal."""
        person = self._user(user)
        trigger = self.workspace.issue_trigger(person.id)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_obj(person),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger.id,
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if view_id is not None:
            view = self._open_view(view_id)
            block, element = _find_element(view.blocks, action_id, block_id)
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = view.to_api()
            payload["state"] = {"values": view.state_values}
        else:
            if channel is None or message_ts is None:
                raise ValueError("click needs channel+message_ts or view_id")
            ch = self._channel(channel)
            msg = self.workspace.message(ch.id, message_ts)
            eph = None if msg is not None else self.workspace.find_ephemeral(message_ts)
            if msg is None and (eph is None or eph.user != person.id):
                raise LookupError(f"no message {message_ts} visible to {person.id} in {ch.id}")
            blocks = msg.blocks if msg is not None else eph.blocks  # type: ignore[union-attr]
            block, element = _find_element(blocks, action_id, block_id)
            hook = self.workspace.issue_hook(user=person.id, channel=ch.id, message_ts=message_ts, message_is_ephemeral=eph is not None)
            payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": ch.id, "is_ephemeral": eph is not None}
            payload["channel"] = {"id": ch.id, "name": "directmessage" if ch.is_im else ch.name}
            payload["message"] = msg.to_api(self.workspace) if msg is not None else eph.to_api()  # type: ignore[union-attr]
            payload["state"] = {"values": {}}
            payload["response_url"] = self._hook_url(hook)
        payload["actions"] = [_action(block, element, value)]
        return await self._deliver("interactive", payload, **net)

    async def submit_view(
        self, *, user: str, view_id: str | None = None, values: dict[str, Any] | None = None, **net: Unpack[NetworkOptions]
    ) -> Delivery:
        """A person fills in the modal (`values` by block_id→action_id, or by action_id) and presses submit."""
        person = self._user(user)
        view = self._open_view(view_id) if view_id else self.workspace.latest_view(person.id)
        if view is None or not view.is_open or view.user != person.id:
            raise LookupError(f"{person.id} has no open view {view_id or ''}".strip())
        view.state_values = build_state(view.blocks, values or {})
        missing = required_missing(view.blocks, view.state_values)
        if missing:
            view.errors = {bid: E.FIELD_REQUIRED for bid in missing}
            self.workspace.emit("view.errors", {"id": view.id, "errors": view.errors})
            return Delivery(kind="interactive", transport=self.mode, payload={}, delivered=False, error=E.FIELD_REQUIRED)
        trigger = self.workspace.issue_trigger(person.id)
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": self._user_obj(person),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger.id,
            "view": view.to_api(),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        delivery = await self._deliver("interactive", payload, **net)
        self._apply_view_answer(delivery, view)
        return delivery

    async def close_view(self, *, user: str, view_id: str | None = None, **net: Unpack[NetworkOptions]) -> Delivery | None:
        """A person closes the modal; `view_closed` is delivered only with notify_on_close."""
        person = self._user(user)
        view = self._open_view(view_id) if view_id else self.workspace.latest_view(person.id)
        if view is None or not view.is_open:
            raise LookupError(f"{person.id} has no open view")
        stack = self.workspace.view_stack(person.id)
        for v in stack:
            self.workspace.close_view(v)
        if not view.payload.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": self._user_obj(person),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "view": view.to_api(),
            "is_cleared": len(stack) > 1,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self._deliver("interactive", payload, **net)

    async def send_event(self, event: dict[str, Any], **net: Unpack[NetworkOptions]) -> Delivery:
        """Deliver one Events API `event_callback` wrapping `event`."""
        event = dict(event)
        event.setdefault("event_ts", self.workspace.next_ts())
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "context_enterprise_id": None,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(now()),
            "authorizations": [
                {"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "is_enterprise_install": False}
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }
        return await self._deliver("events_api", payload, **net)

    async def message(
        self, user: str, channel: str, *, text: str, thread_ts: str | None = None, **net: Unpack[NetworkOptions]
    ) -> Delivery:
        """A person posts `text`; the app hears it only if the bot is in the channel."""
        person, ch = self._user(user), self._channel(channel)
        if person.id not in ch.members:
            raise ValueError(f"{person.id} is not a member of {ch.id}")
        msg = self.workspace.post(channel=ch.id, user=person.id, text=text, thread_ts=thread_ts)
        event: dict[str, Any] = {
            "type": "message",
            "channel": ch.id,
            "user": person.id,
            "text": text,
            "ts": msg.ts,
            "event_ts": msg.ts,
            "channel_type": {"public": "channel", "private": "group", "im": "im"}[ch.kind],
            "team": TEAM_ID,
            "client_msg_id": str(uuid.uuid4()),
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if BOT_USER_ID not in ch.members:
            return Delivery(kind="events_api", transport=self.mode, payload={"event": event}, delivered=False)
        delivery = await self.send_event(event, **net)
        if f"<@{BOT_USER_ID}>" in text:
            mention = {k: v for k, v in event.items() if k not in ("channel_type",)} | {"type": "app_mention"}
            await self.send_event(mention)
        return delivery

    async def react(self, user: str, channel: str, *, ts: str, name: str, **net: Unpack[NetworkOptions]) -> Delivery:
        """A person adds :name: to a message."""
        person, ch = self._user(user), self._channel(channel)
        msg = self.workspace.message(ch.id, ts)
        if msg is None:
            raise LookupError(f"no message {ts} in {ch.id}")
        try:
            add_reaction(self.workspace, msg, user=person.id, name=name.strip(":"))
        except ApiError as err:
            raise ValueError(err.error) from err
        event = {
            "type": "reaction_added",
            "user": person.id,
            "reaction": name.strip(":"),
            "item": {"type": "message", "channel": ch.id, "ts": ts},
            "item_user": msg.user,
            "event_ts": self.workspace.next_ts(),
        }
        if BOT_USER_ID not in ch.members:
            return Delivery(kind="events_api", transport=self.mode, payload={"event": event}, delivered=False)
        return await self.send_event(event, **net)

    # ---- delivery

    async def _deliver(self, kind: EnvelopeType, payload: dict[str, Any], **net: Unpack[NetworkOptions]) -> Delivery:
        if net.get("replay"):
            if self._last is None:
                raise LookupError("nothing delivered yet to replay")
            kind, payload = self._last.kind, self._last.payload
        timeout = net.pop("timeout", self.ack_timeout)
        if self.mode == "socket":
            delivery = await self._over_socket(kind, payload, timeout=timeout, **net)
        else:
            delivery = await self._over_http(kind, payload, timeout=timeout, **net)
        self._last = delivery
        self.deliveries.append(delivery)
        self.workspace.emit("delivery", {"kind": kind, "transport": delivery.transport, "status": delivery.status, "ok": delivery.ok})
        return delivery

    async def _over_http(self, kind: EnvelopeType, payload: dict[str, Any], *, timeout: float, **net: Any) -> Delivery:
        if not self.request_url:
            raise RuntimeError("no request URL: call set_request_url() or use_socket_mode()")
        if net.get("replay") and self._last is not None and self._last.transport == "http":
            body, headers = self._last.request_body, dict(self._last.request_headers)
        else:
            if kind == "slash_commands":
                body, ctype = urlencode(payload), "application/x-www-form-urlencoded"
            elif kind == "interactive":
                body, ctype = urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
            else:
                body, ctype = json.dumps(payload), "application/json"
            ts = str(net.get("timestamp", int(time.time())))
            headers = {
                "Content-Type": ctype,
                "User-Agent": USER_AGENT,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": net.get("signature") or sign(self.signing_secret, ts, body),
            }
            if net.get("retry_num") is not None:
                headers["X-Slack-Retry-Num"] = str(net["retry_num"])
                headers["X-Slack-Retry-Reason"] = net.get("retry_reason", RETRY_REASON)
        delivery = Delivery(kind=kind, transport="http", payload=payload, request_body=body, request_headers=headers)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                self.request_url, data=body.encode(), headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                delivery.status = resp.status
                delivery.headers = dict(resp.headers)
                delivery.body = await resp.text()
        except asyncio.TimeoutError:
            delivery.timed_out = True
        except aiohttp.ClientError as exc:
            delivery.delivered, delivery.error = False, str(exc)
        return delivery

    async def _over_socket(self, kind: EnvelopeType, payload: dict[str, Any], *, timeout: float, **net: Any) -> Delivery:
        envelope_id = self._last.envelope_id if net.get("replay") and self._last is not None else None
        retry = net.get("retry_num")
        ack = await self.socket.send(
            kind,
            payload,
            timeout=timeout,
            envelope_id=envelope_id,
            retry_attempt=int(retry or 0),
            retry_reason=net.get("retry_reason", RETRY_REASON) if retry else "",
        )
        delivery = Delivery(kind=kind, transport="socket", payload=payload, envelope_id=ack.envelope_id)
        if ack.acked:
            delivery.status = 200
            delivery.body = json.dumps(ack.payload) if ack.payload else ""
        else:
            delivery.timed_out = True
        return delivery

    # ---- showing the answer

    def _show_command_ack(self, delivery: Delivery, *, hook: ResponseHook, command: str) -> None:
        if delivery.timed_out or not delivery.delivered:
            self._command_failed(hook, command, E.OPERATION_TIMEOUT)
            return
        if delivery.status != 200:
            self._command_failed(hook, command, E.DISPATCH_FAILED)
            return
        ack = delivery.ack
        if ack is None:
            return
        ack_hook = hook.model_copy(update={"message_ts": None})
        show_reply(self.workspace, hook=ack_hook, body=ack, source="ack")

    def _command_failed(self, hook: ResponseHook, command: str, error: str) -> None:
        text = E.COMMAND_FAILED.format(command=command, error=error)
        self.workspace.post_ephemeral(channel=hook.channel or "", user=hook.user, text=text, source="platform")

    def _apply_view_answer(self, delivery: Delivery, view: View) -> None:
        if not delivery.ok:
            view.client_error = E.MODAL_TROUBLE_CONNECTING
            self.workspace.emit("view.errors", {"id": view.id, "client_error": view.client_error})
            return
        ack = delivery.ack or {}
        action = ack.get("response_action")
        if action == "errors":
            view.errors = dict(ack.get("errors") or {})
            self.workspace.emit("view.errors", {"id": view.id, "errors": view.errors})
        elif action in ("update", "push"):
            new = ack.get("view")
            problems = blockkit.view_errors(new)
            if problems:
                view.client_error = E.MODAL_TROUBLE_CONNECTING
                view.errors = {"_view": "; ".join(problems)}
                return
            if action == "update":
                self.workspace.replace_view(view, new)
            elif len(self.workspace.view_stack(view.user)) >= VIEW_STACK_LIMIT:
                view.client_error = E.PUSH_LIMIT_REACHED
            else:
                self.workspace.open_view(user=view.user, payload=new, trigger_id=None, previous=view)
        elif action == "clear":
            for v in self.workspace.view_stack(view.user):
                self.workspace.close_view(v)
        else:
            self.workspace.close_view(view)

    # ---- helpers

    def _hook_url(self, hook: ResponseHook) -> str:
        return f"{self.hook_base()}{HOOK_PATH}{hook.id}"

    def _user(self, ref: str) -> User:
        user = self.workspace.users.get(ref) or self.workspace.user_by_name(ref)
        if user is None:
            raise LookupError(f"no user {ref}")
        return user

    def _channel(self, ref: str) -> Channel:
        ch = self.workspace.resolve_channel(ref)
        if ch is None and ref in self.workspace.users:
            ch = self.workspace.open_im(ref)
        if ch is None:
            raise LookupError(f"no channel {ref}")
        return ch

    def _open_view(self, view_id: str) -> View:
        view = self.workspace.views.get(view_id)
        if view is None or not view.is_open:
            raise LookupError(f"view {view_id} is not open")
        return view

    @staticmethod
    def _user_obj(user: User) -> dict[str, Any]:
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}


# ---------------------------------------------------------------- view state

_VALUE_TYPES = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
_SINGLE = {
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
_MULTI = {
    "multi_static_select": "selected_options",
    "multi_external_select": "selected_options",
    "checkboxes": "selected_options",
    "multi_users_select": "selected_users",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}
_INITIAL = {
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
}


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    opts = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        opts.extend(group.get("options") or [])
    return opts


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    for opt in _options(element):
        if opt.get("value") == value:
            return opt
    return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}


def element_state(element: dict[str, Any], value: Any, *, given: bool) -> dict[str, Any]:
    """One `state.values` entry in Slack's shape for `element`."""
    kind = element.get("type", "plain_text_input")
    if isinstance(value, dict) and "type" in value:
        return value
    if kind in _MULTI:
        key = _MULTI[kind]
        items = value if given else element.get(_INITIAL[key], [])
        items = list(items or [])
        if key == "selected_options":
            items = [_option(element, v) for v in items]
        return {"type": kind, key: items}
    if kind in _SINGLE:
        key = _SINGLE[kind]
        chosen = value if given else element.get(_INITIAL[key])
        if key == "selected_option" and chosen is not None:
            chosen = _option(element, chosen)
        return {"type": kind, key: chosen}
    return {"type": kind, "value": value if given else element.get("initial_value")}


def _is_empty(state: dict[str, Any]) -> bool:
    return all(v in (None, "", []) for k, v in state.items() if k != "type")


def build_state(blocks: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`view.state.values` from what a person entered.

    `values` is keyed by block_id → action_id → value, by block_id → value, or by action_id → value;
    a value is a string / list / option value, or a full Slack state entry dict with "type".
    """
    state: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for block, el in blockkit.interactive_elements(blocks):
        if el.get("type") in ("button", "overflow", "workflow_button"):
            continue
        bid, aid = block.get("block_id", ""), el["action_id"]
        given, value = False, None
        entry = values.get(bid)
        if isinstance(entry, dict) and "type" not in entry:
            if aid in entry:
                given, value = True, entry[aid]
                used.add(bid)
        elif bid in values:
            given, value = True, entry
            used.add(bid)
        elif aid in values:
            given, value = True, values[aid]
            used.add(aid)
        state.setdefault(bid, {})[aid] = element_state(el, value, given=given)
    unknown = set(values) - used
    if unknown:
        raise KeyError(f"no input with block_id/action_id {sorted(unknown)} in the view")
    return state


def required_missing(blocks: list[dict[str, Any]], state: dict[str, dict[str, Any]]) -> list[str]:
    """block_ids of required inputs left empty (Slack's client refuses to submit)."""
    out = []
    for block in blocks:
        if block.get("type") == "input" and not block.get("optional") and "element" in block:
            entry = state.get(block.get("block_id", ""), {}).get(block["element"].get("action_id", ""))
            if entry is None or _is_empty(entry):
                out.append(block.get("block_id", ""))
    return out


def _find_element(blocks: list[dict[str, Any]] | None, action_id: str, block_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    for block, el in blockkit.interactive_elements(blocks):
        if el.get("action_id") == action_id and (block_id is None or block.get("block_id") == block_id):
            return block, el
    raise LookupError(f"no element with action_id {action_id!r} to click")


def _action(block: dict[str, Any], element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element.get("type", "button")
    action: dict[str, Any] = {"action_id": element["action_id"], "block_id": block.get("block_id", ""), "type": kind}
    if kind == "button":
        action["text"] = element.get("text")
        action["value"] = element.get("value") if value is None else value
        if element.get("style"):
            action["style"] = element["style"]
    else:
        action.update({k: v for k, v in element_state(element, value, given=value is not None).items() if k != "type"})
    action["action_ts"] = f"{time.time():.6f}"
    return action
