"""Paging beyond Slack: a JSON webhook per level, and PagerDuty Events API v2.

PagerDuty gets trigger / acknowledge / resolve with one dedup key per incident,
so acknowledging in Slack acknowledges the page. Calls are retried with
backoff; a pager failure is recorded on the timeline, never raised.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import structlog

from bot.core.escalation import Step
from bot.core.incident import Incident

log = structlog.get_logger(__name__)
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
ATTEMPTS = 4
PD_SEVERITY = ["critical", "error", "warning", "info"]


class HttpPager:
    def __init__(self, client: httpx.AsyncClient, *, pagerduty_url: str = PAGERDUTY_EVENTS_URL,
                 backoff: float = 0.5, severity_rank: Any = None) -> None:
        self._http = client
        self._pd_url = pagerduty_url
        self._backoff = backoff
        self._rank = severity_rank  # callable name -> 0 for the most severe

    async def _post(self, url: str, body: dict[str, Any]) -> str:
        """POST with retries on network errors, 429 and 5xx; returns a one-line outcome
        naming only scheme and host (webhook paths often carry a token)."""
        where = _origin(url)
        last = ""
        for attempt in range(ATTEMPTS):
            try:
                response = await self._http.post(url, json=body, timeout=10)
                if response.status_code < 300:
                    return f"{where} {response.status_code}"
                last = f"{where} {response.status_code}"
                if response.status_code != 429 and response.status_code < 500:
                    return last  # a 4xx will not get better
            except httpx.HTTPError as exc:
                last = f"{where} {type(exc).__name__}"
            await asyncio.sleep(self._backoff * (2 ** attempt))
        log.warning("pager.gave_up", outcome=last)
        return f"{last} (gave up after {ATTEMPTS} tries)"

    def _pd_severity(self, incident: Incident) -> str:
        rank = self._rank(incident.severity) if self._rank else 0
        return PD_SEVERITY[min(rank, len(PD_SEVERITY) - 1)]

    def _keys(self, incident: Incident, *, upto: int | None = None) -> list[str]:
        levels = incident.escalation.levels
        last = len(levels) if upto is None else upto
        return list(dict.fromkeys(lv.pagerduty_key for lv in levels[:last] if lv.pagerduty_key))

    async def trigger(self, incident: Incident, step: Step) -> list[str]:
        out = []
        if step.webhook:
            out.append(await self._post(step.webhook, {
                "event": "escalated", "incident": _summary(incident),
                "level": {"number": step.level, "name": step.name, "members": step.members,
                          "repeat": step.repeat}}))
        if step.pagerduty_key:
            out.append(await self._post(self._pd_url, {
                "routing_key": step.pagerduty_key, "event_action": "trigger",
                "dedup_key": incident.id,
                "payload": {"summary": (("[DRILL] " if incident.drill else "")
                                        + f"{incident.id} [{incident.severity}] {incident.title}")[:1024],
                            "source": "warroom", "severity": self._pd_severity(incident),
                            "custom_details": {"level": step.name,
                                               "channel": incident.channel_name}}}))
        return out

    async def _all(self, incident: Incident, action: str) -> list[str]:
        out = []
        for key in self._keys(incident, upto=max(incident.ladder.level, 1)):
            out.append(await self._post(self._pd_url, {"routing_key": key, "event_action": action,
                                                       "dedup_key": incident.id}))
        for level in incident.escalation.levels[:max(incident.ladder.level, 1)]:
            if level.webhook:
                out.append(await self._post(level.webhook, {"event": action,
                                                            "incident": _summary(incident)}))
        return out

    async def acknowledge(self, incident: Incident) -> list[str]:
        return await self._all(incident, "acknowledge")

    async def resolve(self, incident: Incident) -> list[str]:
        return await self._all(incident, "resolve")


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _summary(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "title": incident.title, "severity": incident.severity,
            "drill": incident.drill,
            "status": incident.status.value, "channel": incident.channel_name,
            "declared_at": incident.declared_at.isoformat(),
            "acknowledged_by": incident.acknowledged_by}
