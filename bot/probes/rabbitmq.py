"""RabbitMQ probe, through the management HTTP API.

The node check is `/api/health/checks/alarms` (RabbitMQ 3.8.10+), or
`/api/healthchecks/node` on versions without it; then `/api/queues` (of one vhost when
the check names one). ok: node ok and no queue backing up; degraded: a queue deeper than
max_queue_depth, or a queue holding messages with no consumer (evidence names them,
deepest first); down: the node check fails or nothing listens; error: 401/403 or anything
else that stops the probe; timeout: no answer within the check's timeout. Never raises.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from bot.core import probe as p
from bot.core.probe import CheckResult, ProbeStatus
from bot.core.redact import redact, safe_url
from bot.messages import probes as w
from bot.probes.checks import RabbitmqCheck
from bot.probes.context import ProbeContext

HEALTH_PATH = "/api/health/checks/alarms"
LEGACY_HEALTH_PATH = "/api/healthchecks/node"
QUEUE_COLUMNS = "name,vhost,messages,consumers"


class _Stop(Exception):
    """Ends the probe with this result (raised from inside the timed block)."""

    def __init__(self, status: ProbeStatus, summary: str, evidence: list[str],
                 facts: dict[str, p.Fact] | None = None) -> None:
        super().__init__(summary)
        self.status, self.summary, self.evidence, self.facts = status, summary, evidence, facts


async def probe(check: RabbitmqCheck, *, ctx: ProbeContext) -> CheckResult:
    target = safe_url(check.management_url)
    observed_at = ctx.clock.now()
    started = time.perf_counter()

    def result(status: ProbeStatus, summary: str, evidence: list[str] | None = None,
               facts: dict[str, p.Fact] | None = None) -> CheckResult:
        return CheckResult(kind="rabbitmq", target=target, status=status,
                           summary=redact(summary),
                           evidence=[redact(line) for line in evidence or []], facts=facts or {},
                           elapsed_ms=(time.perf_counter() - started) * 1000,
                           observed_at=observed_at)

    timeout = check.timeout.total_seconds()
    try:
        base, auth = _base_and_auth(check)
        async with asyncio.timeout(timeout):
            sent = time.perf_counter()
            health_path, response = HEALTH_PATH, await _get(ctx.http, base, HEALTH_PATH, auth,
                                                            timeout)
            if response.status_code in (404, 405):
                health_path = LEGACY_HEALTH_PATH
                response = await _get(ctx.http, base, health_path, auth, timeout)
            health_ms = (time.perf_counter() - sent) * 1000
            _check_node(response, health_path, health_ms)
            path = "/api/queues"
            if check.vhost:
                path += "/" + quote(check.vhost, safe="")
            response = await _get(ctx.http, base, path, auth, timeout,
                                  params={"columns": QUEUE_COLUMNS})
            _check_access(response, path)
            queues = _json(response)
            if response.status_code != 200 or not isinstance(queues, list):
                raise _Stop(ProbeStatus.error, w.rmq_http_error(response.status_code, path),
                            _body_lines(response))
    except _Stop as stop:
        return result(stop.status, stop.summary, stop.evidence, stop.facts)
    except (TimeoutError, httpx.TimeoutException):
        return result(ProbeStatus.timeout, w.timed_out(check.timeout))
    except httpx.ConnectError as exc:
        return result(ProbeStatus.down, w.REFUSED, [w.error_line(exc)],
                      {p.FACT_CONNECTION_REFUSED: True})
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        return result(ProbeStatus.down, w.CONNECTION_CLOSED, [w.error_line(exc)])
    except Exception as exc:
        return result(ProbeStatus.error, w.probe_failed(exc), [w.error_line(exc)])
    return _judge(check, queues, health_ms, result)


def _judge(check: RabbitmqCheck, queues: list[Any], health_ms: float, result: Any) -> CheckResult:
    rows = []
    for q in queues:
        if not isinstance(q, dict):
            continue
        rows.append((str(q.get("name", "?")), str(q.get("vhost", "/")),
                     _count(q.get("messages")), _count(q.get("consumers"))))
    rows.sort(key=lambda r: (-r[2], r[1], r[0]))
    facts: dict[str, p.Fact] = {p.FACT_LATENCY_MS: round(health_ms, 1),
                                p.FACT_QUEUE_DEPTH: rows[0][2] if rows else 0}
    with_messages = [r for r in rows if r[2] > 0]
    if with_messages:
        facts[p.FACT_CONSUMERS] = min(r[3] for r in with_messages)

    problems = []
    for name, vhost, messages, consumers in rows:
        reasons = []
        if messages > check.max_queue_depth:
            reasons.append(w.rmq_over_depth(check.max_queue_depth))
        if messages > 0 and consumers == 0:
            reasons.append(w.RMQ_NO_CONSUMERS)
        if reasons:
            problems.append(w.rmq_queue_line(name, vhost, messages, consumers, reasons))
    if not problems:
        return result(ProbeStatus.ok, w.rmq_ok(health_ms, len(rows)), [], facts)
    deepest = with_messages[0] if with_messages else rows[0]
    evidence = problems[: w.MAX_NAMED]
    if len(problems) > w.MAX_NAMED:
        evidence.append(w.rmq_more(len(problems) - w.MAX_NAMED))
    return result(ProbeStatus.degraded, w.rmq_degraded(len(problems), deepest[0], deepest[2]),
                  evidence, facts)


def _base_and_auth(check: RabbitmqCheck) -> tuple[str, httpx.BasicAuth]:
    """The API root without credentials, and the basic auth (the URL's user:pass@ wins)."""
    parts = urlsplit(check.management_url)
    username, password = check.username, check.password
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, sep, secret = userinfo.partition(":")
        username = unquote(user) or username
        if sep:
            password = unquote(secret)
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path = path[: -len("/api")]
    return urlunsplit((parts.scheme, netloc, path, "", "")), httpx.BasicAuth(username, password)


async def _get(client: httpx.AsyncClient, base: str, path: str, auth: httpx.BasicAuth,
               timeout: float, params: dict[str, str] | None = None) -> httpx.Response:
    return await client.get(base + path, auth=auth, params=params, timeout=timeout,
                            follow_redirects=False)


def _check_access(response: httpx.Response, path: str) -> None:
    if response.status_code == 401:
        raise _Stop(ProbeStatus.error, w.RMQ_UNAUTHORIZED, [w.rmq_http_error(401, path)])
    if response.status_code == 403:
        raise _Stop(ProbeStatus.error, w.RMQ_FORBIDDEN, [w.rmq_http_error(403, path)])


def _check_node(response: httpx.Response, path: str, health_ms: float) -> None:
    _check_access(response, path)
    doc = _json(response)
    if not isinstance(doc, dict) or "status" not in doc:
        if response.status_code == 200:
            raise _Stop(ProbeStatus.error, w.RMQ_BAD_JSON, [w.rmq_http_error(200, path),
                                                            *_body_lines(response)])
        raise _Stop(ProbeStatus.down, w.rmq_http_error(response.status_code, path),
                    _body_lines(response), {p.FACT_LATENCY_MS: round(health_ms, 1)})
    if response.status_code == 200 and doc.get("status") == "ok":
        return
    reason = str(doc.get("reason") or "")
    evidence = [w.rmq_http_error(response.status_code, path)]
    alarms = doc.get("alarms")
    if isinstance(alarms, list):
        evidence += [w.rmq_alarm(str(a.get("node", "?")), str(a.get("resource", "?")))
                     for a in alarms if isinstance(a, dict)]
    if reason:
        evidence.insert(0, reason)
    raise _Stop(ProbeStatus.down, w.rmq_node_failed(reason), evidence,
                {p.FACT_LATENCY_MS: round(health_ms, 1)})


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _body_lines(response: httpx.Response) -> list[str]:
    text = " ".join(response.text.split())
    if not text:
        return []
    if len(text) > w.SNIPPET_CHARS:
        text = text[: w.SNIPPET_CHARS - 1] + "…"
    return [w.http_body(text)]


def _count(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
