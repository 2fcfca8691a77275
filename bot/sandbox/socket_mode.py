"""Slack's Socket Mode endpoint: WebSocket at /link/?ticket=… (URL from apps.connections.open)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import WSMsgType, web

from .workspace import APP_ID

LINK_PATH = "/link/"
DEBUG_HOST = "applink-sandbox-1"
APPROXIMATE_CONNECTION_TIME = 18060

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]


@dataclass
class SocketAck:
    """What the app sent back for one envelope."""

    envelope_id: str
    acked: bool
    payload: dict[str, Any] | None = None
    raw: dict[str, Any] | None = None


class SocketModeServer:
    """Accepts app connections, sends envelopes, waits for acks."""

    def __init__(self, *, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self.tickets: set[str] = set()
        self.connections: list[web.WebSocketResponse] = []
        self.opened = 0
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed: asyncio.Condition | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(LINK_PATH, self.handle)

    def connection_url(self, request: web.Request) -> str:
        """A fresh single-use ws:// URL, as apps.connections.open returns."""
        ticket = str(uuid.uuid4())
        self.tickets.add(ticket)
        return f"ws://{request.host}{LINK_PATH}?ticket={ticket}&app_id={secrets.token_hex(16)}"

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self.connections)

    def _cond(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        cond = self._cond()
        async with cond:
            cond.notify_all()

    async def wait_connected(self, *, timeout: float = 5.0, newer_than: int | None = None) -> int:
        """Wait for an open connection (one opened after number `newer_than`); returns `opened`."""
        cond = self._cond()

        def ready() -> bool:
            fresh = newer_than is None or self.opened > newer_than
            return fresh and self.connected

        async with cond:
            await asyncio.wait_for(cond.wait_for(ready), timeout)
        return self.opened

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.Response(status=401, text="invalid ticket")
        self.tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        self.opened += 1
        await ws.send_json(self._hello())
        await self._notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            if ws in self.connections:
                self.connections.remove(ws)
            await self._notify()
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": sum(1 for ws in self.connections if not ws.closed),
            "debug_info": {"host": DEBUG_HOST, "build_number": 1, "approximate_connection_time": APPROXIMATE_CONNECTION_TIME},
            "connection_info": {"app_id": self.app_id},
        }

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        self.received.append(message)
        fut = self._pending.pop(str(message.get("envelope_id", "")), None)
        if fut is not None and not fut.done():
            fut.set_result(message)

    async def send(
        self,
        envelope_type: EnvelopeType,
        payload: dict[str, Any],
        *,
        timeout: float = 3.0,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> SocketAck:
        """Send one envelope and wait up to `timeout` for its ack."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        try:
            await self.wait_connected(timeout=timeout)
        except asyncio.TimeoutError:
            return SocketAck(envelope_id=envelope_id, acked=False)
        ws = next(ws for ws in reversed(self.connections) if not ws.closed)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = fut
        self.sent.append(envelope)
        await ws.send_json(envelope)
        try:
            raw = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            self._pending.pop(envelope_id, None)
            return SocketAck(envelope_id=envelope_id, acked=False)
        return SocketAck(envelope_id=envelope_id, acked=True, payload=raw.get("payload"), raw=raw)

    async def disconnect(self, reason: str = "refresh_requested", *, close_after: float = 1.0) -> None:
        """Ask every connection to go away (Slack's `disconnect`), closing them after `close_after` s."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": DEBUG_HOST}}
        doomed = [ws for ws in self.connections if not ws.closed]
        self.sent.append(message)
        for ws in doomed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json(message)
        task = asyncio.ensure_future(self._close_later(doomed, close_after))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_later(self, doomed: list[web.WebSocketResponse], delay: float) -> None:
        await asyncio.sleep(delay)
        for ws in doomed:
            with contextlib.suppress(Exception):
                await ws.close()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for fut in self._pending.values():
            fut.cancel()
        self._pending.clear()
        for ws in list(self.connections):
            with contextlib.suppress(Exception):
                await ws.close()
