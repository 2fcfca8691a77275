"""The response-time target (severity `ack_within`) passed without an acknowledgement."""

from __future__ import annotations

import structlog

from bot.core import errors, incident as inc
from bot.core.incident import Change, Incident
from bot.core.ports import Deps
from commands.escalate import Stale

log = structlog.get_logger(__name__)


async def on_timer(incident_id: str, token: str, deps: Deps) -> bool:
    def transition(cur: Incident) -> Change:
        if (not cur.is_open or cur.acknowledged_at is not None or cur.ladder.breached_at
                or token != cur.severity):
            raise Stale()
        return inc.breach(cur, now=deps.clock.now())

    try:
        await deps.store.mutate(incident_id, transition)
    except (Stale, errors.IncidentNotFound):
        log.info("breach.stale", incident_id=incident_id, token=token)
        return False
    await deps.chat.refresh_card(incident_id)
    return True
