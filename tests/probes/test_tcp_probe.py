"""The TCP probe against real loopback sockets."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import pytest

from tests.fixtures.probe_context import ctx  # noqa: F401
from bot.core.probe import FACT_CONNECTION_REFUSED, FACT_LATENCY_MS, ProbeStatus
from bot.probes import tcp
from bot.probes.checks import TcpCheck
from bot.store.embedded import free_port

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)


@pytest.fixture
async def listening():
    accepted: list[asyncio.StreamWriter] = []
    closed_by_peer = asyncio.Event()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        if await reader.read() == b"":
            closed_by_peer.set()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], closed_by_peer
    server.close()
    for writer in accepted:
        writer.close()
    await server.wait_closed()


@pytest.fixture
def full_backlog():
    """A port whose accept queue is full: the kernel drops new SYNs, so connects hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(2):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    yield port
    for s in (*fillers, listener):
        s.close()


async def test_tcp_open_port_is_ok_with_connect_time(listening, ctx):
    port, _ = listening
    result = await tcp.probe(TcpCheck(host="127.0.0.1", port=port), ctx=ctx)
    assert result.status is ProbeStatus.ok
    assert result.kind == "tcp" and result.target == f"127.0.0.1:{port}"
    assert result.summary.startswith("connected in ")
    assert 0 <= result.facts[FACT_LATENCY_MS] < 1000
    assert result.observed_at == T0 and result.elapsed_ms > 0


async def test_tcp_probe_closes_its_connection(listening, ctx):
    port, closed_by_peer = listening
    await tcp.probe(TcpCheck(host="127.0.0.1", port=port), ctx=ctx)
    await asyncio.wait_for(closed_by_peer.wait(), 2)


async def test_tcp_closed_port_is_down_and_refused(ctx):
    port = free_port()
    result = await tcp.probe(TcpCheck(host="127.0.0.1", port=port), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert result.summary == "refused"
    assert result.facts[FACT_CONNECTION_REFUSED] is True
    assert f"nothing accepts connections on 127.0.0.1:{port}" in result.evidence


async def test_tcp_unanswered_connect_is_timeout_within_the_timeout(full_backlog, ctx):
    result = await tcp.probe(TcpCheck(host="127.0.0.1", port=full_backlog, timeout="300ms"),
                             ctx=ctx)
    assert result.status is ProbeStatus.timeout
    assert result.summary == "no answer in 300 ms"
    assert 250 <= result.elapsed_ms < 300 + 1000


async def test_tcp_ipv6_target_is_bracketed(ctx):
    result = await tcp.probe(TcpCheck(host="::1", port=free_port()), ctx=ctx)
    assert result.target.startswith("[::1]:")
    assert result.status in (ProbeStatus.down, ProbeStatus.error)  # refused, or no IPv6 here
