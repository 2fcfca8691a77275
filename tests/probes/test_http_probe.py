"""The HTTP probe against real aiohttp servers on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from aiohttp import web

from tests.fixtures.probe_context import ctx  # noqa: F401
from bot.core.probe import FACT_CONNECTION_REFUSED, FACT_HEALTH, FACT_HTTP_STATUS, \
    FACT_LATENCY_MS, ProbeStatus
from bot.probes import http
from bot.probes.checks import HttpCheck
from bot.store.embedded import free_port

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)

ACTUATOR_DOWN = {
    "status": "DOWN",
    "components": {
        "db": {"status": "DOWN", "details": {
            "database": "PostgreSQL",
            "error": "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to "
                     "obtain JDBC Connection; jdbc:postgresql://orders:hunter2@db:5432/orders"}},
        "diskSpace": {"status": "UP", "details": {"total": 1000, "free": 900}},
        "redis": {"status": "DOWN", "components": {
            "primary": {"status": "DOWN", "details": {"error": "RedisConnectionFailureException"}},
            "replica": {"status": "UP", "details": {"version": "7.2.4"}},
        }},
        "ping": {"status": "UP"},
    },
}
ACTUATOR_UP = {"status": "UP", "components": {"db": {"status": "UP"}, "ping": {"status": "UP"}}}
ACTUATOR_OUT_OF_SERVICE = {"status": "OUT_OF_SERVICE",
                           "components": {"readinessState": {"status": "OUT_OF_SERVICE"}}}
ACTUATOR_2_0 = {"status": "DOWN", "details": {"mongo": {"status": "DOWN", "details": {
    "error": "MongoTimeoutException"}}, "diskSpace": {"status": "UP", "details": {}}}}


class Site:
    def __init__(self) -> None:
        self.hang = asyncio.Event()
        self.seen_headers: dict[str, str] = {}
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> "Site":
        app = web.Application()
        app.router.add_route("*", "/ok", self.ok)
        app.router.add_get("/unavailable", self.unavailable)
        app.router.add_get("/big", self.big)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/hang", self.hanging)
        app.router.add_get("/needs-header", self.needs_header)
        app.router.add_get("/redirect", self.redirect)
        app.router.add_get("/actuator/{name}", self.actuator)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self.hang.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def ok(self, request: web.Request) -> web.Response:
        self.seen_headers = dict(request.headers)
        return web.Response(text=f"{request.method} ok")

    async def unavailable(self, _: web.Request) -> web.Response:
        return web.Response(status=503, text="upstream connect error: pool exhausted\n"
                                             "retry with token=s3cr3t-t0ken-value later")

    async def big(self, _: web.Request) -> web.Response:
        return web.Response(status=500, text="x" * 5000)

    async def slow(self, _: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return web.Response(text="finally")

    async def hanging(self, _: web.Request) -> web.Response:
        await self.hang.wait()
        return web.Response(text="too late")

    async def needs_header(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Probe") != "warroom":
            return web.Response(status=403, text="forbidden")
        return web.Response(text="hello warroom")

    async def redirect(self, _: web.Request) -> web.Response:
        raise web.HTTPFound("/ok")

    async def actuator(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        doc, status = {
            "down": (ACTUATOR_DOWN, 503),
            "down-200": (ACTUATOR_DOWN, 200),
            "up": (ACTUATOR_UP, 200),
            "out-of-service": (ACTUATOR_OUT_OF_SERVICE, 503),
            "unknown": ({"status": "UNKNOWN"}, 200),
            "boot2": (ACTUATOR_2_0, 503),
        }[name]
        return web.Response(status=status, text=json.dumps(doc),
                            content_type="application/vnd.spring-boot.actuator.v3+json")


@pytest.fixture
async def site():
    s = await Site().start()
    yield s
    await s.stop()


def check(url: str, **kw) -> HttpCheck:
    return HttpCheck(url=url, **kw)


def all_text(result) -> str:
    return result.model_dump_json()


async def test_http_200_is_ok_with_status_and_latency(site, ctx):
    result = await http.probe(check(f"{site.url}/ok"), ctx=ctx)
    assert result.status is ProbeStatus.ok
    assert result.kind == "http" and result.target == f"{site.url}/ok"
    assert result.facts[FACT_HTTP_STATUS] == 200
    assert result.facts[FACT_LATENCY_MS] >= 0
    assert result.summary.startswith("200 in ") and result.summary.endswith(" ms")
    assert result.observed_at == T0
    assert 0 < result.elapsed_ms < 2000
    assert result.evidence == []


async def test_http_503_is_down_with_body_snippet(site, ctx):
    result = await http.probe(check(f"{site.url}/unavailable"), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert result.summary.startswith("503 in ")
    assert result.facts[FACT_HTTP_STATUS] == 503
    assert "expected HTTP 200, got 503" in result.evidence
    body = [line for line in result.evidence if line.startswith("body: ")]
    assert body and "upstream connect error: pool exhausted" in body[0]


async def test_http_body_snippet_is_redacted(site, ctx):
    result = await http.probe(check(f"{site.url}/unavailable"), ctx=ctx)
    assert "s3cr3t-t0ken-value" not in all_text(result)
    assert any("token=***" in line for line in result.evidence)


async def test_http_body_snippet_is_at_most_500_chars(site, ctx):
    result = await http.probe(check(f"{site.url}/big"), ctx=ctx)
    assert result.status is ProbeStatus.down
    body = [line for line in result.evidence if line.startswith("body: ")][0]
    assert len(body.removeprefix("body: ")) <= 500


async def test_http_other_expected_status_is_down_when_not_matched(site, ctx):
    result = await http.probe(check(f"{site.url}/ok", expect_status=204), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert "expected HTTP 204, got 200" in result.evidence


async def test_http_redirect_is_not_followed(site, ctx):
    result = await http.probe(check(f"{site.url}/redirect"), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert result.facts[FACT_HTTP_STATUS] == 302
    assert (await http.probe(check(f"{site.url}/redirect", expect_status=302), ctx=ctx)).status \
        is ProbeStatus.ok


async def test_http_sends_the_checks_headers_and_method(site, ctx):
    assert (await http.probe(check(f"{site.url}/needs-header"), ctx=ctx)).status \
        is ProbeStatus.down
    result = await http.probe(check(f"{site.url}/needs-header", headers={"X-Probe": "warroom"}),
                              ctx=ctx)
    assert result.status is ProbeStatus.ok
    for method in ("HEAD", "POST"):
        result = await http.probe(check(f"{site.url}/ok", method=method), ctx=ctx)
        assert result.status is ProbeStatus.ok, result
        assert result.target == f"{method} {site.url}/ok"


async def test_http_slower_than_max_latency_is_degraded(site, ctx):
    result = await http.probe(check(f"{site.url}/slow", max_latency="100ms"), ctx=ctx)
    assert result.status is ProbeStatus.degraded
    assert result.facts[FACT_LATENCY_MS] >= 300
    assert "slower than 100 ms" in result.summary
    assert any("over the 100 ms limit" in line for line in result.evidence)


async def test_http_within_max_latency_is_ok(site, ctx):
    result = await http.probe(check(f"{site.url}/slow", max_latency="2s"), ctx=ctx)
    assert result.status is ProbeStatus.ok


async def test_http_no_answer_is_timeout_within_the_timeout(site, ctx):
    result = await http.probe(check(f"{site.url}/hang", timeout="500ms"), ctx=ctx)
    assert result.status is ProbeStatus.timeout
    assert result.summary == "no answer in 500 ms"
    assert result.elapsed_ms < 500 + 1000


async def test_http_closed_port_is_down_and_refused(ctx):
    url = f"http://127.0.0.1:{free_port()}/health"
    result = await http.probe(check(url), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert result.summary == "refused"
    assert result.facts[FACT_CONNECTION_REFUSED] is True
    assert result.evidence and result.evidence[0].startswith("could not connect")


async def test_http_actuator_down_names_each_failing_component_with_details(site, ctx):
    result = await http.probe(check(f"{site.url}/actuator/down"), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert result.facts[FACT_HTTP_STATUS] == 503
    assert result.facts[FACT_HEALTH] == "unhealthy"
    assert "health DOWN (db, redis, redis/primary)" in result.summary
    evidence = "\n".join(result.evidence)
    assert "actuator health: DOWN" in evidence
    assert "db: DOWN — database=PostgreSQL, error=org.springframework.jdbc." in evidence
    assert "redis/primary: DOWN — error=RedisConnectionFailureException" in evidence
    assert "diskSpace" not in evidence.split("body: ")[0]
    assert "redis/replica" not in evidence
    assert "hunter2" not in all_text(result)


async def test_http_actuator_down_with_200_is_still_down(site, ctx):
    result = await http.probe(check(f"{site.url}/actuator/down-200"), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert any(line.startswith("db: DOWN") for line in result.evidence)


async def test_http_actuator_out_of_service_is_down(site, ctx):
    result = await http.probe(check(f"{site.url}/actuator/out-of-service"), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert "readinessState: OUT_OF_SERVICE" in result.evidence


async def test_http_actuator_up_is_ok_and_healthy(site, ctx):
    result = await http.probe(check(f"{site.url}/actuator/up"), ctx=ctx)
    assert result.status is ProbeStatus.ok
    assert result.facts[FACT_HEALTH] == "healthy"


async def test_http_actuator_unknown_is_degraded(site, ctx):
    result = await http.probe(check(f"{site.url}/actuator/unknown"), ctx=ctx)
    assert result.status is ProbeStatus.degraded
    assert "health UNKNOWN" in result.summary


async def test_http_actuator_boot_2_0_details_are_understood(site, ctx):
    result = await http.probe(check(f"{site.url}/actuator/boot2"), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert "mongo: DOWN — error=MongoTimeoutException" in result.evidence


async def test_http_target_and_evidence_hide_url_credentials(ctx):
    url = f"http://admin:pa55word@127.0.0.1:{free_port()}/health?api_key=k3y-value&x=1"
    result = await http.probe(check(url), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert "pa55word" not in all_text(result) and "k3y-value" not in all_text(result)
    assert result.target.startswith("http://admin@127.0.0.1:")
    assert result.target.endswith("/health?x=1")


async def test_http_probe_error_is_a_result_not_an_exception(ctx):
    result = await http.probe(check("http://[not-an-address/health"), ctx=ctx)  # unusable URL
    assert result.status is ProbeStatus.error
    assert result.summary.startswith("probe failed")
