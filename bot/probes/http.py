"""HTTP probe: one request, its status and latency; Spring Boot actuator health understood.

ok: the expected status within max_latency; degraded: the expected status but slower;
down: another status, an actuator health of DOWN/OUT_OF_SERVICE, a refused connection or a
name that does not resolve; timeout: no answer within the check's timeout; error: the
probe itself could not run. Never raises.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from bot.core import probe as p
from bot.core.probe import CheckResult, ProbeStatus
from bot.core.redact import redact, safe_url
from bot.messages import probes as w
from bot.probes.checks import HttpCheck
from bot.probes.context import ProbeContext

READ_LIMIT = 64 * 1024  # bytes of body read (enough for any health document)
ACTUATOR_STATES = {"UP", "DOWN", "OUT_OF_SERVICE", "UNKNOWN"}
UNHEALTHY = {"DOWN", "OUT_OF_SERVICE"}
_DNS_HINTS = ("name or service not known", "nodename nor servname", "name resolution",
              "getaddrinfo", "no address associated", "not known")


async def probe(check: HttpCheck, *, ctx: ProbeContext) -> CheckResult:
    target = safe_url(check.url)
    if check.method != "GET":
        target = f"{check.method} {target}"
    observed_at = ctx.clock.now()
    started = time.perf_counter()

    def result(status: ProbeStatus, summary: str, evidence: list[str] | None = None,
               **facts: p.Fact) -> CheckResult:
        return CheckResult(kind="http", target=target, status=status, summary=redact(summary),
                           evidence=[redact(line) for line in evidence or []],
                           facts=facts, elapsed_ms=(time.perf_counter() - started) * 1000,
                           observed_at=observed_at)

    timeout = check.timeout.total_seconds()
    try:
        async with asyncio.timeout(timeout):
            status, body, latency_ms = await _fetch(check, _session(ctx), timeout)
    except (TimeoutError, aiohttp.ServerTimeoutError):
        return result(ProbeStatus.timeout, w.timed_out(check.timeout),
                      [w.http_timeout_detail(check.timeout)])
    except aiohttp.ClientConnectorError as exc:
        detail = w.error_line(exc)
        lowered = detail.lower()
        if any(h in lowered for h in _DNS_HINTS):
            summary, refused = w.HOST_NOT_FOUND, True
        elif "unreachable" in lowered or "no route" in lowered:
            summary, refused = w.UNREACHABLE, False
        else:
            summary, refused = w.REFUSED, True
        return result(ProbeStatus.down, summary, [w.http_connect_failed(detail)],
                      **{p.FACT_CONNECTION_REFUSED: refused})
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
            aiohttp.ClientOSError) as exc:
        return result(ProbeStatus.down, w.CONNECTION_CLOSED, [w.error_line(exc)])
    except Exception as exc:  # bad URL, TLS setup, anything else: the probe could not run
        return result(ProbeStatus.error, w.probe_failed(exc), [w.error_line(exc)])

    facts: dict[str, p.Fact] = {p.FACT_HTTP_STATUS: status,
                                p.FACT_LATENCY_MS: round(latency_ms, 1)}
    text = body.decode("utf-8", errors="replace")
    health = _actuator(text)
    evidence: list[str] = []
    if health is not None:
        overall, components = health
        failing = [w.health_component(path, state, details) for path, state, details in components]
        facts[p.FACT_HEALTH] = "unhealthy" if overall in UNHEALTHY else (
            "healthy" if overall == "UP" else "unknown")
        if overall in UNHEALTHY:
            names = [path for path, _, _ in components]
            evidence = [w.health_overall(overall), *failing, *_snippet(text)]
            summary = f"{w.http_status(status, latency_ms)}, {w.http_health(overall, names)}"
            return result(ProbeStatus.down, summary, evidence, **facts)
        if overall == "UNKNOWN" and status == check.expect_status:
            evidence = [w.health_overall(overall), *failing]
            summary = f"{w.http_status(status, latency_ms)}, {w.http_health(overall, [])}"
            return result(ProbeStatus.degraded, summary, evidence, **facts)

    if status != check.expect_status:
        evidence = [w.http_unexpected(status, check.expect_status), *_snippet(text)]
        return result(ProbeStatus.down, w.http_status(status, latency_ms), evidence, **facts)
    limit = check.max_latency
    if limit is not None and latency_ms > limit.total_seconds() * 1000:
        return result(ProbeStatus.degraded, w.http_slow(status, latency_ms, limit),
                      [w.http_latency_over(latency_ms, limit)], **facts)
    return result(ProbeStatus.ok, w.http_status(status, latency_ms), [], **facts)


SESSION_KEY = "http.aiohttp"


def _session(ctx: ProbeContext) -> aiohttp.ClientSession:
    """One aiohttp session per probe run (closed with the run's cache). aiohttp, not the
    shared httpx client: under a burst of hundreds of checks it spends about half the
    CPU per request, which a 2 s timeout otherwise eats into."""
    session = ctx.cache.get(SESSION_KEY)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=True, ttl_dns_cache=60),
            trust_env=False)
        ctx.cache[SESSION_KEY] = session
    return session


async def _fetch(check: HttpCheck, session: aiohttp.ClientSession,
                 timeout: float) -> tuple[int, bytes, float]:
    """(status, first READ_LIMIT bytes of the body, ms until the answer's headers)."""
    sent = time.perf_counter()
    async with session.request(check.method, check.url, headers=check.headers,
                               allow_redirects=False,
                               timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        latency_ms = (time.perf_counter() - sent) * 1000
        body = b""
        if check.method != "HEAD":
            body = await response.content.read(READ_LIMIT)
        return response.status, bytes(body[:READ_LIMIT]), latency_ms


def _snippet(text: str) -> list[str]:
    flat = " ".join(text.split())
    if not flat:
        return []
    if len(flat) > w.SNIPPET_CHARS:
        flat = flat[: w.SNIPPET_CHARS - 1] + "…"
    return [w.http_body(redact(flat))]


def _actuator(text: str) -> tuple[str, list[tuple[str, str, str]]] | None:
    """(overall status, [(path, status, details)] of each non-UP component) for a Spring
    Boot health document, None for any other body."""
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return None
    try:
        doc = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    overall = doc.get("status")
    if isinstance(overall, dict):  # Spring Boot 1.x style {"status": {"code": "UP"}}
        overall = overall.get("code")
    if not isinstance(overall, str) or overall.upper() not in ACTUATOR_STATES:
        return None
    found: list[tuple[str, str, str]] = []
    _components(doc, "", found)
    return overall.upper(), found


def _components(node: dict[str, Any], prefix: str, found: list[tuple[str, str, str]]) -> None:
    children = node.get("components")
    if not isinstance(children, dict):
        # Spring Boot 2.0/2.1 call them "details" and nest health documents there.
        details = node.get("details")
        children = {k: v for k, v in details.items() if _is_health(v)} \
            if isinstance(details, dict) else {}
    for name, child in children.items():
        if not isinstance(child, dict):
            continue
        path = f"{prefix}/{name}" if prefix else str(name)
        status = _status_of(child)
        if status != "UP":
            found.append((path, status, _details(child)))
        _components(child, path, found)


def _is_health(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("status"), (str, dict))


def _status_of(node: dict[str, Any]) -> str:
    status = node.get("status")
    if isinstance(status, dict):
        status = status.get("code")
    return str(status).upper() if status is not None else "UNKNOWN"


def _details(node: dict[str, Any]) -> str:
    details = node.get("details")
    if not isinstance(details, dict):
        return ""
    parts = []
    for key, value in details.items():
        if _is_health(value):
            continue
        shown = value if isinstance(value, (str, int, float, bool)) or value is None \
            else json.dumps(value, separators=(",", ":"), default=str)
        parts.append(f"{key}={shown}")
    text = ", ".join(parts)
    return text if len(text) <= 300 else text[:299] + "…"
