"""Session-wide real servers and per-test bots.

One real `redis-server` per test session (each test gets its own key prefix),
one loopback local Slack per test, and the bot's real HTTP endpoint on a free
port. Nothing here patches the code under test.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import ManualClock
from bot.sandbox import LocalSlack
from bot.sandbox.scopes import scopes_from_manifest
from bot.settings import parse_config
from bot.store.connection import connect
from bot.store.embedded import EmbeddedRedis

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.docker", "tests.fixtures.prometheus",
                  "tests.fixtures.kubernetes", "tests.fixtures.rabbitmq"]

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "manifest.yml"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)

# The seeded local workspace: alice/bob/carol/dan, @oncall = alice+bob, #incidents.
TEST_CONFIG = """
escalation:
  levels:
    - name: On-call engineer
      notify: [S0ONCALL]
    - name: Engineering manager
      after: 15m
      notify: [U0CAROL]
  by_type:
    database: [U0DAN]
channels:
  announce: C0INCIDENTS
"""


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def key_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis(redis_server: EmbeddedRedis):
    client = connect(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def policy():
    return parse_config(TEST_CONFIG).to_policy()


@pytest.fixture
async def slack():
    local = await LocalSlack.start(scopes=scopes_from_manifest(MANIFEST),
                                   signing_secret=SIGNING_SECRET)
    yield local
    await local.stop()


class BotRunner:
    """Starts (and restarts) an in-process bot on a real port against real Redis."""

    def __init__(self, *, slack: LocalSlack, redis_url: str, clock: ManualClock, policy: Any,
                 key_prefix: str) -> None:
        self.slack, self.redis_url, self.clock = slack, redis_url, clock
        self.policy, self.key_prefix = policy, key_prefix
        self.config = None  # a WarroomConfig with services, for diagnostics tests
        self.bot = None

    async def start(self, *, socket_mode: bool = False):
        from bot.app import build_bot

        self.bot = build_bot(token=self.slack.bot_token,
                             signing_secret=None if socket_mode else SIGNING_SECRET,
                             api_url=self.slack.api_url, redis=connect(self.redis_url),
                             policy=self.policy, clock=self.clock, key_prefix=self.key_prefix,
                             config=self.config)
        await self.bot.check_auth()
        port = await self.bot.start(host="127.0.0.1", port=0, socket_mode=socket_mode,
                                    app_token=self.slack.app_token, api_url=self.slack.api_url)
        if socket_mode:
            self.slack.use_socket_mode()
        else:
            self.slack.set_request_url(f"http://127.0.0.1:{port}/slack/events")
        self.port = port
        return self.bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None

    async def restart(self):
        await self.stop()
        return await self.start()


@pytest.fixture
async def runner(slack, redis_server, clock, policy, key_prefix):
    r = BotRunner(slack=slack, redis_url=redis_server.url, clock=clock, policy=policy,
                  key_prefix=key_prefix)
    yield r
    await r.stop()


@pytest.fixture
async def bot(runner):
    return await runner.start()


async def eventually(predicate: Callable[[], Any], *, timeout: float = 10.0) -> Any:
    """Poll until predicate() is truthy (background Slack work after the ack)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)
