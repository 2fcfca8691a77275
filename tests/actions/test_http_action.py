"""http_post against a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from tests.fixtures.probe_context import ctx  # noqa: F401
from bot.actions import executor
from bot.actions.models import ActionRefused, HttpPostAction
from bot.store.embedded import free_port

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Breaker:
    """A service with a circuit-breaker reset endpoint (seed 004's reset URL)."""

    url: str = ""
    requests: list[Seen] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def start(self) -> "Breaker":
        app = web.Application()
        app.router.add_post("/admin/breaker/reset", self.reset)
        app.router.add_post("/broken", self.broken)
        app.router.add_post("/slow", self.slow)
        app.router.add_post("/moved", self.moved)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record(self, request: web.Request) -> None:
        raw = await request.text()
        self.requests.append(Seen(request.method, request.path, dict(request.headers),
                                  json.loads(raw) if raw else None))

    async def reset(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.json_response({"breaker": "closed"})

    async def broken(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=500, text=(
            "java.lang.IllegalStateException: breaker store unavailable; "
            "jdbc:postgresql://ops:hunter2@db:5432/ops token=abc123"))

    async def slow(self, request: web.Request) -> web.Response:
        await self._record(request)
        await asyncio.sleep(5)
        return web.Response(status=204)

    async def moved(self, request: web.Request) -> web.Response:
        await self._record(request)
        raise web.HTTPFound("/admin/breaker/reset")


@pytest.fixture
async def breaker():
    server = await Breaker().start()
    yield server
    await server.stop()


def post(url: str, **kwargs: Any) -> HttpPostAction:
    return HttpPostAction(url=url, **kwargs)


async def test_200_is_ok_and_the_post_carries_the_headers_and_json_body(breaker, ctx):
    action = post(f"{breaker.url}/admin/breaker/reset", headers={"X-Api-Key": "s3cret-key"},
                  body={"breaker": "payments", "force": True})

    plan = await executor.plan(action, service="checkout", ctx=ctx)

    assert plan.kind == "http_post" and plan.target == f"{breaker.url}/admin/breaker/reset"
    assert plan.description == (
        f"POST {breaker.url}/admin/breaker/reset with headers X-Api-Key and JSON body "
        '{"breaker": "payments", "force": true}; ok on HTTP 200, 201, 202, 204; '
        "gives up after 60s")
    assert "s3cret-key" not in plan.model_dump_json()
    assert breaker.requests == []  # planning sends nothing

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.ok and not result.dry_run, result
    assert result.summary.startswith("HTTP 200 in ")
    [seen] = breaker.requests
    assert (seen.method, seen.path) == ("POST", "/admin/breaker/reset")
    assert seen.headers["X-Api-Key"] == "s3cret-key"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.body == {"breaker": "payments", "force": True}


async def test_500_is_not_ok_with_a_redacted_body_snippet(breaker, ctx):
    action = post(f"{breaker.url}/broken")
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert not result.ok
    assert result.summary.startswith("HTTP 500 in ")
    assert result.summary.endswith("(expected 200, 201, 202, 204)")
    [snippet] = result.detail
    assert snippet.startswith("body: java.lang.IllegalStateException: breaker store unavailable")
    assert "jdbc:postgresql://ops:***@db:5432/ops" in snippet and "token=***" in snippet
    assert "hunter2" not in result.model_dump_json() and "abc123" not in result.model_dump_json()


async def test_expect_status_decides_what_is_ok(breaker, ctx):
    action = post(f"{breaker.url}/broken", expect_status=[500])
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.ok and result.detail == []


async def test_a_redirect_is_not_followed_and_not_ok(breaker, ctx):
    action = post(f"{breaker.url}/moved")
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert not result.ok and result.summary.startswith("HTTP 302 in ")
    assert [s.path for s in breaker.requests] == ["/moved"]


async def test_dry_run_sends_nothing(breaker, ctx):
    action = post(f"{breaker.url}/admin/breaker/reset")
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=True)

    assert result.ok and result.dry_run
    assert result.summary == (f"dry run - would run: POST {breaker.url}/admin/breaker/reset "
                              "with no body; ok on HTTP 200, 201, 202, 204; gives up after 60s")
    assert breaker.requests == []


async def test_no_answer_within_the_timeout_is_not_ok_and_returns_in_time(breaker, ctx):
    action = post(f"{breaker.url}/slow", timeout="300ms")
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    started = time.monotonic()
    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert time.monotonic() - started < 1.5
    assert not result.ok and result.summary == "no answer within 300ms"
    assert len(breaker.requests) == 1


async def test_refused_connection_is_not_ok(ctx):
    url = f"http://127.0.0.1:{free_port()}/reset"  # nothing listens here
    action = post(url)
    plan = await executor.plan(action, service="checkout", ctx=ctx)

    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert not result.ok and result.summary.startswith("request failed: ConnectError")


async def test_credentials_in_the_url_are_never_shown(breaker, ctx):
    url = breaker.url.replace("http://", "http://ops:hunter2@") + "/admin/breaker/reset"
    action = post(url + "?token=abc123")

    plan = await executor.plan(action, service="checkout", ctx=ctx)
    result = await executor.execute(action, plan, ctx=ctx, dry_run=False)

    assert result.ok, result
    shown = plan.model_dump_json() + result.model_dump_json() + str(action.name)
    assert "hunter2" not in shown and "abc123" not in shown
    assert plan.target == breaker.url.replace("http://", "http://ops@") + "/admin/breaker/reset"
    [seen] = breaker.requests
    assert seen.headers["Authorization"].startswith("Basic ")  # the credentials were sent


async def test_http_post_takes_no_parameters(ctx):
    with pytest.raises(ActionRefused) as caught:
        await executor.plan(post("http://127.0.0.1:9/x"), service="checkout", ctx=ctx,
                            params={"replicas": 3})

    assert caught.value.reason == "http_post takes no parameters (got replicas)"
