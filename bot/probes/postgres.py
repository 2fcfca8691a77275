"""PostgreSQL probe: readiness (SELECT 1) and how many connection slots are in use.

ok: ready and connections_used_ratio within max_connections_used; degraded: above it;
down: refused, no such host, too many connections, starting up / shutting down / in
recovery; error: authentication and other rejections (role, database, pg_hba) or any
other reason the probe could not run; timeout: no answer within the check's timeout.
Never raises; the connection is always closed. The password never leaves this module.
"""

from __future__ import annotations

import asyncio
import math
import time

import psycopg

from bot.core import probe as p
from bot.core.probe import CheckResult, ProbeStatus
from bot.core.redact import redact, safe_url
from bot.messages import probes as w
from bot.probes.checks import PostgresCheck
from bot.probes.context import ProbeContext

# Client backends only: background processes do not take max_connections slots. A role
# without pg_read_all_stats (or pg_monitor) sees backend_type NULL for others' sessions;
# the processes attached to no database are the background ones.
CONNECTIONS_SQL = ("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                   " OR (backend_type IS NULL AND datid IS NOT NULL)")

# (substring of the server's message, summary, status, sets connection_refused)
_CONNECT_FAILURES: list[tuple[str, str, ProbeStatus, bool | None]] = [
    ("too many clients", w.PG_TOO_MANY, ProbeStatus.down, None),
    ("too many connections", w.PG_TOO_MANY, ProbeStatus.down, None),
    ("remaining connection slots are reserved", w.PG_TOO_MANY, ProbeStatus.down, None),
    ("is starting up", w.PG_STARTING, ProbeStatus.down, None),
    ("is shutting down", w.PG_SHUTTING_DOWN, ProbeStatus.down, None),
    ("in recovery mode", w.PG_RECOVERY, ProbeStatus.down, None),
    ("not yet accepting connections", w.PG_STARTING, ProbeStatus.down, None),
    ("password authentication failed", w.PG_AUTH, ProbeStatus.error, None),
    ("authentication failed", w.PG_AUTH, ProbeStatus.error, None),
    ("no password supplied", w.PG_AUTH, ProbeStatus.error, None),
    ("password is required", w.PG_AUTH, ProbeStatus.error, None),
    ("no pg_hba.conf entry", w.PG_REJECTED, ProbeStatus.error, None),
    ("does not exist", w.PG_REJECTED, ProbeStatus.error, None),
    ("is not permitted to log in", w.PG_REJECTED, ProbeStatus.error, None),
    ("connection refused", w.REFUSED, ProbeStatus.down, True),
    ("could not translate host name", w.HOST_NOT_FOUND, ProbeStatus.down, True),
    ("name or service not known", w.HOST_NOT_FOUND, ProbeStatus.down, True),
    ("no such file or directory", w.REFUSED, ProbeStatus.down, True),  # no unix socket
    ("no route to host", w.UNREACHABLE, ProbeStatus.down, False),
    ("network is unreachable", w.UNREACHABLE, ProbeStatus.down, False),
    ("timeout expired", "", ProbeStatus.timeout, None),
    ("server closed the connection unexpectedly", w.CONNECTION_CLOSED, ProbeStatus.down, None),
]
_SQLSTATES = {
    "53300": (w.PG_TOO_MANY, ProbeStatus.down),     # too_many_connections
    "57P03": (w.PG_STARTING, ProbeStatus.down),     # cannot_connect_now
    "57P01": (w.PG_SHUTTING_DOWN, ProbeStatus.down),  # admin_shutdown
    "28P01": (w.PG_AUTH, ProbeStatus.error),        # invalid_password
    "28000": (w.PG_AUTH, ProbeStatus.error),        # invalid_authorization_specification
}


async def probe(check: PostgresCheck, *, ctx: ProbeContext) -> CheckResult:
    target = safe_url(check.dsn)
    observed_at = ctx.clock.now()
    started = time.perf_counter()

    def result(status: ProbeStatus, summary: str, evidence: list[str] | None = None,
               facts: dict[str, p.Fact] | None = None) -> CheckResult:
        return CheckResult(kind="postgres", target=target, status=status,
                           summary=redact(summary),
                           evidence=[redact(line) for line in evidence or []], facts=facts or {},
                           elapsed_ms=(time.perf_counter() - started) * 1000,
                           observed_at=observed_at)

    timeout = check.timeout.total_seconds()
    conn: psycopg.AsyncConnection | None = None
    stage = "connect"
    try:
        async with asyncio.timeout(timeout):
            conn = await psycopg.AsyncConnection.connect(
                check.dsn, connect_timeout=max(1, math.ceil(timeout)), autocommit=True,
                application_name="warroom-probe")
            stage = "query"
            sent = time.perf_counter()
            await (await conn.execute("SELECT 1")).fetchone()
            select_ms = (time.perf_counter() - sent) * 1000
            row = await (await conn.execute(CONNECTIONS_SQL)).fetchone()
            used = int(row[0]) if row else 0
            row = await (await conn.execute("SHOW max_connections")).fetchone()
            maximum = int(row[0]) if row else 0
    except TimeoutError:
        return result(ProbeStatus.timeout, w.timed_out(check.timeout))
    except psycopg.Error as exc:
        status, summary, refused = _classify(exc, stage)
        if status is ProbeStatus.timeout:
            summary = w.timed_out(check.timeout)
        evidence = [w.error_line(exc)]
        if summary == w.PG_TOO_MANY:
            evidence.insert(0, w.PG_TOO_MANY_HINT)
        facts = {p.FACT_CONNECTION_REFUSED: refused} if refused is not None else {}
        return result(status, summary, evidence, facts)
    except Exception as exc:
        return result(ProbeStatus.error, w.probe_failed(exc), [w.error_line(exc)])
    finally:
        if conn is not None:
            try:
                async with asyncio.timeout(1):
                    await conn.close()
            except Exception:
                pass

    facts: dict[str, p.Fact] = {p.FACT_LATENCY_MS: round(select_ms, 2)}
    summary = w.pg_ready(select_ms)
    evidence: list[str] = []
    status = ProbeStatus.ok
    if maximum > 0:
        ratio = used / maximum
        facts[p.FACT_CONNECTIONS_USED] = round(ratio, 4)
        summary = f"{summary}, {w.pg_connections(used, maximum)}"
        evidence.append(w.pg_connections_line(used, maximum))
        if ratio > check.max_connections_used:
            status = ProbeStatus.degraded
            evidence.insert(0, w.over_limit("connections", ratio, check.max_connections_used))
    return result(status, summary, evidence, facts)


def _classify(exc: psycopg.Error, stage: str) -> tuple[ProbeStatus, str, bool | None]:
    text = str(exc).lower()
    for needle, summary, status, refused in _CONNECT_FAILURES:
        if needle in text:
            return status, summary, refused
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate in _SQLSTATES:
        summary, status = _SQLSTATES[sqlstate]
        return status, summary, None
    if isinstance(exc, psycopg.OperationalError) and stage == "query":
        return ProbeStatus.down, w.CONNECTION_CLOSED, None
    return ProbeStatus.error, w.PG_QUERY_FAILED if stage == "query" else w.PG_REJECTED, None

