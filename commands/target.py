"""Which incident a command is about: an explicit id, else the channel it was typed in."""

from __future__ import annotations

import structlog
from pydantic import BaseModel

from bot.core import errors
from bot.core.incident import Change, Incident
from bot.core.ports import Deps
from commands import timers


log = structlog.get_logger(__name__)


class Target(BaseModel):
    actor: str
    channel_id: str | None = None
    incident_id: str | None = None


async def find_incident(target: Target, deps: Deps) -> Incident:
    incident_id = target.incident_id
    if incident_id is None and target.channel_id:
        incident_id = await deps.store.by_channel(target.channel_id)
    if incident_id is None:
        open_ids = [i.id for i in await deps.store.list_open()]
        raise errors.NoIncidentHere(open_ids=open_ids)
    return await deps.store.get(incident_id.upper())


async def change_incident(target: Target, deps: Deps, transition) -> Change:
    """Apply a pure transition to the targeted incident, then refresh its card."""
    incident = await find_incident(target, deps)
    change = await deps.store.mutate(incident.id, transition)
    if deps.metrics is not None:
        deps.metrics.observe(change)
    log.info("incident.changed", incident_id=incident.id, actor=target.actor,
             events=[e.kind.value for e in change.events], version=change.incident.version)
    await deps.chat.refresh_card(incident.id)
    await timers.schedule(change.incident, deps)
    return change
