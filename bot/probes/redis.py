"""Redis probe: PING latency, memory against maxmemory, clients against maxclients.

ok: PONG and both ratios within their limits; degraded: memory_used_ratio above
max_memory_used or connections_used_ratio above max_clients_used; down: refused, no such
host, or still loading its dataset; error: authentication (NOAUTH / WRONGPASS) or any other
reason the probe could not run; timeout: no answer within the check's timeout.
Never raises; the client is always closed.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as rx
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.core import probe as p
from bot.core.probe import CheckResult, ProbeStatus
from bot.core.redact import redact, safe_url
from bot.messages import probes as w
from bot.probes.checks import RedisCheck
from bot.probes.context import ProbeContext


async def probe(check: RedisCheck, *, ctx: ProbeContext) -> CheckResult:
    target = safe_url(check.url)
    observed_at = ctx.clock.now()
    started = time.perf_counter()

    def result(status: ProbeStatus, summary: str, evidence: list[str] | None = None,
               facts: dict[str, p.Fact] | None = None) -> CheckResult:
        return CheckResult(kind="redis", target=target, status=status, summary=redact(summary),
                           evidence=[redact(line) for line in evidence or []], facts=facts or {},
                           elapsed_ms=(time.perf_counter() - started) * 1000,
                           observed_at=observed_at)

    timeout = check.timeout.total_seconds()
    client = None
    try:
        async with asyncio.timeout(timeout):
            client = aioredis.from_url(
                check.url, socket_connect_timeout=timeout, socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0), health_check_interval=0)
            await client.ping()  # connects (and authenticates)
            sent = time.perf_counter()
            await client.ping()
            ping_ms = (time.perf_counter() - sent) * 1000
            memory = await client.info("memory")
            clients = await client.info("clients")
            maxclients = _int(clients.get("maxclients"))
            if not maxclients:
                maxclients = await _config_maxclients(client)
    except (TimeoutError, rx.TimeoutError):
        return result(ProbeStatus.timeout, w.timed_out(check.timeout))
    except rx.AuthenticationError as exc:
        return result(ProbeStatus.error, w.REDIS_AUTH, [w.error_line(exc), w.REDIS_AUTH_HINT])
    except rx.BusyLoadingError as exc:
        return result(ProbeStatus.down, w.REDIS_LOADING, [w.error_line(exc)])
    except rx.ConnectionError as exc:
        summary, refused = _connection_failure(exc)
        facts = {p.FACT_CONNECTION_REFUSED: refused} if refused is not None else {}
        return result(ProbeStatus.down, summary, [w.error_line(exc)], facts)
    except rx.ResponseError as exc:
        text = str(exc)
        if text.startswith(("NOAUTH", "WRONGPASS")) or "invalid password" in text:
            return result(ProbeStatus.error, w.REDIS_AUTH, [w.error_line(exc), w.REDIS_AUTH_HINT])
        return result(ProbeStatus.error, w.REDIS_REPLY_ERROR, [w.error_line(exc)])
    except Exception as exc:
        return result(ProbeStatus.error, w.probe_failed(exc), [w.error_line(exc)])
    finally:
        if client is not None:
            await _close(client)

    facts: dict[str, p.Fact] = {p.FACT_LATENCY_MS: round(ping_ms, 2)}
    pieces = [w.redis_pong(ping_ms)]
    evidence: list[str] = []
    status = ProbeStatus.ok

    used, maxmemory = _int(memory.get("used_memory")) or 0, _int(memory.get("maxmemory")) or 0
    evidence.append(w.redis_memory_line(used, maxmemory))
    if maxmemory > 0:
        ratio = used / maxmemory
        facts[p.FACT_MEMORY_USED] = round(ratio, 4)
        pieces.append(w.redis_memory(ratio))
        if check.max_memory_used is not None and ratio > check.max_memory_used:
            status = ProbeStatus.degraded
            evidence.insert(0, w.over_limit("memory", ratio, check.max_memory_used))

    connected = _int(clients.get("connected_clients")) or 0
    evidence.append(w.redis_clients_line(connected, maxclients))
    if maxclients:
        ratio = connected / maxclients
        facts[p.FACT_CONNECTIONS_USED] = round(ratio, 4)
        if check.max_clients_used is not None and ratio > check.max_clients_used:
            status = ProbeStatus.degraded
            pieces.append(w.redis_clients(ratio))
            evidence.insert(0, w.over_limit("clients", ratio, check.max_clients_used))
    return result(status, ", ".join(pieces), evidence, facts)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def _config_maxclients(client: aioredis.Redis) -> int | None:
    """maxclients from CONFIG GET (INFO has it from Redis 7); None when CONFIG is denied."""
    try:
        reply = await client.config_get("maxclients")
    except rx.ResponseError:
        return None
    return _int(reply.get("maxclients") or reply.get(b"maxclients"))


def _connection_failure(exc: BaseException) -> tuple[str, bool | None]:
    """(summary, connection_refused) for a connection that could not be made."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return w.REFUSED, True
        if isinstance(cause, socket.gaierror):
            return w.HOST_NOT_FOUND, True
        if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return w.UNREACHABLE, False
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "refused" in text or text.startswith("error 111 ") or "connect call failed" in text:
        return w.REFUSED, True
    if "name or service not known" in text or "nodename nor servname" in text:
        return w.HOST_NOT_FOUND, True
    if "no such file" in text:  # unix socket path missing
        return w.REFUSED, True
    return w.CONNECTION_CLOSED, None


async def _close(client: aioredis.Redis) -> None:
    try:
        async with asyncio.timeout(1):
            await client.aclose()
    except Exception:  # closing must never hide the result (or hang)
        pass
