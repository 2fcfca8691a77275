"""Fixtures for the local Slack tests: a running LocalSlack, a real client, a tiny app."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import LocalSlack

SECRET = "test-signing-secret"

Reply = Callable[["Received"], Awaitable[web.StreamResponse]]


class Received:
    """One request the fake app got."""

    def __init__(self, headers: dict[str, str], body: str) -> None:
        self.headers, self.body = headers, body

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body, keep_blank_values=True).items()}

    @property
    def payload(self) -> dict[str, Any]:
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(self.body)
        form = self.form
        return json.loads(form["payload"]) if "payload" in form else form


class FakeApp:
    """A stand-in for the bot's /slack/events endpoint."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.reply: Reply = self._empty
        self.url = ""
        self._runner: web.AppRunner | None = None

    @staticmethod
    async def _empty(_: Received) -> web.StreamResponse:
        return web.Response(status=200)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        got = Received(dict(request.headers), await request.text())
        self.received.append(got)
        return await self.reply(got)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/slack/events", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/slack/events"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


@pytest.fixture
async def slack():
    async with LocalSlack.start(signing_secret=SECRET, ack_timeout=1.0) as local:
        yield local


@pytest.fixture
def client(slack: LocalSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
async def app(slack: LocalSlack):
    fake = FakeApp()
    await fake.start()
    slack.set_request_url(fake.url)
    yield fake
    await fake.stop()


def json_reply(data: dict[str, Any]) -> Reply:
    async def reply(_: Received) -> web.StreamResponse:
        return web.json_response(data)

    return reply
