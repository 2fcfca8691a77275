"""The RabbitMQ probe against the session's real RabbitMQ node (management API).

Each test works in its own vhost, so queues from other tests never count. A small
aiohttp server stands in for RabbitMQ versions older than the node installed here
(no /api/health/checks/alarms) and for queue shapes that need AMQP consumers.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from aiohttp import web

from tests.fixtures.probe_context import ctx  # noqa: F401
from bot.core.probe import FACT_CONNECTION_REFUSED, FACT_CONSUMERS, FACT_LATENCY_MS, \
    FACT_QUEUE_DEPTH, ProbeStatus
from bot.probes import rabbitmq
from bot.probes.checks import RabbitmqCheck
from bot.store.embedded import free_port

# Until tests/conftest.py lists "tests.fixtures.rabbitmq" in pytest_plugins.
from tests.fixtures.rabbitmq import rabbitmq_server  # noqa: F401

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)


@pytest.fixture
def vhost(rabbitmq_server):
    name = f"t-{uuid.uuid4().hex[:8]}"
    rabbitmq_server.create_vhost(name)
    yield name
    rabbitmq_server.delete_vhost(name)


def all_text(result) -> str:
    return result.model_dump_json()


async def test_rabbitmq_healthy_node_with_empty_queues_is_ok(rabbitmq_server, vhost, ctx):
    rabbitmq_server.create_queue("orders", vhost=vhost)
    rabbitmq_server.create_queue("emails", vhost=vhost)
    result = await rabbitmq.probe(
        RabbitmqCheck(management_url=rabbitmq_server.management_url, vhost=vhost), ctx=ctx)
    assert result.status is ProbeStatus.ok, result
    assert result.kind == "rabbitmq" and result.target == rabbitmq_server.management_url
    assert result.summary.startswith("node ok in ") and result.summary.endswith("2 queues")
    assert result.facts[FACT_QUEUE_DEPTH] == 0
    assert FACT_CONSUMERS not in result.facts  # no queue holds messages
    assert result.facts[FACT_LATENCY_MS] >= 0
    assert result.observed_at == T0


async def test_rabbitmq_queue_with_messages_and_no_consumer_is_degraded(rabbitmq_server, vhost,
                                                                         ctx):
    rabbitmq_server.create_queue("orders", vhost=vhost)
    rabbitmq_server.create_queue("idle", vhost=vhost)
    rabbitmq_server.publish("orders", 3, vhost=vhost)
    rabbitmq_server.wait_for_messages(vhost, {"orders": 3, "idle": 0})
    result = await rabbitmq.probe(
        RabbitmqCheck(management_url=rabbitmq_server.management_url, vhost=vhost), ctx=ctx)
    assert result.status is ProbeStatus.degraded
    assert result.facts[FACT_QUEUE_DEPTH] == 3
    assert result.facts[FACT_CONSUMERS] == 0
    assert result.evidence == [
        f"queue orders on vhost {vhost}: 3 messages, 0 consumers (no consumers)"]
    assert "orders" in result.summary


async def test_rabbitmq_queues_over_max_depth_are_named_deepest_first(rabbitmq_server, vhost, ctx):
    for name, count in (("small", 3), ("big", 5), ("empty", 0)):
        rabbitmq_server.create_queue(name, vhost=vhost)
        rabbitmq_server.publish(name, count, vhost=vhost)
    rabbitmq_server.wait_for_messages(vhost, {"small": 3, "big": 5, "empty": 0})
    result = await rabbitmq.probe(
        RabbitmqCheck(management_url=rabbitmq_server.management_url, vhost=vhost,
                      max_queue_depth=2), ctx=ctx)
    assert result.status is ProbeStatus.degraded
    assert result.facts[FACT_QUEUE_DEPTH] == 5
    assert [line.split(":")[0] for line in result.evidence] == [
        f"queue big on vhost {vhost}", f"queue small on vhost {vhost}"]
    assert "over 2" in result.evidence[0]
    assert result.summary == "2 queues backing up, deepest big at 5"


async def test_rabbitmq_evidence_names_at_most_ten_queues(rabbitmq_server, vhost, ctx):
    expected = {}
    for i in range(12):
        name = f"q{i:02d}"
        rabbitmq_server.create_queue(name, vhost=vhost)
        rabbitmq_server.publish(name, 1 + (i == 7), vhost=vhost)
        expected[name] = 1 + (i == 7)
    rabbitmq_server.wait_for_messages(vhost, expected)
    result = await rabbitmq.probe(
        RabbitmqCheck(management_url=rabbitmq_server.management_url, vhost=vhost), ctx=ctx)
    assert result.status is ProbeStatus.degraded
    assert len(result.evidence) == 11
    assert result.evidence[0].startswith(f"queue q07 on vhost {vhost}: 2 messages")
    assert result.evidence[-1] == "… and 2 more"


async def test_rabbitmq_credentials_in_the_url_win_and_are_hidden(rabbitmq_server, vhost, ctx):
    url = rabbitmq_server.management_url.replace("http://", "http://guest:guest@")
    result = await rabbitmq.probe(
        RabbitmqCheck(management_url=url, username="nobody", password="Not-This-One-9",
                      vhost=vhost), ctx=ctx)
    assert result.status is ProbeStatus.ok, result
    assert result.target == rabbitmq_server.management_url.replace("http://", "http://guest@")
    assert ":guest@" not in all_text(result) and "Not-This-One-9" not in all_text(result)


async def test_rabbitmq_wrong_password_is_error_401(rabbitmq_server, ctx):
    result = await rabbitmq.probe(
        RabbitmqCheck(management_url=rabbitmq_server.management_url, password="Wr0ng-Mq-8"),
        ctx=ctx)
    assert result.status is ProbeStatus.error
    assert "401" in result.summary
    assert "Wr0ng-Mq-8" not in all_text(result)


async def test_rabbitmq_alarm_in_effect_is_down_and_names_the_alarm(rabbitmq_server, vhost, ctx):
    check = RabbitmqCheck(management_url=rabbitmq_server.management_url, vhost=vhost)
    rabbitmq_server.ctl("set_disk_free_limit", "1000000GB")  # more than any disk: disk alarm
    try:
        deadline = time.monotonic() + 15
        while (result := await rabbitmq.probe(check, ctx=ctx)).status is ProbeStatus.ok \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        rabbitmq_server.ctl("set_disk_free_limit", "50MB")
        deadline = time.monotonic() + 15  # the alarm clears at the next disk check
        while (await rabbitmq.probe(check, ctx=ctx)).status is not ProbeStatus.ok \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    assert result.status is ProbeStatus.down
    assert result.summary.startswith("node check failed")
    assert f"alarm: disk space on {rabbitmq_server.nodename}" in result.evidence


async def test_rabbitmq_closed_port_is_down_and_refused(ctx):
    result = await rabbitmq.probe(
        RabbitmqCheck(management_url=f"http://127.0.0.1:{free_port()}"), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert result.summary == "refused"
    assert result.facts[FACT_CONNECTION_REFUSED] is True


# --- against a stand-in management API -----------------------------------------------------

class FakeManagement:
    """Answers like RabbitMQ's management API would, from canned documents."""

    def __init__(self, *, alarms_endpoint: bool, node: dict, node_status: int = 200,
                 queues: list[dict] | None = None, hang: bool = False) -> None:
        self.alarms_endpoint, self.node, self.node_status = alarms_endpoint, node, node_status
        self.queues, self.hang = queues or [], hang
        self.released = asyncio.Event()
        self.auth: list[str] = []
        self.paths: list[str] = []

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        self.released.set()
        await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        self.auth.append(request.headers.get("Authorization", ""))
        if self.hang:
            await self.released.wait()
        if request.path == "/api/health/checks/alarms" and not self.alarms_endpoint:
            return web.json_response({"error": "Object Not Found", "reason": "Not Found"},
                                     status=404)
        if request.path in ("/api/health/checks/alarms", "/api/healthchecks/node"):
            return web.json_response(self.node, status=self.node_status)
        if request.path.startswith("/api/queues"):
            return web.json_response(self.queues)
        return web.json_response({"error": "Object Not Found"}, status=404)


