"""The PostgreSQL probe against the session's real PostgreSQL (max_connections=20)."""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime

import psycopg
import pytest

from tests.fixtures.probe_context import ctx  # noqa: F401
from bot.core.probe import FACT_CONNECTION_REFUSED, FACT_CONNECTIONS_USED, FACT_LATENCY_MS, \
    ProbeStatus
from bot.probes import postgres
from bot.probes.checks import PostgresCheck
from bot.store.embedded import free_port

T0 = datetime(2026, 12, 1, 14, 23, tzinfo=UTC)


def all_text(result) -> str:
    return result.model_dump_json()


async def _open(dsn: str, n: int) -> list[psycopg.AsyncConnection]:
    return [await psycopg.AsyncConnection.connect(dsn) for _ in range(n)]


async def _close_all(conns: list[psycopg.AsyncConnection]) -> None:
    for conn in conns:
        await conn.close()


async def _client_backends(server) -> int:
    async with await psycopg.AsyncConnection.connect(server.superuser_conninfo()) as conn:
        row = await (await conn.execute(postgres.CONNECTIONS_SQL)).fetchone()
        return row[0]


async def test_postgres_ready_is_ok_with_connections_used_ratio(postgres_server, ctx):
    result = await postgres.probe(PostgresCheck(dsn=postgres_server.dsn()), ctx=ctx)
    assert result.status is ProbeStatus.ok, result
    assert result.kind == "postgres"
    assert result.summary.startswith("SELECT 1 in ")
    assert "of 20 connections" in result.summary
    ratio = result.facts[FACT_CONNECTIONS_USED]
    assert 0 < ratio <= 0.5 and (ratio * 20) == pytest.approx(round(ratio * 20))
    assert 0 <= result.facts[FACT_LATENCY_MS] < 1000
    assert result.observed_at == T0


async def test_postgres_ratio_counts_open_connections(postgres_server, ctx):
    before = await postgres.probe(PostgresCheck(dsn=postgres_server.dsn()), ctx=ctx)
    held = await _open(postgres_server.dsn(), 4)
    try:
        during = await postgres.probe(PostgresCheck(dsn=postgres_server.dsn()), ctx=ctx)
    finally:
        await _close_all(held)
    added = (during.facts[FACT_CONNECTIONS_USED] - before.facts[FACT_CONNECTIONS_USED]) * 20
    # 4 held; the first probe's backend may still be on its way out (+1).
    assert 4 <= round(added) <= 5


async def test_postgres_above_max_connections_used_is_degraded(postgres_server, ctx):
    held = await _open(postgres_server.dsn(), 3)
    try:
        result = await postgres.probe(
            PostgresCheck(dsn=postgres_server.dsn(), max_connections_used=0.1), ctx=ctx)
    finally:
        await _close_all(held)
    assert result.status is ProbeStatus.degraded
    assert result.facts[FACT_CONNECTIONS_USED] >= 0.2
    assert result.evidence[0].startswith("connections at ")
    assert "above the 10% limit" in result.evidence[0]


async def test_postgres_wrong_password_is_error_without_the_password(postgres_server, ctx):
    dsn = postgres_server.dsn(password="Wr0ng-Pg-Pass-31")
    result = await postgres.probe(PostgresCheck(dsn=dsn), ctx=ctx)
    assert result.status is ProbeStatus.error
    assert result.summary == "authentication failed"
    assert any('password authentication failed for user "warroom"' in line
               for line in result.evidence), result.evidence
    text = all_text(result)
    assert "Wr0ng-Pg-Pass-31" not in text and postgres_server.password not in text
    assert result.target == f"postgresql://warroom@127.0.0.1:{postgres_server.port}/postgres"


async def test_postgres_target_never_shows_the_password(postgres_server, ctx):
    dsn = postgres_server.dsn(sslmode="disable")
    result = await postgres.probe(PostgresCheck(dsn=dsn), ctx=ctx)
    assert result.status is ProbeStatus.ok
    assert postgres_server.password not in all_text(result)
    assert result.target.endswith("/postgres?sslmode=disable")


