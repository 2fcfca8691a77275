"""`warroom sandbox`: the whole bot in one process, on 127.0.0.1, with no Slack workspace.

    EmbeddedRedis  (redis-server child, AOF under $WARROOM_DATA_DIR/sandbox)
         ^
    the bot        build_bot(...) in HTTP mode on a free port: /slack/events
         ^  signed requests             |  the real AsyncWebClient
    LocalSlack     platform ------------+--> Web API /api/ (scopes from manifest.yml)
         ^  workspace.subscribe()
    PageApi        the page on --port: HTML + SSE + JSON actions -> platform
    Estate         demo services to diagnose (healthy / 503 / hanging) on a free port

Exactly as in production the bot verifies Slack's signatures and talks to Slack
through `AsyncWebClient`; only the base URL is local. The local Slack keeps its
workspace in memory, so each start is a fresh workspace, and the sandbox clears its
own Redis keys (prefix `warroom-sandbox`) at start: no incident of an earlier run
points at a channel that no longer exists.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import bot
from bot.core.clock import SystemClock
from bot.settings import WarroomConfig, load_config, parse_config
from bot.store.connection import connect
from bot.store.embedded import EmbeddedRedis, free_port

from .estate import Behaviour, Estate
from .local import LocalSlack
from .page_api import PageApi, PageInfo
from .scopes import scopes_from_manifest

LOOPBACK = "127.0.0.1"
KEY_PREFIX = "warroom-sandbox"
DATA_SUBDIR = "sandbox"
DEMO_CONFIG = "demo.yml"

#: `oauth_config.scopes.bot` of manifest.yml, for an installed package without the repo.
#: tests/test_sandbox_quickstart.py checks that it matches the manifest.
MANIFEST_SCOPES = frozenset({
    "commands", "chat:write", "chat:write.public", "im:write", "channels:history",
    "files:write", "reactions:read", "channels:manage", "pins:write", "usergroups:read",
    "users:read",
})

#: The demo estate: service -> how its /health answers.
DEMO_ESTATE = {
    "auth": Behaviour.failing,
    "checkout": Behaviour.failing,
    "search": Behaviour.healthy,
    "recommendations": Behaviour.hanging,
    "gateway": Behaviour.healthy,
}
DEMO_REASONS = {
    "auth": "connection refused: postgres:5432",
    "checkout": "upstream auth returned 503; connection refused: postgres:5432",
}


def manifest_path() -> Path | None:
    """manifest.yml beside the package (a repo checkout or an editable install)."""
    candidate = Path(bot.__file__).resolve().parent.parent / "manifest.yml"
    return candidate if candidate.is_file() else None


def sandbox_scopes() -> set[str]:
    """The bot scopes the local Slack grants: the manifest's, as a real install would."""
    path = manifest_path()
    if path is not None:
        try:
            found = scopes_from_manifest(path)
        except Exception:  # an unreadable manifest: the embedded copy is the same list
            found = set()
        if found:
            return found
    return set(MANIFEST_SCOPES)


def demo_config_text(*, estate_url: str, redis_url: str, postgres_port: int) -> str:
    """demo.yml with the ports of this run filled in."""
    text = resources.files("bot.sandbox").joinpath(DEMO_CONFIG).read_text(encoding="utf-8")
    return (text.replace("{estate}", estate_url).replace("{redis_url}", redis_url)
            .replace("{postgres_port}", str(postgres_port)))


def ladder_of(config: WarroomConfig, slack: LocalSlack) -> list[dict[str, Any]]:
    """Who is on each escalation level (groups expanded), for the page's user switcher."""
    ws = slack.workspace
    out = []
    for level in config.to_policy().escalation.levels:
        users: list[str] = []
        for contact in level.notify:
            group = ws.usergroups.get(contact)
            users.extend(group.users if group else [contact])
        out.append({"name": level.name, "after": level.after.total_seconds() if level.after else None,
                    "notify": list(level.notify), "users": list(dict.fromkeys(users))})
    return out


