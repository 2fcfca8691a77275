"""LocalSlack: one loopback Slack (workspace + Web API + delivery + Socket Mode)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Iterable

from aiohttp import web

from .platform import ACK_TIMEOUT, Platform
from .responses import ResponseUrls
from .scopes import ALL_BOT_SCOPES, scopes_from_manifest
from .socket_mode import SocketModeServer
from .web_api import API_PATH, CallRecord, WebApi
from .workspace import APP_ID, TRIGGER_TTL, TEAM_ID, Workspace

LOOPBACK = "127.0.0.1"


class LocalSlack:
    """A running local Slack; use `await LocalSlack.start(...)` or `async with LocalSlack.start(...)`."""

    def __init__(
        self,
        *,
        scopes: Iterable[str] | None = None,
        manifest: str | Path | None = None,
        signing_secret: str = "sandbox-signing-secret",
        workspace: Workspace | None = None,
        trigger_ttl: float = TRIGGER_TTL,
        ack_timeout: float = ACK_TIMEOUT,
    ) -> None:
        granted = set(scopes) if scopes is not None else (scopes_from_manifest(manifest) if manifest else set(ALL_BOT_SCOPES))
        self.workspace = workspace or Workspace.seeded(trigger_ttl=trigger_ttl)
        self.workspace.trigger_ttl = trigger_ttl
        self.signing_secret = signing_secret
        self.bot_token = f"xoxb-{secrets.randbelow(10**12)}-{secrets.randbelow(10**12)}-{secrets.token_hex(12)}"
        self.app_token = f"xapp-1-{APP_ID}-{secrets.randbelow(10**12)}-{secrets.token_hex(32)}"
        self.socket = SocketModeServer()
        self.web_api = WebApi(
            self.workspace,
            bot_token=self.bot_token,
            app_token=self.app_token,
            bot_scopes=granted,
            connection_url=self.socket.connection_url,
        )
        self.response_urls = ResponseUrls(self.workspace)
        self.platform = Platform(
            self.workspace, signing_secret=signing_secret, socket=self.socket, hook_base=lambda: self.base_url, ack_timeout=ack_timeout
        )
        self.host = LOOPBACK
        self.port = 0
        self._runner: web.AppRunner | None = None

    @classmethod
    def start(cls, *, host: str = LOOPBACK, port: int = 0, **options: Any) -> _Starter:
        """Create and start; awaitable, or usable as `async with`."""
        return _Starter(cls(**options), host=host, port=port)

    def application(self) -> web.Application:
        """The aiohttp app serving /api/, /hooks/, /upload/ and /link/."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.web_api.add_routes(app)
        self.response_urls.add_routes(app)
        self.socket.add_routes(app)
        return app

    async def _start(self, *, host: str, port: int) -> LocalSlack:
        if host != LOOPBACK:
            raise ValueError("the local Slack binds 127.0.0.1 only")
        self._runner = web.AppRunner(self.application(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host = host
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        await self.platform.close()
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalSlack:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- addresses and switches

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Pass as `base_url` to slack_sdk clients (ends with /api/)."""
        return self.base_url + API_PATH

    @property
    def team_id(self) -> str:
        return TEAM_ID

    def set_request_url(self, url: str) -> None:
        self.platform.set_request_url(url)

    def use_socket_mode(self) -> None:
        self.platform.use_socket_mode()

    def set_scopes(self, scopes: Iterable[str]) -> None:
        self.web_api.set_scopes(scopes)

    def fail_next(self, method: str, error: str = "ratelimited", *, times: int = 1, retry_after: int = 1) -> None:
        self.web_api.fail_next(method, error, times=times, retry_after=retry_after)

    def calls(self, method: str | None = None) -> list[CallRecord]:
        return self.web_api.calls(method)


class _Starter:
    """Lets `LocalSlack.start()` be awaited or used with `async with`."""

    def __init__(self, local: LocalSlack, *, host: str, port: int) -> None:
        self.local, self.host, self.port = local, host, port

    def __await__(self):  # type: ignore[no-untyped-def]
        return self.local._start(host=self.host, port=self.port).__await__()

    async def __aenter__(self) -> LocalSlack:
        return await self.local._start(host=self.host, port=self.port)

    async def __aexit__(self, *exc: object) -> None:
        await self.local.stop()