async def test_postgres_unknown_role_is_error(postgres_server, ctx):
    result = await postgres.probe(PostgresCheck(dsn=postgres_server.dsn(user="nobody")), ctx=ctx)
    assert result.status is ProbeStatus.error
    assert "nobody" in " ".join(result.evidence)


async def test_postgres_closed_port_is_down_and_refused(postgres_server, ctx):
    dsn = postgres_server.dsn(port=free_port())
    result = await postgres.probe(PostgresCheck(dsn=dsn), ctx=ctx)
    assert result.status is ProbeStatus.down
    assert result.summary == "refused"
    assert result.facts[FACT_CONNECTION_REFUSED] is True
    assert postgres_server.password not in all_text(result)


async def test_postgres_too_many_connections_is_down_and_says_so(postgres_server, ctx):
    held: list[psycopg.AsyncConnection] = []
    try:
        for _ in range(postgres_server.max_connections + 5):
            try:
                held.append(await psycopg.AsyncConnection.connect(postgres_server.dsn()))
            except psycopg.OperationalError:
                break
        else:
            pytest.fail("the server never refused a connection")
        result = await postgres.probe(PostgresCheck(dsn=postgres_server.dsn()), ctx=ctx)
    finally:
        await _close_all(held)
    assert result.status is ProbeStatus.down
    assert result.summary == "too many connections"
    evidence = " ".join(result.evidence)
    assert "connection slots are in use" in evidence
    assert "reserved" in evidence or "too many" in evidence


async def test_postgres_silent_server_is_timeout_within_the_timeout(ctx):
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the startup packet, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await postgres.probe(
            PostgresCheck(dsn=f"postgresql://u:Pw-x1@127.0.0.1:{port}/db", timeout="500ms"),
            ctx=ctx)
    finally:
        server.close()
    assert result.status is ProbeStatus.timeout
    assert result.summary == "no answer in 500 ms"
    assert result.elapsed_ms < 500 + 1000


async def test_postgres_probe_closes_its_connection(postgres_server, ctx):
    before = await _client_backends(postgres_server)
    for _ in range(3):
        await postgres.probe(PostgresCheck(dsn=postgres_server.dsn()), ctx=ctx)
    for _ in range(100):  # a closed connection's backend exits a moment later
        if (now := await _client_backends(postgres_server)) <= before:
            break
        await asyncio.sleep(0.02)
    assert now <= before


class RefusingServer:
    """Speaks just enough of the PostgreSQL protocol to refuse the start-up the way a real
    server does while starting up or shutting down (an ErrorResponse, then close)."""

    def __init__(self, sqlstate: str, message: str) -> None:
        self.sqlstate, self.message = sqlstate, message

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length = struct.unpack("!I", await reader.readexactly(4))[0]
                body = await reader.readexactly(length - 4)
                code = struct.unpack("!I", body[:4])[0]
                if code in (80877103, 80877104):  # SSLRequest / GSSENCRequest: not here
                    writer.write(b"N")
                    await writer.drain()
                    continue
                break  # the StartupMessage
            fields = b"".join(kind + value.encode() + b"\0" for kind, value in (
                (b"S", "FATAL"), (b"V", "FATAL"), (b"C", self.sqlstate), (b"M", self.message)))
            payload = fields + b"\0"
            writer.write(b"E" + struct.pack("!I", len(payload) + 4) + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()


@pytest.mark.parametrize("sqlstate, message, summary", [
    ("57P03", "the database system is starting up", "starting up"),
    ("57P03", "the database system is shutting down", "shutting down"),
    ("53300", "sorry, too many clients already", "too many connections"),
])
async def test_postgres_not_accepting_connections_is_down(sqlstate, message, summary, ctx):
    server = RefusingServer(sqlstate, message)
    port = await server.start()
    try:
        result = await postgres.probe(
            PostgresCheck(dsn=f"postgresql://app:Pw-9q@127.0.0.1:{port}/app"), ctx=ctx)
    finally:
        await server.stop()
    assert result.status is ProbeStatus.down, result
    assert result.summary == summary
    assert any(message in line for line in result.evidence)