@dataclass
class Sandbox:
    """One running sandbox; `await start()`, then `await stop()` (also on failure)."""

    port: int = 8080
    speed: float = 1.0
    config_path: Path | None = None
    data_dir: Path = Path("warroom-data")
    host: str = LOOPBACK

    redis: EmbeddedRedis | None = None
    estate: Estate | None = None
    slack: LocalSlack | None = None
    bot: Any = None
    page: PageApi | None = None
    config: WarroomConfig | None = None
    clock: SystemClock | None = None
    _started: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.page.port if self.page else self.port}/"

    @property
    def redis_data_dir(self) -> Path:
        """Under WARROOM_DATA_DIR, apart from `warroom serve`'s own AOF files."""
        return Path(self.data_dir) / DATA_SUBDIR

    async def start(self) -> "Sandbox":
        from bot.app import build_bot

        if self.host != LOOPBACK:
            raise ValueError("the sandbox binds 127.0.0.1 only")
        if not self.speed > 0:
            raise ValueError("--speed must be more than 0")
        try:
            # started from the loop's (main) thread: redis-server then dies with the sandbox,
            # even on kill -9 (PR_SET_PDEATHSIG follows the creating thread)
            self.redis = EmbeddedRedis(self.redis_data_dir).start()
            redis_url = self.redis.url
            await self._forget_earlier_runs(redis_url)

            if self.config_path is None:
                self.estate = Estate()
                for name, behaviour in DEMO_ESTATE.items():
                    self.estate.add(name, behaviour, reason=DEMO_REASONS.get(name, "connection refused"))
                await self.estate.start()
                text = demo_config_text(estate_url=f"http://{LOOPBACK}:{self.estate.port}",
                                        redis_url=redis_url, postgres_port=free_port())
                self.config = parse_config(text, source="demo.yml")
            else:
                self.config = load_config(self.config_path)
                # a fake Slack must never run real remediation against real services
                self.config = self.config.model_copy(update={
                    "remediation": self.config.remediation.model_copy(update={"dry_run": True})})

            self.slack = await LocalSlack.start(scopes=sandbox_scopes(),
                                                signing_secret=secrets.token_hex(16))
            # Slack posts about one message a second per channel, with short bursts.
            self.slack.web_api.set_post_rate(burst=20, per_second=1.0)
            self.clock = SystemClock(speed=self.speed)
            self.bot = build_bot(token=self.slack.bot_token, signing_secret=self.slack.signing_secret,
                                 api_url=self.slack.api_url, redis=connect(redis_url),
                                 policy=self.config.to_policy(), clock=self.clock,
                                 key_prefix=KEY_PREFIX, config=self.config)
            await self.bot.check_auth()
            bot_port = await self.bot.start(host=LOOPBACK, port=0, socket_mode=False)
            self.slack.set_request_url(f"http://{LOOPBACK}:{bot_port}/slack/events")

            info = PageInfo(speed=self.speed, announce=self.config.channels.announce,
                            prefix=self.config.channels.prefix,
                            config_source=str(self.config_path) if self.config_path else "demo",
                            ladder=ladder_of(self.config, self.slack),
                            services=[s.name for s in self.config.services])
            self.page = PageApi(self.slack, clock=self.clock, info=info)
            await self.page.start(host=self.host, port=self.port)
        except BaseException:
            await self.stop()
            raise
        return self

    async def _forget_earlier_runs(self, url: str) -> None:
        client = connect(url)
        try:
            keys = [k async for k in client.scan_iter(f"{KEY_PREFIX}:*", count=1000)]
            for i in range(0, len(keys), 500):
                await client.delete(*keys[i:i + 500])
        finally:
            await client.aclose()

    async def stop(self) -> None:
        """Stop everything, last started first; redis-server (a child, by PID) last."""
        page, self.page = self.page, None
        if page is not None:
            await _quietly(page.stop())
        bot_, self.bot = self.bot, None
        if bot_ is not None:
            await _quietly(bot_.stop())
        slack, self.slack = self.slack, None
        if slack is not None:
            await _quietly(slack.stop())
        estate, self.estate = self.estate, None
        if estate is not None:
            await _quietly(estate.stop())
        redis, self.redis = self.redis, None
        if redis is not None:
            await asyncio.to_thread(redis.stop)


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception:  # stopping: keep stopping the rest
        pass
