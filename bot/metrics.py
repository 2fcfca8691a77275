"""Prometheus metrics of one bot, served on `GET /metrics` (prometheus-client).

Each `Metrics` has its own CollectorRegistry (never the process-wide default), so
several bots in one process (the tests) keep separate numbers.

    warroom_incidents_open{severity}                  gauge, read from the store at scrape
    warroom_incidents_declared_total{severity}        counter
    warroom_time_to_acknowledge_seconds{severity}     histogram
    warroom_time_to_resolve_seconds{severity}         histogram
    warroom_timer_lag_seconds                         histogram (due -> fired)
    warroom_slack_api_errors_total{method,error}      counter

Drills are left out of every series. Counters and histograms count what *this process* did (Prometheus sums the
replicas); the open gauge is the shared truth from Redis, so with several replicas
aggregate it with max(), not sum(). Feed it with `observe(change)` after each
store write (declared / acknowledged / resolved events), `timer_fired` as the
TimerLoop's `on_fired`, and `slack_error` as SlackWarRoom's `on_error`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from bot.core.incident import Change, EventKind, Incident

log = structlog.get_logger(__name__)

# seconds: 30s .. 1d (ack targets run 15m .. 24h by default)
ACK_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
# seconds: 5m .. 1 week
RESOLVE_BUCKETS = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800)
# seconds: a job fires `poll` (20 ms) after it is due when all is well
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

OpenIncidents = Callable[[], Awaitable[list[Incident]]]


class Metrics:
    def __init__(self, *, open_incidents: OpenIncidents | None = None,
                 severities: Iterable[str] = ()) -> None:
        """`open_incidents` (the store's list_open) feeds the open gauge at each scrape;
        `severities` get zero-valued series from the start, so rate() works at once."""
        self.registry = CollectorRegistry(auto_describe=True)
        self._open_incidents = open_incidents
        self._severities = list(severities)
        self.open = Gauge("warroom_incidents_open", "Incidents not resolved, by severity.",
                          ["severity"], registry=self.registry)
        self.declared_total = Counter("warroom_incidents_declared",
                                      "Incidents declared, by severity.", ["severity"],
                                      registry=self.registry)
        self.time_to_acknowledge = Histogram(
            "warroom_time_to_acknowledge_seconds", "Declared -> acknowledged, by severity.",
            ["severity"], buckets=ACK_BUCKETS, registry=self.registry)
        self.time_to_resolve = Histogram(
            "warroom_time_to_resolve_seconds", "Declared -> resolved, by severity.",
            ["severity"], buckets=RESOLVE_BUCKETS, registry=self.registry)
        self.timer_lag = Histogram(
            "warroom_timer_lag_seconds", "How late a durable timer fired after its due time.",
            buckets=LAG_BUCKETS, registry=self.registry)
        self.slack_api_errors = Counter(
            "warroom_slack_api_errors", "Slack Web API calls that failed, by method and error.",
            ["method", "error"], registry=self.registry)
        for severity in self._severities:
            self.declared_total.labels(severity)
            self.time_to_acknowledge.labels(severity)
            self.time_to_resolve.labels(severity)

    # ------------------------------------------------------------ recording
    def declared(self, severity: str) -> None:
        self.declared_total.labels(severity).inc()

    def acknowledged(self, severity: str, seconds: float) -> None:
        self.time_to_acknowledge.labels(severity).observe(max(float(seconds), 0.0))

    def resolved(self, severity: str, seconds: float) -> None:
        self.time_to_resolve.labels(severity).observe(max(float(seconds), 0.0))

    def timer_fired(self, claimed: Any, lag_seconds: float) -> None:
        """TimerLoop's `on_fired(claimed, lag_seconds)`."""
        self.timer_lag.observe(max(float(lag_seconds), 0.0))

    def slack_error(self, method: str, error: str) -> None:
        """SlackWarRoom's `on_error(method, error)`."""
        self.slack_api_errors.labels(method, error or "unknown").inc()

    def observe(self, change: Change) -> None:
        """Count what a stored change did: declared, acknowledged, resolved. Never raises.

        Drills are not counted: they must not move real dashboards or alerts."""
        if getattr(change.incident, "drill", False):
            return
        try:
            for event in change.events:
                severity = event.data.get("severity") or change.incident.severity
                if event.kind is EventKind.declared:
                    self.declared(severity)
                elif event.kind is EventKind.acknowledged:
                    self.acknowledged(change.incident.severity, _seconds(event.data, change,
                                                                         event.at))
                elif event.kind is EventKind.resolved:
                    self.resolved(change.incident.severity, _seconds(event.data, change,
                                                                     event.at))
        except Exception:  # metrics must never break a use case
            log.exception("metrics.observe_failed", incident_id=change.incident.id)

    # ------------------------------------------------------------ scraping
    async def refresh(self) -> None:
        """Recount open incidents by severity from the store (at scrape time)."""
        if self._open_incidents is None:
            return
        try:
            incidents = await self._open_incidents()
        except Exception:  # Redis down: no open gauge rather than a wrong one
            log.warning("metrics.open_count_failed", exc_info=True)
            self.open.clear()
            return
        counts = dict.fromkeys(self._severities, 0)
        for incident in incidents:
            if getattr(incident, "drill", False):
                continue
            counts[incident.severity] = counts.get(incident.severity, 0) + 1
        self.open.clear()
        for severity, n in counts.items():
            self.open.labels(severity).set(n)

    async def render(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content type), in the format the scraper asked for."""
        await self.refresh()
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp handler for `GET /metrics`."""
        body, content_type = await self.render(request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})


def _seconds(data: dict[str, str], change: Change, at: Any) -> float:
    try:
        return float(data["seconds"])
    except (KeyError, ValueError):
        return (at - change.incident.declared_at).total_seconds()