@pytest.fixture
async def fake():
    servers: list[FakeManagement] = []

    async def start(**kw) -> tuple[FakeManagement, str]:
        server = FakeManagement(**kw)
        servers.append(server)
        return server, await server.start()

    yield start
    for server in servers:
        await server.stop()


async def test_rabbitmq_old_versions_use_the_healthchecks_node_endpoint(fake, ctx):
    server, url = await fake(alarms_endpoint=False, node={"status": "ok"},
                             queues=[{"name": "a", "vhost": "/", "messages": 0, "consumers": 0}])
    result = await rabbitmq.probe(RabbitmqCheck(management_url=url), ctx=ctx)
    assert result.status is ProbeStatus.ok, result
    assert server.paths == ["/api/health/checks/alarms", "/api/healthchecks/node", "/api/queues"]
    assert all(a.startswith("Basic ") for a in server.auth)


async def test_rabbitmq_old_node_check_failure_is_down_with_reason(fake, ctx):
    _, url = await fake(alarms_endpoint=False, node_status=200, node={
        "status": "failed", "reason": "resource alarm(s) in effect:[{resource_limit,memory,"
                                      "'rabbit@mq-0'}]"})
    result = await rabbitmq.probe(RabbitmqCheck(management_url=url), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert "resource_limit,memory" in result.summary
    assert any("resource_limit,memory" in line for line in result.evidence)


async def test_rabbitmq_consumers_fact_is_the_minimum_over_queues_with_messages(fake, ctx):
    _, url = await fake(alarms_endpoint=True, node={"status": "ok"}, queues=[
        {"name": "orders", "vhost": "shop", "messages": 40, "consumers": 3},
        {"name": "emails", "vhost": "shop", "messages": 7, "consumers": 1},
        {"name": "audit", "vhost": "shop", "messages": 0, "consumers": 0},
        {"name": "fresh", "vhost": "shop"},  # just declared: no stats yet
    ])
    result = await rabbitmq.probe(RabbitmqCheck(management_url=url + "/", vhost="shop"), ctx=ctx)
    assert result.status is ProbeStatus.ok, result
    assert result.facts[FACT_CONSUMERS] == 1
    assert result.facts[FACT_QUEUE_DEPTH] == 40


async def test_rabbitmq_vhost_filter_is_sent_url_encoded(fake, ctx):
    server, url = await fake(alarms_endpoint=True, node={"status": "ok"})
    await rabbitmq.probe(RabbitmqCheck(management_url=url, vhost="/"), ctx=ctx)
    await rabbitmq.probe(RabbitmqCheck(management_url=url + "/api/", vhost="prod/eu"), ctx=ctx)
    assert "/api/queues/%2F" in server.paths or "/api/queues//" in server.paths
    assert server.paths[-1] in ("/api/queues/prod%2Feu", "/api/queues/prod/eu")


async def test_rabbitmq_unanswered_request_is_timeout_within_the_timeout(fake, ctx):
    _, url = await fake(alarms_endpoint=True, node={"status": "ok"}, hang=True)
    result = await rabbitmq.probe(RabbitmqCheck(management_url=url, timeout="400ms"), ctx=ctx)
    assert result.status is ProbeStatus.timeout
    assert result.summary == "no answer in 400 ms"
    assert result.elapsed_ms < 400 + 1000


async def test_rabbitmq_non_json_answer_is_error(ctx):
    async def html(_: web.Request) -> web.Response:
        return web.Response(text="<html>not rabbit</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", html)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        result = await rabbitmq.probe(RabbitmqCheck(management_url=url), ctx=ctx)
    finally:
        await runner.cleanup()
    assert result.status is ProbeStatus.error
    assert json.dumps(result.evidence)  # evidence is plain strings
