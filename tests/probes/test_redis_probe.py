"""The Redis probe against real redis-server processes on loopback.

The session `redis_server` (no maxmemory, no password) and a second server started here
with --maxmemory, --maxclients and --requirepass.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as sync_redis

from tests.fixtures.probe_context import ctx  # noqa: F401
from bot.core.probe import FACT_CONNECTION_REFUSED, FACT_CONNECTIONS_USED, FACT_LATENCY_MS, \
    FACT_MEMORY_USED, ProbeStatus
from bot.probes import redis as redis_probe
from bot.probes.checks import RedisCheck
from bot.store.embedded import find_redis_server, free_port

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)
PASSWORD = "r3dis-Pw-5e1f"
MAXMEMORY = 8 * 1024 * 1024
MAXCLIENTS = 10


class LimitedRedis:
    """redis-server with a password, a small maxmemory and a small maxclients."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir, self.port = data_dir, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, password: str | None = PASSWORD) -> str:
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> "LimitedRedis":
        binary = find_redis_server()
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
             "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--maxmemory", str(MAXMEMORY), "--maxmemory-policy", "noeviction",
             "--maxclients", str(MAXCLIENTS), "--requirepass", PASSWORD,
             "--logfile", str(self.data_dir / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server with limits did not start")

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def client(self) -> sync_redis.Redis:
        return sync_redis.Redis.from_url(self.url())


@pytest.fixture(scope="module")
def limited_redis(tmp_path_factory: pytest.TempPathFactory):
    server = LimitedRedis(tmp_path_factory.mktemp("redis-limited")).start()
    yield server
    server.stop()


@pytest.fixture
def memory_filled(limited_redis: LimitedRedis):
    """Fill the limited server to about 70% of maxmemory; remove the data afterwards."""
    client = limited_redis.client()
    try:
        i = 0
        while _memory_ratio(client) < 0.7:
            client.set(f"fill:{i}", b"x" * 256 * 1024)
            i += 1
        yield _memory_ratio(client)
    finally:
        client.flushall()
        client.close()


def _memory_ratio(client: sync_redis.Redis) -> float:
    info = client.info("memory")
    return info["used_memory"] / info["maxmemory"]


def all_text(result) -> str:
    return result.model_dump_json()


async def test_redis_ping_is_ok_with_latency(redis_server, ctx):
    result = await redis_probe.probe(RedisCheck(url=redis_server.url), ctx=ctx)
    assert result.status is ProbeStatus.ok, result
    assert result.kind == "redis" and result.target == redis_server.url
    assert result.summary.startswith("PONG in ")
    assert 0 <= result.facts[FACT_LATENCY_MS] < 1000
    assert FACT_MEMORY_USED not in result.facts  # no maxmemory: no ratio to report
    assert 0 < result.facts[FACT_CONNECTIONS_USED] < 0.1
    assert any(line.startswith("memory: ") and "no maxmemory" in line for line in result.evidence)
    assert result.observed_at == T0


async def test_redis_memory_ratio_is_reported_against_maxmemory(limited_redis, ctx):
    result = await redis_probe.probe(RedisCheck(url=limited_redis.url(), max_memory_used=0.9),
                                     ctx=ctx)
    assert result.status is ProbeStatus.ok, result
    assert 0 < result.facts[FACT_MEMORY_USED] < 0.5
    assert "of maxmemory" in result.summary


async def test_redis_memory_above_max_memory_used_is_degraded(limited_redis, memory_filled, ctx):
    result = await redis_probe.probe(RedisCheck(url=limited_redis.url(), max_memory_used=0.5),
                                     ctx=ctx)
    assert result.status is ProbeStatus.degraded
    assert result.facts[FACT_MEMORY_USED] == pytest.approx(memory_filled, abs=0.05)
    assert result.summary.endswith("% of maxmemory")
    assert result.evidence[0].startswith("memory at ")
    assert "above the 50% limit" in result.evidence[0]


async def test_redis_clients_above_max_clients_used_is_degraded(limited_redis, ctx):
    holders = []
    try:
        for _ in range(6):
            c = limited_redis.client()
            c.ping()
            holders.append(c)
        result = await redis_probe.probe(RedisCheck(url=limited_redis.url(), max_clients_used=0.5),
                                         ctx=ctx)
    finally:
        for c in holders:
            c.close()
    assert result.status is ProbeStatus.degraded, result
    assert result.facts[FACT_CONNECTIONS_USED] >= 0.7  # 6 held + the probe, of 10
    assert "of maxclients" in result.summary
    assert any(f"of {MAXCLIENTS} maxclients" in line for line in result.evidence)


async def test_redis_without_password_is_error_noauth(limited_redis, ctx):
    result = await redis_probe.probe(RedisCheck(url=limited_redis.url(password=None)), ctx=ctx)
    assert result.status is ProbeStatus.error
    assert result.summary == "authentication failed"
    assert any("NOAUTH" in line or "Authentication required" in line for line in result.evidence)


async def test_redis_wrong_password_is_error_without_the_password(limited_redis, ctx):
    result = await redis_probe.probe(RedisCheck(url=limited_redis.url(password="Wr0ng-Pw-77")),
                                     ctx=ctx)
    assert result.status is ProbeStatus.error
    assert result.summary == "authentication failed"
    assert "Wr0ng-Pw-77" not in all_text(result)
    assert result.target == f"redis://127.0.0.1:{limited_redis.port}/0"


async def test_redis_target_hides_the_password(limited_redis, ctx):
    result = await redis_probe.probe(RedisCheck(url=limited_redis.url()), ctx=ctx)
    assert result.status is ProbeStatus.ok
    assert PASSWORD not in all_text(result)


async def test_redis_closed_port_is_down_and_refused(ctx):
    result = await redis_probe.probe(RedisCheck(url=f"redis://127.0.0.1:{free_port()}/0"), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert result.summary == "refused"
    assert result.facts[FACT_CONNECTION_REFUSED] is True


async def test_redis_silent_server_is_timeout_within_the_timeout(ctx):
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await redis_probe.probe(
            RedisCheck(url=f"redis://127.0.0.1:{port}/0", timeout="400ms"), ctx=ctx)
    finally:
        server.close()
    assert result.status is ProbeStatus.timeout
    assert result.summary == "no answer in 400 ms"
    assert result.elapsed_ms < 400 + 1000


async def test_redis_probe_leaves_no_client_connected(limited_redis, ctx):
    client = limited_redis.client()
    try:
        before = client.info("clients")["connected_clients"]
        for _ in range(3):
            await redis_probe.probe(RedisCheck(url=limited_redis.url()), ctx=ctx)
        await asyncio.sleep(0.1)
        assert client.info("clients")["connected_clients"] == before
    finally:
        client.close()
