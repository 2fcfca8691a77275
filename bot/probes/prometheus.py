"""Prometheus probe: one instant PromQL query against thresholds, plus the service's
firing Alertmanager alerts.

Query: `GET {prometheus.url}/api/v1/query?query=...` (an instant vector or a scalar).
  - above thresholds (warn_above / critical_above) are compared with the largest
    sample, below thresholds (warn_below / critical_below) with the smallest: the
    worst series either way. Strict comparisons: a value equal to a threshold passes.
  - no samples: ok ("no samples"), unless a below threshold is set: then an empty
    result counts as 0 (`up == 1`-style queries return nothing when a target is gone).
  - NaN samples are ignored; a range vector or string result is an error.
  - Prometheus `status: error` (bad PromQL, execution error) -> error with errorType/error.

Alerts (only when prometheus.alertmanager_url is set and the service is known):
  `GET {alertmanager_url}/api/v2/alerts?active=true&silenced=false&inhibited=false`,
  keeping alerts whose label `service_label` equals `ctx.service`. Each firing alert is
  an evidence line; any makes the check at least degraded, one labelled
  severity=critical|page makes it down; `failed_since` is the earliest startsAt.
  Alertmanager unreachable -> at least error (the check could not see everything).

Facts: metric_value (the worst sample, None without samples), alerts_firing.
Never raises; the whole probe runs under check.timeout.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.core.probe import (FACT_ALERTS_FIRING, FACT_METRIC_VALUE, CheckResult, Fact,
                            ProbeStatus, worst)
from bot.core.redact import redact
from bot.messages import probes as w
from bot.probes.checks import PrometheusCheck
from bot.probes.context import ProbeContext

# ---------------------------------------------------------------- limits

CRITICAL_SEVERITIES = frozenset({"critical", "page"})
MAX_SERIES = 5
MAX_ALERTS = 10
MAX_LINE = 300


# ---------------------------------------------------------------- the probe


class _Failed(Exception):
    """The probe could not get an answer: becomes an error (or timeout) result."""

    def __init__(self, summary: str, *, status: ProbeStatus = ProbeStatus.error) -> None:
        super().__init__(summary)
        self.summary, self.status = summary, status


async def probe(check: PrometheusCheck, *, ctx: ProbeContext) -> CheckResult:
    started = time.monotonic()
    observed_at = ctx.clock.now()
    try:
        return await _probe(check, ctx, started, observed_at)
    except Exception as exc:  # noqa: BLE001 - a probe never raises
        summary = w.prom_probe_failed(f"{type(exc).__name__}: {_one_line(str(exc))}")
        return CheckResult(kind=check.kind, target=_clip(check.query), status=ProbeStatus.error,
                           summary=_clip(redact(summary)), evidence=[_clip(redact(summary))],
                           elapsed_ms=round((time.monotonic() - started) * 1000, 1),
                           observed_at=observed_at)


async def _probe(check: PrometheusCheck, ctx: ProbeContext, started: float,
                 observed_at: datetime) -> CheckResult:
    seconds = check.timeout.total_seconds()
    settings = ctx.prometheus
    status, summary, evidence = ProbeStatus.ok, "", []
    facts: dict[str, Fact] = {}
    failed_since: datetime | None = None

    def result() -> CheckResult:
        return CheckResult(
            kind=check.kind, target=_clip(check.query), status=status,
            summary=_clip(redact(summary)),
            evidence=[_clip(redact(line)) for line in evidence], facts=facts,
            elapsed_ms=round((time.monotonic() - started) * 1000, 1), observed_at=observed_at,
            failed_since=failed_since if status.failing else None)

    if not settings.url:
        status, summary, evidence = ProbeStatus.error, w.NO_URL, [w.NO_URL]
        return result()
    want_alerts = bool(settings.alertmanager_url and ctx.service)
    try:
        async with asyncio.timeout(seconds):
            metric, alerts = await asyncio.gather(
                _query(ctx.http, settings.url, check, seconds),
                _alerts(ctx.http, settings.alertmanager_url, settings.service_label,
                        ctx.service, seconds) if want_alerts else _none(),
                return_exceptions=True)
    except TimeoutError:
        status, summary = ProbeStatus.timeout, w.prom_timed_out(seconds)
        evidence = [summary]
        return result()

    # the metric
    statuses: list[ProbeStatus] = []
    parts: list[str] = []
    if isinstance(metric, BaseException):
        failure = _as_failure(metric)
        statuses.append(failure.status)
        parts.append(failure.summary)
        evidence.append(failure.summary)
    else:
        m_status, m_summary, m_evidence, value = metric
        statuses.append(m_status)
        parts.append(m_summary)
        evidence.extend(m_evidence)
        facts[FACT_METRIC_VALUE] = value

    # the alerts
    if want_alerts:
        if isinstance(alerts, BaseException):
            failure = _as_failure(alerts)
            statuses.append(ProbeStatus.error if failure.status is ProbeStatus.timeout
                            else failure.status)
            parts.append(failure.summary)
            evidence.append(failure.summary)
        else:
            firing = alerts or []
            facts[FACT_ALERTS_FIRING] = len(firing)
            if firing:
                critical = any((a["severity"] or "").lower() in CRITICAL_SEVERITIES
                               for a in firing)
                statuses.append(ProbeStatus.down if critical else ProbeStatus.degraded)
                parts.append(w.alerts_summary([a["name"] for a in firing]))
                for a in firing[:MAX_ALERTS]:
                    evidence.append(w.alert_line(a["name"], a["severity"], a["summary"],
                                                 a["starts_at"]))
                if len(firing) > MAX_ALERTS:
                    evidence.append(w.more_alerts(len(firing) - MAX_ALERTS))
                starts = [a["starts_at"] for a in firing if a["starts_at"]]
                failed_since = min(starts, default=None)

    status = worst(statuses)
    summary = "; ".join(p for p in parts if p)
    return result()


async def _none() -> None:
    return None


# ---------------------------------------------------------------- the query


async def _query(http: httpx.AsyncClient, base: str, check: PrometheusCheck,
                 seconds: float) -> tuple[ProbeStatus, str, list[str], float | None]:
    url = base.rstrip("/") + "/api/v1/query"
    # evaluation timeout in plain seconds (the API also takes floats; "4.9s" it would not)
    params = {"query": check.query, "timeout": f"{max(seconds - 0.1, 0.1):.3f}"}
    body = await _get_json(http, url, params, seconds, "Prometheus")
    if body.get("status") != "success":
        raise _Failed(w.query_failed(body.get("errorType"), body.get("error")))
    warnings = [w.query_warning(str(warning)) for warning in body.get("warnings") or []]
    data = body.get("data") or {}
    kind = data.get("resultType")
    raw = data.get("result")
    samples: list[tuple[dict[str, str], float]] = []
    if kind == "vector":
        for item in raw or []:
            value = _number(item.get("value"))
            if value is not None:
                samples.append((item.get("metric") or {}, value))
    elif kind == "scalar":
        value = _number(raw)
        if value is not None:
            samples.append(({}, value))
    else:
        raise _Failed(w.not_instant(kind or w.PROM_UNKNOWN_RESULT_TYPE))
    status, summary, evidence, value = _judge(samples, check)
    return status, summary, evidence + warnings, value


def _number(pair: Any) -> float | None:
    """[<unix time>, "<value>"] -> float; NaN (and garbage) -> None."""
    try:
        value = float(pair[1])
    except (TypeError, ValueError, IndexError):
        return None
    return None if math.isnan(value) else value


def _judge(samples: list[tuple[dict[str, str], float]], check: PrometheusCheck
           ) -> tuple[ProbeStatus, str, list[str], float | None]:
    has_above = check.critical_above is not None or check.warn_above is not None
    has_below = check.critical_below is not None or check.warn_below is not None
    evidence: list[str] = []
    if not samples:
        if not has_below:
            return ProbeStatus.ok, w.NO_SAMPLES, [w.NO_SAMPLES], None
        samples = [({}, 0.0)]
        evidence.append(w.NO_SAMPLES_AS_ZERO)

    high = max(samples, key=lambda s: s[1])
    low = min(samples, key=lambda s: s[1])
    verdicts: list[tuple[ProbeStatus, str, float, bool]] = []  # status, summary, value, low?
    if has_above:
        v = high[1]
        if check.critical_above is not None and v > check.critical_above:
            verdicts.append((ProbeStatus.down,
                             w.breach_summary(v, ">", check.critical_above, "critical"), v, False))
        elif check.warn_above is not None and v > check.warn_above:
            verdicts.append((ProbeStatus.degraded,
                             w.breach_summary(v, ">", check.warn_above, "warning"), v, False))
    if has_below:
        v = low[1]
        if check.critical_below is not None and v < check.critical_below:
            verdicts.append((ProbeStatus.down,
                             w.breach_summary(v, "<", check.critical_below, "critical"), v, True))
        elif check.warn_below is not None and v < check.warn_below:
            verdicts.append((ProbeStatus.degraded,
                             w.breach_summary(v, "<", check.warn_below, "warning"), v, True))
    if verdicts:
        status, summary, value, lowest_first = max(verdicts, key=lambda v: v[0].severity)
    else:
        lowest_first = has_below and not has_above
        value = low[1] if lowest_first else high[1]
        status, summary = ProbeStatus.ok, w.value_summary(value)
    if not evidence:  # real samples: the worst series first
        ordered = sorted(samples, key=lambda s: s[1], reverse=not lowest_first)
        evidence.extend(w.series_line(labels, v) for labels, v in ordered[:MAX_SERIES])
        if len(ordered) > MAX_SERIES:
            evidence.append(w.more_series(len(ordered) - MAX_SERIES))
    return status, summary, evidence, value


# ---------------------------------------------------------------- the alerts


async def _alerts(http: httpx.AsyncClient, base: str | None, label: str, service: str,
                  seconds: float) -> list[dict[str, Any]]:
    url = (base or "").rstrip("/") + "/api/v2/alerts"
    escaped = service.replace("\\", "\\\\").replace('"', '\\"')
    params = {"active": "true", "silenced": "false", "inhibited": "false",
              "filter": f'{label}="{escaped}"'}
    body = await _get_json(http, url, params, seconds, "Alertmanager")
    if not isinstance(body, list):
        raise _Failed(w.bad_answer("Alertmanager", 200, w.NOT_ALERTS))
    firing = []
    for alert in body:
        labels = alert.get("labels") or {}
        state = (alert.get("status") or {}).get("state", "active")
        if labels.get(label) != service or state != "active":
            continue
        annotations = alert.get("annotations") or {}
        firing.append({"name": labels.get("alertname", w.UNNAMED_ALERT),
                       "severity": labels.get("severity"),
                       "summary": _one_line(annotations.get("summary")
                                            or annotations.get("description")),
                       "starts_at": _parse_time(alert.get("startsAt"))})
    firing.sort(key=lambda a: (a["starts_at"] or datetime.max.replace(tzinfo=UTC), a["name"]))
    return firing


_FRACTION = re.compile(r"\.(\d+)")


def _parse_time(text: Any) -> datetime | None:
    """RFC 3339 with up to nanoseconds (Alertmanager) -> aware datetime."""
    if not isinstance(text, str) or not text:
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- HTTP


async def _get_json(http: httpx.AsyncClient, url: str, params: dict[str, str], seconds: float,
                    service: str) -> Any:
    try:
        response = await http.get(url, params=params, timeout=httpx.Timeout(seconds))
    except httpx.TimeoutException:
        raise _Failed(w.prom_timed_out(seconds), status=ProbeStatus.timeout) from None
    except httpx.ConnectError as exc:
        raise _Failed(w.prom_unreachable(service, url.split("/api/")[0],
                                         _connect_reason(exc))) from None
    except httpx.HTTPError as exc:
        raise _Failed(w.prom_unreachable(service, url.split("/api/")[0],
                                         _one_line(str(exc)) or type(exc).__name__)) from None
    try:
        body = response.json()
    except ValueError:
        raise _Failed(w.bad_answer(service, response.status_code,
                                   _one_line(response.text[:200]) or w.EMPTY_BODY)) from None
    if response.status_code >= 400 and not (isinstance(body, dict) and "status" in body):
        raise _Failed(w.bad_answer(service, response.status_code, _one_line(str(body))[:200]))
    return body


def _connect_reason(exc: Exception) -> str:
    cause: BaseException | None = exc
    for _ in range(8):  # httpx -> httpcore -> OSError("All connection attempts failed") -> ...
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return w.PROM_CONNECTION_REFUSED
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "refused" in text:
        return w.PROM_CONNECTION_REFUSED
    if "name or service not known" in text or "nodename nor servname" in text \
            or "temporary failure in name resolution" in text:
        return w.PROM_NAME_UNRESOLVED
    return _one_line(str(exc)) or type(exc).__name__


def _as_failure(exc: BaseException) -> _Failed:
    if isinstance(exc, _Failed):
        return exc
    if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
        raise exc
    return _Failed(w.prom_probe_failed(f"{type(exc).__name__}: {_one_line(str(exc))}"))


# ---------------------------------------------------------------- helpers


def _one_line(text: Any) -> str:
    return " ".join(str(text).split()) if text else ""


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"
