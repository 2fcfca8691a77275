"""Composition root: the only place that builds concrete adapters."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import redis.asyncio as aioredis
import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import (AsyncConnectionErrorRetryHandler,
                                                         AsyncRateLimitErrorRetryHandler,
                                                         AsyncServerErrorRetryHandler)
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.catalog import Catalog
from bot.core.clock import Clock, SystemClock
from bot.core.policy import Policy
from bot.core.ports import Deps, Prober
from bot.metrics import Metrics
from bot.slack.listeners import register
from bot.slack.war_room import SlackWarRoom
from bot.paging import PAGERDUTY_EVENTS_URL, HttpPager
from bot.store.incidents import RedisIncidentStore
from bot.store.keys import Keys
from bot.store.schedule import QueueTimers
from bot.store.timers import Job, RedisTimerQueue
from bot.timers import TimerLoop

log = structlog.get_logger(__name__)
RATE_LIMIT_RETRIES = 10  # honours Retry-After each time; slack_sdk's default is 1


def web_client(*, token: str, base_url: str,
               session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """One shared aiohttp session (keep-alive: no new TLS handshake per call)."""
    return AsyncWebClient(
        token=token, base_url=base_url, timeout=10, session=session,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncConnectionErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass(kw_only=True)
class Bot:
    """One running warroom: Bolt app, adapters, and the HTTP server around them."""

    deps: Deps
    war_room: SlackWarRoom
    store: RedisIncidentStore
    redis: aioredis.Redis
    client: AsyncWebClient
    token: str
    bolt: AsyncApp | None = None
    session: aiohttp.ClientSession | None = None
    socket_handler: Any = None
    auth_ok: bool = False
    auth_result: AuthorizeResult | None = None
    monitoring_interval: timedelta | None = None
    timer_loop: Any = None
    pager_http: Any = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    runner: web.AppRunner | None = None
    port: int | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)

    # ------------------------------------------------------------ HTTP
    def web_app(self, *, http_events: bool) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self.metrics.handle)
        if http_events:
            app.router.add_post("/slack/events", self._events)
        return app

    async def _events(self, request: web.Request) -> web.Response:
        assert self.bolt is not None
        bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readiness(self) -> dict[str, bool]:
        checks = {"redis": await self.store.ping(), "slack_auth": self.auth_ok}
        if self.socket_handler is not None:
            checks["socket"] = bool(await self.socket_handler.client.is_connected())
        return checks

    async def _readyz(self, _: web.Request) -> web.Response:
        checks = await self.readiness()
        ok = all(checks.values())
        return web.json_response({"ok": ok, **checks}, status=200 if ok else 503)

    # ------------------------------------------------------------ lifecycle
    async def check_auth(self) -> dict[str, Any]:
        response = await self.client.auth_test()
        self.auth_ok = bool(response.get("ok"))
        self.auth_result = AuthorizeResult.from_auth_test_response(
            auth_test_response=response, bot_token=self.token)
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def authorize(self) -> AuthorizeResult:
        """Bolt's authorize: the start-up auth.test, so no request waits for another one."""
        if self.auth_result is None:
            await self.check_auth()
        assert self.auth_result is not None
        return self.auth_result

    async def start(self, *, host: str, port: int, socket_mode: bool, app_token: str | None = None,
                    api_url: str | None = None) -> int:
        self.runner = web.AppRunner(self.web_app(http_events=not socket_mode),
                                    access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # noqa: SLF001
        self.port = sockets[0].getsockname()[1] if sockets else port
        if self.timer_loop is not None:
            self._stop.clear()
            self._tasks.append(asyncio.create_task(self.timer_loop.run(self._stop)))
        if self.monitoring_interval and self.deps.prober is not None:
            self._tasks.append(asyncio.create_task(self._monitor_loop(self.monitoring_interval)))
        if socket_mode:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            assert app_token
            handler_client = AsyncWebClient(base_url=api_url or self.client.base_url)
            self.socket_handler = AsyncSocketModeHandler(self.bolt, app_token,
                                                         web_client=handler_client)
            await self.socket_handler.connect_async()
        return self.port

    async def _monitor_loop(self, interval: timedelta) -> None:
        from commands import monitor

        poll = min(max(interval.total_seconds() / 10, 0.5), 10.0)
        while True:
            try:
                await monitor.run(self.deps, interval=interval)
            except Exception:  # keep monitoring whatever one pass hit
                log.exception("monitor.pass_failed")
            await asyncio.sleep(poll)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.socket_handler is not None:
            await self.socket_handler.close_async()
        await self.war_room.drain()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.session is not None:
            await self.session.close()
        if self.pager_http is not None:
            await self.pager_http.aclose()
        await self.redis.aclose()


def timer_handlers(deps: Deps) -> dict[str, Any]:
    """Timer job kind -> the use case that handles it."""
    from bot.core.escalation import KIND_BREACH, KIND_ESCALATE, KIND_REMIND
    from commands import breach, escalate, remind

    def call(module: Any) -> Any:
        async def handle(job: Job) -> None:
            await module.on_timer(job.incident_id, job.token, deps)
        return handle

    return {KIND_ESCALATE: call(escalate), KIND_REMIND: call(remind), KIND_BREACH: call(breach)}


def build_prober(config: Any, *, clock: Clock) -> Prober | None:
    """The real prober for a WarroomConfig's services catalog (None without services)."""
    from bot.probes.prober import Prober as RealProber

    if not config.services:
        return None
    return RealProber(catalog=config.to_catalog(),
                      checks={s.name: list(s.checks) for s in config.services}, clock=clock,
                      docker=config.docker, kubernetes=config.kubernetes,
                      prometheus=config.prometheus, concurrency=config.probes.concurrency)


def build_bot(*, token: str, signing_secret: str | None, api_url: str, redis: aioredis.Redis,
              policy: Policy, clock: Clock | None = None, key_prefix: str = "warroom",
              config: Any = None) -> Bot:
    """`config` (a WarroomConfig) brings the services catalog and probe settings."""
    clock = clock or SystemClock()
    session = aiohttp.ClientSession()
    client = web_client(token=token, base_url=api_url, session=session)
    store = RedisIncidentStore(redis, keys=Keys(prefix=key_prefix))
    metrics = Metrics(open_incidents=store.list_open, severities=policy.severity_names())
    from bot.render import Templates

    templates = Templates(Path(config.templates) if config is not None and config.templates
                          else None, policy=policy,
                          slos=config.slos() if config is not None else None)
    remediator = None
    if config is not None and any(s.actions for s in config.services):
        from bot.actions.remediator import ActionRemediator

        remediator = ActionRemediator(
            actions={s.name: list(s.actions) for s in config.services}, clock=clock,
            settings=config.remediation, docker=config.docker, kubernetes=config.kubernetes,
            prometheus=config.prometheus)
    war_room = SlackWarRoom(client, store=store, clock=clock, policy=policy, templates=templates,
                            actions=remediator.actions_for if remediator else None,
                            on_error=metrics.slack_error)
    prober = build_prober(config, clock=clock) if config is not None else None
    catalog = config.to_catalog() if config is not None else Catalog()
    queue = RedisTimerQueue(redis, keys=Keys(prefix=key_prefix))
    pager_http = httpx.AsyncClient()
    pager = HttpPager(pager_http, severity_rank=policy.rank,
                      pagerduty_url=config.paging.pagerduty_url if config is not None
                      else PAGERDUTY_EVENTS_URL)
    deps = Deps(store=store, chat=war_room, clock=clock, policy=policy, catalog=catalog,
                prober=prober, timers=QueueTimers(queue), pager=pager, templates=templates,
                remediator=remediator,
                metrics=metrics)
    timer_loop = TimerLoop(queue, clock=clock, handlers=timer_handlers(deps),
                           on_fired=metrics.timer_fired)
    bot = Bot(deps=deps, war_room=war_room, store=store, redis=redis, client=client,
              token=token, session=session, timer_loop=timer_loop, pager_http=pager_http,
              metrics=metrics,
              monitoring_interval=config.probes.monitoring_interval if config is not None else None)

    async def authorize(**_: Any) -> AuthorizeResult:  # bolt passes args by name: a plain fn
        return await bot.authorize()

    bot.bolt = AsyncApp(
        client=client, signing_secret=signing_secret, authorize=authorize,
        request_verification_enabled=signing_secret is not None,
        raise_error_for_unhandled_request=False,
    )
    register(bot.bolt, deps, war_room=war_room,
             probe_on_declare=config.probes.on_declare if config is not None else True)
    return bot
